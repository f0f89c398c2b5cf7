"""Demo 奖扶 work for ``make run`` (``subsidies_demo``): the review workflow part-way through, as the county's
staff would have left it, every step through the services by the demo users (``apps.accounts.demo``).

In the first township (where the README's logins sit), for the demo's reference year Y:

- 领取账户: the payees of its rosters get an account, entered by their village's clerk (a debit card for most,
  a passbook for some); one payee in forty has none yet.
- 农村部分计划生育家庭奖励扶助, year Y-1: submitted by every village, reviewed, approved; its 公示 over, a
  payment batch made by the county admin and the bank's return file applied (two payments failed: closed
  accounts), so the batch is reconciled.
- the same programme, year Y: submitted by every village and returned by the township with a comment; the
  villages are resubmitting (all but the first three still to do).
- 独生子女父母奖励费, the month before: submitted and reviewed, waiting for the county's approval; the month
  itself: submitted by every village but the first (the README's ``village_clerk``).
- 计划生育家庭特别扶助, year Y: submitted by the villages, waiting for the township's review (when the
  township has no such family: 独生子女父母奖励费 of two months before).

The other townships' rosters are generated (drafts, waiting for their villages). Idempotent: does nothing
when any roster exists. The end of 公示 is the one thing the services cannot do today: last year's approval is
dated back by its notice days (an update inside the demo's audit context, so the trail shows it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.db.models import F
from stdnum import luhn

from apps.accounts.models import User
from apps.areas.models import Area, AreaLevel
from apps.core.access import VILLAGE_CLERK
from apps.core.audit import audit_context
from apps.core.errors import RuleViolation
from apps.core.exports import csv_bytes
from apps.registry.models import Person
from apps.subsidies.exports import batch_export_rows
from apps.subsidies.models import AccountKind, BankAccount, Programme, Roster, RosterEntry
from apps.subsidies.services import (
    RETURN_HEADERS,
    bank_account_save,
    batch_create,
    batch_import_return,
    roster_approve,
    roster_return,
    roster_review,
    roster_village_submit,
    rosters_generate,
)

RETURN_COMMENT = "部分村名单中有本年已去世或已迁出的人员，请各村核实更正后重新上报"
FAILED_REASON = "账户已销户"
BANKS = ("农村信用社", "中国邮政储蓄银行", "中国农业银行")
NO_ACCOUNT_EVERY, PASSBOOK_EVERY, FAILED_EVERY = 40, 5, 40
VILLAGES_STILL_TO_RESUBMIT = 3


@dataclass
class _Staff:
    clerks: dict[str, User]  # village code → its clerk
    reviewer: User
    approver: User
    admin: User


def _staff(township: Area) -> _Staff:
    users = {u.username: u for u in User.objects.filter(username__in=("subsidy_reviewer", "subsidy_approver",
                                                                        "county_admin"))}  # fmt: skip
    if len(users) < 3:
        raise RuleViolation("请先创建演示用户（seed_demo_users）")
    clerks = {
        u.area_id: u
        for u in User.objects.filter(roles__contains=[VILLAGE_CLERK], area__level=AreaLevel.VILLAGE, is_active=True)
        .filter(area__code__startswith=township.code[:9])
        .order_by("username")
    }
    return _Staff(clerks, users["subsidy_reviewer"], users["subsidy_approver"], users["county_admin"])


def _accounts(township: Area, staff: _Staff) -> int:
    """Each payee of the township's rosters gets an account from the village clerk (a few have none yet)."""
    payees = (
        Person.objects.filter(pk__in=RosterEntry.objects.filter(roster__township_id=township.code).values("payee_id"))
        .exclude(pk__in=BankAccount.objects.filter(is_active=True).values("person_id"))
        .filter(death_date__isnull=True)
        .order_by("pk")
    )
    made = 0
    for n, person in enumerate(payees, start=1):  # in the generator's order: the same picks for the same seed
        clerk = staff.clerks.get(person.village_id)
        if n % NO_ACCOUNT_EVERY == 0 or clerk is None:
            continue
        if n % PASSBOOK_EVERY == 0:
            kind, number = AccountKind.PASSBOOK, f"80{person.pk:014d}"
        else:
            base = f"621799{person.pk:012d}"
            kind, number = AccountKind.CARD, base + luhn.calc_check_digit(base)
        bank = BANKS[person.pk % len(BANKS)]
        bank_account_save(person=person, kind=kind, bank_name=bank, account_number=number, by=clerk)
        made += 1
    return made


def _submit(roster: Roster, staff: _Staff, *, leave: int = 0, leave_village: str = "") -> bool:
    """The villages with beneficiaries submit, all but the first ``leave`` and ``leave_village``; True when
    all of them did."""
    villages = sorted(set(roster.entries.values_list("village_id", flat=True)))
    if not villages or any(v not in staff.clerks for v in villages):
        return False
    left = set(villages[:leave]) | {leave_village}
    for village in villages:
        if village not in left:
            roster = roster_village_submit(roster=roster, by=staff.clerks[village], comment="已核对本村人员和领取账户")
    return not left & set(villages)


def _roster(code: str, period: str, county: Area, township: Area) -> Roster | None:
    programme = Programme.objects.get(code=code)
    rosters_generate(programme=programme, period=period, by=None, county=county.code)
    return Roster.objects.filter(programme=programme, period=period, township_id=township.code).first()


def _reconcile(roster: Roster, staff: _Staff) -> dict:
    """Last year's roster paid: 公示 over, a batch, the bank's return with a few failed payments."""
    Roster.objects.filter(pk=roster.pk).update(approved_on=F("approved_on") - F("notice_days"))
    roster.refresh_from_db()
    batch = batch_create(roster=roster, by=staff.admin)
    rows = []
    exported = batch_export_rows(batch=batch, full_ids=False)
    for n, (payment_id, _name, _id, _bank, account, amount, *_) in enumerate(exported):
        failed = n % FAILED_EVERY == 1
        rows.append([payment_id, account, amount, "失败" if failed else "成功", FAILED_REASON if failed else ""])
    content = csv_bytes(RETURN_HEADERS, rows)
    summary = batch_import_return(batch=batch, name="银行回盘.csv", content=content, by=staff.reviewer)
    return {"batch": batch.pk, "paid": summary.paid, "failed": summary.failed}


@transaction.atomic
def subsidies_demo_ensure(*, as_of: date) -> dict:
    if Roster.objects.exists():
        return {"skipped": True}
    county = Area.objects.filter(level=AreaLevel.COUNTY).order_by("code").first()
    township = Area.objects.filter(level=AreaLevel.TOWNSHIP).order_by("code").first() if county else None
    if township is None:
        raise RuleViolation("请先导入行政区划（load_areas）")
    staff = _staff(township)
    year = as_of.year
    last_month = (as_of.replace(day=1) - timedelta(days=1)).strftime("%YM%m")
    out: dict = {}
    with audit_context(staff.admin, reason="subsidies_demo", as_of=as_of.isoformat()):
        # The 公示 list's footer, as the county admin sets it on each programme.
        for programme in Programme.objects.filter(notice_office=""):
            programme.notice_office = f"{county.name}卫生健康局"
            programme.notice_contact = "所在乡镇（街道）计生办或县卫生健康局人口家庭科"
            programme.save(update_fields=["notice_office", "notice_contact"])
        last = _roster("rural_reward", str(year - 1), county, township)
        current = _roster("rural_reward", str(year), county, township)
        monthly = _roster("only_child_parents", last_month, county, township)
        this_month = _roster("only_child_parents", as_of.strftime("%YM%m"), county, township)
        special = _roster("special_assistance", str(year), county, township)
        out["accounts"] = _accounts(township, staff)
        if last and _submit(last, staff):
            roster_review(roster=last, by=staff.reviewer, comment="已审核")
            roster_approve(roster=last, by=staff.approver, comment="同意")
            out["reconciled"] = _reconcile(last, staff)
        if current and _submit(current, staff):
            roster_return(roster=current, by=staff.reviewer, comment=RETURN_COMMENT)
            _submit(current, staff, leave=VILLAGES_STILL_TO_RESUBMIT)
            out["returned"] = current.pk
        if monthly and _submit(monthly, staff):
            roster_review(roster=monthly, by=staff.reviewer, comment="已审核")
            out["to_approve"] = monthly.pk
        if not (special and _submit(special, staff)):  # no 特别扶助 family in the township: a month before
            earlier = (as_of.replace(day=1) - timedelta(days=1)).replace(day=1) - timedelta(days=1)
            special = _roster("only_child_parents", earlier.strftime("%YM%m"), county, township)
            special = special if special and _submit(special, staff) else None
        if special:
            out["to_review"] = special.pk
        if this_month:  # every village but the first (the README's village clerk) has submitted
            _submit(this_month, staff, leave_village=min(staff.clerks, default=""))
            out["to_submit"] = this_month.pk
    return out
