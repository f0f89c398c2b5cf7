"""The start page's reconciliation work (``apps.core.worklist``): the township's births that a department
knows and the registry lacks (待补登), registry births neither department knows (待核实), and ambiguous
matches to decide (待人工确认); the worklists for this year (older years are a click away on the page)."""

from __future__ import annotations

from django.utils import timezone

from apps.core.access import TOWNSHIP_CLERK
from apps.core.worklist import WorkItem
from apps.reconciliation import selectors

# The township clerks do this work (the county admin opens the pages from the menu).
ROLES = frozenset({TOWNSHIP_CLERK})


def items(user) -> list[WorkItem]:
    year = timezone.localdate().year
    return [
        WorkItem("reconciliation.to_register", "医院或公安有记录、登记库未登记的出生", "reconciliation:worklist",
                 query={"list": "register", "year": str(year)}, roles=ROLES,
                 count=lambda: selectors.to_register(user=user, year=year).count(),
                 hint="核实后补录出生登记，再点“重新比对”", order=30),
        WorkItem("reconciliation.to_verify", "医院和公安均无记录的出生登记", "reconciliation:worklist",
                 query={"list": "verify", "year": str(year)}, roles=ROLES,
                 count=lambda: selectors.to_verify(user=user, year=year).count(),
                 hint="入户或电话核实出生是否属实、日期和性别是否正确", order=31),
        WorkItem("reconciliation.review", "待人工确认的部门出生记录匹配", "reconciliation:review", roles=ROLES,
                 count=lambda: selectors.ambiguous_visible_to(user=user).count(),
                 hint="双胞胎或出生日期相近：选择对应的出生登记或确认没有", order=32),
    ]  # fmt: skip
