"""Demo 社会抚养费 cases for ``make run`` (``fees_demo``), through the services by the first township's fee
officer: paper cases of the time for the last few out-of-policy births before the fee's end, decided;
most paid in full, the rest terminated by the county after the end (the dated fee parameter); then one paid
case's birth is voided by the township clerk as a duplicate entry, so the fee officer finds a case to review
(a refund) on the start page. Idempotent: does nothing when any case exists."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction

from apps.accounts.models import User
from apps.areas.models import Area, AreaLevel
from apps.core.audit import audit_context
from apps.core.errors import RuleViolation
from apps.fees.models import FeeCase, PaymentMethod
from apps.fees.selectors import fee_end
from apps.fees.services import fee_case_decide, fee_case_open, fee_cases_terminate, payment_record
from apps.registry.models import Birth, PolicyStatus
from apps.registry.services import birth_void

CASES, PAID_EVERY = 6, 3  # two in three paid in full


@transaction.atomic
def fees_demo_ensure() -> dict:
    if FeeCase.objects.exists():
        return {"skipped": True}
    users = {u.username: u for u in User.objects.filter(username__in=("fee_officer", "county_admin", "township_clerk"))}
    end = fee_end()
    township = Area.objects.filter(level=AreaLevel.TOWNSHIP).order_by("code").first()
    if len(users) < 3 or end is None or township is None:
        raise RuleViolation("请先创建演示用户（seed_demo_users）并确认停征日期")
    officer, stop = users["fee_officer"], end.ends_on
    births = list(
        Birth.objects.filter(policy_status=PolicyStatus.OUT_OF_POLICY, voided_at__isnull=True,
                             village__code__startswith=township.code[:9],
                             date__lt=stop - timedelta(days=120))
        .order_by("-date", "-pk")[: CASES * 5]
    )  # fmt: skip
    paid = []
    with audit_context(officer, reason="fees_demo"):
        opened_cases = 0
        for birth in births:
            if opened_cases == CASES:
                break
            opened = birth.date + timedelta(days=45)
            try:
                with transaction.atomic():
                    case = fee_case_open(birth=birth, by=officer, opened_on=opened)
            except RuleViolation:  # no fee standard for so early a birth
                continue
            opened_cases += 1
            n = opened_cases
            decided = opened + timedelta(days=20)
            case = fee_case_decide(case=case, decision_number=f"大计征字〔{decided.year}〕{n:03d}号",
                                   decided_on=decided, amount=case.range_min, due_on=decided + timedelta(days=30),
                                   by=officer)  # fmt: skip
            if n % PAID_EVERY:
                payment_record(case=case, receipt_number=f"SF{decided.year}{n:05d}", amount=case.decided_amount,
                               paid_on=decided + timedelta(days=10), method=PaymentMethod.BANK_TRANSFER,
                               by=officer)  # fmt: skip
                paid.append(case)
        if opened_cases > len(paid):
            fee_cases_terminate(reason="社会抚养费已停止征收，未结案件终止", by=users["county_admin"])
        if paid:
            birth_void(birth=paid[0].birth, reason="与另一条出生登记重复", by=users["township_clerk"])
    return {"cases": opened_cases, "paid": len(paid), "to_review": 1 if paid else 0}
