"""Each rule of the fee app (DESIGN §7), against the real database."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from pghistory.models import Events

from apps.core.errors import RuleViolation
from apps.fees.models import FeeCase, FeeCaseState, FeePolicy, FeeRate, FeeStandard, Payment, Refund
from apps.fees.selectors import fee_case_entries
from apps.fees.services import (
    fee_case_decide,
    fee_case_instalments_grant,
    fee_case_refer_enforcement,
    fee_case_transfer,
    fee_case_withdraw,
    payment_record,
    payment_reverse,
    refund_record,
)
from apps.registry.models import Birth
from tests.conftest import TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A
from tests.fees.conftest import open_case

D = Decimal


def decide(case, by, *, amount="13000.00", number="平抚决〔2013〕1号", on=date(2013, 1, 10), due=date(2013, 2, 10)):
    return fee_case_decide(
        case=case, decision_number=number, decided_on=on, amount=D(amount), due_on=due, legal_basis="", by=by
    )


def pay(case, by, amount, receipt, on=date(2013, 1, 15)):
    return payment_record(case=case, receipt_number=receipt, amount=D(amount), paid_on=on, method="cash", by=by)


# --- opening ----------------------------------------------------------------------------------------


def test_no_case_for_an_in_policy_birth(make_birth, fee_officer):
    first = make_birth().mother.births_given.order_by("date").first()
    assert first.policy_status == "in_policy"
    with pytest.raises(RuleViolation) as exc:
        open_case(first, fee_officer)
    assert exc.value.message == "该出生为政策内出生，不征收社会抚养费"
    assert FeeCase.objects.count() == 0


def test_rural_first_excess_child_is_assessed_at_least_the_seed_minimum(make_birth, fee_officer):
    birth = make_birth()
    assert birth.policy_status == "out_of_policy" and birth.birth_order == 2
    case = open_case(birth, fee_officer)
    # 8,081 × 1 = 8,081 is below the rural minimum of 13,000 (seed 000 L81); 8,081 × 3 = 24,243.
    assert (case.category, case.excess_order) == ("rural", 1)
    assert (case.income_base, case.range_min, case.range_max) == (D("8081.00"), D("13000.00"), D("24243.00"))
    assert case.state == FeeCaseState.DRAFT
    assert case.village_id == VILLAGE_A and case.home_township_id == case.finding_township_id == TOWNSHIP_A
    assert (case.mother_id, case.opened_on) == (birth.mother_id, birth.date)  # the paper case's date


def test_second_excess_child_urban_and_employee_minimums(make_birth, fee_officer):
    rural_third = make_birth(on=date(2014, 6, 1), extra_children=(date(2011, 1, 1),))
    case = open_case(rural_third, fee_officer)
    assert (case.excess_order, case.range_min, case.range_max) == (2, D("20000.00"), D("48486.00"))

    urban = make_birth(hukou="non_agricultural", name="城镇母亲")
    case = open_case(urban, fee_officer)
    assert (case.category, case.range_min, case.range_max) == ("urban", D("20543.00"), D("61629.00"))

    employee = make_birth(hukou="non_agricultural", employment="employee", name="职工母亲")
    case = open_case(employee, fee_officer)
    assert (case.category, case.range_min, case.range_max) == ("employee", D("41086.00"), D("123258.00"))


def test_minimum_is_data_edited_in_the_rule_set(make_birth, fee_officer):
    FeeRate.objects.filter(category="rural", excess_order=1).update(minimum_amount=D("15000.00"))
    case = open_case(make_birth(), fee_officer)
    assert case.range_min == D("15000.00")


def test_standard_is_chosen_by_the_birth_date(make_birth, fee_officer):
    FeeStandard.objects.filter(valid_from=date(2002, 9, 1)).update(valid_from=date(2010, 1, 1))
    old = FeeStandard.objects.create(
        name="1990年代标准",
        valid_from=date(1995, 1, 1),
        valid_to=date(2009, 12, 31),
        urban_income=D("6000.00"),
        rural_income=D("2000.00"),
        legal_basis="旧条例",
    )
    FeeRate.objects.create(
        standard=old, category="rural", excess_order=1, multiple_min=2, multiple_max=4, minimum_amount=D("3000")
    )
    case = open_case(make_birth(on=date(2009, 5, 1), first_on=date(2006, 1, 1)), fee_officer)
    assert (case.standard_id, case.range_min, case.range_max) == (old.pk, D("4000.00"), D("8000.00"))
    assert case.legal_basis == "旧条例"


def test_overlapping_standards_are_refused_by_the_database(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        FeeStandard.objects.create(
            name="重叠", valid_from=date(2020, 1, 1), urban_income=1, rural_income=1, legal_basis="x"
        )


def test_no_case_for_a_birth_after_the_standard_ends(make_birth, fee_officer):
    # A fourth child in 2022 is out of policy under the three-child rule, but the fee was abolished in 2021.
    birth = make_birth(on=date(2022, 3, 1), extra_children=(date(2016, 5, 1), date(2021, 6, 1)))
    assert birth.policy_status == "out_of_policy"
    with pytest.raises(RuleViolation) as exc:
        open_case(birth, fee_officer)
    assert exc.value.code == "after_standard_end"
    assert "2021-07-19" in exc.value.message and "不予立案" in exc.value.message
    assert FeeCase.objects.count() == 0


def test_exactly_one_case_per_birth(make_birth, fee_officer):
    birth = make_birth()
    case = open_case(birth, fee_officer)
    with pytest.raises(RuleViolation) as exc:
        open_case(birth, fee_officer)
    assert exc.value.code == "duplicate"
    with pytest.raises(IntegrityError), transaction.atomic():  # and the database says so too
        FeeCase.objects.create(**{f.attname: getattr(case, f.attname) for f in FeeCase._meta.concrete_fields[1:]})


def test_nothing_is_dated_before_the_birth(make_birth, fee_officer):
    case = open_case(make_birth(), fee_officer)
    with pytest.raises(RuleViolation) as exc:
        decide(case, fee_officer, on=date(2012, 5, 9), due=date(2012, 6, 9))
    assert exc.value.message == "决定日期早于出生日期（严禁预收）"
    with pytest.raises(IntegrityError), transaction.atomic():
        FeeCase.objects.filter(pk=case.pk).update(opened_on=date(2012, 1, 1))


def test_only_the_case_townships_fee_officer_or_the_county_acts(make_birth, fee_officer, fee_officer_b, make_user):
    birth = make_birth()
    viewer = make_user("leader", TOWNSHIP_A, "county_viewer")
    clerk = make_user("clerk", TOWNSHIP_A, "township_clerk")
    for user in (fee_officer_b, viewer, clerk):
        with pytest.raises(PermissionDenied):
            open_case(birth, user)
    case = open_case(birth, fee_officer)
    with pytest.raises(PermissionDenied):
        decide(case, fee_officer_b)
    with pytest.raises(PermissionDenied):  # withdrawing is for the county
        fee_case_withdraw(case=case, reason="政策内", by=fee_officer)


# --- deciding and paying ----------------------------------------------------------------------------


def test_decided_amount_must_be_inside_the_range(make_birth, fee_officer):
    case = open_case(make_birth(), fee_officer)
    with pytest.raises(RuleViolation) as exc:
        decide(case, fee_officer, amount="12999.99")
    assert exc.value.message == "决定征收额应在13,000.00元至24,243.00元之间（不得低于首征标准）"
    case = decide(case, fee_officer, amount="13000.00")
    assert (case.state, case.decided_amount, case.decision_number) == ("decided", D("13000.00"), "平抚决〔2013〕1号")


def test_no_payment_before_the_decision(make_birth, fee_officer):
    case = open_case(make_birth(), fee_officer)
    with pytest.raises(RuleViolation) as exc:
        pay(case, fee_officer, "1000.00", "No.001")
    assert exc.value.message == "尚未作出征收决定，不能收款（严禁预收）"
    case = decide(case, fee_officer)
    with pytest.raises(RuleViolation) as exc:
        pay(case, fee_officer, "1000.00", "No.001", on=date(2013, 1, 9))
    assert exc.value.message == "缴款日期早于征收决定日期"
    assert Payment.objects.count() == 0


def test_overpayment_is_refused_and_full_payment_closes_the_case(make_birth, fee_officer):
    case = decide(open_case(make_birth(), fee_officer), fee_officer)
    pay(case, fee_officer, "8000.00", "No.001")
    with pytest.raises(RuleViolation) as exc:
        pay(case, fee_officer, "5000.01", "No.002")
    assert exc.value.message == "缴款金额5,000.01元超过尚欠金额5,000.00元，不能超额收款"
    with pytest.raises(RuleViolation) as exc:
        pay(case, fee_officer, "100.00", "No.001")
    assert exc.value.message == "该票据号已使用"
    pay(case, fee_officer, "5000.00", "No.002")
    case.refresh_from_db()
    assert (case.state, case.collected_amount) == ("paid", D("13000.00"))
    with pytest.raises(RuleViolation):
        pay(case, fee_officer, "0.01", "No.003")


def test_payments_are_never_updated_or_deleted(make_birth, fee_officer):
    case = decide(open_case(make_birth(), fee_officer), fee_officer)
    payment = pay(case, fee_officer, "8000.00", "No.001")
    with pytest.raises(DatabaseError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(amount=D("1.00"))
    with pytest.raises(DatabaseError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).delete()
    assert Payment.objects.get(pk=payment.pk).amount == D("8000.00")


def test_reversals_balance_and_refunds_are_their_own_records(make_birth, fee_officer, county_admin):
    case = decide(open_case(make_birth(), fee_officer), fee_officer)
    wrong = pay(case, fee_officer, "8000.00", "No.001")
    reversal = payment_reverse(payment=wrong, reason="金额录错", on=date(2013, 1, 16), by=fee_officer)
    assert (reversal.amount, reversal.receipt_number, reversal.reverses_id) == (D("-8000.00"), "No.001-冲", wrong.pk)
    with pytest.raises(RuleViolation):
        payment_reverse(payment=wrong, reason="再冲", by=fee_officer)
    pay(case, fee_officer, "13000.00", "No.002", on=date(2013, 1, 16))
    case.refresh_from_db()
    assert (case.state, case.collected_amount) == ("paid", D("13000.00"))

    with pytest.raises(PermissionDenied):
        refund_record(
            case=case, voucher_number="T1", amount=D("1"), refunded_on=date(2013, 2, 1), reason="x", by=fee_officer
        )
    with pytest.raises(RuleViolation) as exc:
        refund_record(
            case=case, voucher_number="T1", amount=D("13000.01"), refunded_on=date(2013, 2, 1), reason="多收",
            by=county_admin,
        )  # fmt: skip
    assert exc.value.code == "over_refund"
    refund_record(
        case=case, voucher_number="T1", amount=D("3000.00"), refunded_on=date(2013, 2, 1), reason="复核减征",
        by=county_admin,
    )  # fmt: skip
    case.refresh_from_db()
    assert (case.state, case.collected_amount) == ("decided", D("10000.00"))
    entries = fee_case_entries(case=case)
    assert [(e.kind, e.amount, e.balance) for e in entries] == [
        ("缴款", D("8000.00"), D("8000.00")),
        ("冲正", D("-8000.00"), D("0.00")),
        ("缴款", D("13000.00"), D("13000.00")),
        ("退款", D("-3000.00"), D("10000.00")),
    ]
    paid = sum(p.amount for p in Payment.objects.filter(case=case))
    refunded = sum(r.amount for r in Refund.objects.filter(case=case))
    assert paid - refunded == case.collected_amount


def test_withdrawal_needs_the_money_refunded_first(make_birth, fee_officer, county_admin):
    case = decide(open_case(make_birth(), fee_officer), fee_officer)
    pay(case, fee_officer, "2000.00", "No.001")
    with pytest.raises(RuleViolation) as exc:
        fee_case_withdraw(case=case, reason="复核为政策内", by=county_admin)
    assert exc.value.message == "该案件已征收2,000.00元，请先办理退款再撤销"
    refund_record(
        case=case, voucher_number="T1", amount=D("2000.00"), refunded_on=date(2013, 2, 1), reason="撤销决定",
        by=county_admin,
    )  # fmt: skip
    case = fee_case_withdraw(case=case, reason="复核为政策内", by=county_admin)
    assert (case.state, case.collected_amount, case.closed_reason) == ("withdrawn", D("0.00"), "复核为政策内")


# --- instalments ------------------------------------------------------------------------------------


def _grant(case, by, months, **extra):
    values = {
        "application_received_on": date(2013, 1, 20),
        "application_number": "申请〔2013〕7号",
        "approval_number": "县人口计生局批〔2013〕3号",
        "months": months,
        "first_due_on": date(2013, 2, 28),
    }
    return fee_case_instalments_grant(case=case, by=by, **{**values, **extra})


def test_instalments_only_on_a_written_application_and_at_most_36_months(make_birth, fee_officer):
    case = decide(open_case(make_birth(), fee_officer), fee_officer)
    with pytest.raises(RuleViolation) as exc:
        _grant(case, fee_officer, 12, application_number=" ")
    assert exc.value.field == "application_number"
    with pytest.raises(RuleViolation) as exc:
        _grant(case, fee_officer, 37)
    assert exc.value.message == "分期缴纳的期限不得超过36个月"
    with pytest.raises(RuleViolation) as exc:  # a typing slip in the year, not a plan
        _grant(case, fee_officer, 12, first_due_on=date(9999, 12, 31))
    assert exc.value.message == "首期缴款日期不得晚于申请日期后36个月"
    pay(case, fee_officer, "1000.00", "No.001")
    plan = _grant(case, fee_officer, 36)
    dues = list(plan.dues.order_by("sequence"))
    assert len(dues) == 36
    assert sum(d.amount for d in dues) == D("12000.00")  # the balance, exactly
    assert (dues[0].due_on, dues[0].amount) == (date(2013, 2, 28), D("333.33"))
    assert (dues[-1].due_on, dues[-1].amount) == (date(2016, 1, 28), D("333.45"))
    case.refresh_from_db()
    assert case.state == "instalments"


def test_instalment_cap_is_data(make_birth, fee_officer):
    FeePolicy.objects.update(max_instalment_months=24)
    case = decide(open_case(make_birth(), fee_officer), fee_officer)
    with pytest.raises(RuleViolation) as exc:
        _grant(case, fee_officer, 25)
    assert exc.value.message == "分期缴纳的期限不得超过24个月"


# --- transfers, enforcement, audit ------------------------------------------------------------------


def test_transfer_changes_the_home_township_and_records_the_share(make_birth, fee_officer, fee_officer_b, areas):
    case = open_case(make_birth(), fee_officer)
    transfer = fee_case_transfer(
        case=case, to_township=areas[TOWNSHIP_B], reason="户籍在旺村镇", by=fee_officer, on=date(2012, 12, 1)
    )
    case.refresh_from_db()
    assert (transfer.from_township_id, transfer.to_township_id, transfer.share_percent) == (
        TOWNSHIP_A,
        TOWNSHIP_B,
        D("10.00"),
    )
    assert (case.home_township_id, case.finding_township_id, case.finding_share_percent) == (
        TOWNSHIP_B,
        TOWNSHIP_A,
        D("10.00"),
    )
    with pytest.raises(PermissionDenied):  # now the receiving township acts
        decide(case, fee_officer)
    decide(case, fee_officer_b)


@pytest.mark.usefixtures("fee_in_force")  # a referral is dated today
def test_enforcement_referral_only_past_due_by_the_configured_days(make_birth, fee_officer):
    today = timezone.localdate()
    case = open_case(make_birth(), fee_officer)
    case = decide(case, fee_officer, on=today - timedelta(days=120), due=today - timedelta(days=90))
    with pytest.raises(RuleViolation) as exc:
        fee_case_refer_enforcement(case=case, reason="逾期未缴", by=fee_officer)
    assert exc.value.message == "缴款期限届满未超过90天，不能移送强制执行"
    FeePolicy.objects.update(enforcement_after_days=60)
    case = fee_case_refer_enforcement(case=case, reason="逾期未缴", by=fee_officer)
    assert case.state == "enforcement"


def test_each_transition_is_audited_with_user_and_reason(make_birth, fee_officer):
    case = decide(open_case(make_birth(), fee_officer), fee_officer)
    events = list(Events.objects.tracks(case).order_by("pgh_created_at", "pgh_id"))
    assert [e.pgh_label for e in events] == ["insert", "update"]
    assert [e.pgh_context["reason"] for e in events] == ["立案", "征收决定 平抚决〔2013〕1号"]
    assert {e.pgh_context["user"] for e in events} == {fee_officer.pk}


# --- racing payments --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_racing_payments_cannot_overpay(make_birth, fee_officer):
    case = decide(open_case(make_birth(), fee_officer), fee_officer)  # 13,000 decided
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def attempt(receipt: str) -> None:
        try:
            with transaction.atomic():
                barrier.wait(timeout=10)  # both transactions are open before either locks the case
                pay(case, fee_officer, "8000.00", receipt)
            outcomes[receipt] = "paid"
        except RuleViolation as exc:
            outcomes[receipt] = exc.code
        finally:
            connection.close()  # each thread had its own connection

    threads = [threading.Thread(target=attempt, args=(r,)) for r in ("R1", "R2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes.values()) == ["overpayment", "paid"]
    case.refresh_from_db()
    assert case.collected_amount == D("8000.00")
    assert Payment.objects.filter(case=case).count() == 1


def test_births_keep_their_case(make_birth, fee_officer):
    birth = make_birth()
    open_case(birth, fee_officer)
    with pytest.raises(ProtectedError), transaction.atomic():
        Birth.objects.filter(pk=birth.pk).delete()
    assert Birth.objects.filter(pk=birth.pk).exists()
