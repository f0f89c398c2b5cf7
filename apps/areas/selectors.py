"""Reads of the area tree, always scoped to the user's area."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Count, QuerySet

from apps.areas.models import Area

if TYPE_CHECKING:
    from apps.accounts.models import User


def areas_visible_to(*, user: User, level: str | None = None, within: str | None = None) -> QuerySet[Area]:
    qs = Area.objects.visible_to(user).select_related("parent")
    if level:
        qs = qs.filter(level=level)
    if within:
        qs = qs.within(within)
    return qs


def area_get_visible(*, user: User, code: str) -> Area:
    """The area, if the user may see it; ``Area.DoesNotExist`` otherwise (a 404 to the caller)."""
    return areas_visible_to(user=user).get(code=code)


def area_children(*, area: Area) -> QuerySet[Area]:
    return area.children.annotate(child_count=Count("children")).order_by("code")
