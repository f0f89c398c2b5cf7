"""Every figure down to its records (指标明细, issue 17): the list behind each numerator and denominator comes
from the SQL that computed the figure, so it has exactly numerator-many and denominator-many records; a
snapshot's births and deaths are listed as the run counted them; the list is area-scoped and masks IDs."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from apps.indicators.catalogue import CODES, DERIVED_CODES
from apps.indicators.models import CountedRecord, IndicatorValue
from apps.indicators.selectors import figure_records
from apps.indicators.services import indicators_compute
from apps.registry.models import Birth, Person
from apps.registry.services import birth_void
from tests.conftest import COUNTY, TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A, VILLAGE_B
from tests.indicators.conftest import VILLAGE_A2
from tests.indicators.drill import assert_every_figure_lists_its_records
from tests.indicators.test_demography import births_around_2021, county_2024  # noqa: F401 - fixtures

# The hand-built county's areas with data, and one without.
AREAS = (VILLAGE_A, VILLAGE_A2, VILLAGE_B, TOWNSHIP_A, TOWNSHIP_B, COUNTY, "131025101201")


@pytest.fixture
def admin(make_user):
    return make_user("county_admin", COUNTY, "county_admin")


def test_every_registry_figure_of_the_events_county_lists_exactly_its_records(events_scenario, admin):
    run = indicators_compute(period="2024Q1")
    listed = assert_every_figure_lists_its_records(run, admin, areas=AREAS)
    # every registry indicator was checked, area by area (出生政策符合率 is 不适用 after 2021: see below)
    registry_codes = set(CODES) - set(DERIVED_CODES) - {"fee_collection_rate", "subsidy_payment_rate"}
    assert registry_codes - {"policy_compliance_rate"} <= set(listed)
    assert listed["births"] > 0 and listed["deaths"] > 0 and listed["population_end"] > 0

    # By hand (the scenario's table): village A's births are c2 and c3; its population 7 on 2023-12-31 and 9 on
    # 2024-03-31, so the birth rate's denominator lists 16 persons at ½ each.
    births = figure_records(user=admin, run_id=run.pk, indicator_code="births", area_code=VILLAGE_A, part="numerator")
    assert sorted(r.on for r in births.rows) == [date(2024, 1, 1), date(2024, 2, 29)]
    average = figure_records(
        user=admin, run_id=run.pk, indicator_code="birth_rate", area_code=VILLAGE_A, part="denominator"
    )
    assert (average.count, average.total, average.stored) == (16, 8, 8)
    assert sum(1 for r in average.rows if r.records == "resident0") == 7
    names = {r.person for r in average.rows if r.records == "resident1"}
    assert {"迁入者", "后迁者"} <= names and "迁出者" not in names and "故一" not in names
    # The natural growth of the county: 4 births in the quarter (c2, c3, c33, c6) less 1 death (dead_a1).
    growth = figure_records(
        user=admin, run_id=run.pk, indicator_code="natural_growth_rate", area_code=COUNTY, part="numerator"
    )
    assert sorted(r.weight for r in growth.rows) == [-1, 1, 1, 1, 1] and growth.total == 3
    # Registration timeliness in village A: c2 entered within the deadline, c3 a day late.
    timely = figure_records(
        user=admin, run_id=run.pk, indicator_code="birth_registration_timeliness", area_code=VILLAGE_A, part="numerator"
    )
    assert [r.on for r in timely.rows] == [date(2024, 1, 1)]


def test_women_and_completeness_figures_list_exactly_their_records(women_scenario, admin):
    run = indicators_compute(period="2024M02")
    listed = assert_every_figure_lists_its_records(run, admin, areas=AREAS)
    users = figure_records(
        user=admin, run_id=run.pk, indicator_code="contraceptive_prevalence", area_code=VILLAGE_A, part="numerator"
    )
    assert sorted(r.person for r in users.rows) == ["w1", "w4", "w6"]
    incomplete = {r.person for r in figure_records(
        user=admin, run_id=run.pk, indicator_code="record_completeness_rate", area_code=VILLAGE_A, part="denominator"
    ).rows} - {r.person for r in figure_records(
        user=admin, run_id=run.pk, indicator_code="record_completeness_rate", area_code=VILLAGE_A, part="numerator"
    ).rows}  # fmt: skip
    assert incomplete == {"no_household", "no_id", "bad_checksum"}
    assert listed["married_wra"] > 0


def test_age_groups_fertility_and_policy_compliance_list_exactly_their_records(county_2024, admin):  # noqa: F811
    run = indicators_compute(period="2024")
    listed = assert_every_figure_lists_its_records(run, admin, areas=AREAS)
    assert all(listed[code] > 0 for code in ("asfr_15_19", "children_0_2", "population_65plus", "share_60plus"))
    # Mothers of 15–19 in village A: wa1's birth of 2024-03-01; the women of the group, ½ on each date.
    teen = figure_records(user=admin, run_id=run.pk, indicator_code="asfr_15_19", area_code=VILLAGE_A, part="numerator")
    assert [r.on for r in teen.rows] == [date(2024, 3, 1)]


def test_policy_compliance_lists_the_assessed_births_only(births_around_2021, admin):  # noqa: F811
    run = indicators_compute(period="2021")
    assert_every_figure_lists_its_records(run, admin, areas=AREAS, codes=["policy_compliance_rate", "births"])
    assessed = figure_records(
        user=admin, run_id=run.pk, indicator_code="policy_compliance_rate", area_code=COUNTY, part="denominator"
    )
    assert [r.on for r in assessed.rows] == [date(2021, 3, 1)]  # 0 of 1: the September birth is not assessed
    later = indicators_compute(period="2024")  # 不适用: nothing to list
    assert_every_figure_lists_its_records(later, admin, areas=AREAS, codes=["policy_compliance_rate"])


def test_a_past_figure_lists_the_births_as_the_run_counted_them(events_scenario, admin):
    run = indicators_compute(period="2024Q1")
    assert run.records_kept and CountedRecord.objects.filter(run=run, kind="birth").count() == 4
    c3 = Birth.objects.get(date=date(2024, 2, 29))
    birth_void(birth=c3, reason="重复登记", by=None)

    then = figure_records(user=admin, run_id=run.pk, indicator_code="births", area_code=VILLAGE_A, part="numerator")
    assert then.count == then.stored == 2 and then.agrees
    assert [r.voided for r in then.rows if r.on == date(2024, 2, 29)] == [True]
    later = indicators_compute(period="2024Q1")
    now = figure_records(user=admin, run_id=later.pk, indicator_code="births", area_code=VILLAGE_A, part="numerator")
    assert now.count == now.stored == 1


def test_the_list_is_scoped_masked_and_opened_from_the_dashboard(client, events_scenario, make_user, admin):
    run = indicators_compute(period="2024Q1")
    leader_a = make_user("leader_a", TOWNSHIP_A, "county_viewer")
    # Another township's village, an unknown run or indicator: not found, and nothing said about it.
    for area in (VILLAGE_B, TOWNSHIP_B, COUNTY):
        with pytest.raises(IndicatorValue.DoesNotExist):
            figure_records(user=leader_a, run_id=run.pk, indicator_code="births", area_code=area, part="numerator")
    client.force_login(leader_a)
    url = reverse("indicators:records")
    assert client.get(url, {"run": run.pk, "indicator": "births", "area": VILLAGE_B}).status_code == 404
    assert client.get(url, {"run": run.pk, "indicator": "nope", "area": VILLAGE_A}).status_code == 404
    assert client.get(url, {"run": "x", "indicator": "births", "area": VILLAGE_A}).status_code == 404
    hostile = [{"area": "abc"}, {"area": ""}, {"area": "9" * 40}, {"part": "x"}, {"page": "-3"}, {"page": "9" * 30},
               {"run": "9" * 30}, {"run": "-1"}]  # fmt: skip
    for params in hostile:  # a tired clerk's or an attacker's URL: a 404 or the first page, never a 500
        query = {"run": run.pk, "indicator": "births", "area": VILLAGE_A, **params}
        assert client.get(url, query).status_code in (200, 404), params
    assert client.get(url).status_code == 200  # no figure chosen: where to choose one

    page = client.get(url, {"run": run.pk, "indicator": "birth_rate", "area": VILLAGE_A, "part": "denominator"})
    assert page.status_code == 200
    html = page.content.decode()
    mover = Person.objects.get(name="迁入者")
    assert mover.id_number not in html and mover.id_number[:6] + "********" + mover.id_number[-4:] in html
    assert "下列 16 条记录合计 8" in html and 'data-testid="agrees"' in html
    # The dashboard's figures open their lists.
    board = client.get(reverse("indicators:dashboard"), {"period": "2024Q1", "area": VILLAGE_A}).content.decode()
    assert f"{url}?run={run.pk}&indicator=birth_rate&area={VILLAGE_A}&part=denominator" in board


def test_the_api_lists_a_figures_records(api_client, events_scenario, admin, make_user):
    run = indicators_compute(period="2024Q1")
    value = IndicatorValue.objects.get(run=run, indicator_code="deaths", area_id=TOWNSHIP_A)
    api_client.force_authenticate(admin)
    listed = api_client.get("/api/v1/indicators/values/", {"indicator": "deaths", "area": TOWNSHIP_A}).json()
    (row,) = listed["results"]
    assert row["records"] == f"/api/v1/indicators/values/{value.pk}/records/"
    response = api_client.get(row["records"])
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["stored"], body["total"], body["count"]) == ("1.00", "1.00", 1)
    (record,) = body["results"]
    assert (record["records"], record["person"], record["on"]) == ("death", "故一", "2024-03-31")
    assert "*" in record["id_number"]
    assert api_client.get(row["records"], {"part": "nope"}).status_code == 400
    assert api_client.get(row["records"], {"page": "9" * 30}).status_code == 400
    api_client.force_authenticate(make_user("leader_b", TOWNSHIP_B, "county_viewer"))
    assert api_client.get(row["records"]).status_code == 404
