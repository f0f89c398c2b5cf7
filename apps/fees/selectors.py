"""Reads of the fee app, always through the area scope (DESIGN §4, §6 fee_collection_rate, §7)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum

from apps.accounts.models import User
from apps.core.access import may_read, readable
from apps.core.dated import in_force
from apps.core.errors import RuleViolation
from apps.core.scoping import NOTHING, user_scope
from apps.fees.models import (
    OPEN_STATES,
    FeeCase,
    FeeCaseState,
    FeeEnd,
    FeePolicy,
    FeeRate,
    FeeStandard,
    LegalBasis,
    PayerCategory,
    Payment,
    Refund,
)
from apps.registry.models import Birth, EmploymentType, HukouType, PolicyStatus

CENT = Decimal("0.01")


# --- rule sets --------------------------------------------------------------------------------------


def fee_policy_on(*, day: date) -> FeePolicy:
    policy = in_force(FeePolicy.objects.all(), day).first()
    if policy is None:
        raise RuleViolation(f"{day:%Y-%m-%d}没有生效的征收管理参数，请县级管理员在管理后台配置", code="no_policy")
    return policy


def fee_end() -> FeeEnd | None:
    """The fee's end (停征参数), or None where the county has not set one."""
    return FeeEnd.objects.first()


def fee_ended(*, day: date) -> bool:
    """Whether ``day`` is after the fee's end: nothing new (case, decision, payment) may be dated then."""
    end = fee_end()
    return end is not None and day > end.ends_on


def legal_basis_on(*, day: date) -> str:
    """依据条文 in force on ``day``: what a document dated that day cites (empty when none is configured)."""
    basis = in_force(LegalBasis.objects.all(), day).first()
    return basis.text if basis is not None else ""


def fee_archive(*, user: User, today: date) -> bool:
    """征收档案（只读）: after the end, once no case in the user's area is open, the fee pages only show the
    ledger, the notices and the receipts."""
    return fee_ended(day=today) and not fee_cases_visible_to(user=user).filter(state__in=OPEN_STATES).exists()


def fee_standard_for_birth(*, born_on: date) -> FeeStandard:
    """The standard in force on the birth date. A birth after the last standard's end gets no case."""
    standard = in_force(FeeStandard.objects.all(), born_on).first()
    if standard is not None:
        return standard
    ended = FeeStandard.objects.filter(valid_to__lt=born_on).order_by("-valid_to").first()
    if ended is not None and not FeeStandard.objects.filter(valid_from__gt=born_on).exists():
        raise RuleViolation(
            f"出生日期{born_on:%Y-%m-%d}晚于征收标准“{ended.name}”的截止日期{ended.valid_to:%Y-%m-%d}，"
            "社会抚养费已停止征收，不予立案",
            field="birth",
            code="after_standard_end",
        )
    raise RuleViolation(f"没有适用于出生日期{born_on:%Y-%m-%d}的征收标准", field="birth", code="no_standard")


def payer_category(*, birth: Birth) -> str:
    """单位职工 if either parent is a work-unit employee; otherwise by the mother's hukou (the child's hukou
    follows the mother's): 非农业 → 城镇人口, 农业 → 农村人口."""
    parents = [p for p in (birth.mother, birth.father) if p is not None]
    if any(p.employment_type == EmploymentType.EMPLOYEE for p in parents):
        return PayerCategory.EMPLOYEE
    if birth.mother.hukou_type == HukouType.NON_AGRICULTURAL:
        return PayerCategory.URBAN
    return PayerCategory.RURAL


@dataclass(frozen=True)
class Assessment:
    standard: FeeStandard
    rate: FeeRate
    category: str
    excess_order: int
    income_base: Decimal
    range_min: Decimal
    range_max: Decimal


def fee_assessment_for_birth(*, birth: Birth) -> Assessment:
    """The computed range: income base × the rate's multiples, never below the minimum (首征标准)."""
    standard = fee_standard_for_birth(born_on=birth.date)
    category = payer_category(birth=birth)
    # 违法生育第n孩: the rank of this birth among the mother's out-of-policy births.
    excess_order = (
        Birth.objects.filter(mother_id=birth.mother_id, policy_status=PolicyStatus.OUT_OF_POLICY)
        .filter(Q(date__lt=birth.date) | Q(date=birth.date, id__lte=birth.pk))
        .count()
    )
    excess_order = max(excess_order, 1)
    rate = standard.rates.filter(category=category, excess_order__lte=excess_order).order_by("-excess_order").first()
    if rate is None:
        raise RuleViolation(
            f"征收标准“{standard.name}”中没有{PayerCategory(category).label}违法生育第{excess_order}孩的征收额",
            field="birth",
            code="no_rate",
        )
    base = standard.rural_income if category == PayerCategory.RURAL else standard.urban_income
    low = max(rate.minimum_amount, (base * rate.multiple_min).quantize(CENT, rounding=ROUND_HALF_UP))
    high = max(low, (base * rate.multiple_max).quantize(CENT, rounding=ROUND_HALF_UP))
    return Assessment(standard, rate, category, excess_order, base, low, high)


# --- cases ------------------------------------------------------------------------------------------


def fee_cases_visible_to(*, user: User, state: str = "", q: str = "") -> QuerySet[FeeCase]:
    qs = readable(FeeCase.objects.visible_to(user), user, "fees").select_related(
        "mother", "father", "village", "home_township", "finding_township", "birth__child"
    )
    if state:
        qs = qs.filter(state=state)
    q = (q or "").strip()
    if q:
        qs = qs.filter(Q(decision_number__startswith=q) | Q(mother__name__startswith=q) | Q(father__name__startswith=q))
    return qs.order_by("-opened_on", "-id")


def fee_case_get_visible(*, user: User, pk: int) -> FeeCase:
    return fee_cases_visible_to(user=user).select_related("standard").get(pk=pk)


def fee_cases_by_state(*, cases: QuerySet[FeeCase]) -> list[tuple[str, int, Decimal, Decimal]]:
    """(state label, cases, decided, collected) per state of ``cases``: one GROUP BY."""
    labels = dict(FeeCaseState.choices)
    rows = cases.order_by().values("state").annotate(n=Count("pk"), d=Sum("decided_amount"), c=Sum("collected_amount"))
    zero = Decimal("0.00")
    return [(labels[r["state"]], r["n"], r["d"] or zero, r["c"] or zero) for r in rows.order_by("state")]


def births_awaiting_case(*, user: User, today: date) -> QuerySet[Birth]:
    """待立案: registered out-of-policy births in the user's area that have no case yet; none after the fee's
    end, since no case may be opened then (a birth's policy status stays computed for the statistics)."""
    if fee_ended(day=today):
        return Birth.objects.none()
    return (
        readable(Birth.objects.visible_to(user), user, "fees")
        .filter(policy_status=PolicyStatus.OUT_OF_POLICY, fee_case__isnull=True)
        .select_related("mother", "father", "child", "village")
        .order_by("-date", "-id")
    )


def fee_cases_needing_review(*, user: User) -> QuerySet[FeeCase]:
    """需复核: cases not withdrawn whose birth the registry has since voided or now counts as in policy (a
    correction, a void, a permit). The registry never writes to fees (apps depend downward); this read is how
    a change there reaches the fee officer. Money collected stays on the ledger until refunded."""
    return (
        fee_cases_visible_to(user=user)
        .exclude(state=FeeCaseState.WITHDRAWN)
        .filter(Q(birth__voided_at__isnull=False) | Q(birth__policy_status=PolicyStatus.IN_POLICY))
        .select_related("birth")
    )


def fee_case_review_reason(*, case: FeeCase) -> str:
    """Why a case needs review (empty when it does not): what the fee case page says in its banner."""
    birth = case.birth
    if case.state == FeeCaseState.WITHDRAWN:
        return ""
    if birth.voided_at is not None:
        return f"该案件的出生登记已于{birth.voided_at:%Y-%m-%d}作废（原因：{birth.void_reason}）"
    if birth.policy_status == PolicyStatus.IN_POLICY:
        return "该出生经更正后按政策规则为政策内"
    return ""


def payments_visible_to(*, user: User) -> QuerySet[Payment]:
    return readable(Payment.objects.visible_to(user), user, "fees").select_related(
        "case", "case__mother", "case__home_township"
    )


def payment_get_visible(*, user: User, pk: int) -> Payment:
    return payments_visible_to(user=user).select_related("case__father", "case__village", "created_by").get(pk=pk)


def refunds_visible_to(*, user: User) -> QuerySet[Refund]:
    return readable(Refund.objects.visible_to(user), user, "fees").select_related("case")


@dataclass(frozen=True)
class LedgerEntry:
    on: date
    kind: str
    number: str
    amount: Decimal  # signed: money in positive, reversals and refunds negative
    balance: Decimal
    note: str
    payment: Payment | None


def fee_case_entries(*, case: FeeCase) -> list[LedgerEntry]:
    """The case's money in date order with the running net collected (two queries)."""
    rows = [
        (p.paid_on, p.created_at, p.get_kind_display(), p.receipt_number, p.amount, p.note, p)
        for p in case.payments.all()
    ]
    rows += [
        (r.refunded_on, r.created_at, "退款", r.voucher_number, -r.amount, r.reason, None) for r in case.refunds.all()
    ]
    rows.sort(key=lambda r: (r[0], r[1]))
    balance = Decimal("0.00")
    entries = []
    for on, _, kind, number, amount, note, payment in rows:
        balance += amount
        entries.append(LedgerEntry(on, kind, number, amount, balance, note, payment))
    return entries


def enforcement_referrals(*, user: User, today: date) -> QuerySet[FeeCase]:
    """强制执行移送名单: decided cases whose due date passed more than the policy's number of days ago; none
    after the fee's end (nothing is referred for a fee that no longer exists)."""
    if fee_ended(day=today):
        return FeeCase.objects.none()
    days = fee_policy_on(day=today).enforcement_after_days
    return (
        fee_cases_visible_to(user=user, state=FeeCaseState.DECIDED)
        .filter(due_on__lt=today - timedelta(days=days))
        .order_by("due_on", "id")
    )


# --- the ledger -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerRow:
    """One township's line of the 征收台账. ``kept`` is what the township keeps of the money: its own cases'
    collections minus the finding townships' shares, plus its shares of cases it found and handed over."""

    township: str
    name: str
    cases: int  # 应征人数
    decided: Decimal  # 应征额
    collected: Decimal  # 已征额
    share_out: Decimal  # 移交分出（发现地分成）
    share_in: Decimal  # 发现地分成所得
    kept: Decimal  # 实得

    @property
    def rate(self) -> Decimal | None:
        """到位率 % (half-up to 2 decimals, for display)."""
        if not self.decided:
            return None
        return (self.collected * 100 / self.decided).quantize(CENT, rounding=ROUND_HALF_UP)


# Each case counts once for its home township; a transferred case's finding share is a second row for the
# finding township. One statement, one GROUP BY, whatever the number of townships.
_LEDGER_SQL = """
WITH c AS (
    SELECT home_township_id AS home, finding_township_id AS finding, decided_amount, collected_amount,
           ROUND(collected_amount * finding_share_percent / 100, 2) AS share
    FROM fees_feecase
    WHERE decided_on BETWEEN %(start)s AND %(end)s AND state <> %(withdrawn)s
      AND ((home_township_id >= %(low)s AND home_township_id < %(high)s)
           OR (finding_township_id >= %(low)s AND finding_township_id < %(high)s))
)
SELECT t.township, a.name, SUM(t.cases), SUM(t.decided), SUM(t.collected), SUM(t.share_out), SUM(t.share_in),
       SUM(t.kept)
FROM (
    SELECT home AS township, 1 AS cases, decided_amount AS decided, collected_amount AS collected,
           share AS share_out, 0 AS share_in, collected_amount - share AS kept
    FROM c
    UNION ALL
    SELECT finding, 0, 0, 0, 0, share, share FROM c WHERE home <> finding AND share <> 0
) t
JOIN areas_area a ON a.code = t.township
WHERE t.township >= %(low)s AND t.township < %(high)s
GROUP BY t.township, a.name
ORDER BY t.township
"""


def township_ledger(*, user: User, start: date, end: date) -> list[LedgerRow]:
    """征收台账 by township for decisions dated in [start, end] (withdrawn decisions are not owed)."""
    scope = user_scope(user) if user else NOTHING
    if scope == NOTHING or not may_read(user, "fees"):
        return []
    low, high = scope or ("", "~")  # no limit: every code lies in ["", "~")
    params = {"start": start, "end": end, "withdrawn": FeeCaseState.WITHDRAWN, "low": low, "high": high}
    with connection.cursor() as cursor:
        cursor.execute(_LEDGER_SQL, params)
        return [LedgerRow(*row) for row in cursor.fetchall()]


def ledger_total(*, rows: list[LedgerRow], name: str = "合计") -> LedgerRow:
    """The county summary: summed numerators and denominators, never an average of rates."""
    zero = Decimal("0.00")
    return LedgerRow(
        township="",
        name=name,
        cases=sum(r.cases for r in rows),
        decided=sum((r.decided for r in rows), zero),
        collected=sum((r.collected for r in rows), zero),
        share_out=sum((r.share_out for r in rows), zero),
        share_in=sum((r.share_in for r in rows), zero),
        kept=sum((r.kept for r in rows), zero),
    )


# fee_collection_rate's records (DESIGN §6): the cases decided in [start, end], by the birth's village, each
# adding the amount collected net of reversals and refunds to the numerator and the amount decided to the
# denominator; withdrawn decisions count for neither. A case terminated when the fee ended keeps its decision
# and what was collected (the shortfall is real). The indicator computation sums them and its record list shows
# them (``apps.indicators.sources``): one definition.
FEE_COLLECTION_RECORDS = f"""
SELECT c.id AS record_id, c.village_id AS code, c.collected_amount AS num, c.decided_amount AS den,
    c.mother_id AS person_id,
    '征收决定 ' || coalesce(c.decision_number, '') || '（' || to_char(c.decided_on, 'YYYY-MM-DD') || '）' AS label
FROM fees_feecase c
WHERE c.decided_on >= %(start)s AND c.decided_on <= %(end)s AND c.state <> '{FeeCaseState.WITHDRAWN}'
"""  # noqa: S608 - a constant of the model, no value


def fee_collection_by_village(*, start: date, end: date) -> list[tuple[str, Decimal, Decimal]]:
    """fee_collection_rate's values per village (``FEE_COLLECTION_RECORDS`` summed). One GROUP BY query."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT code, sum(num), sum(den) FROM ({FEE_COLLECTION_RECORDS}) s GROUP BY code ORDER BY code",  # noqa: S608
            {"start": start, "end": end},
        )
        return [(village, collected, decided) for village, collected, decided in cursor.fetchall()]
