"""The scoring API under /api/v1/ (DESIGN §8): ``scoring/schemes`` (published schemes, public to every
signed-in user bound to an area) and ``scoring/assessments`` (area-scoped: a unit outside the user's area is a
404), each with its total rank and per-line ranks (三线排位) as the results page shows them.

The year's workflow is writable through the same services as the pages: ``POST assessments/open/`` opens a
year (idempotent), ``POST assessments/{id}/score/`` scores a manual item, ``…/adjustments/`` claims a bonus
or deduction (on a line or on the total), ``…/decide/`` decides a claim, ``…/finalise/`` finalises. The
services check who may do what; a refusal is a 400 with the message."""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api import AreaScopedViewSetMixin
from apps.core.errors import RuleViolation
from apps.scoring import selectors, services
from apps.scoring.models import (
    POINTS,
    Adjustment,
    AdjustmentRule,
    Assessment,
    ItemMethod,
    ItemScore,
    LineScore,
    Scheme,
    SchemeItem,
)


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


class LineResultSerializer(serializers.Serializer):
    """One line of an assessment with its rank among the county's non-vetoed units (ties shared)."""

    line = serializers.CharField(source="line.code")
    name = serializers.CharField(source="line.name")
    score = serializers.DecimalField(**POINTS)
    adjustment = serializers.DecimalField(**POINTS)
    zeroed = serializers.BooleanField()
    rank = serializers.IntegerField(allow_null=True)


class ItemScoreSerializer(serializers.ModelSerializer):
    item = serializers.CharField(source="item.code")

    class Meta:
        model = ItemScore
        fields = ["item", "source", "points", "value", "target", "direction", "met", "vetoed", "note"]


class AdjustmentSerializer(serializers.ModelSerializer):
    rule = serializers.CharField(source="rule.code")
    line = serializers.CharField(source="line.code", allow_null=True, default=None)

    class Meta:
        model = Adjustment
        fields = ["id", "rule", "line", "direction", "points", "cases", "unreported_cases", "note", "status",
                  "claimed_at", "decided_at"]  # fmt: skip


class AssessmentSerializer(serializers.ModelSerializer):
    """An assessment with its result: ``rank`` among the county's non-vetoed units of the year (a tie on the
    total decided by the year's result rules), ``lines`` with per-line ranks, the grade, and the yellow card
    (only once the county's ranking is final; ``provisional`` says it is not yet)."""

    area_name = serializers.CharField(source="area.name")
    scheme = serializers.CharField(source="scheme.code")
    scheme_version = serializers.IntegerField(source="scheme.version")
    rank = serializers.SerializerMethodField()
    grade = serializers.SerializerMethodField()
    yellow_card = serializers.SerializerMethodField()
    provisional = serializers.SerializerMethodField()
    lines = serializers.SerializerMethodField()

    class Meta:
        model = Assessment
        fields = ["id", "area", "area_name", "year", "scheme", "scheme_version", "status", "excluded", "veto_reason",
                  "line_total", "bonus_total", "deduction_total", "total", "rank", "grade", "yellow_card",
                  "provisional", "indicator_period", "indicator_run_id", "data_as_of", "finalised_at",
                  "lines"]  # fmt: skip

    def _row(self, obj: Assessment) -> selectors.ResultRow | None:
        return self.context.get("result_rows", {}).get(obj.pk)

    def get_rank(self, obj) -> int | None:
        row = self._row(obj)
        return row.rank if row else None

    def get_grade(self, obj) -> str:
        row = self._row(obj)
        return row.grade if row else ""

    def get_yellow_card(self, obj) -> bool:
        row = self._row(obj)
        return bool(row and row.yellow_card)

    def get_provisional(self, obj) -> bool:
        row = self._row(obj)
        return row.provisional if row else True

    @extend_schema_field(LineResultSerializer(many=True))
    def get_lines(self, obj) -> list[dict]:
        row = self._row(obj)
        return LineResultSerializer(row.lines if row else [], many=True).data


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


class YearOpenInput(serializers.Serializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    late_reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class YearOpenSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    county = serializers.CharField()
    scheme = serializers.CharField()
    scheme_version = serializers.IntegerField()
    created = serializers.IntegerField(help_text="assessments created by this call (missing units only)")
    existing = serializers.IntegerField(help_text="assessments that existed and were left unchanged")
    late_reason = serializers.CharField()


class ScoreInput(serializers.Serializer):
    item = serializers.CharField(max_length=100, help_text="code of a manual item of the assessment's scheme")
    points = serializers.DecimalField(max_digits=7, decimal_places=2, min_value=0)
    note = serializers.CharField(max_length=2000)


class ClaimInput(serializers.Serializer):
    rule = serializers.CharField(max_length=100, help_text="code of a bonus or deduction of the scheme")
    line = serializers.CharField(max_length=100, required=False, allow_blank=True, default="",
                                 help_text="code of a line to count it in (empty: the total)")  # fmt: skip
    chosen_points = serializers.DecimalField(max_digits=7, decimal_places=2, required=False, allow_null=True,
                                             default=None)  # fmt: skip
    cases = serializers.IntegerField(min_value=0, max_value=10_000, required=False, default=0)
    unreported_cases = serializers.IntegerField(min_value=0, max_value=10_000, required=False, default=0)
    note = serializers.CharField(max_length=2000)


class DecideInput(serializers.Serializer):
    adjustment = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    approve = serializers.BooleanField()
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class AssessmentViewSet(AreaScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    permission_classes = [permissions.IsAuthenticated, MayReadResults]
    filterset_class = AssessmentFilter
    ordering_fields = ["total", "area", "year"]

    def get_serializer_class(self):
        return AssessmentDetailSerializer if self.action != "list" else AssessmentSerializer

    def get_serializer(self, *args, **kwargs):
        """Ranks, grades and yellow cards of the assessments being shown: one results computation per year."""
        if args and isinstance(args[0], (Assessment, list, QuerySet)):
            shown = [args[0]] if isinstance(args[0], Assessment) else list(args[0])
            kwargs["context"] = {
                **self.get_serializer_context(),
                "result_rows": selectors.result_rows_for(user=self.request.user, assessments=shown),
            }
        return super().get_serializer(*args, **kwargs)

    def scoped_queryset(self, *, user) -> QuerySet[Assessment]:
        return selectors.assessments_visible_to(user=user).prefetch_related(
            Prefetch("lines", queryset=LineScore.objects.select_related("line").order_by("line__position")),
            Prefetch("scores", queryset=ItemScore.objects.select_related("item").order_by("item__position")),
            Prefetch("adjustments", queryset=Adjustment.objects.select_related("rule", "line").order_by("claimed_at")),
        )

    def _validated(self, serializer_class: type[serializers.Serializer]) -> dict:
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _answer(self, assessment: Assessment, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=assessment.pk)).data, status=code)

    @extend_schema(request=YearOpenInput, responses={200: YearOpenSerializer})
    @action(detail=False, methods=["post"])
    def open(self, request):
        """开启考核年度 for the user's county (idempotent: creates only missing assessments)."""
        data = self._validated(YearOpenInput)
        result = services.assessment_year_open(year=data["year"], by=request.user, late_reason=data["late_reason"])
        return Response(YearOpenSerializer(result.summary()).data)

    @extend_schema(request=ScoreInput, responses={200: AssessmentDetailSerializer})
    @action(detail=True, methods=["post"])
    def score(self, request, pk=None):
        assessment = self.get_object()
        data = self._validated(ScoreInput)
        item = SchemeItem.objects.filter(scheme_id=assessment.scheme_id, code=data["item"],
                                         method=ItemMethod.MANUAL).first()  # fmt: skip
        if item is None:
            raise RuleViolation("该项目不是本考核方案中的人工评分项目", field="item")
        services.item_score_manual(assessment=assessment, item=item, points=data["points"], note=data["note"],
                                   by=request.user)  # fmt: skip
        return self._answer(assessment)

    @extend_schema(request=ClaimInput, responses={201: AdjustmentSerializer})
    @action(detail=True, methods=["post"])
    def adjustments(self, request, pk=None):
        assessment = self.get_object()
        data = self._validated(ClaimInput)
        rule = AdjustmentRule.objects.filter(scheme_id=assessment.scheme_id, code=data.pop("rule")).first()
        if rule is None:
            raise RuleViolation("该加减分项目不属于本考核方案", field="rule")
        line_code = data.pop("line")
        line = None
        if line_code:
            lines = SchemeItem.objects.filter(scheme_id=assessment.scheme_id, parent__isnull=True)
            line = lines.filter(code=line_code).first()
            if line is None:
                raise RuleViolation("计入的线不是本考核方案中的考核线", field="line")
        claim = services.adjustment_claim(assessment=assessment, rule=rule, line=line, by=request.user, **data)
        return Response(AdjustmentSerializer(claim).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DecideInput, responses={200: AssessmentDetailSerializer})
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        assessment = self.get_object()
        data = self._validated(DecideInput)
        claim = assessment.adjustments.filter(pk=data["adjustment"]).first()
        if claim is None:
            raise RuleViolation("本考核没有该加减分申报", field="adjustment")
        services.adjustment_decide(adjustment=claim, approve=data["approve"], note=data["note"], by=request.user)
        return self._answer(assessment)

    @extend_schema(
        request=None,
        responses={
            200: AssessmentDetailSerializer,
            400: OpenApiResponse(description="不能定稿（如尚有人工评分项目未评分）"),
        },
    )
    @action(detail=True, methods=["post"])
    def finalise(self, request, pk=None):
        assessment = services.assessment_finalise(assessment=self.get_object(), by=request.user)
        return self._answer(assessment)
