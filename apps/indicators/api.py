"""Indicator values in the REST API (DESIGN §8 ``indicators/values?indicator=&area=&period=``): the latest
stored snapshot's values of the areas within the user's area, for the roles that read indicators."""

from __future__ import annotations

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.filters import OrderingFilter

from apps.core.api import AreaScopedViewSetMixin
from apps.indicators import selectors
from apps.indicators.catalogue import BY_CODE
from apps.indicators.models import INDICATOR_CHOICES, IndicatorValue


class MayViewIndicators(permissions.BasePermission):
    message = "您的角色不能查看统计指标"

    def has_permission(self, request, view) -> bool:
        return selectors.may_view_indicators(request.user)


class IndicatorValueSerializer(serializers.ModelSerializer):
    period = serializers.CharField(source="run.period", read_only=True)
    area = serializers.CharField(source="area_id", read_only=True)
    indicator = serializers.CharField(source="indicator_code", read_only=True)
    indicator_name = serializers.SerializerMethodField()
    unit = serializers.SerializerMethodField()
    run = serializers.IntegerField(source="run_id", read_only=True)
    data_as_of = serializers.DateTimeField(source="run.data_as_of", read_only=True)

    class Meta:
        model = IndicatorValue
        fields = ("id", "period", "area", "indicator", "indicator_name", "unit", "value", "numerator",
                  "denominator", "not_applicable", "run", "data_as_of")  # fmt: skip
        read_only_fields = fields

    def get_indicator_name(self, obj: IndicatorValue) -> str:
        return BY_CODE[obj.indicator_code].name

    def get_unit(self, obj: IndicatorValue) -> str:
        return BY_CODE[obj.indicator_code].unit


class IndicatorValueFilter(django_filters.FilterSet):
    indicator = django_filters.ChoiceFilter(field_name="indicator_code", choices=INDICATOR_CHOICES)
    area = django_filters.CharFilter(field_name="area_id")
    period = django_filters.CharFilter(field_name="run__period")

    class Meta:
        model = IndicatorValue
        fields = ["indicator", "area", "period"]


class IndicatorValueViewSet(
    AreaScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """指标值: ``?indicator=birth_rate&area=131025100000&period=2024Q1`` (the latest snapshot of each period)."""

    serializer_class = IndicatorValueSerializer
    permission_classes = [permissions.IsAuthenticated, MayViewIndicators]
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = IndicatorValueFilter
    ordering_fields = ["area", "indicator_code", "value", "id"]
    ordering = ["run__period", "area_id", "indicator_code"]
    lookup_value_regex = r"\d+"

    def scoped_queryset(self, *, user):
        return selectors.indicator_values_visible_to(user=user)
