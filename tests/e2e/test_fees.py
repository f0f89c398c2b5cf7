"""A township fee officer opens a case from an out-of-policy birth, decides it, records an instalment plan
and two instalment payments, and prints the receipt; a clerk of another township gets a 404 on the case.
Real Chromium, in Chinese."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from apps.accounts.services import user_create
from apps.areas.models import Area
from apps.areas.services import areas_load_csv
from apps.core.idnumbers import check_digit
from apps.fees.models import FeeCase, FeeEnd
from apps.fees.services import fee_case_decide, fee_case_open, payment_record
from apps.registry.services import ChildData, PersonData, birth_record, person_create
from tests.conftest import AREAS_CSV, PASSWORD, TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A
from tests.e2e.conftest import ARTIFACTS
from tests.fees.conftest import load_policy_data


@pytest.fixture
def birth(transactional_db):
    """A rural mother of village A whose second child (2012, after a boy) is out of policy."""
    areas_load_csv(text=AREAS_CSV.read_text(encoding="utf-8"))
    load_policy_data()
    village = Area.objects.get(code=VILLAGE_A)
    user_create(
        username="zhengshou", password=PASSWORD, area=Area.objects.get(code=TOWNSHIP_A), roles=["fee_officer"],
        full_name="平舒镇征收员",
    )  # fmt: skip
    user_create(
        username="wangcun_zhengshou", password=PASSWORD, area=Area.objects.get(code=TOWNSHIP_B), roles=["fee_officer"]
    )
    user_create(
        username="wangcun_luru", password=PASSWORD, area=Area.objects.get(code=TOWNSHIP_B), roles=["township_clerk"]
    )
    first17 = "13102519890412324"
    mother = person_create(
        data=PersonData(
            name="刘秀英", sex="F", birth_date=date(1989, 4, 12), hukou_type="agricultural", village=village,
            id_number=first17 + check_digit(first17),
        ),
        by=None,
    )  # fmt: skip
    birth_record(mother=mother, on=date(2009, 8, 20), village=village, child_data=ChildData("张一鸣", "M"), by=None)
    return birth_record(
        mother=mother, on=date(2012, 5, 10), village=village, child_data=ChildData("张二", "M"), by=None
    )


def _sign_in(page, username):
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("home-title")).to_be_visible()


def _pay(page, receipt: str, amount: str, on: str, shown: str):
    page.get_by_role("link", name="登记缴款").click()
    expect(page.get_by_test_id("form-title")).to_have_text("登记缴款")
    page.get_by_label("票据号").fill(receipt)
    page.get_by_label("缴款金额（元）").fill(amount)
    page.get_by_label("缴款日期").fill(on)
    page.get_by_label("缴款方式").select_option(label="现金")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert").filter(has_text="已收款")).to_have_text(f"已收款{shown}元，票据号{receipt}")


def test_fee_officer_decides_collects_two_instalments_and_prints_the_receipt(page, birth):
    # The years when the fee was levied: the end not reached yet, so a case opened today may be.
    FeeEnd.objects.update(ends_on=date.today() + timedelta(days=365))
    _sign_in(page, "zhengshou")
    page.locator("#mainnav").get_by_role("link", name="社会抚养费", exact=True).click()
    row = page.get_by_test_id("awaiting-birth").filter(has_text="刘秀英")
    expect(row).to_contain_text("第2孩")
    row.get_by_role("button", name="立案").click()
    expect(page.get_by_role("alert").filter(has_text="已立案")).to_have_text("已立案：应征额13,000.00元至24,243.00元")
    expect(page.get_by_test_id("case-state")).to_have_text("立案待决定")

    page.get_by_role("link", name="作出征收决定").click()
    page.get_by_label("决定书文号").fill("平抚决〔2013〕8号")
    page.get_by_label("决定日期").fill("2013-01-10")
    page.get_by_label("决定征收额（元）").fill("12000")
    page.get_by_label("缴款期限").fill("2013-02-10")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("error-amount")).to_have_text(
        "决定征收额应在13,000.00元至24,243.00元之间（不得低于首征标准）"
    )
    page.get_by_label("决定征收额（元）").fill("13000")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert").filter(has_text="征收决定")).to_have_text(
        "已作出征收决定 平抚决〔2013〕8号，征收13,000.00元"
    )

    page.get_by_role("link", name="登记分期缴纳").click()
    page.get_by_label("书面申请日期").fill("2013-01-20")
    page.get_by_label("书面申请编号").fill("平申〔2013〕3号")
    page.get_by_label("县人口计生局批准文号").fill("县计生批〔2013〕5号")
    page.get_by_label("分期月数").fill("37")
    page.get_by_label("首期缴款日期").fill("2013-02-28")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("error-months")).to_have_text("分期缴纳的期限不得超过36个月")
    page.get_by_label("分期月数").fill("2")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("case-state")).to_have_text("分期缴纳中")
    expect(page.get_by_test_id("schedule").locator("tbody tr")).to_have_count(2)

    _pay(page, "冀抚票0001", "6500.00", "2013-02-28", "6,500.00")
    expect(page.get_by_test_id("outstanding")).to_have_text("6500.00元")
    _pay(page, "冀抚票0002", "6500", "2013-03-28", "6,500.00")
    expect(page.get_by_test_id("case-state")).to_have_text("已缴清")
    expect(page.get_by_test_id("collected")).to_have_text("13000.00元")
    expect(page.get_by_test_id("entry-row")).to_have_count(2)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "fees-case.png"), full_page=True)
    notice = page.get_by_role("link", name="打印征收决定书").get_attribute("href")

    href = (
        page.get_by_test_id("entry-row")
        .filter(has_text="冀抚票0002")
        .get_by_role("link", name="打印票据")
        .get_attribute("href")
    )
    page.goto(href)
    expect(page.get_by_test_id("receipt-title")).to_have_text("缴纳社会抚养费票据")
    expect(page.get_by_test_id("receipt-number")).to_have_text("冀抚票0002")
    expect(page.get_by_test_id("receipt-amount")).to_have_text("￥6500.00")
    expect(page.get_by_test_id("receipt-amount-words")).to_have_text("陆仟伍佰元整")
    expect(page.get_by_role("button", name="打印")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="打印")).to_be_hidden()  # the print CSS hides the toolbar
    page.screenshot(path=str(ARTIFACTS / "fees-receipt.png"), full_page=True)

    page.goto(notice)
    expect(page.get_by_test_id("notice-title")).to_have_text("征收社会抚养费决定书")
    expect(page.get_by_test_id("notice-number")).to_have_text("平抚决〔2013〕8号")
    expect(page.get_by_test_id("notice-amount")).to_have_text("13000.00")
    page.screenshot(path=str(ARTIFACTS / "fees-notice.png"), full_page=True)


def test_officer_of_another_township_gets_404_and_a_clerk_403_on_the_case(page, birth):
    from apps.accounts.models import User

    case = fee_case_open(birth=birth, by=User.objects.get(username="zhengshou"), opened_on=date(2013, 1, 5))
    assert FeeCase.objects.filter(pk=case.pk).exists()
    _sign_in(page, "wangcun_zhengshou")
    assert page.goto(f"/fees/cases/{case.pk}/").status == 404
    assert page.goto(f"/api/v1/fees/cases/{case.pk}/").status == 404
    # A clerk reads no fee case anywhere (the role matrix): the same answer for every case, existing or not.
    page.context.clear_cookies()
    _sign_in(page, "wangcun_luru")
    assert page.goto(f"/fees/cases/{case.pk}/").status == 403
    assert page.goto("/fees/cases/999999/").status == 403


def test_in_2026_the_county_terminates_the_open_cases_and_the_fee_pages_become_an_archive(page, birth):
    """The fee ended on 2021-07-20: the officer sees no births awaiting a case; the county admin terminates
    the case still open with one reasoned action; the case keeps its money and is an archive."""
    from apps.accounts.models import User

    officer = User.objects.get(username="zhengshou")
    user_create(
        username="xian_guanli", password=PASSWORD, area=Area.objects.get(code="131025000000"), roles=["county_admin"]
    )
    case = fee_case_open(birth=birth, by=officer, opened_on=date(2013, 1, 5))
    fee_case_decide(
        case=case, decision_number="平抚决〔2013〕8号", decided_on=date(2013, 1, 10), amount=Decimal("13000"),
        due_on=date(2013, 2, 10), by=officer,
    )  # fmt: skip
    payment_record(
        case=case, receipt_number="冀抚票0001", amount=Decimal("5000"), paid_on=date(2013, 2, 1), method="cash",
        by=officer,
    )  # fmt: skip

    _sign_in(page, "zhengshou")
    page.locator("#mainnav").get_by_role("link", name="社会抚养费", exact=True).click()
    expect(page.get_by_test_id("fee-ended")).to_contain_text("社会抚养费已于2021年7月20日停止征收")
    expect(page.get_by_test_id("awaiting-birth")).to_have_count(0)  # the birth of 2012 is not offered
    page.goto("/fees/enforcement/")
    expect(page.get_by_test_id("enforcement-row")).to_have_count(0)  # overdue since 2013, never referred now

    page.context.clear_cookies()
    _sign_in(page, "xian_guanli")
    page.goto("/fees/")
    page.get_by_test_id("terminate-link").click()
    row = page.get_by_test_id("open-state-row")
    expect(row).to_have_count(1)
    for cell in ("已决定", "13000.00", "5000.00"):
        expect(row).to_contain_text(cell)
    page.get_by_label("终止原因").fill("依据中央决定，社会抚养费已取消，未缴部分不再征收")
    page.get_by_role("button", name="终止未结案件").click()
    expect(page.get_by_test_id("error-confirm")).to_have_text("请勾选确认后再终止")
    page.get_by_label("我已核对：终止后这些案件不再征收，已收款项保留在台账上").check()
    page.get_by_role("button", name="终止未结案件").click()
    expect(page.get_by_role("alert").filter(has_text="已终止")).to_have_text("已终止1件未结案件，已收款项保留在台账上")

    page.context.clear_cookies()
    _sign_in(page, "zhengshou")
    page.goto(f"/fees/cases/{case.pk}/")
    expect(page.get_by_test_id("case-state")).to_have_text("已终止征收")
    expect(page.get_by_test_id("case-archive")).to_be_visible()
    expect(page.get_by_test_id("collected")).to_have_text("5000.00元")
    expect(page.get_by_role("link", name="登记缴款")).to_have_count(0)
    expect(page.get_by_role("link", name="作出征收决定")).to_have_count(0)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "fees-archive.png"), full_page=True)
    page.goto(f"/fees/cases/{case.pk}/payments/new/")
    expect(page.get_by_role("alert").filter(has_text="只读档案")).to_be_visible()
    page.goto(f"/fees/cases/{case.pk}/termination/")
    expect(page.get_by_test_id("termination-title")).to_have_text("终止征收社会抚养费通知书")
    expect(page.get_by_test_id("termination-basis")).to_contain_text("关于优化生育政策促进人口长期均衡发展的决定")
    expect(page.get_by_test_id("termination-outstanding")).to_have_text("8000.00")
    page.screenshot(path=str(ARTIFACTS / "fees-termination.png"), full_page=True)
    page.goto(f"/fees/cases/{case.pk}/notice/")
    expect(page.get_by_test_id("notice-basis")).to_contain_text("人口与计划生育法》第四十一条")
