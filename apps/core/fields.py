"""DRF fields and django-filter filters shared by every app's API: masked identifiers, pks resolved through
an area-scoped selector (outside the area reads "not found"), strict ids, yes/no and area-code filters."""

from __future__ import annotations

from collections.abc import Callable

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.filters import OrderingFilter

from apps.core.areacodes import CODE_RE

NOT_FOUND = "未找到{what}，或不在您的管辖范围内"
AREA_CODE_MESSAGE = "区划代码应为12位数字"
_MAX_PK = 2**63 - 1


class MaskedField(serializers.CharField):
    """An ID number or phone: in full only on a single record for a role that may see it, else masked."""

    def __init__(self, *, mask: Callable[[str | None], str], always: bool = False, **kwargs) -> None:
        self.mask = mask
        self.always = always
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value) -> str:
        if not self.always and self.context.get("full_ids"):
            return str(value)
        return self.mask(value)


class VisibleObjectField(serializers.IntegerField):
    """A pk in a write payload, resolved through an area-scoped selector: outside the area is "not found"."""

    default_error_messages = {"not_found": NOT_FOUND}

    def __init__(self, *, selector: Callable[..., QuerySet], what: str, **kwargs) -> None:
        self.selector = selector
        self.what = what
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", _MAX_PK)
        super().__init__(**kwargs)

    def run_validation(self, data=serializers.empty):
        # The type and range checks first, so that a malformed pk never reaches the database.
        pk = super().run_validation(data)
        if pk is None:
            return None
        obj = self.selector(user=self.context["request"].user).filter(pk=pk).first()
        if obj is None:
            self.fail("not_found", what=self.what)
        return obj


class IdFilter(django_filters.NumberFilter):
    """A pk: an integer within the column's range (a decimal or a 30-digit number is a 400, not a 500)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", _MAX_PK)
        super().__init__(*args, **kwargs)


@extend_schema_field(OpenApiTypes.BOOL)
class YesNoFilter(django_filters.TypedChoiceFilter):
    """``true``/``false`` and nothing else: ``?alive=maybe`` is a 400, not silently ignored."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("choices", [("true", "是"), ("false", "否")])
        kwargs.setdefault("coerce", lambda value: value == "true")
        super().__init__(*args, **kwargs)


class AreaCodeFilter(django_filters.CharFilter):
    """A 12-digit code; rows located at it or anywhere under it (one index range scan, DESIGN §4)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label", "区划代码（含下级）")
        kwargs.setdefault("validators", [RegexValidator(CODE_RE, AREA_CODE_MESSAGE)])
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        return qs.within(value) if value else qs


class LocatedFilterSet(django_filters.FilterSet):
    village = AreaCodeFilter()


class StableOrderingFilter(OrderingFilter):
    """Any requested ordering ends with the pk, so pages neither repeat nor skip rows."""

    def get_ordering(self, request, queryset, view):
        ordering = super().get_ordering(request, queryset, view)
        if ordering and not any(f.lstrip("-") in ("id", "pk") for f in ordering):
            ordering = [*ordering, "id"]
        return ordering
