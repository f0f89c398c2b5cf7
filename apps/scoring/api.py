"""The scoring API under /api/v1/ (DESIGN §8): ``scoring/schemes`` (published schemes, public to every
signed-in user bound to an area) and ``scoring/assessments`` (area-scoped: a unit outside the user's area is a
404). Read-only: scores are entered through the pages, which call the services."""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch, QuerySet
from rest_framework import permissions, serializers, viewsets

from apps.core.api import AreaScopedViewSetMixin
from apps.scoring import selectors
from apps.scoring.models import Adjustment, AdjustmentRule, Assessment, ItemScore, LineScore, Scheme, SchemeItem


class SchemeItemSerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = SchemeItem
        fields = ["code", "name", "path", "parent", "depth", "points", "method", "indicator_code", "scoring", "floor",
                  "veto"]  # fmt: skip


class AdjustmentRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = AdjustmentRule
        fields = ["code", "name", "direction", "kind", "points", "tiers", "min_points", "max_points",
                  "unreported_multiplier"]  # fmt: skip


class SchemeSerializer(serializers.ModelSerializer):
    items = SchemeItemSerializer(many=True, read_only=True)
    adjustments = AdjustmentRuleSerializer(source="rules", many=True, read_only=True)

    class Meta:
        model = Scheme
        fields = ["id", "code", "version", "name", "applies_to", "status", "published_at", "effective_from",
                  "effective_to", "total_points", "items", "adjustments"]  # fmt: skip


class SchemeViewSet(AreaScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = SchemeSerializer
    filterset_fields = ["code"]

    def scoped_queryset(self, *, user) -> QuerySet[Scheme]:
        return selectors.schemes_visible_to(user=user).prefetch_related(
            Prefetch("items", queryset=SchemeItem.objects.select_related("parent").order_by("position")),
            Prefetch("rules", queryset=AdjustmentRule.objects.order_by("position")),
        )


class LineScoreSerializer(serializers.ModelSerializer):
    line = serializers.CharField(source="line.code")
    name = serializers.CharField(source="line.name")

    class Meta:
        model = LineScore
        fields = ["line", "name", "score", "zeroed"]


class ItemScoreSerializer(serializers.ModelSerializer):
    item = serializers.CharField(source="item.code")

    class Meta:
        model = ItemScore
        fields = ["item", "source", "points", "value", "target", "direction", "met", "vetoed", "note"]


class AdjustmentSerializer(serializers.ModelSerializer):
    rule = serializers.CharField(source="rule.code")

    class Meta:
        model = Adjustment
        fields = ["id", "rule", "direction", "points", "cases", "unreported_cases", "note", "status", "claimed_at",
                  "decided_at"]  # fmt: skip


class AssessmentSerializer(serializers.ModelSerializer):
    area_name = serializers.CharField(source="area.name")
    scheme = serializers.CharField(source="scheme.code")
    scheme_version = serializers.IntegerField(source="scheme.version")
    lines = LineScoreSerializer(many=True, read_only=True)

    class Meta:
        model = Assessment
        fields = ["id", "area", "area_name", "year", "scheme", "scheme_version", "status", "excluded", "veto_reason",
                  "line_total", "bonus_total", "deduction_total", "total", "indicator_period", "indicator_run_id",
                  "data_as_of", "lines"]  # fmt: skip


class AssessmentDetailSerializer(AssessmentSerializer):
    scores = ItemScoreSerializer(many=True, read_only=True)
    adjustments = AdjustmentSerializer(many=True, read_only=True)

    class Meta(AssessmentSerializer.Meta):
        fields = [*AssessmentSerializer.Meta.fields, "scores", "adjustments"]


class AssessmentFilter(django_filters.FilterSet):
    year = django_filters.NumberFilter(min_value=2000, max_value=2100)

    class Meta:
        model = Assessment
        fields = ["year", "status", "excluded"]


class MayReadResults(permissions.BasePermission):
    message = "您的角色不能查看考核结果"

    def has_permission(self, request, view) -> bool:
        return selectors.may_read_results(request.user)


class AssessmentViewSet(AreaScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    permission_classes = [permissions.IsAuthenticated, MayReadResults]
    filterset_class = AssessmentFilter
    ordering_fields = ["total", "area", "year"]

    def get_serializer_class(self):
        return AssessmentDetailSerializer if self.action == "retrieve" else AssessmentSerializer

    def scoped_queryset(self, *, user) -> QuerySet[Assessment]:
        return selectors.assessments_visible_to(user=user).prefetch_related(
            Prefetch("lines", queryset=LineScore.objects.select_related("line").order_by("line__position")),
            Prefetch("scores", queryset=ItemScore.objects.select_related("item").order_by("item__position")),
            Prefetch("adjustments", queryset=Adjustment.objects.select_related("rule").order_by("claimed_at")),
        )
