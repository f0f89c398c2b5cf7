"""``/api/v1/indicators/values`` (DESIGN §8): the latest snapshot, filtered, within the user's area."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.indicators.services import indicators_compute
from tests.conftest import COUNTY, TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A

URL = "/api/v1/indicators/values/"


@pytest.fixture
def computed(events_scenario):
    indicators_compute(period="2024Q1")
    return indicators_compute(period="2024Q1")  # a recompute: the API shows this one only


def test_values_are_filtered_and_from_the_latest_snapshot(
    api_client, county_viewer, computed, django_assert_max_num_queries
):
    api_client.force_authenticate(county_viewer)
    with django_assert_max_num_queries(6):
        response = api_client.get(URL, {"indicator": "birth_rate", "area": TOWNSHIP_A, "period": "2024Q1"})
    assert response.status_code == 200
    (value,) = response.json()["results"]
    assert (value["area"], value["indicator"], value["indicator_name"], value["run"]) == (
        TOWNSHIP_A, "birth_rate", "出生率", computed.pk
    )  # fmt: skip
    assert Decimal(value["numerator"]) == 3 and Decimal(value["denominator"]) == Decimal("11.5")
    assert Decimal(value["value"]).quantize(Decimal("0.01")) == Decimal("260.87")
    response = api_client.get(URL, {"indicator": "births", "period": "2024Q1"})
    assert response.json()["count"] == 1 + 10 + 400  # county, townships, villages: one snapshot


def test_a_township_leader_gets_nothing_outside_the_township(api_client, make_user, computed):
    api_client.force_authenticate(make_user("zhenzhang", TOWNSHIP_A, "county_viewer"))
    assert api_client.get(URL, {"area": TOWNSHIP_B, "period": "2024Q1"}).json()["count"] == 0
    assert api_client.get(URL, {"area": COUNTY}).json()["count"] == 0
    assert api_client.get(URL, {"area": VILLAGE_A, "indicator": "births"}).json()["results"][0]["numerator"] == "2.00"
    assert api_client.get(URL, {"indicator": "no_such"}).status_code == 400


def test_other_roles_are_refused(api_client, township_clerk, computed):
    api_client.force_authenticate(township_clerk)
    assert api_client.get(URL).status_code == 403
