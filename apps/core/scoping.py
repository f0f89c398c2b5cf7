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


class AreaScopedQuerySet(models.QuerySet):
    def _scope_field(self) -> str:
        field = getattr(self.model, "area_scope_field", None)
        if not field:
            raise TypeError(f"{self.model.__name__} must declare area_scope_field to use AreaScopedQuerySet")
        return field

    def within(self, code: str) -> AreaScopedQuerySet:
        """Rows located at ``code`` or anywhere under it."""
        low, high = code_range(code)
        field = self._scope_field()
        return self.filter(**{f"{field}__gte": low, f"{field}__lt": high})

    def visible_to(self, user: User) -> AreaScopedQuerySet:
        """Rows the user may see: everything under the user's area. Only a superuser bound to no area
        sees everything; anyone else without an area sees nothing."""
        if not user or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.area_id:
            return self.within(user.area_id)
        return self.all() if user.is_superuser else self.none()


def ensure_area_in_scope(
    *, user: User | None, code: str, field: str | None = "village", message: str = "所选区划不在您的管辖范围内"
) -> None:
    """Refuses a write that would place a record outside the user's own area (a service-level check)."""
    from apps.core.areacodes import contains
    from apps.core.errors import RuleViolation

    if user is None or (user.is_superuser and not user.area_id):
        return
    if not user.area_id or not contains(user.area_id, code):
        raise RuleViolation(message, field=field, code="out_of_scope")
