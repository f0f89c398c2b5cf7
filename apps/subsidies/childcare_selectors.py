"""Reads of 育儿补贴申领, area-scoped (by the child's 户籍 village) and behind the role matrix's subsidies part."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from apps.accounts.models import User
from apps.core.access import readable
from apps.subsidies.models import ApplicationStatus, ChildcareApplication


def childcare_applications_visible_to(
    *, user: User, status: str = "", q: str = "", village: str = ""
) -> QuerySet[ChildcareApplication]:
    """``q``: the leading characters of the child's or the applicant's name."""
    qs = readable(ChildcareApplication.objects.visible_to(user), user, "subsidies").select_related(
        "child", "applicant", "account", "village"
    )
    if status in ApplicationStatus.values:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(Q(child__name__startswith=q) | Q(applicant__name__startswith=q))
    if village and len(village) == 12 and village.isdigit():
        qs = qs.within(village)
    return qs.order_by("-applied_on", "-id")


def childcare_application_get_visible(*, user: User, pk: int) -> ChildcareApplication:
    return childcare_applications_visible_to(user=user).get(pk=pk)
