"""Reports that read well: the dashboard ranks by an indicator that separates the areas, and 上报数与回溯数对比
narrows to the differences, one indicator or one area."""

# ruff: noqa: F811

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from apps.indicators.services import indicators_compute
from apps.registry.services import ChildData, birth_record
from tests.conftest import COUNTY, TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A, VILLAGE_B
from tests.indicators.test_views import reported  # noqa: F401 (fixture)
from tests.scoring.conftest import make_snapshot

DASHBOARD = reverse("indicators:dashboard")
COMPARE = reverse("indicators:compare")
TOWNSHIP_C = "131025102000"


def _ranked(response) -> list[tuple[str, int | None]]:
    return [(row.area.code, row.rank) for row in response.context["board"].rows[:3]]


def test_the_ranking_skips_an_indicator_on_which_every_township_is_equal(client, county_viewer, areas, settings):
    settings.INDICATORS_RANKING = ["policy_compliance_rate", "contraceptive_prevalence"]
    make_snapshot(
        "2025Q1",
        {
            TOWNSHIP_A: {"policy_compliance_rate": "100", "contraceptive_prevalence": "81"},
            TOWNSHIP_B: {"policy_compliance_rate": "100", "contraceptive_prevalence": "92"},
            TOWNSHIP_C: {"policy_compliance_rate": "100", "contraceptive_prevalence": "75"},
        },
    )
    client.force_login(county_viewer)
    response = client.get(DASHBOARD, {"period": "2025Q1"})
    board = response.context["board"]
    assert (board.rank_by.code, board.rank_auto) == ("contraceptive_prevalence", True)
    assert _ranked(response) == [(TOWNSHIP_B, 1), (TOWNSHIP_A, 2), (TOWNSHIP_C, 3)]
    page = response.content.decode()
    assert "按综合避孕率排序" in page and "默认取各区划之间有差异的指标" in page
    assert '<option value="contraceptive_prevalence" selected>' in page  # the picker shows the choice

    # The user may still rank by any key indicator, even one that separates nothing.
    response = client.get(DASHBOARD, {"period": "2025Q1", "rank": "policy_compliance_rate"})
    board = response.context["board"]
    assert (board.rank_by.code, board.rank_auto) == ("policy_compliance_rate", False)
    assert "默认取各区划之间有差异的指标" not in response.content.decode()


def test_the_preferred_indicator_ranks_when_it_separates_the_townships(client, county_viewer, reported):
    client.force_login(county_viewer)
    board = client.get(DASHBOARD, {"period": "2024Q1"}).context["board"]
    assert board.rank_by.code == "policy_compliance_rate"  # B 100%, A 66.67%


@pytest.fixture
def recomputed(reported, make_person, areas):
    """A birth of 2024Q1 entered late in village B: the recomputed snapshot differs from the reported one."""
    mother = make_person("迟报母亲", "F", date(1996, 1, 1), VILLAGE_B)
    birth_record(mother=mother, on=date(2024, 3, 20), village=areas[VILLAGE_B], by=None,
                 child_data=ChildData(name="迟报", sex="M"), entered_on=date(2024, 6, 1))  # fmt: skip
    return indicators_compute(period="2024Q1")


def _rows(client, **params) -> dict[tuple[str, str], bool]:
    response = client.get(COMPARE, {"period": "2024Q1", **params})
    assert response.status_code == 200
    return {(d.area_code, d.indicator.code): d.differs for d in response.context["differences"]}


def test_the_comparison_filters_to_differences_by_indicator_and_by_area(client, county_viewer, recomputed):
    client.force_login(county_viewer)
    everything = _rows(client)
    assert all(everything.values()) and (COUNTY, "births") in everything and (VILLAGE_A, "births") not in everything

    births = _rows(client, indicator="births")
    assert set(births) == {(COUNTY, "births"), (TOWNSHIP_B, "births"), (VILLAGE_B, "births")}

    township_b = _rows(client, area=TOWNSHIP_B)
    assert township_b and all(code.startswith(TOWNSHIP_B[:9]) for code, _ in township_b)
    assert (COUNTY, "births") not in township_b and (VILLAGE_B, "births") in township_b
    assert _rows(client, area=TOWNSHIP_A) == {}  # nothing changed there
    response = client.get(COMPARE, {"period": "2024Q1", "area": TOWNSHIP_A})
    assert "所选范围内两次计算结果完全一致" in response.content.decode()

    # Every value side by side, the differences marked: village A's births unchanged, village B's changed.
    side_by_side = _rows(client, show="all", indicator="births")
    assert side_by_side[(VILLAGE_A, "births")] is False and side_by_side[(VILLAGE_B, "births")] is True
    page = client.get(COMPARE, {"period": "2024Q1", "show": "all", "indicator": "births"}).content.decode()
    assert "共 3 处不同" in page

    # An unknown indicator is no filter; an area outside the user's is a 404, as everywhere.
    assert _rows(client, indicator="no_such") == everything
    leader = county_viewer.__class__.objects.create_user("zhen", password="x", area_id=TOWNSHIP_A,
                                                         roles=["county_viewer"])  # fmt: skip
    client.force_login(leader)
    assert client.get(COMPARE, {"period": "2024Q1", "area": TOWNSHIP_B}).status_code == 404
