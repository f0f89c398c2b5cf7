"""The officials' dashboard, drill-down, scope, the Excel export and "reported vs recomputed"."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import BytesIO

import openpyxl
import pytest
from django.urls import reverse

from apps.indicators.formatting import display_value
from apps.indicators.models import AssessmentEnd, ReportRun
from apps.indicators.services import indicators_compute, report_run_request
from apps.registry.services import ChildData, birth_record
from tests.conftest import COUNTY, TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A, VILLAGE_B
from tests.indicators.conftest import VILLAGE_A2

DASHBOARD = reverse("indicators:dashboard")


@pytest.fixture
def reported(events_scenario):
    """2024Q1 and, for the change from last year, 2023Q1 (no births in the county: a birth rate of 0), in a
    county that still assesses births as in or out of policy (no assessment end of 出生政策符合率)."""
    AssessmentEnd.objects.all().delete()
    indicators_compute(period="2023Q1")
    return indicators_compute(period="2024Q1")


@pytest.fixture
def leader(make_user):
    """A township leader: a county viewer bound to township A (平舒镇)."""
    return make_user("zhenzhang", TOWNSHIP_A, "county_viewer")


def test_county_viewer_sees_cards_ranking_alerts_and_drills_down(
    client, county_viewer, reported, django_assert_max_num_queries
):
    client.force_login(county_viewer)
    # A fixed number of queries (session, user, periods, area, children, trail, values, trend, thresholds).
    with django_assert_max_num_queries(11):
        response = client.get(DASHBOARD, {"period": "2024Q1"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "大城县 · 2024年第1季度" in page
    board = response.context["board"]
    cards = {c.indicator.code: c for c in board.cards}
    assert cards["births"].reading.numerator == 4
    assert display_value(cards["birth_rate"].change) == Decimal("242.42")  # 2023Q1: no births, a rate of 0
    # Ranked by 出生政策符合率: 101 (B) 100% first, 平舒镇 (A) 66.67% second; townships without births unranked.
    ranks = [(row.area.code, row.rank) for row in board.rows[:3]]
    assert ranks[0] == (TOWNSHIP_B, 1) and ranks[1] == (TOWNSHIP_A, 2) and ranks[2][1] is None
    assert len(board.rows) == 10
    # 平舒镇's sex ratio at birth (200) is above 120 and its registration timeliness (66.67%) below 90%.
    row_a = page[page.index(f'data-testid="row-{TOWNSHIP_A}"') :]
    row_a = row_a[: row_a.index("</tr>")]
    assert 'data-alert="sex_ratio_at_birth"' in row_a and "⚠ 200.00" in row_a
    assert 'data-alert="birth_registration_timeliness"' in row_a and "⚠ 66.67" in row_a
    assert 'data-alert="policy_compliance_rate"' in row_a  # below the 95% target in force since 2021-07-20
    assert 'data-alert="multi_birth_rate"' not in row_a  # that threshold ended in 2021
    assert "vendor/echarts/echarts.min.js" in page

    response = client.get(DASHBOARD, {"period": "2024Q1", "area": TOWNSHIP_A})
    assert [a.code for a in response.context["board"].trail] == [COUNTY, TOWNSHIP_A]
    rows = {row.area.code: row for row in response.context["board"].rows}
    assert VILLAGE_A in rows and VILLAGE_A2 in rows and VILLAGE_B not in rows
    response = client.get(DASHBOARD, {"period": "2024Q1", "area": VILLAGE_A})
    cards = {c.indicator.code: c for c in response.context["board"].cards}
    assert cards["population_end"].reading.numerator == 9
    assert response.context["board"].rows == []


def test_township_leader_sees_only_the_own_township(client, leader, reported):
    client.force_login(leader)
    response = client.get(DASHBOARD, {"period": "2024Q1"})
    assert response.status_code == 200
    board = response.context["board"]
    assert board.area.code == TOWNSHIP_A
    assert [a.code for a in board.trail] == [TOWNSHIP_A]
    assert {c.indicator.code: c for c in board.cards}["births"].reading.numerator == 3
    for other in (TOWNSHIP_B, COUNTY, VILLAGE_B, "999999999999", "x"):
        assert client.get(DASHBOARD, {"period": "2024Q1", "area": other}).status_code == 404
    assert client.get(reverse("indicators:export"), {"period": "2024Q1", "area": TOWNSHIP_B}).status_code == 404
    assert b"recompute" not in response.content  # only county admins recompute
    assert client.post(reverse("indicators:recompute"), {"period": "2024Q1"}).status_code == 403


def test_other_roles_are_refused(client, township_clerk, reported):
    client.force_login(township_clerk)
    assert client.get(DASHBOARD).status_code == 403
    client.logout()
    assert client.get(DASHBOARD).status_code == 302  # to the login page


def test_a_malformed_period_gets_a_message_and_the_latest_report(client, county_viewer, reported):
    client.force_login(county_viewer)
    response = client.get(DASHBOARD, {"period": "2024Q5"}, follow=True)
    assert response.status_code == 200
    assert "报表期应写作" in response.content.decode()
    assert response.context["board"].period.code == "2024Q1"
    response = client.get(DASHBOARD, {"period": "2019Q1"})
    assert "2019年第1季度尚无大城县的报表数据" in response.content.decode()
    # The earliest period accepted: its trend and last year's figures lie before 1900 and are simply empty.
    response = client.get(DASHBOARD, {"period": "1900Q1"})
    assert response.status_code == 200 and "1900年第1季度尚无大城县的报表数据" in response.content.decode()


def test_excel_export_has_one_sheet_per_level_with_units_numerators_and_a_frozen_header(
    client, county_viewer, leader, reported
):
    client.force_login(county_viewer)
    response = client.get(reverse("indicators:export"), {"period": "2024Q1"})
    assert response.status_code == 200
    wb = openpyxl.load_workbook(BytesIO(response.content))
    assert wb.sheetnames == ["县", "乡镇", "村", "指标说明"]
    county = wb["县"]
    assert county["A1"].value == "大城县人口和计划生育统计指标（县级）"
    assert county["A2"].value.startswith("编制单位：大城县人口和计划生育办公室　　期间：2024年第1季度　　生成时间：")
    assert county.print_title_rows == "$3:$3" and county.page_setup.orientation == "landscape"
    header = [c.value for c in county[3]]
    assert header[:3] == ["区划代码", "区划名称", "出生人数（人）"]
    rate = header.index("出生率（‰）")
    assert header[rate + 1] == "出生率·分子：出生人数" and header[rate + 2] == "出生率·分母：平均人口"
    assert "出生人口性别比（女=100）" in header
    assert county.freeze_panes == "C4"
    row = [c.value for c in county[4]]
    assert row[:3] == [COUNTY, "大城县", 4]
    assert (row[rate], row[rate + 1], row[rate + 2]) == (242.42, 4, 16.5)
    assert wb["乡镇"].max_row == 13 and wb["村"].max_row > 100
    client.force_login(leader)
    wb = openpyxl.load_workbook(BytesIO(client.get(reverse("indicators:export"), {"period": "2024Q1"}).content))
    assert wb.sheetnames == ["乡镇", "村", "指标说明"]
    assert wb["乡镇"]["A4"].value == TOWNSHIP_A


def test_reported_vs_recomputed_shows_where_two_snapshots_differ(client, county_viewer, reported, make_person, areas):
    mother = make_person("迟报母亲", "F", date(1996, 1, 1), VILLAGE_B)
    birth_record(mother=mother, on=date(2024, 3, 20), village=areas[VILLAGE_B], by=None,
                 child_data=ChildData(name="迟报", sex="M"), entered_on=date(2024, 6, 1))  # fmt: skip
    recomputed = indicators_compute(period="2024Q1")
    client.force_login(county_viewer)
    response = client.get(reverse("indicators:compare"), {"period": "2024Q1"})
    assert response.status_code == 200
    assert (response.context["run_a"], response.context["run_b"]) == (reported, recomputed)
    diffs = {(d.area_code, d.indicator.code): d for d in response.context["differences"]}
    assert diffs[(COUNTY, "births")].a.numerator == 4 and diffs[(COUNTY, "births")].b.numerator == 5
    assert diffs[(VILLAGE_B, "sex_ratio_at_birth")].b.numerator == 1
    # The late mother and child joined village B's population; village A and its township did not change.
    assert (VILLAGE_A, "births") not in diffs and (TOWNSHIP_A, "birth_rate") not in diffs
    assert (TOWNSHIP_B, "population_end") in diffs
    assert f'data-testid="diff-{COUNTY}-births"' in response.content.decode()
    assert client.get(reverse("indicators:compare"), {"period": "2024Q1", "a": 999999}).status_code == 404


def test_recompute_of_a_period_already_running_is_refused_with_a_message(client, make_user, reported):
    admin = make_user("xian_admin", COUNTY, "county_admin")
    busy = report_run_request(period="2024Q1", by=admin)
    client.force_login(admin)
    response = client.post(reverse("indicators:recompute"), {"period": "2024Q1"}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert "2024年第1季度的报表正在计算，请等待完成后再试" in response.content.decode()
    response = client.post(reverse("indicators:recompute"), {"period": "2024Q9"}, headers={"HX-Request": "true"})
    assert response.status_code == 400 and "报表期应写作" in response.content.decode()
    assert ReportRun.objects.filter(status__in=["pending", "running"]).get() == busy
    response = client.get(reverse("indicators:run_progress", args=[busy.pk]))
    assert 'hx-trigger="every 1s"' in response.content.decode()
