"""A county viewer opens the indicators dashboard, reads the county's cards and the township ranking with its
alerts, drills into a township and sees its villages. Real Chromium, in Chinese."""

from datetime import date

import pytest
from playwright.sync_api import expect

from apps.accounts.services import user_create
from apps.areas.models import Area
from apps.areas.services import areas_load_csv
from apps.indicators.services import indicators_compute
from apps.registry.services import ChildData, PersonData, birth_record, person_create
from tests.conftest import AREAS_CSV, COUNTY, PASSWORD, TOWNSHIP_A, VILLAGE_A
from tests.e2e.conftest import ARTIFACTS


@pytest.fixture
def reported(transactional_db):
    """Village A: three boys born in 2024Q1 (a sex ratio at birth far above 120); the report is computed."""
    areas_load_csv(text=AREAS_CSV.read_text(encoding="utf-8"))
    village = Area.objects.get(code=VILLAGE_A)
    user_create(username="xian_chaxun", password=PASSWORD, area=Area.objects.get(code=COUNTY),
                roles=["county_viewer"], full_name="县级查询")  # fmt: skip
    for n, born in enumerate((date(2024, 1, 10), date(2024, 2, 29), date(2024, 3, 31))):
        mother = person_create(
            data=PersonData(name=f"母亲{n}", sex="F", birth_date=date(1992, 1, 1 + n), hukou_type="agricultural",
                            village=village),
            by=None,
        )  # fmt: skip
        birth_record(mother=mother, on=born, village=village, child_data=ChildData(f"男婴{n}", "M"),
                     entered_on=born, by=None)  # fmt: skip
    birth_record(mother=mother, on=date(2023, 3, 1), village=village, child_data=ChildData("女婴", "F"),
                 entered_on=date(2023, 3, 1), by=None)  # fmt: skip
    indicators_compute(period="2023Q1")
    indicators_compute(period="2024Q1")


def test_county_viewer_opens_the_dashboard_and_drills_into_a_township(page, reported):
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill("xian_chaxun")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("link", name="统计指标").click()

    expect(page.get_by_test_id("dashboard-title")).to_have_text("大城县 · 2024年第1季度")
    births = page.get_by_test_id("card-births")
    expect(births.get_by_test_id("value")).to_have_text("3")
    expect(births.get_by_test_id("change")).to_contain_text("上年同期 1")
    expect(page.get_by_test_id("card-sex_ratio_at_birth").get_by_test_id("value")).to_have_text("—")
    ranking = page.get_by_test_id("ranking")
    expect(ranking.locator("tbody tr")).to_have_count(10)
    township_row = ranking.get_by_test_id(f"row-{TOWNSHIP_A}")
    expect(township_row.locator("td").first).to_have_text("1")
    # The trend chart is drawn by the locally served ECharts.
    expect(page.get_by_test_id("trend-birth_rate").locator("canvas")).to_have_count(1)

    page.get_by_test_id(f"drill-{TOWNSHIP_A}").click()
    expect(page.get_by_test_id("dashboard-title")).to_have_text("平舒镇 · 2024年第1季度")
    expect(page.get_by_test_id("area-trail")).to_contain_text("大城县")
    expect(page.get_by_test_id("card-births").get_by_test_id("value")).to_have_text("3")
    village_row = page.get_by_test_id("ranking").get_by_test_id(f"row-{VILLAGE_A}")
    expect(village_row).to_contain_text("南潘庄村委会")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "indicators-township-dashboard.png"), full_page=True)

    # 指标明细: the township's births open the three births behind the figure, from the snapshot.
    page.get_by_test_id("card-births").get_by_test_id("value").get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("出生人数 · 平舒镇 · 2024年第1季度")
    expect(page.get_by_test_id("records-summary")).to_contain_text("下列 3 条记录合计 3")
    expect(page.get_by_test_id("agrees")).to_be_visible()
    rows = page.get_by_test_id("records").get_by_test_id("record")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("男婴0")
    expect(rows.first).to_contain_text("母亲 母亲0")
    page.screenshot(path=str(ARTIFACTS / "indicators-records.png"), full_page=True)
