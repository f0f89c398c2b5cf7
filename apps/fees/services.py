"""Writes of the fee app: each state transition of a case is one service with its own permission check and
its audit context (who, why), in one transaction (DESIGN §7, seed 000 L9, L46, L54, L76, L81–82).

    draft ──decide──> decided ──instalments──> instalments ──(paid in full)──> paid
      │                  │  └──────────(paid in full)───────────────────────────┘
      │                  └──refer (past due)──> enforcement ──(paid in full)──> paid
      └──withdraw (also from decided / instalments / enforcement, once nothing is held)──> withdrawn
    any open state ──terminate (county, in bulk, after the fee's end)──> terminated (money kept)

Who may do what (scope always from the user's bound area):
- fee_officer of the case's township (the home township after a transfer), or a county_admin: open, decide,
  record instalment plans and payments, reverse a payment, transfer, refer for enforcement;
- county_admin only: withdraw a case and refund money (money going out needs the county), and terminate the
  open cases of its area once the fee has ended;
- everyone else (county_viewer, clerks) reads within their area and writes nothing.

The fee's end (``FeeEnd``, seeded 2021-07-20, DESIGN §7). Which date counts is the operation's own date, as
the paper record carries it: the opening date of a case, the decision date, the date of a written instalment
application, the payment date, the transfer date (today unless a paper transfer is entered); an enforcement
referral is dated today. An operation dated after
the end is refused, whenever it is entered: opening a case today (2026) is refused, because the case's own
date is today. One dated on or before the end is the back-entry of a paper record of the time and is allowed
when entered later (a 2020 decision or receipt typed in today), so the ledger can be completed. Refunds,
reversals and withdrawals are closing entries and stay allowed after the end; so does the bulk termination of
the cases still open (``fee_cases_terminate``). Where the county chose to collect unsettled cases to the end
(``UnsettledOutcome.COLLECT``), payments after the end on cases decided before it stay allowed.
"""

from __future__ import annotations

import calendar
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import Role, User
from apps.areas.models import Area, AreaLevel
from apps.core.areacodes import township_of
from apps.core.audit import audit_context
from apps.core.errors import RuleViolation
from apps.core.scoping import in_scope
from apps.fees.models import (
    OPEN_STATES,
    FeeCase,
    FeeCaseState,
    FeeTermination,
    FeeTransfer,
    InstalmentDue,
    InstalmentPlan,
    Payment,
    PaymentKind,
    PaymentMethod,
    Refund,
    UnsettledOutcome,
)
from apps.fees.selectors import (
    fee_assessment_for_birth,
    fee_cases_visible_to,
    fee_end,
    fee_policy_on,
    legal_basis_on,
)
from apps.registry.models import Birth, PolicyStatus

OFFICER_ROLES = (Role.FEE_OFFICER, Role.COUNTY_ADMIN)
COUNTY_ROLES = (Role.COUNTY_ADMIN,)
CENT = Decimal("0.01")
PAYABLE_STATES = (FeeCaseState.DECIDED, FeeCaseState.INSTALMENTS, FeeCaseState.ENFORCEMENT)


def _today() -> date:
    return timezone.localdate()


def _require(by: User, roles: tuple[str, ...], *, area_code: str, what: str) -> None:
    """The acting user needs one of ``roles`` and an area that holds ``area_code`` (403 otherwise)."""
    if not by or not by.is_authenticated or not by.has_role(*roles):
        raise PermissionDenied(f"您的角色不能{what}")
    if not in_scope(by, area_code):
        raise PermissionDenied(f"该案件不属于您所在的乡镇，不能{what}")


def _money(value, *, field: str = "amount") -> Decimal:
    try:
        amount = Decimal(value)
    except (TypeError, ArithmeticError, ValueError):
        raise RuleViolation("金额格式不正确", field=field, code="invalid") from None
    if not amount.is_finite() or amount != amount.quantize(CENT):
        raise RuleViolation("金额最多保留两位小数（精确到分）", field=field, code="invalid")
    return amount.quantize(CENT)


def _locked(case: FeeCase) -> FeeCase:
    """The case row, locked until the transaction ends: concurrent writers of one case queue here."""
    return FeeCase.objects.select_for_update().get(pk=case.pk)


def _not_future(on: date, *, field: str, what: str) -> None:
    if on > _today():
        raise RuleViolation(f"{what}不能晚于今天", field=field, code="future")


def _day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _not_after_end(on: date, *, field: str | None, what: str) -> None:
    """Nothing new is dated after the fee's end (refunds and closing entries do not call this)."""
    end = fee_end()
    if end is not None and on > end.ends_on:
        raise RuleViolation(
            f"社会抚养费已于{_day(end.ends_on)}停止征收，{what}（{_day(on)}）在停征之后，不予办理；"
            "停征后只办理退款和结案",
            field=field,
            code="fee_ended",
        )


# --- opening and deciding ---------------------------------------------------------------------------


@transaction.atomic
def fee_case_open(*, birth: Birth, by: User, opened_on: date | None = None) -> FeeCase:
    """立案: only from a registered out-of-policy birth, under the standard in force on its birth date.
    ``opened_on`` is today, or the date of a paper case of the time entered later (never after the end)."""
    _require(by, OFFICER_ROLES, area_code=birth.village_id, what="立案征收社会抚养费")
    birth = Birth.objects.select_for_update(of=("self",)).select_related("mother", "father").get(pk=birth.pk)
    if birth.policy_status != PolicyStatus.OUT_OF_POLICY:
        raise RuleViolation("该出生为政策内出生，不征收社会抚养费", field="birth", code="in_policy")
    today = _today()
    if birth.date > today:
        raise RuleViolation("出生日期晚于今天，不能预先立案（严禁预收）", field="birth", code="before_birth")
    opened_on = opened_on or today
    if opened_on < birth.date:
        raise RuleViolation("立案日期早于出生日期（严禁预收）", field="opened_on", code="before_birth")
    _not_future(opened_on, field="opened_on", what="立案日期")
    if FeeCase.objects.filter(birth=birth).exists():
        raise RuleViolation("该出生已立案，一个出生只能有一个征收案件", field="birth", code="duplicate")
    assessment = fee_assessment_for_birth(birth=birth)
    _not_after_end(opened_on, field="opened_on" if opened_on != today else "birth", what="立案日期")
    township = township_of(birth.village_id)
    with audit_context(by, reason="立案"):
        try:
            with transaction.atomic():
                return FeeCase.objects.create(
                    birth=birth,
                    village_id=birth.village_id,
                    birth_date=birth.date,
                    mother=birth.mother,
                    father=birth.father,
                    finding_township_id=township,
                    home_township_id=township,
                    opened_on=opened_on,
                    standard=assessment.standard,
                    category=assessment.category,
                    excess_order=assessment.excess_order,
                    income_base=assessment.income_base,
                    range_min=assessment.range_min,
                    range_max=assessment.range_max,
                    legal_basis=assessment.standard.legal_basis,
                    created_by=by,
                )
        except IntegrityError:  # a second officer opened it in the meantime
            raise RuleViolation("该出生已立案，一个出生只能有一个征收案件", field="birth", code="duplicate") from None


@transaction.atomic
def fee_case_decide(
    *,
    case: FeeCase,
    decision_number: str,
    decided_on: date,
    amount: Decimal,
    due_on: date,
    legal_basis: str = "",
    by: User,
) -> FeeCase:
    """征收决定: the amount inside the computed range, dated on or after the birth, with a due date."""
    _require(by, OFFICER_ROLES, area_code=case.home_township_id, what="作出征收决定")
    case = _locked(case)
    if case.state != FeeCaseState.DRAFT:
        raise RuleViolation(f"案件状态为“{case.get_state_display()}”，不能再作出征收决定", code="state")
    decision_number = (decision_number or "").strip()
    if not decision_number:
        raise RuleViolation("请填写决定书文号", field="decision_number", code="required")
    amount = _money(amount)
    if not case.range_min <= amount <= case.range_max:
        raise RuleViolation(
            f"决定征收额应在{case.range_min:,.2f}元至{case.range_max:,.2f}元之间（不得低于首征标准）",
            field="amount",
            code="out_of_range",
        )
    if decided_on < case.birth_date:
        raise RuleViolation("决定日期早于出生日期（严禁预收）", field="decided_on", code="before_birth")
    _not_future(decided_on, field="decided_on", what="决定日期")
    _not_after_end(decided_on, field="decided_on", what="决定日期")
    if due_on < decided_on:
        raise RuleViolation("缴款期限不能早于决定日期", field="due_on", code="invalid")
    if FeeCase.objects.filter(decision_number=decision_number).exclude(pk=case.pk).exists():
        raise RuleViolation("该决定书文号已被使用", field="decision_number", code="duplicate")
    with audit_context(by, reason=f"征收决定 {decision_number}"):
        FeeCase.objects.filter(pk=case.pk).update(
            state=FeeCaseState.DECIDED,
            decision_number=decision_number,
            decided_on=decided_on,
            decided_amount=amount,
            due_on=due_on,
            # The basis printed on the 决定书 is the one in force on the decision's own date.
            legal_basis=(legal_basis or "").strip() or legal_basis_on(day=decided_on) or case.legal_basis,
        )
    case.refresh_from_db()
    return case


# --- instalments ------------------------------------------------------------------------------------


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def instalment_schedule(*, total: Decimal, months: int, first_due_on: date) -> list[tuple[int, date, Decimal]]:
    """Equal monthly amounts in whole fen; the last instalment takes the remainder, so the sum is exact."""
    each = (total / months).quantize(CENT, rounding=ROUND_HALF_UP)
    rows = []
    for i in range(months):
        amount = each if i < months - 1 else total - each * (months - 1)
        rows.append((i + 1, _add_months(first_due_on, i), amount))
    if rows[-1][2] <= 0:  # a tiny balance over many months: fewer, larger instalments instead
        raise RuleViolation("分期月数过多，每期金额不足一分", field="months", code="invalid")
    return rows


@transaction.atomic
def fee_case_instalments_grant(
    *,
    case: FeeCase,
    application_received_on: date,
    application_number: str,
    approval_number: str,
    months: int,
    first_due_on: date,
    by: User,
) -> InstalmentPlan:
    """分期缴纳: only on a recorded written application approved by the county office, at most the policy's
    term (36 months, seed 000 L54); the schedule spreads the balance still owed."""
    _require(by, OFFICER_ROLES, area_code=case.home_township_id, what="登记分期缴纳")
    case = _locked(case)
    if case.state != FeeCaseState.DECIDED:
        raise RuleViolation(
            f"案件状态为“{case.get_state_display()}”，只有已决定、未分期的案件可以分期缴纳", code="state"
        )
    application_number = (application_number or "").strip()
    approval_number = (approval_number or "").strip()
    if not application_number:
        raise RuleViolation(
            "分期缴纳须有当事人的书面申请，请填写书面申请编号", field="application_number", code="required"
        )
    if not approval_number:
        raise RuleViolation("请填写县人口计生局的批准文号", field="approval_number", code="required")
    if application_received_on < case.decided_on:
        raise RuleViolation("书面申请日期早于征收决定日期", field="application_received_on", code="invalid")
    _not_future(application_received_on, field="application_received_on", what="书面申请日期")
    _not_after_end(application_received_on, field="application_received_on", what="书面申请日期")
    policy = fee_policy_on(day=application_received_on)
    if months is None or months < 1:
        raise RuleViolation("分期月数应为正整数", field="months", code="invalid")
    if months > policy.max_instalment_months:
        raise RuleViolation(
            f"分期缴纳的期限不得超过{policy.max_instalment_months}个月", field="months", code="too_long"
        )
    if application_received_on > timezone.localdate():
        raise RuleViolation("书面申请日期不能晚于今天", field="application_received_on", code="invalid")
    if first_due_on < application_received_on:
        raise RuleViolation("首期缴款日期不能早于申请日期", field="first_due_on", code="invalid")
    if first_due_on > _add_months(application_received_on, policy.max_instalment_months):
        raise RuleViolation(
            f"首期缴款日期不得晚于申请日期后{policy.max_instalment_months}个月", field="first_due_on", code="too_late"
        )
    schedule = instalment_schedule(total=case.outstanding_amount, months=months, first_due_on=first_due_on)
    with audit_context(by, reason=f"分期缴纳 书面申请{application_number}"):
        plan = InstalmentPlan.objects.create(
            case=case,
            application_received_on=application_received_on,
            application_number=application_number,
            approval_number=approval_number,
            months=months,
            first_due_on=first_due_on,
            created_by=by,
        )
        InstalmentDue.objects.bulk_create(
            InstalmentDue(plan=plan, sequence=seq, due_on=due, amount=amount) for seq, due, amount in schedule
        )
        FeeCase.objects.filter(pk=case.pk).update(state=FeeCaseState.INSTALMENTS)
    return plan


# --- money ------------------------------------------------------------------------------------------


def _state_after_balance(case: FeeCase, collected: Decimal) -> str:
    """Paid in full closes the case; a reversal or refund below the full amount reopens it."""
    if collected == case.decided_amount:
        return FeeCaseState.PAID
    if case.state == FeeCaseState.PAID:
        return FeeCaseState.INSTALMENTS if hasattr(case, "instalment_plan") else FeeCaseState.DECIDED
    return case.state


def _balance_update(case: FeeCase, collected: Decimal, *, on: date, what: str) -> dict:
    """The case's new balance and state after a closing entry (reversal, refund). An entry dated after the
    fee's end, where the county terminates unsettled cases, does not reopen a paid case for collection: the
    case is terminated on the entry's date, so nothing open appears after the end."""
    state = _state_after_balance(case, collected)
    values = {"collected_amount": collected, "state": state}
    end = fee_end()
    if (
        state in OPEN_STATES
        and case.state not in OPEN_STATES
        and end is not None
        and end.unsettled_outcome == UnsettledOutcome.TERMINATE
        and on > end.ends_on
    ):
        values.update(state=FeeCaseState.TERMINATED, closed_on=on, closed_reason=f"停征后{what}，未缴部分不再征收")
    return values


def _receipt_taken(number: str) -> bool:
    return Payment.objects.filter(receipt_number=number).exists()


@transaction.atomic
def payment_record(
    *, case: FeeCase, receipt_number: str, amount: Decimal, paid_on: date, method: str, by: User
) -> Payment:
    """缴款: only on a decided case, dated on or after the decision, never above what is still owed.

    The case row is locked first, so two payments racing on one case run one after the other and the
    second sees the first's money (and the database refuses a total above the decided amount regardless)."""
    _require(by, OFFICER_ROLES, area_code=case.home_township_id, what="登记缴款")
    case = _locked(case)
    if case.state == FeeCaseState.DRAFT:
        raise RuleViolation("尚未作出征收决定，不能收款（严禁预收）", code="not_decided")
    if case.state not in PAYABLE_STATES:
        raise RuleViolation(f"案件状态为“{case.get_state_display()}”，不能收款", code="state")
    receipt_number = (receipt_number or "").strip()
    if not receipt_number:
        raise RuleViolation("请填写票据号", field="receipt_number", code="required")
    amount = _money(amount)
    if amount <= 0:
        raise RuleViolation("缴款金额应大于零", field="amount", code="invalid")
    if method not in PaymentMethod.values:
        raise RuleViolation("请选择缴款方式", field="method", code="invalid")
    if paid_on < case.decided_on:
        raise RuleViolation("缴款日期早于征收决定日期", field="paid_on", code="before_decision")
    _not_future(paid_on, field="paid_on", what="缴款日期")
    end = fee_end()
    if not (end is not None and end.unsettled_outcome == UnsettledOutcome.COLLECT and case.decided_on <= end.ends_on):
        _not_after_end(paid_on, field="paid_on", what="缴款日期")
    outstanding = case.decided_amount - case.collected_amount
    if amount > outstanding:
        raise RuleViolation(
            f"缴款金额{amount:,.2f}元超过尚欠金额{outstanding:,.2f}元，不能超额收款", field="amount", code="overpayment"
        )
    if _receipt_taken(receipt_number):
        raise RuleViolation("该票据号已使用", field="receipt_number", code="duplicate")
    collected = case.collected_amount + amount
    with audit_context(by, reason=f"缴款 票据{receipt_number}"):
        try:
            with transaction.atomic():
                payment = Payment.objects.create(
                    case=case,
                    kind=PaymentKind.PAYMENT,
                    receipt_number=receipt_number,
                    amount=amount,
                    paid_on=paid_on,
                    method=method,
                    created_by=by,
                )
        except IntegrityError:
            raise RuleViolation("该票据号已使用", field="receipt_number", code="duplicate") from None
        FeeCase.objects.filter(pk=case.pk).update(
            collected_amount=collected, state=_state_after_balance(case, collected)
        )
    return payment


@transaction.atomic
def payment_reverse(*, payment: Payment, reason: str, on: date | None = None, by: User) -> Payment:
    """冲正: a new entry of the opposite amount naming the mistaken payment (which is never edited)."""
    case = payment.case
    _require(by, OFFICER_ROLES, area_code=case.home_township_id, what="冲正缴款")
    case = _locked(case)
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("冲正必须填写原因", field="reason", code="required")
    if payment.kind != PaymentKind.PAYMENT:
        raise RuleViolation("冲正记录不能再冲正", code="invalid")
    if Payment.objects.filter(reverses=payment).exists():
        raise RuleViolation("该笔缴款已冲正", code="duplicate")
    on = on or _today()
    if on < payment.paid_on:
        raise RuleViolation("冲正日期早于原缴款日期", field="on", code="invalid")
    _not_future(on, field="on", what="冲正日期")
    collected = case.collected_amount - payment.amount
    if collected < 0:
        raise RuleViolation("已退款的缴款不能再冲正，请先核对台账", code="negative_balance")
    number = f"{payment.receipt_number}-冲"
    if _receipt_taken(number):
        raise RuleViolation("冲正票据号已存在", code="duplicate")
    with audit_context(by, reason=reason):
        reversal = Payment.objects.create(
            case=case,
            kind=PaymentKind.REVERSAL,
            receipt_number=number,
            amount=-payment.amount,
            paid_on=on,
            method=payment.method,
            reverses=payment,
            note=reason,
            created_by=by,
        )
        FeeCase.objects.filter(pk=case.pk).update(**_balance_update(case, collected, on=on, what="冲正"))
    return reversal


@transaction.atomic
def refund_record(
    *, case: FeeCase, voucher_number: str, amount: Decimal, refunded_on: date, reason: str, by: User
) -> Refund:
    """退款: its own record, never more than the money held on the case (county only)."""
    _require(by, COUNTY_ROLES, area_code=case.home_township_id, what="办理退款")
    case = _locked(case)
    reason = (reason or "").strip()
    voucher_number = (voucher_number or "").strip()
    if not reason:
        raise RuleViolation("退款必须填写原因", field="reason", code="required")
    if not voucher_number:
        raise RuleViolation("请填写退款凭证号", field="voucher_number", code="required")
    amount = _money(amount)
    if amount <= 0:
        raise RuleViolation("退款金额应大于零", field="amount", code="invalid")
    if amount > case.collected_amount:
        raise RuleViolation(f"退款金额超过已征收净额{case.collected_amount:,.2f}元", field="amount", code="over_refund")
    if case.decided_on and refunded_on < case.decided_on:
        raise RuleViolation("退款日期早于征收决定日期", field="refunded_on", code="invalid")
    _not_future(refunded_on, field="refunded_on", what="退款日期")
    if Refund.objects.filter(voucher_number=voucher_number).exists():
        raise RuleViolation("该退款凭证号已使用", field="voucher_number", code="duplicate")
    collected = case.collected_amount - amount
    with audit_context(by, reason=reason):
        refund = Refund.objects.create(
            case=case,
            voucher_number=voucher_number,
            amount=amount,
            refunded_on=refunded_on,
            reason=reason,
            created_by=by,
        )
        FeeCase.objects.filter(pk=case.pk).update(**_balance_update(case, collected, on=refunded_on, what="退款"))
    return refund


# --- transfer, enforcement, withdrawal --------------------------------------------------------------


@transaction.atomic
def fee_case_transfer(
    *, case: FeeCase, to_township: Area, reason: str, by: User, on: date | None = None
) -> FeeTransfer:
    """案件移交: the case moves to the township that will collect it; the finding township's share is the
    policy's percentage on the transfer date (seed: a case found elsewhere is not lost between townships).
    ``on`` is today, or the date of a paper transfer of the time entered later (never after the end)."""
    _require(by, OFFICER_ROLES, area_code=case.home_township_id, what="移交案件")
    case = _locked(case)
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("移交必须填写原因", field="reason", code="required")
    if to_township.level != AreaLevel.TOWNSHIP or township_of(to_township.code) != to_township.code:
        raise RuleViolation("请选择接收的乡镇", field="to_township", code="not_township")
    if to_township.code[:6] != case.village_id[:6]:
        raise RuleViolation("只能移交给本县的乡镇", field="to_township", code="out_of_county")
    if to_township.code == case.home_township_id:
        raise RuleViolation("案件已在该乡镇", field="to_township", code="same")
    if case.state not in (FeeCaseState.DRAFT, FeeCaseState.DECIDED, FeeCaseState.INSTALMENTS):
        raise RuleViolation(f"案件状态为“{case.get_state_display()}”，不能移交", code="state")
    on = on or _today()
    if on < case.opened_on:
        raise RuleViolation("移交日期早于立案日期", field="on", code="invalid")
    _not_future(on, field="on", what="移交日期")
    _not_after_end(on, field="on", what="移交日期")
    share = (
        fee_policy_on(day=on).finding_share_percent
        if to_township.code != case.finding_township_id
        else Decimal("0.00")  # back to the finding township: nothing to share
    )
    with audit_context(by, reason=reason):
        transfer = FeeTransfer.objects.create(
            case=case,
            from_township_id=case.home_township_id,
            to_township=to_township,
            share_percent=share,
            transferred_on=on,
            reason=reason,
            created_by=by,
        )
        FeeCase.objects.filter(pk=case.pk).update(home_township=to_township, finding_share_percent=share)
    return transfer


@transaction.atomic
def fee_case_refer_enforcement(*, case: FeeCase, reason: str, by: User) -> FeeCase:
    """移送强制执行: a decided case past its due date by the policy's number of days."""
    _require(by, OFFICER_ROLES, area_code=case.home_township_id, what="移送强制执行")
    case = _locked(case)
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("移送强制执行必须填写原因", field="reason", code="required")
    if case.state not in (FeeCaseState.DECIDED, FeeCaseState.INSTALMENTS):
        raise RuleViolation(f"案件状态为“{case.get_state_display()}”，不能移送强制执行", code="state")
    today = _today()
    _not_after_end(today, field=None, what="移送日期")
    days = fee_policy_on(day=today).enforcement_after_days
    if (today - case.due_on).days <= days:
        raise RuleViolation(f"缴款期限届满未超过{days}天，不能移送强制执行", code="not_overdue")
    with audit_context(by, reason=reason):
        FeeCase.objects.filter(pk=case.pk).update(state=FeeCaseState.ENFORCEMENT, closed_reason=reason)
    case.refresh_from_db()
    return case


@transaction.atomic
def fee_case_withdraw(*, case: FeeCase, reason: str, by: User) -> FeeCase:
    """撤销: the county withdraws a case (e.g. the birth was found to be within policy). Money held must be
    refunded first, so a withdrawn case never keeps collected money."""
    _require(by, COUNTY_ROLES, area_code=case.home_township_id, what="撤销案件")
    case = _locked(case)
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("撤销案件必须填写原因", field="reason", code="required")
    if case.state in (FeeCaseState.WITHDRAWN, FeeCaseState.PAID):
        raise RuleViolation(f"案件状态为“{case.get_state_display()}”，不能撤销", code="state")
    if case.collected_amount:
        raise RuleViolation(f"该案件已征收{case.collected_amount:,.2f}元，请先办理退款再撤销", code="money_held")
    with audit_context(by, reason=reason):
        FeeCase.objects.filter(pk=case.pk).update(state=FeeCaseState.WITHDRAWN, closed_reason=reason)
    case.refresh_from_db()
    return case


# --- the fee's end ----------------------------------------------------------------------------------


@transaction.atomic
def fee_cases_terminate(*, reason: str, by: User) -> FeeTermination:
    """停征后终止未结案件: one reasoned action of the county closes every case still open in its area, dated
    today (after the end). Where the county terminates unsettled cases, every open case ends; where it
    collects them to the end, only the cases never decided (which can no longer be) end. Money collected stays
    on the ledger untouched; refunds remain possible. One UPDATE, whatever the number of cases; the audit
    trail keeps each case's before and after with this user and reason."""
    if not by or not by.is_authenticated or not by.has_role(*COUNTY_ROLES):
        raise PermissionDenied("您的角色不能批量终止征收")
    if by.area_id is None:  # a superuser bound to no area: the action is recorded against an area
        raise RuleViolation("请使用绑定了县级行政区的账号办理批量终止", code="no_area")
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("批量终止必须填写原因", field="reason", code="required")
    end = fee_end()
    today = _today()
    if end is None or today <= end.ends_on:
        raise RuleViolation("社会抚养费尚未停止征收，不能批量终止案件", code="not_ended")
    states = OPEN_STATES if end.unsettled_outcome == UnsettledOutcome.TERMINATE else (FeeCaseState.DRAFT,)
    scoped = fee_cases_visible_to(user=by).filter(state__in=states).values("pk")
    with audit_context(by, reason=f"停征后批量终止：{reason}"):
        count = FeeCase.objects.filter(pk__in=scoped, state__in=states).update(
            state=FeeCaseState.TERMINATED, closed_on=today, closed_reason=reason
        )
        if not count:
            raise RuleViolation("您的管辖范围内没有未结案件", code="nothing_open")
        return FeeTermination.objects.create(
            area_id=by.area_id,
            terminated_on=today,
            reason=reason,
            outcome=end.unsettled_outcome,
            cases=count,
            created_by=by,
        )
