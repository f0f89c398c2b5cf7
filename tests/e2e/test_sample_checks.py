"""入户抽查 in real Chromium (issue 17): the assessor draws the townships' samples (the seed hidden), prints the
visit checklist, enters what was found at each door, closes the check (the seed published, 统计准确率 with its
interval, a deduction proposed), and the county admin approves the deduction."""

from datetime import date

import pytest
from playwright.sync_api import expect

from apps.accounts.services import user_create
from apps.areas.models import Area
from apps.areas.services import areas_load_csv
from apps.registry.models import Household
from apps.registry.services import PersonData, person_create
from apps.scoring.models import Assessment, SampleCheck, SampleCheckPolicy
from apps.scoring.services import assessments_recompute, contract_save, scheme_load
from tests.conftest import AREAS_CSV, COUNTY, PASSWORD, TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A
from tests.e2e.conftest import ARTIFACTS
from tests.registry.conftest import make_id_number
from tests.scoring.conftest import ALL_MET, SCHEME_TEXT, TARGETS, YEAR, make_snapshot


@pytest.fixture
def county(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    areas_load_csv(text=AREAS_CSV.read_text(encoding="utf-8"))
    areas = {a.code: a for a in Area.objects.filter(code__in=[COUNTY, TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A])}
    user_create(username="kaohe", password=PASSWORD, area=areas[COUNTY], roles=["assessor"], full_name="考核员甲")
    user_create(username="xian_admin", password=PASSWORD, area=areas[COUNTY], roles=["county_admin"],
                full_name="县管理员")  # fmt: skip
    scheme = scheme_load(text=SCHEME_TEXT, effective_from=date(YEAR, 1, 1)).scheme
    for code in (TOWNSHIP_A, TOWNSHIP_B):
        contract_save(area=areas[code], year=YEAR, signed_on=date(YEAR, 1, 5), targets=TARGETS)
        Assessment.objects.create(area_id=code, year=YEAR, scheme=scheme)
    make_snapshot(f"{YEAR}Q3-YTD", {TOWNSHIP_A: ALL_MET, TOWNSHIP_B: ALL_MET})
    assessments_recompute(year=YEAR)
    for i in range(3):
        household = Household.objects.create(number=f"PS-{i:03d}", village=areas[VILLAGE_A], address=f"{i + 1}号")
        for sex, name in (("M", f"张{i}强"), ("F", f"李{i}英")):
            born = date(1975 + i, 3 if sex == "M" else 4, 10 + i)
            person_create(
                data=PersonData(name=name, sex=sex, birth_date=born, hukou_type="agricultural",
                                village=areas[VILLAGE_A], id_number=make_id_number(born, sex), household=household),
                by=None,
            )  # fmt: skip
    # A transactional test before this one may have flushed the migration's rule: the county's rule, as set.
    SampleCheckPolicy.objects.all().delete()
    SampleCheckPolicy.objects.create(valid_from=date(2020, 1, 1), households_per_township=3,
                                     accuracy_threshold=95, adjustment_rule_code="spot_check_problem")  # fmt: skip


def _sign_in(page, username):
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("home-title")).to_be_visible()


def test_a_sample_check_from_the_draw_to_the_accuracy_and_an_approved_deduction(page, county):
    _sign_in(page, "kaohe")
    page.goto(f"/scoring/year/?year={YEAR}")
    page.get_by_role("link", name="入户抽查").click()
    page.get_by_label("考核年度").fill(str(YEAR))
    page.get_by_role("button", name="各乡镇抽样").click()
    expect(page.get_by_role("alert")).to_contain_text("个乡镇抽样")
    page.get_by_test_id("sample-row").filter(has_text="平舒镇").get_by_role("link", name="平舒镇").click()
    expect(page.get_by_test_id("seed-hidden")).to_have_text("抽查结束后公布")
    check = SampleCheck.objects.get(township_id=TOWNSHIP_A, year=YEAR)
    expect(page.get_by_test_id("seed-digest")).to_have_text(check.seed_sha256)
    assert check.seed not in page.content()

    page.get_by_test_id("print-link").click()
    expect(page.get_by_test_id("print-row")).to_have_count(6)
    expect(page.get_by_test_id("print-title")).to_have_text(f"{YEAR}年平舒镇入户抽查核查表")
    page.go_back()

    # At the doors: four as registered, one not living there, one with a wrong birth date; an unregistered baby.
    results = {"张0强": "信息一致", "李0英": "信息一致", "张1强": "信息一致", "李1英": "信息一致",
               "张2强": "查无此人", "李2英": "信息有误"}  # fmt: skip
    for name, result in results.items():
        row = page.get_by_test_id("member-row").filter(has_text=name)
        row.get_by_label("核查结果").select_option(label=result)
        if result == "信息有误":
            row.get_by_label("有误的项目").fill("出生日期")
        row.get_by_role("button", name="保存").click()
        expect(page.get_by_role("alert")).to_have_text("已录入核查结果")
    expect(page.get_by_test_id("member-row").filter(has_text="李2英").get_by_test_id("member-result")).to_have_text(
        "信息有误（出生日期）"
    )
    form = page.get_by_test_id("unregistered-form")
    form.get_by_label("户", exact=True).select_option(label="PS-002")
    form.get_by_label("类别").select_option(label="漏登人员")
    form.get_by_label("说明").fill("2025年出生的女婴未登记")
    form.get_by_role("button", name="登记漏登").click()
    expect(page.get_by_test_id("unregistered-row")).to_contain_text("2025年出生的女婴未登记")
    expect(page.get_by_test_id("rate")).to_have_text("66.67%")

    page.get_by_role("button", name="结束抽查并公布种子").click()
    expect(page.get_by_role("alert")).to_have_text("抽查已结束，随机种子已公布，已提出扣分建议，待他人审核")
    expect(page.get_by_test_id("seed")).to_have_text(check.seed)
    expect(page.get_by_test_id("interval")).to_have_text("30.00%–90.32%")
    expect(page.get_by_test_id("unregistered-count")).to_have_text("1")
    expect(page.get_by_test_id("proposal")).to_contain_text("待审核")

    _sign_in(page, "xian_admin")
    page.goto(f"/scoring/assessments/{Assessment.objects.get(area_id=TOWNSHIP_A, year=YEAR).pk}/")
    claim = page.get_by_test_id("adjustment-row")
    expect(claim).to_contain_text("统计准确率66.67%")
    claim.get_by_label("审核意见").fill("抽查结果属实，同意扣分")
    claim.get_by_role("button", name="批准", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("已批准")
    check.refresh_from_db()
    assert check.adjustment.status == "approved" and check.adjustment.decided_by.username == "xian_admin"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "sample-check-approved.png"), full_page=True)
