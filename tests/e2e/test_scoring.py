"""An assessor enters manual scores with evidence, claims a deduction (a reported out-of-policy birth the
township had not reported: double), a county admin approves it, and the township leader reads the final
line-by-line breakdown of its own township only. The year as a workflow: the county admin edits a contract
target, the assessor opens the year (the scheme came late: a reason), scores, finalises. Real Chromium."""

from datetime import date

import pytest
from playwright.sync_api import expect

from apps.accounts.models import User
from apps.accounts.services import user_create
from apps.areas.models import Area
from apps.areas.services import areas_load_csv
from apps.scoring.models import Assessment, GradeBand, SchemeItem
from apps.scoring.services import (
    ManualScore,
    assessments_recompute,
    contract_save,
    item_scores_manual,
    scheme_load,
)
from tests.conftest import AREAS_CSV, COUNTY, PASSWORD, TOWNSHIP_A, TOWNSHIP_B
from tests.e2e.conftest import ARTIFACTS
from tests.scoring.conftest import ALL_MET, SCHEME_TEXT, TARGETS, YEAR, make_snapshot


@pytest.fixture
def county(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    areas_load_csv(text=AREAS_CSV.read_text(encoding="utf-8"))
    areas = {a.code: a for a in Area.objects.filter(code__in=[COUNTY, TOWNSHIP_A, TOWNSHIP_B])}
    user_create(username="kaohe", password=PASSWORD, area=areas[COUNTY], roles=["assessor", "county_viewer"],
                full_name="考核员甲")  # fmt: skip
    user_create(username="xian_admin", password=PASSWORD, area=areas[COUNTY], roles=["county_admin"],
                full_name="县管理员")  # fmt: skip
    user_create(username="zhen_lingdao", password=PASSWORD, area=areas[TOWNSHIP_A], roles=["county_viewer"],
                full_name="平舒镇领导")  # fmt: skip
    scheme = scheme_load(text=SCHEME_TEXT, effective_from=date(YEAR, 1, 1)).scheme
    for code in (TOWNSHIP_A, TOWNSHIP_B):
        contract_save(area=areas[code], year=YEAR, signed_on=date(YEAR, 1, 5), targets=TARGETS)
        Assessment.objects.create(area_id=code, year=YEAR, scheme=scheme)
    make_snapshot(f"{YEAR}Q3-YTD", {TOWNSHIP_A: ALL_MET, TOWNSHIP_B: ALL_MET})
    assessments_recompute(year=YEAR)
    return tmp_path


def _sign_in(page, username):
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("home-title")).to_be_visible()


def _sign_out(page):
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_label("用户名")).to_be_visible()


def _open_unit(page, name):
    page.get_by_role("link", name="目标考核").click()
    expect(page.get_by_test_id("results-title")).to_have_text(f"{YEAR}年目标管理责任制考核结果")
    page.get_by_test_id("results-table").get_by_role("link", name=name).click()
    expect(page.get_by_test_id("assessment-title")).to_have_text(f"{YEAR}年 {name} 目标管理责任制考核")


def _row(page, code):
    return page.locator(f'[data-testid="item-row"][data-code="{code}"]')


def test_assessor_scores_admin_approves_and_township_leader_reads_the_breakdown(page, county, tmp_path):
    minutes = tmp_path / "统筹决策会议纪要.pdf"
    minutes.write_bytes(b"%PDF-1.4 meeting minutes")

    _sign_in(page, "kaohe")
    _open_unit(page, "平舒镇")
    expect(page.get_by_test_id("assessment-total")).to_have_text("228.00")
    planning = _row(page, "pg.planning")
    planning.get_by_label("统筹决策得分").fill("18")
    planning.get_by_label("统筹决策评分说明").fill("召开专题会议两次，出台配套政策一项")
    planning.get_by_label("统筹决策佐证材料").set_input_files(str(minutes))
    planning.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert")).to_have_text("已保存「统筹决策」的得分")
    law = _row(page, "pg.rule_of_law")
    law.get_by_label("依法行政得分").fill("25")  # above the item's 20 points: refused by the server
    law.get_by_label("依法行政评分说明").fill("无违法生育查处不力情况")
    law.evaluate("row => row.querySelector('input[name=points]').removeAttribute('max')")
    law.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert")).to_have_text("「依法行政」未保存：「依法行政」的得分应在0至20分之间")
    law = _row(page, "pg.rule_of_law")
    law.get_by_label("依法行政得分").fill("20")
    law.get_by_label("依法行政评分说明").fill("无违法生育查处不力情况")
    law.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert")).to_have_text("已保存「依法行政」的得分")
    expect(page.get_by_test_id("assessment-total")).to_have_text("266.00")

    # A deduction: two reported out-of-policy births, one of which the township had not reported (5 + 10).
    page.get_by_test_id("claim-panel").locator("summary").click()
    page.get_by_label("加减分项目").select_option(label="扣分：被举报的政策外生育（每例；未如实上报的加倍）")
    page.get_by_label("例数（已如实上报）").fill("1")
    page.get_by_label("例数（未如实上报）").fill("1")
    page.get_by_label("事由").fill("群众举报两例，经查证属实，其中一例未如实上报")
    page.get_by_role("button", name="提交申报").click()
    expect(page.get_by_role("alert")).to_have_text("已申报扣分15分，待审核")
    claim = page.get_by_test_id("adjustment-row")
    expect(claim.get_by_test_id("adjustment-status")).to_have_text("待审核")
    expect(claim).to_contain_text("待他人审核")  # the claimant cannot approve the own claim
    expect(claim.get_by_role("button", name="批准", exact=True)).to_have_count(0)
    _sign_out(page)

    _sign_in(page, "xian_admin")
    _open_unit(page, "平舒镇")
    page.get_by_test_id("adjustment-row").get_by_label("审核意见").fill("经局务会研究同意")
    page.get_by_test_id("adjustment-row").get_by_role("button", name="批准", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text("扣分「被举报的政策外生育（每例；未如实上报的加倍）」已批准")
    expect(page.get_by_test_id("assessment-total")).to_have_text("251.00")
    page.get_by_role("link", name="目标考核").click()
    county_rows = page.get_by_test_id("result-row")
    expect(county_rows).to_have_count(2)
    expect(county_rows.first.get_by_test_id("total")).to_have_text("251.00")
    expect(county_rows.nth(1).get_by_test_id("total")).to_have_text("228.00")
    expect(county_rows.get_by_test_id("rank")).to_have_text(["1", "2"])
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "scoring_county_results.png"), full_page=True)
    _sign_out(page)

    _sign_in(page, "zhen_lingdao")
    page.get_by_role("link", name="目标考核").click()
    rows = page.get_by_test_id("result-row")
    expect(rows).to_have_count(1)  # only the own township
    expect(rows.first).to_contain_text("平舒镇")
    expect(rows.get_by_test_id("rank")).to_have_text("1")
    rows.get_by_role("link", name="平舒镇").click()
    expect(page.get_by_test_id("assessment-total")).to_have_text("251.00")
    expect(page.get_by_test_id("deduction-total")).to_have_text("15.00")
    expect(page.get_by_test_id("assessment-rank")).to_have_text("第1名")
    expect(_row(page, "pg.planning").get_by_test_id("item-points")).to_have_text("18.00")
    expect(_row(page, "pg.planning").get_by_test_id("item-basis")).to_contain_text(
        "召开专题会议两次，出台配套政策一项（考核员甲"
    )
    expect(_row(page, "pg.basic_indicators").get_by_test_id("item-basis")).to_have_text(
        "出生政策符合率：实际99.5，目标≥95，达标"
    )
    expect(page.get_by_test_id("score-form")).to_have_count(0)  # a leader reads, does not score
    claim = page.get_by_test_id("adjustment-row")
    expect(claim.get_by_test_id("adjustment-status")).to_have_text("已批准")
    expect(claim).to_contain_text("县管理员")
    with page.expect_download() as download:
        _row(page, "pg.planning").get_by_test_id("evidence-link").click()
    assert download.value.suggested_filename == "统筹决策会议纪要.pdf"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "scoring_township_leader_breakdown.png"), full_page=True)
    # Another township's page is a 404 for this leader.
    other = Assessment.objects.get(area_id=TOWNSHIP_B, year=YEAR)
    assert page.goto(f"/scoring/assessments/{other.pk}/").status == 404


@pytest.fixture
def unopened_year(transactional_db, settings, tmp_path):
    """Contracts signed, the scheme published (today: after the year began), the year not yet opened."""
    settings.MEDIA_ROOT = tmp_path
    areas_load_csv(text=AREAS_CSV.read_text(encoding="utf-8"))
    areas = {a.code: a for a in Area.objects.filter(code__in=[COUNTY, TOWNSHIP_A, TOWNSHIP_B])}
    user_create(username="kaohe", password=PASSWORD, area=areas[COUNTY], roles=["assessor"], full_name="考核员甲")
    user_create(username="xian_admin", password=PASSWORD, area=areas[COUNTY], roles=["county_admin"],
                full_name="县管理员")  # fmt: skip
    scheme_load(text=SCHEME_TEXT, effective_from=date(YEAR, 1, 1))
    for code in (TOWNSHIP_A, TOWNSHIP_B):
        contract_save(area=areas[code], year=YEAR, signed_on=date(YEAR, 1, 5), targets=TARGETS)
    make_snapshot(f"{YEAR}Q3-YTD", {TOWNSHIP_A: ALL_MET, TOWNSHIP_B: ALL_MET})
    # The example grade bands of the data migration (a transactional test starts from empty tables).
    for label, min_total in (("优秀", 900), ("良好", 800), ("合格", 600), ("不合格", 0)):
        GradeBand.objects.get_or_create(year=YEAR, label=label, defaults={"min_total": min_total})


def test_admin_edits_a_target_and_the_assessor_opens_scores_and_finalises_the_year(page, unopened_year):
    _sign_in(page, "xian_admin")
    page.goto(f"/scoring/contracts/?year={YEAR}")
    expect(page.get_by_test_id("contracts-title")).to_have_text(f"{YEAR}年目标管理责任书")
    page.locator(f'[data-testid="contract-row"][data-area="{TOWNSHIP_A}"]').get_by_role("link", name="修改").click()
    expect(page.get_by_test_id("contract-title")).to_have_text(f"{YEAR}年 平舒镇 目标管理责任书")
    page.get_by_label("全员人口信息完整率目标值").fill("99")
    page.get_by_role("button", name="保存责任书").click()
    expect(page.get_by_role("alert")).to_have_text(f"已保存{YEAR}年平舒镇的目标管理责任书")
    row = page.locator(f'[data-testid="contract-row"][data-area="{TOWNSHIP_A}"]')
    expect(row.get_by_test_id("contract-targets")).to_contain_text("全员人口信息完整率 ≥ 99%")
    _sign_out(page)

    _sign_in(page, "kaohe")
    page.get_by_role("link", name="考核年度").click()
    page.goto(f"/scoring/year/?year={YEAR}")
    expect(page.get_by_test_id("year-status")).to_have_text("尚未开启")
    page.get_by_role("button", name=f"开启{YEAR}年考核").click()  # the scheme came late: refused without a reason
    expect(page.get_by_role("alert")).to_contain_text("须填写迟发说明")
    assert not Assessment.objects.exists()
    page.get_by_label("方案迟发说明").fill("省考核办法3月才下发，县方案随之推迟发布")
    page.get_by_role("button", name=f"开启{YEAR}年考核").click()
    expect(page.get_by_role("alert")).to_have_text(f"{YEAR}年考核已开启：新建10个单位的考核，已有0个未改动")
    expect(page.get_by_test_id("late-scheme-notice")).to_contain_text("迟发说明：省考核办法3月才下发")

    # The rest of the unit's manual items were scored over the year (by the same assessor, through the service).
    unit = Assessment.objects.get(area_id=TOWNSHIP_A, year=YEAR)
    items = SchemeItem.objects.filter(scheme_id=unit.scheme_id, method="manual").exclude(code="pg.planning")
    item_scores_manual(assessment=unit, scores=[ManualScore(i, i.points, "台账齐全") for i in items],
                       by=User.objects.get(username="kaohe"))  # fmt: skip
    page.get_by_test_id("year-units").get_by_role("link", name="平舒镇").click()
    expect(page.get_by_test_id("late-scheme-notice")).to_contain_text("迟发说明：省考核办法3月才下发")
    # The edited target is the one scored: 98.2 against ≥ 99 with the floor at 86 → 50 × 12.2 / 13 = 46.92.
    expect(_row(page, "pfp.informatisation.whole_population").get_by_test_id("item-basis")).to_have_text(
        "全员人口信息完整率：实际98.2，目标≥99，未达标"
    )
    planning = _row(page, "pg.planning")
    planning.get_by_label("统筹决策得分").fill("18")
    planning.get_by_label("统筹决策评分说明").fill("召开专题会议两次")
    planning.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert")).to_have_text("已保存「统筹决策」的得分")
    expect(page.get_by_test_id("assessment-total")).to_have_text("994.92")  # 224.92 + 752 + 18
    page.get_by_role("button", name="定稿").click()
    expect(page.get_by_role("alert")).to_have_text(f"{YEAR}年平舒镇的考核已定稿")
    expect(page.get_by_test_id("assessment-status")).to_have_text("已定稿")
    expect(page.get_by_test_id("assessment-grade")).to_have_text("优秀")
    expect(page.get_by_test_id("assessment-rank")).to_have_text("第1名")
    expect(page.get_by_test_id("score-form")).to_have_count(0)  # final: nothing is scored any more
    page.get_by_role("link", name="目标考核").click()
    first = page.get_by_test_id("result-row").first
    expect(first).to_contain_text("平舒镇")
    expect(first.get_by_test_id("rank")).to_have_text("1")
    expect(first.get_by_test_id("grade")).to_have_text("优秀")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "scoring_year_finalised.png"), full_page=True)
