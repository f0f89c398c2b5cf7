"""The fee's end (issue 14; DESIGN §7): after 2021-07-20 no case is opened, decided or paid (refunds and
closing entries aside); the county terminates the open cases in one reasoned, audited action; the pages become a
read-only archive; every printed document cites the legal basis in force on its own date."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from pghistory.models import Events

from apps.core.errors import RuleViolation
from apps.fees.models import FeeCase, FeeEnd, FeeTermination, LegalBasis, Payment
from apps.fees.selectors import fee_archive, fee_case_entries, fee_collection_by_village, township_ledger
from apps.fees.services import (
    fee_case_decide,
    fee_case_instalments_grant,
    fee_case_open,
    fee_case_refer_enforcement,
    fee_case_transfer,
    fee_case_withdraw,
    fee_cases_terminate,
    payment_record,
    payment_reverse,
    refund_record,
)
from tests.conftest import TOWNSHIP_B, VILLAGE_A, VILLAGE_B
from tests.fees.conftest import open_case

D = Decimal
LAST_DAY = date(2021, 7, 20)  # the seeded end: the last day anything may be dated
AFTER = date(2021, 7, 21)
OLD_ARTICLE = "《中华人民共和国人口与计划生育法》第四十一条"
CANCELLING_DECISION = "《中共中央 国务院关于优化生育政策促进人口长期均衡发展的决定》"


def decide(case, by, number, on, amount="13000.00", due=None):
    return fee_case_decide(
        case=case, decision_number=number, decided_on=on, amount=D(amount), due_on=due or on, legal_basis="", by=by
    )


def pay(case, by, receipt, on, amount):
    return payment_record(case=case, receipt_number=receipt, amount=D(amount), paid_on=on, method="cash", by=by)


# --- nothing new after the end; back-entry of what is dated before it ------------------------------


def test_a_case_cannot_be_opened_after_the_end_and_can_on_a_date_before_it(make_birth, fee_officer):
    birth = make_birth()
    with pytest.raises(RuleViolation) as exc:  # opened today (2026): the case's own date is after the end
        fee_case_open(birth=birth, by=fee_officer)
    assert exc.value.code == "fee_ended"
    assert exc.value.message.startswith("社会抚养费已于2021年7月20日停止征收，立案日期（")
    with pytest.raises(RuleViolation) as exc:
        fee_case_open(birth=birth, by=fee_officer, opened_on=AFTER)
    assert exc.value.message == (
        "社会抚养费已于2021年7月20日停止征收，立案日期（2021年7月21日）在停征之后，不予办理；停征后只办理退款和结案"
    )
    assert FeeCase.objects.count() == 0
    # The paper case of 2021-07-20, typed in today: its date is not after the end.
    case = fee_case_open(birth=birth, by=fee_officer, opened_on=LAST_DAY)
    assert (case.opened_on, case.state) == (LAST_DAY, "draft")


def test_a_case_cannot_be_decided_after_the_end_and_can_on_a_date_before_it(make_birth, fee_officer):
    case = open_case(make_birth(), fee_officer)
    with pytest.raises(RuleViolation) as exc:
        decide(case, fee_officer, "平抚决〔2021〕9号", AFTER)
    assert (exc.value.code, exc.value.field) == ("fee_ended", "decided_on")
    case.refresh_from_db()
    assert (case.state, case.decided_amount) == ("draft", None)
    case = decide(case, fee_officer, "平抚决〔2021〕9号", LAST_DAY)
    assert (case.state, case.decided_on) == ("decided", LAST_DAY)


def test_a_case_cannot_be_paid_after_the_end_and_can_on_a_date_before_it(make_birth, fee_officer):
    case = decide(open_case(make_birth(), fee_officer), fee_officer, "平抚决〔2019〕1号", date(2019, 3, 1))
    with pytest.raises(RuleViolation) as exc:
        pay(case, fee_officer, "No.9", AFTER, "1000.00")
    assert (exc.value.code, exc.value.field) == ("fee_ended", "paid_on")
    with pytest.raises(RuleViolation):  # an instalment plan applied for after the end is a new grant: refused
        fee_case_instalments_grant(
            case=case, application_received_on=AFTER, application_number="申1", approval_number="批1", months=6,
            first_due_on=date(2021, 8, 31), by=fee_officer,
        )  # fmt: skip
    assert Payment.objects.count() == 0
    pay(case, fee_officer, "No.1", LAST_DAY, "1000.00")  # the receipt of the last day, entered today
    case.refresh_from_db()
    assert case.collected_amount == D("1000.00")


def test_where_the_county_collects_to_the_end_decided_cases_are_still_paid(make_birth, fee_officer):
    FeeEnd.objects.update(unsettled_outcome="collect")
    case = decide(open_case(make_birth(), fee_officer), fee_officer, "平抚决〔2019〕1号", date(2019, 3, 1))
    pay(case, fee_officer, "No.1", date(2022, 5, 1), "13000.00")
    case.refresh_from_db()
    assert (case.state, case.collected_amount) == ("paid", D("13000.00"))
    other = open_case(make_birth(name="未决定"), fee_officer)
    with pytest.raises(RuleViolation):  # but no new decision
        decide(other, fee_officer, "平抚决〔2022〕1号", date(2022, 5, 1))


def test_transfer_and_enforcement_are_dated_today_and_refused_after_the_end(make_birth, fee_officer, areas):
    case = decide(open_case(make_birth(), fee_officer), fee_officer, "平抚决〔2019〕1号", date(2019, 3, 1))
    with pytest.raises(RuleViolation) as exc:
        fee_case_refer_enforcement(case=case, reason="逾期未缴", by=fee_officer)
    assert exc.value.code == "fee_ended"
    with pytest.raises(RuleViolation) as exc:
        fee_case_transfer(case=case, to_township=areas[TOWNSHIP_B], reason="户籍在旺村镇", by=fee_officer)
    assert exc.value.code == "fee_ended"
    # The paper transfer of 2019, typed in today, is not after the end.
    transfer = fee_case_transfer(
        case=case, to_township=areas[TOWNSHIP_B], reason="户籍在旺村镇", by=fee_officer, on=date(2019, 4, 1)
    )
    assert (transfer.transferred_on, transfer.share_percent) == (date(2019, 4, 1), D("10.00"))


def test_refunds_reversals_and_withdrawals_stay_open_after_the_end(make_birth, fee_officer, county_admin):
    case = decide(open_case(make_birth(), fee_officer), fee_officer, "平抚决〔2019〕1号", date(2019, 3, 1))
    wrong = pay(case, fee_officer, "No.1", date(2019, 3, 5), "500.00")
    full = pay(case, fee_officer, "No.2", date(2019, 3, 6), "12500.00")
    payment_reverse(payment=wrong, reason="重复录入", on=date(2022, 1, 5), by=fee_officer)
    case.refresh_from_db()
    # A closing entry after the end does not reopen the case for collection: it ends (the county terminates).
    assert (case.state, case.collected_amount, case.closed_on) == ("terminated", D("12500.00"), date(2022, 1, 5))
    assert case.closed_reason == "停征后冲正，未缴部分不再征收"
    refund_record(
        case=case, voucher_number="T1", amount=D("12500.00"), refunded_on=date(2022, 2, 1), reason="复核为政策内",
        by=county_admin,
    )  # fmt: skip
    case = fee_case_withdraw(case=case, reason="复核为政策内", by=county_admin)
    assert (case.state, case.collected_amount) == ("withdrawn", D("0.00"))
    assert [(e.kind, e.amount) for e in fee_case_entries(case=case)] == [
        ("缴款", D("500.00")), ("缴款", D("12500.00")), ("冲正", D("-500.00")), ("退款", D("-12500.00")),
    ]  # fmt: skip
    assert full.pk  # never edited


# --- the bulk termination ---------------------------------------------------------------------------


@pytest.fixture
def open_cases(make_birth, fee_officer, fee_officer_b, county_admin):
    """Cases of two townships as 2021-07-20 left them: a draft, a decided case with money, an instalment case
    with money, a paid one and a withdrawn one."""
    draft = open_case(make_birth(name="甲"), fee_officer)
    owing = decide(open_case(make_birth(name="乙"), fee_officer), fee_officer, "平抚决〔2019〕1号", date(2019, 3, 1))
    pay(owing, fee_officer, "No.1", date(2019, 3, 5), "3000.00")
    plan = decide(
        open_case(make_birth(name="丙", village=VILLAGE_B), fee_officer_b), fee_officer_b, "旺抚决〔2020〕1号",
        date(2020, 6, 1),
    )  # fmt: skip
    fee_case_instalments_grant(
        case=plan, application_received_on=date(2020, 6, 5), application_number="申1", approval_number="批1",
        months=12, first_due_on=date(2020, 7, 1), by=fee_officer_b,
    )  # fmt: skip
    pay(plan, fee_officer_b, "No.2", date(2020, 7, 1), "1083.33")
    paid = decide(open_case(make_birth(name="丁"), fee_officer), fee_officer, "平抚决〔2018〕1号", date(2018, 1, 5))
    pay(paid, fee_officer, "No.3", date(2018, 1, 9), "13000.00")
    gone = decide(open_case(make_birth(name="戊"), fee_officer), fee_officer, "平抚决〔2018〕2号", date(2018, 2, 5))
    fee_case_withdraw(case=gone, reason="复核为政策内", by=county_admin)
    return {
        k: FeeCase.objects.get(pk=v.pk)
        for k, v in {"draft": draft, "owing": owing, "plan": plan, "paid": paid, "gone": gone}.items()
    }


def test_bulk_termination_closes_open_cases_with_an_audit_entry_and_keeps_the_money(open_cases, county_admin):
    ledger_before = township_ledger(user=county_admin, start=date(2018, 1, 1), end=date(2021, 12, 31))
    payments_before = list(Payment.objects.order_by("pk").values_list("receipt_number", "amount", "paid_on"))

    done = fee_cases_terminate(reason="依据2021年7月20日中央决定，社会抚养费已取消", by=county_admin)

    assert (done.cases, done.area_id, done.outcome, done.created_by_id) == (
        3,
        county_admin.area_id,
        "terminate",
        county_admin.pk,
    )
    states = {k: FeeCase.objects.get(pk=c.pk) for k, c in open_cases.items()}
    assert {k: c.state for k, c in states.items()} == {
        "draft": "terminated", "owing": "terminated", "plan": "terminated", "paid": "paid", "gone": "withdrawn",
    }  # fmt: skip
    assert states["owing"].closed_reason == "依据2021年7月20日中央决定，社会抚养费已取消"
    assert states["owing"].closed_on == done.terminated_on
    # The money collected stays: the same payments, the same net collected, the same ledger.
    assert (states["owing"].collected_amount, states["plan"].collected_amount) == (D("3000.00"), D("1083.33"))
    assert list(Payment.objects.order_by("pk").values_list("receipt_number", "amount", "paid_on")) == payments_before
    assert township_ledger(user=county_admin, start=date(2018, 1, 1), end=date(2021, 12, 31)) == ledger_before
    # Each case's audit trail names the county user and the reason.
    event = Events.objects.tracks(states["owing"]).order_by("-pgh_created_at", "-pgh_id").first()
    assert event.pgh_context["user"] == county_admin.pk
    assert event.pgh_context["reason"] == "停征后批量终止：依据2021年7月20日中央决定，社会抚养费已取消"
    assert (event.pgh_diff["state"], event.pgh_diff["closed_reason"][1]) == (
        ["decided", "terminated"], "依据2021年7月20日中央决定，社会抚养费已取消",
    )  # fmt: skip
    assert FeeTermination.objects.count() == 1
    # Nothing is left open: once more changes nothing, and the pages are an archive.
    with pytest.raises(RuleViolation) as exc:
        fee_cases_terminate(reason="再次终止", by=county_admin)
    assert exc.value.message == "您的管辖范围内没有未结案件"
    with pytest.raises(RuleViolation):
        pay(states["owing"], county_admin, "No.9", LAST_DAY, "100.00")  # a terminated case takes no money


def test_terminated_money_still_counts_in_the_collection_rate(open_cases, county_admin):
    fee_cases_terminate(reason="社会抚养费已取消", by=county_admin)
    rows = {v: (c, d) for v, c, d in fee_collection_by_village(start=date(2019, 1, 1), end=date(2019, 12, 31))}
    assert rows[VILLAGE_A] == (D("3000.00"), D("13000.00"))  # decided in 2019, collected before the end


def test_only_the_county_terminates_only_after_the_end_and_with_a_reason(open_cases, fee_officer, county_admin):
    with pytest.raises(PermissionDenied):
        fee_cases_terminate(reason="社会抚养费已取消", by=fee_officer)
    with pytest.raises(RuleViolation) as exc:
        fee_cases_terminate(reason="  ", by=county_admin)
    assert exc.value.field == "reason"
    FeeEnd.objects.update(ends_on=date(2099, 12, 31))
    with pytest.raises(RuleViolation) as exc:
        fee_cases_terminate(reason="社会抚养费已取消", by=county_admin)
    assert exc.value.code == "not_ended"
    assert not FeeCase.objects.filter(state="terminated").exists()


def test_collecting_to_the_end_terminates_only_the_undecided_cases(open_cases, county_admin):
    FeeEnd.objects.update(unsettled_outcome="collect")
    done = fee_cases_terminate(reason="未作决定的案件不再决定", by=county_admin)
    assert done.cases == 1
    assert FeeCase.objects.get(pk=open_cases["draft"].pk).state == "terminated"
    assert FeeCase.objects.get(pk=open_cases["owing"].pk).state == "decided"


# --- pages: the terminate action, the archive, the printed documents --------------------------------


def test_the_county_terminates_through_the_page_and_the_fee_pages_become_an_archive(
    open_cases, county_admin, fee_officer, client
):
    client.force_login(county_admin)
    page = client.get(reverse("fees:case_list")).content.decode()
    assert "社会抚养费已于2021年7月20日停止征收" in page and reverse("fees:terminate") in page
    assert "待立案的政策外出生" not in page
    form = client.get(reverse("fees:terminate")).content.decode()
    assert "已决定" in form and "分期缴纳中" in form and "立案待决定" in form
    response = client.post(reverse("fees:terminate"), {"reason": "社会抚养费已取消"})
    assert "请勾选确认后再终止" in response.content.decode()
    assert not FeeCase.objects.filter(state="terminated").exists()
    response = client.post(reverse("fees:terminate"), {"reason": "社会抚养费已取消", "confirm": "on"}, follow=True)
    assert "已终止3件未结案件，已收款项保留在台账上" in response.content.decode()
    assert fee_archive(user=fee_officer, today=date(2026, 1, 1))

    client.force_login(fee_officer)
    owing = open_cases["owing"]
    page = client.get(owing.get_absolute_url()).content.decode()
    assert "本案件为征收档案（只读）" in page
    for name in ("case_decide", "payment_create", "case_instalments", "case_transfer", "case_refer"):
        assert reverse(f"fees:{name}", args=[owing.pk]) not in page
    response = client.get(reverse("fees:payment_create", args=[owing.pk]), follow=True)
    assert "征收页面为只读档案" in response.content.decode()
    response = client.post(
        reverse("fees:payment_create", args=[owing.pk]),
        {"receipt_number": "No.9", "amount": "100", "paid_on": "2021-07-01", "method": "cash"},
        follow=True,
    )
    assert "征收页面为只读档案" in response.content.decode() and not Payment.objects.filter(receipt_number="No.9")
    # The archive still shows the ledger, the notices and the receipts.
    assert client.get(reverse("fees:ledger")).status_code == 200
    assert client.get(reverse("fees:decision_notice", args=[owing.pk])).status_code == 200
    receipt = Payment.objects.get(receipt_number="No.1")
    assert client.get(reverse("fees:receipt", args=[receipt.pk])).status_code == 200

    client.force_login(county_admin)  # a refund, the one way money still moves, stays open to the county
    response = client.post(
        reverse("fees:refund_create", args=[owing.pk]),
        {"voucher_number": "T1", "amount": "3000", "refunded_on": "2022-03-01", "reason": "复核为政策内"},
        follow=True,
    )
    assert "已退款3,000.00元，凭证号T1" in response.content.decode()


def test_each_printed_document_cites_the_basis_in_force_on_its_own_date(open_cases, county_admin, client):
    fee_cases_terminate(reason="社会抚养费已取消", by=county_admin)
    client.force_login(county_admin)
    owing = open_cases["owing"]
    notice = client.get(reverse("fees:decision_notice", args=[owing.pk])).content.decode()
    assert OLD_ARTICLE in notice  # decided 2019-03-01: article 41 was in force
    receipt = client.get(reverse("fees:receipt", args=[Payment.objects.get(receipt_number="No.1").pk]))
    assert OLD_ARTICLE in receipt.content.decode()
    ended = client.get(reverse("fees:termination_notice", args=[owing.pk])).content.decode()
    assert "终止征收社会抚养费通知书" in ended and CANCELLING_DECISION in ended and OLD_ARTICLE not in ended
    assert "10000.00</span>元" in ended  # what is no longer collected
    assert client.get(reverse("fees:termination_notice", args=[open_cases["paid"].pk])).status_code == 404


def test_the_basis_is_data_a_decision_takes_the_text_in_force_on_its_date(make_birth, fee_officer):
    LegalBasis.objects.filter(valid_from=date(2002, 9, 1)).update(valid_to=date(2015, 12, 31))
    LegalBasis.objects.create(
        valid_from=date(2016, 1, 1), valid_to=LAST_DAY, text="2015年修正的人口与计划生育法第四十一条"
    )
    old = decide(open_case(make_birth(name="旧"), fee_officer), fee_officer, "平抚决〔2013〕1号", date(2013, 1, 10))
    new = decide(open_case(make_birth(name="新"), fee_officer), fee_officer, "平抚决〔2017〕1号", date(2017, 1, 10))
    assert old.legal_basis.startswith(OLD_ARTICLE)
    assert new.legal_basis == "2015年修正的人口与计划生育法第四十一条"
