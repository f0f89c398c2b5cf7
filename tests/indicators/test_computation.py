"""Every indicator of DESIGN §6 checked against values computed by hand (datasets in conftest.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from apps.indicators.formatting import display_value
from apps.indicators.models import AssessmentEnd, IndicatorValue, ReportRun
from apps.indicators.selectors import indicator_values_latest
from apps.indicators.services import indicators_compute
from apps.indicators.sources import source_register, source_unregister, sources_registered
from tests.conftest import COUNTY, TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A, VILLAGE_B
from tests.indicators.conftest import VILLAGE_A2

D = Decimal


def readings(period: str, area: str | None = None) -> dict:
    run = indicators_compute(period=period, area_code=area)
    assert run.status == "success", run.message
    return indicator_values_latest(period=period)


def shown(values, area: str, code: str) -> tuple:
    """(value rounded for display, numerator, denominator), as an official reads them."""
    r = values[(area, code)]
    return display_value(r.value), r.numerator, r.denominator


def test_births_deaths_and_rates_with_moves_and_deaths_inside_the_quarter(events_scenario):
    v = readings("2024Q1")
    # Village A: births c2, c3; death dead_a1; population 7 on 2023-12-31 and 9 on 2024-03-31: average 8.
    assert shown(v, VILLAGE_A, "births") == (D("2.00"), 2, 1)
    assert shown(v, VILLAGE_A, "deaths") == (D("1.00"), 1, 1)
    assert shown(v, VILLAGE_A, "population_end") == (D("9.00"), 9, 1)
    assert shown(v, VILLAGE_A, "birth_rate") == (D("250.00"), 2, 8)
    assert shown(v, VILLAGE_A, "death_rate") == (D("125.00"), 1, 8)
    assert shown(v, VILLAGE_A, "natural_growth_rate") == (D("125.00"), 1, 8)
    # Village A2: c33; population 3 → 4, average 3.5.
    assert shown(v, VILLAGE_A2, "birth_rate") == (D("285.71"), 1, D("3.5"))
    assert shown(v, VILLAGE_A2, "population_end") == (D("4.00"), 4, 1)
    # Village B: c6 (born in B, lives in A); population 5 → 5 (mover_in left, floater arrived on the last day).
    assert shown(v, VILLAGE_B, "births") == (D("1.00"), 1, 1)
    assert shown(v, VILLAGE_B, "population_end") == (D("5.00"), 5, 1)
    assert shown(v, VILLAGE_B, "birth_rate") == (D("200.00"), 1, 5)
    # Township A sums its villages: 3 births, 1 death, average (10 + 13) / 2 = 11.5.
    assert shown(v, TOWNSHIP_A, "birth_rate") == (D("260.87"), 3, D("11.5"))
    assert shown(v, TOWNSHIP_A, "natural_growth_rate") == (D("173.91"), 2, D("11.5"))
    assert shown(v, TOWNSHIP_A, "population_end") == (D("13.00"), 13, 1)
    # The county: 4 births over an average of (15 + 18) / 2 = 16.5: 242.42‰ — not the mean of its
    # townships' rates ((260.87 + 200) / 2 = 230.43).
    assert shown(v, COUNTY, "birth_rate") == (D("242.42"), 4, D("16.5"))
    assert shown(v, COUNTY, "death_rate") == (D("60.61"), 1, D("16.5"))
    assert shown(v, COUNTY, "population_end") == (D("18.00"), 18, 1)
    township_mean = (v[(TOWNSHIP_A, "birth_rate")].value + v[(TOWNSHIP_B, "birth_rate")].value) / 2
    assert display_value(township_mean) == D("230.43")


def test_birth_structure_sex_ratios_policy_and_timeliness(events_scenario):
    # A county that still assesses births as in or out of policy (no assessment end configured; the seeded one
    # ends in 2021 and is tested in test_demography.py).
    AssessmentEnd.objects.all().delete()
    v = readings("2024Q1")
    # Village A: boy (2nd child) and girl (1st child), both in policy; the girl entered 31 days late.
    assert shown(v, VILLAGE_A, "sex_ratio_at_birth") == (D("100.00"), 1, 1)
    assert shown(v, VILLAGE_A, "sex_ratio_parity2") == (None, 1, 0)  # no girl of order 2: no ratio
    assert shown(v, VILLAGE_A, "first_birth_rate") == (D("50.00"), 1, 2)
    assert shown(v, VILLAGE_A, "birth_registration_timeliness") == (D("50.00"), 1, 2)
    # Township A: boys c2, c33 and girl c3; c33 is a 3rd child out of policy.
    assert shown(v, TOWNSHIP_A, "sex_ratio_at_birth") == (D("200.00"), 2, 1)
    assert shown(v, TOWNSHIP_A, "sex_ratio_parity3plus") == (None, 1, 0)
    assert shown(v, TOWNSHIP_A, "policy_compliance_rate") == (D("66.67"), 2, 3)
    assert shown(v, TOWNSHIP_A, "first_birth_rate") == (D("33.33"), 1, 3)
    assert shown(v, TOWNSHIP_A, "multi_birth_rate") == (D("33.33"), 1, 3)
    assert shown(v, TOWNSHIP_A, "birth_registration_timeliness") == (D("66.67"), 2, 3)
    # Township B: one girl: a sex ratio of 0, compliance 100%.
    assert shown(v, TOWNSHIP_B, "sex_ratio_at_birth") == (D("0.00"), 0, 1)
    assert shown(v, TOWNSHIP_B, "policy_compliance_rate") == (D("100.00"), 1, 1)
    # County: 2 boys, 2 girls; 3 of 4 in policy (75%, while the townships' mean is 83.33%).
    assert shown(v, COUNTY, "sex_ratio_at_birth") == (D("100.00"), 2, 2)
    assert shown(v, COUNTY, "policy_compliance_rate") == (D("75.00"), 3, 4)
    assert shown(v, COUNTY, "multi_birth_rate") == (D("25.00"), 1, 4)
    assert shown(v, COUNTY, "birth_registration_timeliness") == (D("75.00"), 3, 4)


def test_registration_timeliness_uses_the_deadline_in_force_on_the_birth_date(events_scenario):
    from apps.indicators.models import RegistrationDeadline

    # From 29 February 2024 a 31-day deadline: c3 (born that day, entered 31 days later) becomes timely;
    # c2 (1 January, entered after 30 days) stays under the 30-day rule and timely.
    RegistrationDeadline.objects.filter(valid_to__isnull=True).update(valid_to=date(2024, 2, 28))
    RegistrationDeadline.objects.create(days=31, valid_from=date(2024, 2, 29))
    v = readings("2024Q1")
    assert shown(v, VILLAGE_A, "birth_registration_timeliness") == (D("100.00"), 2, 2)
    assert shown(v, COUNTY, "birth_registration_timeliness") == (D("100.00"), 4, 4)
    # With no deadline in force on a birth date, no birth of that date counts as timely.
    RegistrationDeadline.objects.all().delete()
    v = readings("2024Q2")
    assert shown(v, COUNTY, "birth_registration_timeliness") == (D("0.00"), 0, 1)


@pytest.mark.parametrize(
    ("period", "county_births", "village_a_births"),
    [
        ("2023Q4", 1, 0),  # c5 on 2023-12-31
        ("2024Q1", 4, 2),  # 1 January .. 31 March
        ("2024Q2", 1, 0),  # c4 on 1 April
        ("2024Q2-YTD", 5, 2),  # 1 January .. 30 June
        ("2024M02", 1, 1),  # c3 on 29 February
        ("2024M03", 2, 0),  # c6 (B) on 15 March, c33 (A2) on 31 March
        ("2024", 5, 2),
    ],
)
def test_period_edges(events_scenario, period, county_births, village_a_births):
    v = readings(period)
    assert v[(COUNTY, "births")].numerator == county_births
    assert v[(VILLAGE_A, "births")].numerator == village_a_births


def test_residence_on_the_day_before_and_the_last_day_of_a_month_with_29_february(events_scenario):
    # 2024M02: d0 = 2024-01-31, d1 = 2024-02-29. Village A on d0: m1, m2, m6, c1, c2, dead_a1, mover_after
    # (mover_out left on 15 January) = 7; on d1 also c3 (born that day) and mover_in (since 10 February) = 9.
    v = readings("2024M02")
    assert shown(v, VILLAGE_A, "birth_rate") == (D("125.00"), 1, 8)
    assert shown(v, VILLAGE_A, "population_end") == (D("9.00"), 9, 1)
    # Village B on d0: m4, m5, c5, dead_b2, mover_in = 5; on d1: 4 (the floater arrives on 31 March).
    assert shown(v, VILLAGE_B, "population_end") == (D("4.00"), 4, 1)


def test_married_women_contraception_and_record_completeness(women_scenario):
    v = readings("2024M02")
    assert shown(v, VILLAGE_A, "married_wra") == (D("5.00"), 5, 1)
    assert shown(v, VILLAGE_A, "contraceptive_prevalence") == (D("60.00"), 3, 5)
    assert shown(v, VILLAGE_A, "long_acting_share") == (D("66.67"), 2, 3)
    assert shown(v, VILLAGE_A, "record_completeness_rate") == (D("84.21"), 16, 19)
    assert shown(v, COUNTY, "contraceptive_prevalence") == (D("60.00"), 3, 5)
    # A month earlier w2 was still 49, w6 not yet married, w8 and w9 still in A, w5 still on the pill.
    v = readings("2024M01")
    # married: w1, w2, w4, w5, w7, w8, w9 = 7; users: w1, w2, w4, w5, w8, w9 = 6; long-acting: w1, w4, w8, w9.
    assert shown(v, VILLAGE_A, "married_wra") == (D("7.00"), 7, 1)
    assert shown(v, VILLAGE_A, "contraceptive_prevalence") == (D("85.71"), 6, 7)
    assert shown(v, VILLAGE_A, "long_acting_share") == (D("66.67"), 4, 6)


def test_fee_and_subsidy_rates_come_only_from_registered_sources(areas):
    v = readings("2024Q1")
    assert (COUNTY, "fee_collection_rate") not in v
    assert (VILLAGE_A, "subsidy_payment_rate") not in v

    # A source is the SQL of its records (one row per record); the run sums them per village.
    fees_by_village = """
        SELECT * FROM (VALUES
            (1, '%s', 1000.00, 10000.00, NULL::bigint, 'a'), (2, '%s', 2000.00, 0, NULL, 'b'),
            (3, '%s', 0.00, 5000.00, NULL, 'c'),
            (4, '%s', 8000.00, 8000.00, NULL, 'd'),
            (5, '999999999999', 1.00, 1.00, NULL, 'not a village of the county: ignored')
        ) AS s(record_id, code, num, den, person_id, label)
        WHERE %%(start)s = '2024-01-01'::date AND %%(end)s = '2024-03-31'::date  -- the period's dates
    """ % (VILLAGE_A, VILLAGE_A, VILLAGE_A2, VILLAGE_B)  # noqa: S608, UP031

    registered = sources_registered().get("fee_collection_rate")  # the fees app's own, when installed
    source_register("fee_collection_rate", fees_by_village)
    try:
        v = readings("2024Q1")
    finally:
        source_unregister("fee_collection_rate")
        if registered:
            source_register("fee_collection_rate", registered.records, link=registered.link)
    assert shown(v, VILLAGE_A, "fee_collection_rate") == (D("30.00"), D("3000.00"), D("10000.00"))
    assert shown(v, TOWNSHIP_A, "fee_collection_rate") == (D("20.00"), D("3000.00"), D("15000.00"))
    # 11,000 of 23,000 yuan: 47.83% — the townships' mean would be 60%.
    assert shown(v, COUNTY, "fee_collection_rate") == (D("47.83"), D("11000.00"), D("23000.00"))
    assert (VILLAGE_A, "subsidy_payment_rate") not in v
    with pytest.raises(ValueError):
        source_register("births", fees_by_village)


def test_a_township_run_stores_the_township_and_its_villages_only(events_scenario):
    run = indicators_compute(period="2024Q1", area_code=TOWNSHIP_A)
    areas = set(IndicatorValue.objects.filter(run=run).values_list("area_id", flat=True))
    assert TOWNSHIP_A in areas and VILLAGE_A in areas and VILLAGE_A2 in areas
    assert COUNTY not in areas and VILLAGE_B not in areas and TOWNSHIP_B not in areas
    v = indicator_values_latest(period="2024Q1", area_codes=[TOWNSHIP_A], indicator_codes=["birth_rate"])
    assert list(v) == [(TOWNSHIP_A, "birth_rate")]
    assert v[(TOWNSHIP_A, "birth_rate")].numerator == 3


def test_statement_count_does_not_grow_with_the_number_of_areas(events_scenario, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for area in (COUNTY, TOWNSHIP_A, VILLAGE_A):
        with CaptureQueriesContext(connection) as queries:
            indicators_compute(period="2024Q1", area_code=area)
        counts.append(len(queries))
    assert counts[0] == counts[1] == counts[2]
    with django_assert_num_queries(counts[0]):
        indicators_compute(period="2024Q2", area_code=COUNTY)
    # savepoints and progress updates included, and a query or two for each registered source (fees, subsidies)
    # and for the indicators whose assessment ended before the period (出生政策符合率 after 2021)
    assert counts[0] <= 40


def test_latest_snapshot_wins_and_a_recompute_keeps_the_reported_figures(events_scenario, make_person, areas):
    from apps.registry.services import ChildData, birth_record

    first = indicators_compute(period="2024Q1")
    # A birth of 20 March registered late, after the quarter was reported (报表数据与回溯数据).
    mother = make_person("迟报母亲", "F", date(1996, 1, 1), VILLAGE_B)
    birth_record(mother=mother, on=date(2024, 3, 20), village=areas[VILLAGE_B], by=None,
                 child_data=ChildData(name="迟报", sex="M"), entered_on=date(2024, 6, 1))  # fmt: skip
    second = indicators_compute(period="2024Q1")
    v = indicator_values_latest(period="2024Q1", area_codes=[COUNTY, VILLAGE_B])
    assert v[(COUNTY, "births")].numerator == 5
    assert v[(COUNTY, "births")].run_id == second.pk
    assert IndicatorValue.objects.get(run=first, area_id=COUNTY, indicator_code="births").numerator == 4
    assert ReportRun.objects.filter(period="2024Q1", status="success").count() == 2
