import django_filters
from django.core.validators import RegexValidator
from rest_framework import serializers, viewsets

from apps.areas.models import Area, AreaLevel
from apps.areas.selectors import areas_visible_to
from apps.core.api import AreaScopedViewSetMixin
from apps.core.areacodes import CODE_RE, code_range


class AreaSerializer(serializers.ModelSerializer):
    level_display = serializers.CharField(source="get_level_display", read_only=True)

    class Meta:
        model = Area
        fields = ["code", "name", "level", "level_display", "parent"]


class AreaFilter(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(choices=AreaLevel.choices)
    parent = django_filters.CharFilter(field_name="parent_id")
    within = django_filters.CharFilter(
        method="filter_within",
        label="区划代码（含下级）",
        validators=[RegexValidator(CODE_RE, "区划代码应为12位数字")],
    )
    name = django_filters.CharFilter(lookup_expr="contains")

    class Meta:
        model = Area
        fields = ["level", "parent", "within", "name"]

    def filter_within(self, queryset, name, value):
        low, high = code_range(value)
        return queryset.filter(code__gte=low, code__lt=high)


class AreaViewSet(AreaScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """行政区划: the areas under the user's own area."""

    serializer_class = AreaSerializer
    filterset_class = AreaFilter
    ordering_fields = ["code", "name"]
    ordering = ["code"]
    lookup_field = "code"

    def scoped_queryset(self, *, user):
        return areas_visible_to(user=user)
