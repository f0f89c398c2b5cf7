"""Area scoping: the one place that decides which located rows a user may see (DESIGN §4).

Every located model declares ``area_scope_field`` (the field holding a 12-digit area code, usually its
village) and uses ``AreaScopedQuerySet``; every page, API view, export and task reads through
``visible_to(user)``. A row outside the user's area simply is not in the queryset, so a lookup of it is a 404.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

from apps.core.areacodes import code_range

if TYPE_CHECKING:
    from apps.accounts.models import User


NOTHING: tuple[str, str] = ("", "")  # an empty range: no code lies in it


def user_scope(user: User | None) -> tuple[str, str] | None:
    """The one answer to "which area codes may this user touch": a half-open code range ``[low, high)``,
    ``None`` for no limit (a superuser bound to no area, or a system job acting as nobody), ``NOTHING`` for
    an inactive, anonymous or unbound user. Selectors, services, imports and raw SQL all start from this."""
    if user is None:
        return None
    if not user.is_authenticated or not user.is_active:
        return NOTHING
    if user.area_id:
        return code_range(user.area_id)
    return None if user.is_superuser else NOTHING


def in_scope(user: User | None, code: str) -> bool:
    scope = user_scope(user)
    return scope is None or scope[0] <= (code or "") < scope[1]


class AreaScopedQuerySet(models.QuerySet):
    def _scope_field(self) -> str:
        field = getattr(self.model, "area_scope_field", None)
        if not field:
            raise TypeError(f"{self.model.__name__} must declare area_scope_field to use AreaScopedQuerySet")
        return field

    def within_range(self, low: str, high: str) -> AreaScopedQuerySet:
        """Rows located in the code range ``[low, high)``. A model located at more than one code (a
        transferred fee case) overrides this one method; ``within`` and ``visible_to`` both go through it."""
        field = self._scope_field()
        return self.filter(**{f"{field}__gte": low, f"{field}__lt": high})

    def within(self, code: str) -> AreaScopedQuerySet:
        """Rows located at ``code`` or anywhere under it."""
        return self.within_range(*code_range(code))

    def visible_to(self, user: User) -> AreaScopedQuerySet:
        """Rows the user may see: everything under the user's area. Only a superuser bound to no area
        sees everything; anyone else without an area sees nothing."""
        scope = user_scope(user) if user else NOTHING
        if scope is None:
            return self.all()
        if scope == NOTHING:
            return self.none()
        return self.within_range(*scope)


def ensure_area_in_scope(
    *, user: User | None, code: str, field: str | None = "village", message: str = "所选区划不在您的管辖范围内"
) -> None:
    """Refuses a write that would place a record outside the user's own area (a service-level check)."""
    from apps.core.errors import RuleViolation

    if not in_scope(user, code):
        raise RuleViolation(message, field=field, code="out_of_scope")
