"""Reads of the area tree, always scoped to the user's area."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db.models import Count, Q, QuerySet

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


def county_villages() -> QuerySet[Area]:
    """Every village of the county with its township, for pickers of the other end of a move: area names are
    not personal data, and a move out leads to a village outside the clerk's own area."""
    return Area.objects.filter(level="village").select_related("parent").order_by("code")


def county_prefixes() -> set[str]:
    """The 6-digit prefixes of this county (the county rows of the area tree)."""
    return {code[:6] for code in Area.objects.filter(level="county").values_list("code", flat=True)}


def is_county_code(code: str, *, prefixes: set[str] | None = None) -> bool:
    """Whether a 12-digit code lies in this county (whether or not it names one of its areas)."""
    return (code or "")[:6] in (county_prefixes() if prefixes is None else prefixes)


def area_labels(codes: Iterable[str]) -> dict[str, str]:
    """12-digit codes -> what a page shows: ``乡镇 村（code）`` for an area of this county, ``code（县外）`` for a
    code of another county, ``code（未知区划）`` for a code of this county that names no area. One query."""
    wanted = {c for c in codes if c}
    if not wanted:
        return {}
    rows = Area.objects.filter(Q(code__in=wanted) | Q(level="county")).select_related("parent")
    known = {a.code: a for a in rows if a.code in wanted}
    prefixes = {a.code[:6] for a in rows if a.level == "county"}
    labels = {}
    for code in wanted:
        area = known.get(code)
        if area is not None:
            township = area.parent.name if area.level == "village" and area.parent else ""
            labels[code] = f"{township} {area.name}（{code}）".strip()
        elif code[:6] in prefixes:
            labels[code] = f"{code}（未知区划）"
        else:
            labels[code] = f"{code}（县外）"
    return labels
