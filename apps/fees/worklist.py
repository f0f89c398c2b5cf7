"""The start page's fee work (``apps.core.worklist``): cases of the officer's area that need an action.
After the fee's end (a dated fee parameter) open cases are closed, so these counts fall to nothing."""

from __future__ import annotations

from django.utils import timezone

from apps.core.access import COUNTY_ADMIN, FEE_OFFICER
from apps.core.worklist import WorkItem
from apps.fees import selectors
from apps.fees.models import FeeCaseState

OFFICERS = frozenset({FEE_OFFICER, COUNTY_ADMIN})


def items(user) -> list[WorkItem]:
    def overdue() -> int:
        cases = selectors.fee_cases_visible_to(user=user, state=FeeCaseState.DECIDED)
        return cases.filter(due_on__lt=timezone.localdate()).count()

    return [
        WorkItem("fees.instalments", "分期缴纳中的社会抚养费案件", "fees:case_list",
                 query={"state": FeeCaseState.INSTALMENTS}, roles=OFFICERS,
                 count=lambda: selectors.fee_cases_visible_to(user=user, state=FeeCaseState.INSTALMENTS).count(),
                 hint="按分期计划收取到期款项并开具票据", order=30),
        WorkItem("fees.overdue", "已过缴纳期限的社会抚养费案件", "fees:case_list",
                 query={"state": FeeCaseState.DECIDED}, roles=OFFICERS, count=overdue,
                 hint="催缴，或依法移送强制执行", order=30),
        WorkItem("fees.review", "出生登记已更正、待复核的案件", "fees:case_list", roles=OFFICERS,
                 count=lambda: selectors.fee_cases_needing_review(user=user).count(),
                 hint="出生登记作废或改为政策内后，复核案件（撤销或退款）", order=30),
    ]  # fmt: skip
