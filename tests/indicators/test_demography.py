"""Today's indicators (the catalogue's definitions) on a county counted by hand, and 出生政策符合率 after 2021."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.indicators.formatting import display_value
from apps.indicators.selectors import indicator_values_latest
from apps.indicators.services import indicators_compute
from apps.registry.services import ChildData, birth_record
from tests.conftest import COUNTY, TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A, VILLAGE_B
from tests.registry.conftest import make_person  # noqa: F401

D = Decimal


def _birth(areas, mother, on, village, sex="M"):
    return birth_record(
        mother=mother, on=on, village=areas[village], by=None, child_data=ChildData(name="婴儿", sex=sex),
        entered_on=on, confirmed=True,
    )  # fmt: skip


@pytest.fixture
def county_2024(areas, make_person):  # noqa: F811
    """The year 2024: the day before is 2023-12-31 (d0), the last day 2024-12-31 (d1). Ages in completed years.

    Village A (township A), 11 persons on d0, 13 on d1:

    | who | born | d0 | d1 | |
    |---|---|---|---|---|
    | wa1 ♀ | 2004-06-01 | 19 | 20 | gives birth 2024-03-01 at 19 (15–19), her 1st |
    | wa2 ♀ | 1996-01-01 | 27 | 28 | children 2022-01-01 and 2024-05-01 (at 28, 25–29, her 2nd) |
    | wa3 ♀ | 1990-07-01 | 33 | 34 | child 2021-12-31 |
    | wa4 ♀ | 1975-01-01 | 48 | 49 | |
    | wa5 ♀ | 1974-06-01 | 49 | 50 | leaves 45–49 during the year |
    | oa ♀ | 1950-01-01 | 73 | 74 | 65+ |
    | ma1 ♂ | 1962-05-01 | 61 | 62 | 60–64 |
    | ma2 ♂ | 1990-01-01 | 33 | 34 | |
    | wa2's girl | 2022-01-01 | 1 | 2 | 0–2 |
    | wa3's boy | 2021-12-31 | 2 | 3 | 3 on the last day itself: not 0–2 |
    | ka3 ♂ | 2010-06-01 | 13 | 14 | |
    | wa1's, wa2's 2024 babies | 2024 | – | 0 | |

    On d1: 0–2: 3; 0–14: 5; 15–64: 7 (wa1–wa5, ma1, ma2); 60+: 2 (oa, ma1); 65+: 1 (oa).
    Women by group, d0 → d1: 15–19: 1 → 0; 20–24: 0 → 1; 25–29: 1 → 1; 30–34: 1 → 1; 45–49: 2 → 1;
    15–49: 5 → 4 (average 4.5).

    Village B (township B), 10 persons on d0, 11 on d1:

    | who | born | d0 | d1 | |
    |---|---|---|---|---|
    | wb1 ♀ | 1999-03-01 | 24 | 25 | children 2019-05-01, 2021-05-01 and 2024-02-01 (at 24, 20–24, her 3rd) |
    | wb2 ♀ | 1985-01-01 | 38 | 39 | gives birth 2024-07-01 at 39 (35–39), her 1st |
    | wb5 ♀ | 1987-01-01 | 36 | 37 | |
    | wb4 ♀ | 1994-03-01 | 29 | 30 | |
    | wb3 ♀ | 2009-06-01 | 14 | 15 | enters 15–19 during the year |
    | mb1 ♂ | 1955-01-01 | 68 | 69 | 65+ |
    | mb2 ♂ | 1959-12-31 | 64 | 65 | turns 65 on the last day: 65+ |
    | mb3 ♂ | 1940-01-01 | 83 | – | dies 2024-06-01 |
    | wb1's boys | 2019, 2021 | 4, 2 | 5, 3 | |
    | wb1's, wb2's 2024 babies | 2024 | – | 0 | |

    On d1: 0–2: 2; 0–14: 4; 15–64: 5 (wb1–wb5); 60+ and 65+: 2 (mb1, mb2).
    Women by group, d0 → d1: 15–19: 0 → 1; 20–24: 1 → 0; 25–29: 1 → 1; 30–34: 0 → 1; 35–39: 2 → 2;
    15–49: 4 → 5 (average 4.5).
    """
    p = {}

    def person(key, sex, born, village):
        p[key] = make_person(key, sex, born, village)
        return p[key]

    for key, born in [("wa1", date(2004, 6, 1)), ("wa2", date(1996, 1, 1)), ("wa3", date(1990, 7, 1)),
                      ("wa4", date(1975, 1, 1)), ("wa5", date(1974, 6, 1)), ("oa", date(1950, 1, 1))]:  # fmt: skip
        person(key, "F", born, VILLAGE_A)
    person("ma1", "M", date(1962, 5, 1), VILLAGE_A)
    person("ma2", "M", date(1990, 1, 1), VILLAGE_A)
    person("ka3", "M", date(2010, 6, 1), VILLAGE_A)
    for key, born in [("wb1", date(1999, 3, 1)), ("wb2", date(1985, 1, 1)), ("wb5", date(1987, 1, 1)),
                      ("wb4", date(1994, 3, 1)), ("wb3", date(2009, 6, 1))]:  # fmt: skip
        person(key, "F", born, VILLAGE_B)
    person("mb1", "M", date(1955, 1, 1), VILLAGE_B)
    person("mb2", "M", date(1959, 12, 31), VILLAGE_B)
    person("mb3", "M", date(1940, 1, 1), VILLAGE_B)
    from apps.registry.services import death_record

    death_record(person=p["mb3"], on=date(2024, 6, 1), by=None)

    _birth(areas, p["wa2"], date(2022, 1, 1), VILLAGE_A, "F")
    _birth(areas, p["wa3"], date(2021, 12, 31), VILLAGE_A)
    _birth(areas, p["wa1"], date(2024, 3, 1), VILLAGE_A, "F")
    _birth(areas, p["wa2"], date(2024, 5, 1), VILLAGE_A)
    _birth(areas, p["wb1"], date(2019, 5, 1), VILLAGE_B)
    _birth(areas, p["wb1"], date(2021, 5, 1), VILLAGE_B)
    _birth(areas, p["wb1"], date(2024, 2, 1), VILLAGE_B, "F")
    _birth(areas, p["wb2"], date(2024, 7, 1), VILLAGE_B)
    return p


def readings(period: str) -> dict:
    run = indicators_compute(period=period)
    assert run.status == "success", run.message
    return indicator_values_latest(period=period)


def shown(values, area: str, code: str) -> tuple:
    r = values[(area, code)]
    return display_value(r.value), r.numerator, r.denominator


def test_age_structure_on_the_last_day(county_2024):
    v = readings("2024")
    assert shown(v, VILLAGE_A, "population_end") == (D("13.00"), 13, 1)
    assert shown(v, VILLAGE_B, "population_end") == (D("11.00"), 11, 1)
    # 0–2: A: wa2's 2022 girl and the two 2024 babies (wa3's boy of 2021-12-31 is 3 on 2024-12-31); B: two.
    assert shown(v, VILLAGE_A, "children_0_2") == (D("3.00"), 3, 1)
    assert shown(v, VILLAGE_B, "children_0_2") == (D("2.00"), 2, 1)
    assert shown(v, COUNTY, "children_0_2") == (D("5.00"), 5, 1)
    assert shown(v, VILLAGE_A, "population_60plus") == (D("2.00"), 2, 1)
    assert shown(v, VILLAGE_B, "population_65plus") == (D("2.00"), 2, 1)  # mb2 turns 65 on the last day
    assert shown(v, VILLAGE_A, "share_60plus") == (D("15.38"), 2, 13)
    assert shown(v, VILLAGE_A, "share_65plus") == (D("7.69"), 1, 13)
    assert shown(v, VILLAGE_B, "share_65plus") == (D("18.18"), 2, 11)
    # Dependency ratios over the 15–64 population: A 7, B 5, the county 12.
    assert shown(v, VILLAGE_A, "old_age_dependency_ratio") == (D("14.29"), 1, 7)
    assert shown(v, VILLAGE_A, "child_dependency_ratio") == (D("71.43"), 5, 7)
    assert shown(v, TOWNSHIP_B, "old_age_dependency_ratio") == (D("40.00"), 2, 5)
    assert shown(v, TOWNSHIP_B, "child_dependency_ratio") == (D("80.00"), 4, 5)
    assert shown(v, COUNTY, "share_60plus") == (D("16.67"), 4, 24)
    assert shown(v, COUNTY, "share_65plus") == (D("12.50"), 3, 24)
    assert shown(v, COUNTY, "old_age_dependency_ratio") == (D("25.00"), 3, 12)
    assert shown(v, COUNTY, "child_dependency_ratio") == (D("75.00"), 9, 12)


def test_fertility_rates_and_tfr_from_summed_components(county_2024):
    v = readings("2024")
    # GFR: births over the average of women 15–49 on both dates: A 2 / 4.5, B 2 / 4.5, the county 4 / 9.
    assert shown(v, VILLAGE_A, "general_fertility_rate") == (D("444.44"), 2, D("4.5"))
    assert shown(v, TOWNSHIP_B, "general_fertility_rate") == (D("444.44"), 2, D("4.5"))
    assert shown(v, COUNTY, "general_fertility_rate") == (D("444.44"), 4, 9)
    # Age-specific rates of village A: 15–19 one birth (wa1 at 19) over (1 + 0) / 2; 25–29 one over 1.
    assert shown(v, VILLAGE_A, "asfr_15_19") == (D("2000.00"), 1, D("0.5"))
    assert shown(v, VILLAGE_A, "asfr_20_24") == (D("0.00"), 0, D("0.5"))
    assert shown(v, VILLAGE_A, "asfr_25_29") == (D("1000.00"), 1, 1)
    assert shown(v, VILLAGE_A, "asfr_45_49") == (D("0.00"), 0, D("1.5"))
    assert shown(v, VILLAGE_A, "asfr_35_39") == (None, 0, 0)  # no woman of 35–39: no rate
    # B: 20–24 one birth (wb1 at 24) over 0.5; 35–39 one (wb2 at 39) over 2.
    assert shown(v, VILLAGE_B, "asfr_20_24") == (D("2000.00"), 1, D("0.5"))
    assert shown(v, VILLAGE_B, "asfr_35_39") == (D("500.00"), 1, 2)
    # TFR = 5 × Σ rates: A 5 × (2000 + 1000)‰ = 15; B 5 × (2000 + 500)‰ = 12.5.
    assert shown(v, VILLAGE_A, "total_fertility_rate") == (D("15.00"), 15000, 1000)
    assert shown(v, TOWNSHIP_A, "total_fertility_rate") == (D("15.00"), 15000, 1000)
    assert shown(v, TOWNSHIP_B, "total_fertility_rate") == (D("12.50"), 12500, 1000)
    # The county from the summed components, group by group: 15–19 1 / ((1 + 0 + 0 + 1) / 2) = 1000‰,
    # 20–24 1 / 1 = 1000‰, 25–29 1 / 2 = 500‰, 30–34 0 / 1.5, 35–39 1 / 2 = 500‰, 45–49 0 / 1.5:
    # 5 × 3000‰ = 15 — not the mean of the townships' (15 + 12.5) / 2 = 13.75.
    assert shown(v, COUNTY, "asfr_15_19") == (D("1000.00"), 1, 1)
    assert shown(v, COUNTY, "asfr_25_29") == (D("500.00"), 1, 2)
    assert shown(v, COUNTY, "asfr_30_34") == (D("0.00"), 0, D("1.5"))
    assert shown(v, COUNTY, "total_fertility_rate") == (D("15.00"), 15000, 1000)
    # A village without women of 15–49 has no TFR.
    assert shown(v, "131025100202", "total_fertility_rate") == (None, 0, 0)


def test_births_by_order(county_2024):
    v = readings("2024")
    # 2024's births: wa1's 1st, wa2's 2nd, wb1's 3rd, wb2's 1st.
    assert shown(v, COUNTY, "first_birth_rate") == (D("50.00"), 2, 4)
    assert shown(v, COUNTY, "second_birth_rate") == (D("25.00"), 1, 4)
    assert shown(v, COUNTY, "multi_birth_rate") == (D("25.00"), 1, 4)
    assert shown(v, TOWNSHIP_A, "second_birth_rate") == (D("50.00"), 1, 2)


def test_quarters_are_not_annualised(county_2024):
    v = readings("2024Q1")
    # Q1 (d0 2023-12-31, d1 2024-03-31): one birth in A (wa1, 2024-03-01, at 19). Women 15–49 of A on d1:
    # wa1 (19), wa2 (28), wa3 (33), wa4 (49), wa5 (49): 5, and 5 on d0: the rate is the quarter's own.
    assert shown(v, VILLAGE_A, "general_fertility_rate") == (D("200.00"), 1, 5)
    assert shown(v, VILLAGE_A, "asfr_15_19") == (D("1000.00"), 1, 1)
    assert shown(v, VILLAGE_A, "total_fertility_rate") == (D("5.00"), 5000, 1000)


@pytest.fixture
def births_around_2021(areas, make_person):  # noqa: F811
    """A mother in village A with an out-of-policy birth on 2021-03-01 (as the township found) and an in-policy
    one on 2021-09-01, after the assessment of 出生政策符合率 ended (2021-07-19), and one in 2024."""
    mother = make_person("母亲", "F", date(1990, 1, 1), VILLAGE_A)
    birth_record(mother=mother, on=date(2021, 3, 1), village=areas[VILLAGE_A], by=None,
                 child_data=ChildData(name="一", sex="M"), policy_status_given="out_of_policy",
                 override_reason="乡镇核实", confirmed=True)  # fmt: skip
    _birth(areas, mother, date(2021, 9, 1), VILLAGE_A)
    _birth(areas, mother, date(2024, 9, 1), VILLAGE_A)
    return mother


def test_policy_compliance_counts_births_up_to_the_assessment_end(births_around_2021):
    v = readings("2021")
    # 2021 straddles the end: the September birth is not assessed (0 of 1), though it is a birth of the year.
    assert shown(v, COUNTY, "policy_compliance_rate") == (D("0.00"), 0, 1)
    assert shown(v, COUNTY, "births") == (D("2.00"), 2, 1)
    assert v[(COUNTY, "policy_compliance_rate")].not_applicable == ""
    # Q3 starts before the end: applicable, with no birth assessed (1–19 July): no value, not 不适用.
    v = readings("2021Q3")
    assert shown(v, COUNTY, "policy_compliance_rate") == (None, 0, 0)
    assert v[(COUNTY, "policy_compliance_rate")].not_applicable == ""


@pytest.mark.parametrize(("period", "births"), [("2021Q4", 0), ("2024", 1), ("2024Q3", 1)])
def test_policy_compliance_is_not_applicable_after_2021(births_around_2021, period, births):
    v = readings(period)
    for area in (VILLAGE_A, TOWNSHIP_A, COUNTY, VILLAGE_B):
        reading = v[(area, "policy_compliance_rate")]
        assert (reading.value, reading.numerator, reading.denominator) == (None, 0, 0)
        assert reading.not_applicable.startswith("2021年7月20日起取消社会抚养费")
    assert v[(COUNTY, "births")].numerator == births


def test_dashboard_shows_not_applicable_and_todays_cards(client, county_viewer, county_2024):
    indicators_compute(period="2024")
    client.force_login(county_viewer)
    response = client.get(reverse("indicators:dashboard"), {"period": "2024"})
    assert response.status_code == 200
    page = response.content.decode()
    policy = page[page.index('data-testid="card-policy_compliance_rate"') :]
    policy = policy[: policy.index('data-testid="change"')]
    assert "不适用" in policy and "100.00" not in policy
    board = response.context["board"]
    cards = {c.indicator.code: c for c in board.structure_cards}
    assert list(cards) == [
        "second_birth_rate", "children_0_2", "share_60plus", "share_65plus", "old_age_dependency_ratio",
        "child_dependency_ratio", "general_fertility_rate", "total_fertility_rate",
    ]  # fmt: skip
    tfr = page[page.index('data-testid="card-total_fertility_rate"') :]
    assert "总和生育率（孩/妇女）" in tfr[:600] and ">15.00<" in tfr[:600]
    assert 'data-testid="trend-total_fertility_rate"' in page and 'data-testid="trend-children_0_2"' in page
    # With 出生政策符合率 not applicable, the townships are ranked by an indicator that separates them.
    assert board.rank_auto and board.rank_by.code != "policy_compliance_rate"
    row_b = page[page.index(f'data-testid="row-{TOWNSHIP_B}"') :]
    assert "不适用" in row_b[: row_b.index("</tr>")]
