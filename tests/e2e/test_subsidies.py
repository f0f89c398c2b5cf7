"""One roster from the village's submission to a reconciled bank batch, in real Chromium, in Chinese:
the county generates the 奖扶 roster, the village registers accounts and submits, the township reviews,
the county approves, nobody pays during the 公示, then another county officer pays and imports the bank's
return file."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from stdnum import luhn

from apps.accounts.services import user_create
from apps.areas.models import Area
from apps.areas.services import areas_load_csv
from apps.core.idnumbers import check_digit
from apps.registry.services import ChildData, PersonData, birth_record, person_create
from apps.subsidies.models import Roster
from tests.conftest import AREAS_CSV, COUNTY, PASSWORD, TOWNSHIP_A, VILLAGE_A
from tests.e2e.conftest import ARTIFACTS
from tests.subsidies.conftest import load_fixture_programmes


def _id_number(born: date, serial: str, sex_digit: int) -> str:
    first17 = f"131025{born:%Y%m%d}{serial}{sex_digit}"
    return first17 + check_digit(first17)


def _card(prefix: str) -> str:
    body = (prefix + "0" * 18)[:18]
    return body + luhn.calc_check_digit(body)


@pytest.fixture
def county(transactional_db, celery_worker):
    areas_load_csv(text=AREAS_CSV.read_text(encoding="utf-8"))
    load_fixture_programmes()
    area = {a.code: a for a in Area.objects.all()}
    user_create(username="xianadmin", password=PASSWORD, area=area[COUNTY], roles=["county_admin"])
    user_create(username="cun", password=PASSWORD, area=area[VILLAGE_A], roles=["village_clerk"], full_name="村录入员")
    user_create(
        username="shenhe", password=PASSWORD, area=area[TOWNSHIP_A], roles=["subsidy_reviewer"], full_name="镇审核员"
    )
    user_create(
        username="shenpi", password=PASSWORD, area=area[COUNTY], roles=["subsidy_approver"], full_name="县审批人"
    )
    user_create(
        username="fafang", password=PASSWORD, area=area[COUNTY], roles=["subsidy_reviewer"], full_name="县发放员"
    )
    village = area[VILLAGE_A]
    father = person_create(
        data=PersonData(name="杨建国", sex="M", birth_date=date(1960, 3, 2), hukou_type="agricultural",
                        village=village, id_number=_id_number(date(1960, 3, 2), "21", 3)),
        by=None,
    )  # fmt: skip
    mother = person_create(
        data=PersonData(name="李桂兰", sex="F", birth_date=date(1962, 5, 6), hukou_type="agricultural",
                        village=village, id_number=_id_number(date(1962, 5, 6), "22", 4)),
        by=None,
    )  # fmt: skip
    birth_record(
        mother=mother, father=father, on=date(1986, 9, 1), village=village, child_data=ChildData("杨丽", "F"), by=None
    )
    return father, mother


def _sign_in(page, username):
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("home-title")).to_be_visible()


def _open_roster(page):
    page.get_by_role("link", name="奖扶名册").click()
    page.get_by_test_id("roster-row").filter(has_text="平舒镇").get_by_role("link").click()


def test_a_roster_walks_from_submission_to_a_reconciled_batch(page, county, tmp_path):
    father, mother = county

    _sign_in(page, "xianadmin")
    page.get_by_role("link", name="奖扶名册").click()
    page.get_by_label("项目", exact=True).first.select_option(label="农村部分计划生育家庭奖励扶助（按年）")
    page.get_by_label("期间", exact=True).first.fill("2025")
    page.get_by_role("button", name="资格认定并生成名册").click()
    expect(page.get_by_role("alert")).to_contain_text("已开始农村部分计划生育家庭奖励扶助2025资格认定")
    # The Celery worker evaluates the county; the roster appears when it is done.
    rows = page.get_by_test_id("roster-row").filter(has_text="平舒镇")
    for _ in range(60):
        if rows.count():
            break
        page.wait_for_timeout(500)
        page.reload()
    expect(rows).to_contain_text("待村级上报")

    # The village clerk registers each parent's own card (a mistyped number is refused) and submits.
    _sign_in(page, "cun")
    _open_roster(page)
    expect(page.get_by_test_id("count-new")).to_have_text("2")
    row = page.get_by_test_id("entry-row").filter(has_text="杨建国")
    expect(row.get_by_test_id("entry-reasons")).to_have_text(
        "农业户籍；配偶为农业户籍（或无配偶）；年满60周岁；健在；现存一个子女或两个女孩，或子女死亡现无子女；"
        "1973至2001年间无政策外生育"
    )
    for name, card in (("杨建国", _card("6228480")), ("李桂兰", _card("6228481"))):
        page.get_by_test_id("entry-row").filter(has_text=name).get_by_role("link", name="登记账户").click()
        page.get_by_label("开户银行").fill("农村信用社")
        page.get_by_label("账号").fill(card[:-1] + str((int(card[-1]) + 1) % 10))
        page.get_by_role("button", name="保存").click()
        expect(page.get_by_test_id("error-account_number")).to_have_text("银行卡号校验位不正确，请核对是否录错")
        page.get_by_label("账号").fill(card)
        page.get_by_role("button", name="保存").click()
        expect(page.get_by_role("alert")).to_have_text(f"已登记{name}的领取账户")
        masked = card[:4] + "*" * 11 + card[-4:]
        expect(page.get_by_test_id("entry-row").filter(has_text=name).get_by_test_id("entry-account")).to_have_text(
            masked
        )
    page.get_by_label("意见").fill("经村民代表会议评议，无异议")
    page.get_by_role("button", name="本村上报").click()
    expect(page.get_by_test_id("roster-status")).to_have_text("待乡镇审核")

    _sign_in(page, "shenhe")
    _open_roster(page)
    page.get_by_label("意见").fill("已逐户核实")
    page.get_by_role("button", name="审核通过").click()
    expect(page.get_by_test_id("roster-status")).to_have_text("待县级审批")

    _sign_in(page, "shenpi")
    _open_roster(page)
    page.get_by_label("意见").fill("同意，予以公示")
    page.get_by_role("button", name="审批通过并公示").click()
    expect(page.get_by_test_id("roster-status")).to_have_text("已审批（公示）")
    expect(page.get_by_role("button", name="生成发放批次")).to_have_count(0)  # the approver does not pay
    page.get_by_test_id("notice-link").click()
    expect(page.get_by_test_id("notice-id")).to_have_text([mother.masked_id_number, father.masked_id_number])  # by name

    _sign_in(page, "fafang")
    _open_roster(page)
    page.get_by_role("button", name="生成发放批次").click()
    expect(page.get_by_role("alert")).to_contain_text("公示期满后才能发放")
    Roster.objects.update(approved_on=date.today() - timedelta(days=7))  # the seven days of 公示 pass
    page.get_by_role("button", name="生成发放批次").click()
    expect(page.get_by_test_id("batch-status")).to_have_text("待银行回盘")

    with page.expect_download() as download:
        page.get_by_test_id("export-csv").click()
    exported = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert [(r[1], r[5]) for r in exported[1:]] == [("杨建国", "960.00"), ("李桂兰", "960.00")]
    bank_return = tmp_path / "回盘.csv"
    with open(bank_return, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["付款编号", "账号", "金额", "结果", "失败原因"])
        for r in exported[1:]:
            writer.writerow([r[0], r[4], r[5], "成功", ""])
    page.get_by_label("银行回盘文件（.csv或.xlsx）").set_input_files(str(bank_return))
    page.get_by_role("button", name="导入回盘").click()
    expect(page.get_by_role("alert")).to_have_text("回盘已导入：成功2笔，失败0笔，待回盘0笔")
    expect(page.get_by_test_id("batch-status")).to_have_text("已对账")
    expect(page.get_by_test_id("payment-status")).to_have_text(["已发放", "已发放"])
    expect(page.get_by_test_id("batch-paid")).to_have_text("1920.00")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "subsidies-reconciled-batch.png"), full_page=True)


def _bank_return(tmp_path, exported: list[list[str]], failed: dict[str, str]):
    path = tmp_path / f"回盘{len(list(tmp_path.iterdir()))}.csv"
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["付款编号", "账号", "金额", "结果", "失败原因"])
        for r in exported[1:]:
            writer.writerow([r[0], r[4], r[5], *(("失败", failed[r[1]]) if r[1] in failed else ("成功", ""))])
    return path


def _export(page) -> list[list[str]]:
    with page.expect_download() as download:
        page.get_by_test_id("export-csv").click()
    return list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))


def test_a_roster_year_with_a_return_a_correction_an_objection_and_a_failed_payment_paid_again(page, county, tmp_path):
    """Issue 15's roster year: returned, corrected with a reason, resubmitted, approved, an objection recorded
    and decided during the notice, a batch that names who it left out, a payment failed on a closed account
    and paid again only after the village registered the new account."""
    from apps.subsidies.models import Programme
    from apps.subsidies.services import bank_account_save, rosters_generate

    father, mother = county
    village = Area.objects.get(code=VILLAGE_A)
    wang = person_create(
        data=PersonData(name="王长顺", sex="M", birth_date=date(1958, 1, 9), hukou_type="agricultural",
                        village=village, id_number=_id_number(date(1958, 1, 9), "23", 5)),
        by=None,
    )  # fmt: skip
    wang_wife = person_create(
        data=PersonData(name="赵秀英", sex="F", birth_date=date(1960, 2, 3), hukou_type="agricultural",
                        village=village, id_number=_id_number(date(1960, 2, 3), "24", 6)),
        by=None,
    )  # fmt: skip
    birth_record(mother=wang_wife, father=wang, on=date(1984, 4, 4), village=village, child_data=ChildData("王强", "M"),
                 by=None)  # fmt: skip
    for person, prefix in ((father, "6228480"), (mother, "6228481"), (wang, "6228482")):  # 赵秀英: no account yet
        bank_account_save(person=person, kind="card", bank_name="农村信用社", account_number=_card(prefix), by=None)
    rosters_generate(programme=Programme.objects.get(code="rural_reward"), period="2025", by=None)
    user_create(username="shenpi2", password=PASSWORD, area=Area.objects.get(code=COUNTY),
                roles=["subsidy_approver"], full_name="县审批人二")  # fmt: skip

    _sign_in(page, "cun")
    _open_roster(page)
    page.get_by_role("button", name="本村上报").click()
    expect(page.get_by_test_id("roster-status")).to_have_text("待乡镇审核")

    _sign_in(page, "shenhe")
    _open_roster(page)
    page.get_by_label("意见").fill("王长顺已迁往外县，请删除后重报")
    page.get_by_role("button", name="退回").first.click()
    expect(page.get_by_test_id("roster-status")).to_have_text("待村级上报")

    # The village clerk reads the return comment and acts on it: the entry removed with its reason.
    _sign_in(page, "cun")
    _open_roster(page)
    expect(page.get_by_test_id("step-row").last).to_contain_text("王长顺已迁往外县，请删除后重报")
    expect(page.get_by_test_id("pending-village")).to_have_text("南潘庄村委会")
    form = page.get_by_test_id("correction-form")
    form.get_by_label("更正方式").select_option(label="删除")
    form.get_by_label("名册人员（删除、修改）").select_option(label="王长顺（南潘庄村委会）")
    form.get_by_label("更正原因").fill("已于2025年3月迁往外县，户籍迁出证明在村档")
    form.get_by_role("button", name="保存更正").click()
    expect(page.get_by_role("alert")).to_have_text("已更正名册")
    expect(page.get_by_test_id("correction-row")).to_contain_text("王长顺")
    expect(page.get_by_test_id("correction-row")).to_contain_text("已于2025年3月迁往外县")
    expect(page.get_by_test_id("entry-name")).to_have_text(["李桂兰", "杨建国", "赵秀英"])
    page.get_by_label("意见").fill("已按退回意见更正")
    page.get_by_role("button", name="本村上报").click()
    expect(page.get_by_test_id("roster-status")).to_have_text("待乡镇审核")

    _sign_in(page, "shenhe")
    _open_roster(page)
    page.get_by_role("button", name="审核通过").click()
    _sign_in(page, "shenpi")
    _open_roster(page)
    page.get_by_role("button", name="审批通过并公示").click()
    expect(page.get_by_test_id("roster-status")).to_have_text("已审批（公示）")

    # An objection during the notice, recorded by the township and decided by another county officer.
    _sign_in(page, "shenhe")
    _open_roster(page)
    form = page.get_by_test_id("objection-form")
    form.get_by_label("收到日期").fill(date.today().isoformat())
    form.get_by_label("异议人", exact=True).fill("村民张某")
    form.get_by_label("被异议人员").select_option(label="赵秀英（南潘庄村委会）")
    form.get_by_label("异议内容").fill("赵秀英家还有一个女儿")
    form.get_by_role("button", name="登记").click()
    expect(page.get_by_test_id("open-objections")).to_have_text("1 件待处理")
    Roster.objects.update(approved_on=date.today() - timedelta(days=7))  # the seven days of 公示 pass
    _sign_in(page, "fafang")
    _open_roster(page)
    page.get_by_role("button", name="生成发放批次").click()
    expect(page.get_by_role("alert")).to_contain_text("本名册有1件公示异议尚未处理")
    _sign_in(page, "shenpi2")
    _open_roster(page)
    decide = page.get_by_test_id("objection-decide-form")
    decide.get_by_label("处理结果").select_option(label="异议不成立")
    decide.get_by_label("核查意见").fill("经入户核实，该女儿系王强之女（孙女），异议不成立")
    decide.get_by_role("button", name="处理").click()
    expect(page.get_by_test_id("objection-status")).to_have_text("异议不成立")

    # The batch pays those with an account and names who it left out.
    _sign_in(page, "fafang")
    _open_roster(page)
    page.get_by_role("button", name="生成发放批次").click()
    expect(page.get_by_test_id("batch-status")).to_have_text("待银行回盘")
    expect(page.get_by_test_id("unpaid-row")).to_have_text(["赵秀英南潘庄村委会960.00无领取账户"])
    exported = _export(page)
    assert [r[1] for r in exported[1:]] == ["杨建国", "李桂兰"]
    page.get_by_label("银行回盘文件（.csv或.xlsx）").set_input_files(
        str(_bank_return(tmp_path, exported, {"杨建国": "账户已销户"}))
    )
    page.get_by_role("button", name="导入回盘").click()
    expect(page.get_by_role("alert")).to_have_text("回盘已导入：成功1笔，失败1笔，待回盘0笔")
    expect(page.get_by_test_id("batch-status")).to_have_text("已对账")
    expect(page.get_by_test_id("unpaid-reason")).to_have_text(
        ["上次发放失败，账户尚未更正（账户已销户）", "无领取账户"]
    )
    # Not again to the closed account.
    page.get_by_role("link", name="名册", exact=True).click()
    page.get_by_role("button", name="生成发放批次").click()
    expect(page.get_by_role("alert")).to_contain_text("发放失败的账户尚未更正")

    # The village registers 杨建国's new card; the failed payment goes out again, to it.
    _sign_in(page, "cun")
    _open_roster(page)
    new_card = _card("6217000")
    page.get_by_test_id("entry-row").filter(has_text="杨建国").get_by_role("link", name="登记账户").click()
    page.get_by_label("开户银行").fill("中国农业银行")
    page.get_by_label("账号").fill(new_card)
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert")).to_have_text("已登记杨建国的领取账户")

    _sign_in(page, "fafang")
    _open_roster(page)
    page.get_by_role("button", name="生成发放批次").click()
    expect(page.get_by_test_id("batch-status")).to_have_text("待银行回盘")
    exported = _export(page)
    assert [(r[1], r[3], r[4]) for r in exported[1:]] == [("杨建国", "中国农业银行", new_card)]
    page.get_by_label("银行回盘文件（.csv或.xlsx）").set_input_files(str(_bank_return(tmp_path, exported, {})))
    page.get_by_role("button", name="导入回盘").click()
    expect(page.get_by_test_id("batch-status")).to_have_text("已对账")
    expect(page.get_by_test_id("unpaid-reason")).to_have_text(["无领取账户"])
    from apps.subsidies.models import Payment

    again = Payment.objects.get(status="paid", person=father)
    assert again.reissue_of is not None and again.reissue_of.bank_reason == "账户已销户"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "subsidies-roster-year.png"), full_page=True)
