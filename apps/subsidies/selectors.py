"""Reads of the subsidy app, always area-scoped, and the indicator source ``SUBSIDY_PAYMENT_RECORDS``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import connection
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from apps.accounts.models import User
from apps.areas.models import Area
from apps.core.access import readable
from apps.core.errors import RuleViolation
from apps.core.idnumbers import normalise
from apps.registry.models import Person
from apps.subsidies.models import (
    BankAccount,
    Objection,
    Payment,
    PaymentBatch,
    Programme,
    Roster,
    RosterCorrection,
    RosterEntry,
    RosterStep,
)


def programmes_list() -> QuerySet[Programme]:
    """Programmes are county-wide configuration (not located): every signed-in user may read them."""
    return Programme.objects.prefetch_related("rules").order_by("code")


def rosters_visible_to(*, user: User, programme: str = "", period: str = "", status: str = "") -> QuerySet[Roster]:
    qs = readable(Roster.objects.visible_to(user), user, "subsidies").select_related("programme", "township")
    if programme:
        qs = qs.filter(programme__code=programme)
    if period:
        qs = qs.filter(period=period.strip().upper())
    if status:
        qs = qs.filter(status=status)
    entries = RosterEntry.objects.visible_to(user).filter(roster=OuterRef("pk"))
    return qs.annotate(
        # Persons, not entries: a 育儿补贴 roster holds a child's back months as entries of their own.
        beneficiaries=Subquery(
            entries.exclude(change="leaving")
            .values("roster")
            .annotate(n=Count("person_id", distinct=True))
            .values("n")[:1]
        ),
        amount_due=Subquery(entries.values("roster").annotate(s=Sum("amount")).values("s")[:1]),
    ).order_by("-period_start", "programme__code", "township_id")


def roster_get_visible(*, user: User, pk: int) -> Roster:
    return (
        readable(Roster.objects.visible_to(user), user, "subsidies")
        .select_related("programme", "township", "approved_by")
        .get(pk=pk)
    )


def roster_entries(*, roster: Roster, user: User, change: str = "", village: str = "") -> QuerySet[RosterEntry]:
    """The entries the user may see (a village clerk: the own village), with the payee's active account."""
    qs = (
        readable(RosterEntry.objects.visible_to(user), user, "subsidies")
        .filter(roster=roster)
        .select_related("person", "payee", "village")
    )
    if change:
        qs = qs.filter(change=change)
    if village:
        qs = qs.within(village)
    account = BankAccount.objects.filter(person=OuterRef("payee_id"), is_active=True)
    return qs.annotate(
        account_number=Subquery(account.values("account_number")[:1]),
        account_bank=Subquery(account.values("bank_name")[:1]),
    ).order_by("village_id", "change", "person__name", "id")


def roster_summary(*, roster: Roster, user: User) -> dict:
    """Counts and amounts by change (新增/继续/退出) in one GROUP BY, over what the user may see."""
    rows = (
        readable(RosterEntry.objects.visible_to(user), user, "subsidies")
        .filter(roster=roster)
        .values("change")
        .annotate(n=Count("id"), amount=Sum("amount"))
    )
    out = {"new": 0, "continuing": 0, "leaving": 0, "amount": Decimal("0.00")}
    for row in rows:
        out[row["change"]] = row["n"]
        out["amount"] += row["amount"] or 0
    out["beneficiaries"] = out["new"] + out["continuing"]
    return out


def roster_steps(*, roster: Roster) -> QuerySet[RosterStep]:
    return roster.steps.select_related("by", "village").order_by("at", "id")


def roster_villages_pending(*, roster: Roster) -> list[Area]:
    """The villages with beneficiaries in the roster that have not submitted yet, by name (the township
    chases them, or submits for one with a reason)."""
    submitted = RosterStep.objects.filter(roster=roster, kind="village_submit", superseded=False).values("village_id")
    codes = roster.entries.exclude(village_id__in=submitted).values("village_id")
    return list(Area.objects.filter(code__in=codes).order_by("code"))


def roster_corrections(*, roster: Roster, user: User) -> QuerySet[RosterCorrection]:
    return (
        RosterCorrection.objects.visible_to(user)
        .filter(roster=roster)
        .select_related("person", "village", "by")
        .order_by("at", "id")
    )


def roster_objections(*, roster: Roster, user: User) -> QuerySet[Objection]:
    return (
        Objection.objects.visible_to(user)
        .filter(roster=roster)
        .select_related("entry__person", "recorded_by", "decided_by")
        .order_by("received_on", "id")
    )


# Why an entry of an approved roster has no payment going out: the first that applies.
# The one rule of who may be paid now (DESIGN §7), over a roster entry ``e`` of roster ``r`` and the payee's
# active account ``a`` (LEFT JOINed): why the entry is not payable, or NULL when a batch pays it. The batch's
# INSERT takes the entries where it is NULL; 未发放人员 lists the others with the reason.
ENTRY_NOT_PAYABLE_SQL = """CASE
    WHEN e.change = 'leaving' THEN 'leaving'
    -- one beneficiary is never paid twice for one period: paid, or a payment going out
    WHEN EXISTS (SELECT 1 FROM subsidies_payment q
                 WHERE q.person_id = e.person_id AND q.programme_id = r.programme_id
                   AND q.period = coalesce(nullif(e.month, ''), r.period) AND q.status <> 'failed') THEN 'paid'
    -- an objection upheld during the notice withholds the person's payment
    WHEN EXISTS (SELECT 1 FROM subsidies_objection o WHERE o.entry_id = e.id AND o.status = 'upheld')
        THEN 'objection'
    WHEN a.id IS NULL THEN 'no_account'
    -- nothing goes to an account a payment failed on (closed, name not matching): the failed payment, and the
    -- later periods, wait until the account is corrected (a new account replaces it)
    WHEN EXISTS (SELECT 1 FROM subsidies_payment f WHERE f.account_id = a.id AND f.status = 'failed')
        THEN 'failed_uncorrected'
END"""

_UNPAID_SQL = f"""
SELECT e.id, coalesce(x.why, 'waiting'),
    (SELECT f.bank_reason FROM subsidies_payment f  -- the latest failure on the account still in use
     WHERE f.account_id = a.id AND f.status = 'failed' ORDER BY f.id DESC LIMIT 1)
FROM subsidies_rosterentry e
JOIN subsidies_roster r ON r.id = e.roster_id
LEFT JOIN subsidies_bankaccount a ON a.person_id = e.payee_id AND a.is_active
CROSS JOIN LATERAL (SELECT {ENTRY_NOT_PAYABLE_SQL} AS why) x
WHERE e.roster_id = %(roster)s AND e.id = ANY(%(visible)s) AND x.why IS DISTINCT FROM 'leaving'
  AND x.why IS DISTINCT FROM 'paid'
ORDER BY e.village_id, e.id
"""  # noqa: S608 - constants only

UNPAID_REASONS = {
    "objection": "公示异议成立，不予发放",
    "no_account": "无领取账户",
    "failed_uncorrected": "上次发放失败，账户尚未更正",
    "waiting": "待发放（下一批次）",
}


def roster_unpaid(*, roster: Roster, user: User) -> list[RosterEntry]:
    """未发放人员 of an approved roster: each beneficiary the user may see with no payment paid or going out
    for the period, with why (``entry.unpaid_reason``): the batch says whom it left out instead of silently
    leaving them out. One statement over the roster's entries."""
    visible = list(RosterEntry.objects.visible_to(user).filter(roster=roster).values_list("id", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(_UNPAID_SQL, {"roster": roster.pk, "visible": visible})
        why = {pk: (code, bank_reason) for pk, code, bank_reason in cursor.fetchall()}
    entries = list(
        RosterEntry.objects.filter(pk__in=why).select_related("person", "village").order_by("village_id", "id")
    )
    for e in entries:
        code, bank_reason = why[e.pk]
        e.unpaid_code = code
        e.unpaid_reason = UNPAID_REASONS[code] + (
            f"（{bank_reason}）" if code == "failed_uncorrected" and bank_reason else ""
        )
    return entries


def batches_visible_to(*, user: User) -> QuerySet[PaymentBatch]:
    """Batches with their counts and sums over the payments the user may see: a village clerk sees the township's
    batches, but the money of the own village only (as ``rosters_visible_to`` does for rosters)."""
    payments = Payment.objects.visible_to(user).filter(batch=OuterRef("pk")).values("batch")

    def per_batch(**aggregate):
        return Subquery(payments.annotate(**aggregate).values(*aggregate)[:1])

    return (
        readable(PaymentBatch.objects.visible_to(user), user, "subsidies.batches")
        .select_related("roster__programme", "township", "created_by")
        .annotate(
            payment_count=Coalesce(per_batch(n=Count("id")), 0),
            total=per_batch(s=Sum("amount")),
            paid=per_batch(s=Sum("amount", filter=Q(status="paid"))),
            failed_count=Coalesce(per_batch(n=Count("id", filter=Q(status="failed"))), 0),
        )
        .order_by("-created_at", "-id")
    )


def batch_get_visible(*, user: User, pk: int) -> PaymentBatch:
    return (
        readable(PaymentBatch.objects.visible_to(user), user, "subsidies.batches")
        .select_related("roster__programme", "township", "created_by")
        .get(pk=pk)
    )


def batch_payments(*, batch: PaymentBatch, user: User) -> QuerySet[Payment]:
    return (
        readable(Payment.objects.visible_to(user), user, "subsidies.batches")
        .filter(batch=batch)
        .select_related("person", "payee", "account", "village")
        .order_by("id")
    )


# 奖励扶助资金兑现率's records (DESIGN §6): every beneficiary (new or continuing) of a county-approved roster
# of a period within [start, end], by the beneficiary's village, adding the amount its bank confirmed paid to
# the numerator and the amount due to the denominator. The indicator computation sums them and its record list
# shows them (``apps.indicators.sources``): one definition.
SUBSIDY_PAYMENT_RECORDS = """
SELECT e.id AS record_id, e.village_id AS code,
    coalesce((SELECT sum(pd.amount) FROM subsidies_payment pd WHERE pd.entry_id = e.id AND pd.status = 'paid'), 0)
        AS num,
    e.amount AS den, e.person_id, pr.name || ' ' || r.period AS label
FROM subsidies_rosterentry e
JOIN subsidies_roster r ON r.id = e.roster_id
JOIN subsidies_programme pr ON pr.id = r.programme_id
WHERE r.status = 'approved' AND e.change <> 'leaving' AND r.period_start >= %(start)s AND r.period_end <= %(end)s
"""


def subsidy_payment_by_village(*, start: date, end: date) -> list[tuple[str, Decimal, Decimal]]:
    """奖励扶助资金兑现率's values per village (``SUBSIDY_PAYMENT_RECORDS`` summed). One set-based query."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT code, sum(num)::numeric(14, 2), sum(den)::numeric(14, 2) FROM ({SUBSIDY_PAYMENT_RECORDS}) s"  # noqa: S608
            " GROUP BY code ORDER BY code",
            {"start": start, "end": end},
        )
        return [(code, Decimal(paid), Decimal(due)) for code, paid, due in cursor.fetchall()]


def payments_failed_uncorrected(*, user: User) -> QuerySet[Payment]:
    """Failed payments (the bank's reason, e.g. a closed account) whose payee still has that account as the
    active one: the account is to be corrected before the payment can go out again."""
    return readable(Payment.objects.visible_to(user), user, "subsidies.batches").filter(
        status="failed", account__is_active=True
    )


def person_to_add(*, user: User, id_number: str) -> Person:
    """The person a roster correction adds, found by ID number within the user's area only; any other number
    gets the same words, which neither name nor confirm a person outside the area."""
    number = normalise(id_number)
    person = Person.objects.visible_to(user).filter(id_number=number).first() if number else None
    if person is None:
        raise RuleViolation("在您的管辖范围内没有该身份证号的人员", field="id_number", code="not_found")
    return person
