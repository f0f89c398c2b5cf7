"""Indicator values in the REST API (DESIGN §8 ``indicators/values?indicator=&area=&period=``): the latest
stored snapshot's values of the areas within the user's area, for the roles that read indicators."""

from __future__ import annotations

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from apps.core.api import AreaScopedViewSetMixin
from apps.indicators import selectors, services
from apps.indicators.catalogue import BY_CODE
from apps.indicators.models import INDICATOR_CHOICES, IndicatorValue, ReportSubmission, SubmissionStatus
from apps.indicators.periods import period_parse


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
    records = serializers.SerializerMethodField(help_text="指标明细：分子的记录（part=denominator 为分母）")

    class Meta:
        model = IndicatorValue
        fields = ("id", "period", "area", "indicator", "indicator_name", "unit", "value", "numerator",
                  "denominator", "not_applicable", "run", "data_as_of", "records")  # fmt: skip
        read_only_fields = fields

    def get_indicator_name(self, obj: IndicatorValue) -> str:
        return BY_CODE[obj.indicator_code].name

    def get_unit(self, obj: IndicatorValue) -> str:
        return BY_CODE[obj.indicator_code].unit

    def get_records(self, obj: IndicatorValue) -> str:
        return f"/api/v1/indicators/values/{obj.pk}/records/"


class FigureRecordSerializer(serializers.Serializer):
    records = serializers.CharField(help_text="birth, death, resident0 (期初前一日常住), resident1 (期末常住), source")
    kind = serializers.CharField()
    record_id = serializers.IntegerField()
    weight = serializers.DecimalField(
        max_digits=18, decimal_places=2, help_text="计入分子或分母的数（1、-1、0.5 或金额）"
    )
    village = serializers.CharField()
    person_id = serializers.IntegerField(allow_null=True)
    person = serializers.CharField()
    id_number = serializers.CharField(help_text="隐去中间八位")
    on = serializers.DateField(allow_null=True)
    detail = serializers.CharField()
    voided = serializers.BooleanField()


class FigureRecordsQuery(serializers.Serializer):
    part = serializers.ChoiceField(choices=list(selectors.FIGURE_PARTS.items()), default="numerator")
    page = serializers.IntegerField(min_value=1, max_value=selectors.MAX_RECORDS_PAGE, default=1)


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

    @extend_schema(parameters=[FigureRecordsQuery], responses={200: FigureRecordSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def records(self, request, pk=None):
        """指标明细: the records behind the value's numerator (``?part=denominator``: its denominator), from the
        SQL that computed it; 100 a page (``?page=``); ID numbers masked."""
        value = self.get_object()
        query = FigureRecordsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        listing = selectors.figure_records(
            user=request.user,
            run_id=value.run_id,
            indicator_code=value.indicator_code,
            area_code=value.area_id,
            part=query.validated_data["part"],
            page=query.validated_data["page"],
        )
        return Response(
            {
                "run": listing.run.pk,
                "indicator": listing.indicator.code,
                "area": listing.area.code,
                "part": listing.part,
                "label": listing.label,
                "stored": f"{listing.stored:.2f}",
                "total": f"{listing.total:.2f}",
                "count": listing.count,
                "kept": listing.kept,
                "composite": listing.composite,
                "constant": listing.constant,
                "page": listing.page,
                "pages": listing.pages,
                "results": FigureRecordSerializer(listing.rows or [], many=True).data,
            }
        )


class SubmissionSerializer(serializers.ModelSerializer):
    area = serializers.CharField(source="area_id", read_only=True)
    run = serializers.IntegerField(source="run_id", read_only=True)
    submitted_by = serializers.StringRelatedField(read_only=True)
    decided_by = serializers.StringRelatedField(read_only=True)

    class Meta:
        model = ReportSubmission
        fields = ("id", "area", "period", "run", "status", "submitted_at", "submitted_by", "decided_at",
                  "decided_by", "reason")  # fmt: skip
        read_only_fields = fields


class SubmitInput(serializers.Serializer):
    period = serializers.CharField(max_length=12)


class ReturnInput(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class LateChangeSerializer(serializers.Serializer):
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    record_id = serializers.IntegerField()
    village = serializers.CharField()
    event_date = serializers.DateField()
    at = serializers.DateTimeField()
    action = serializers.CharField()
    user = serializers.CharField()
    changes = serializers.SerializerMethodField()

    def get_changes(self, obj) -> list[dict[str, str]]:
        return [{"field": f, "before": _text(b), "after": _text(a)} for f, b, a in obj.changes]


def _text(value) -> str | None:
    return None if value is None else str(value)


class SubmissionViewSet(
    AreaScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """报表上报: ``POST`` with a period submits the user's township's report; the county admin ``approve``s or
    ``return``s it (with a reason); ``late-changes`` lists the changes made after its approval."""

    access_part = "indicators.submissions"
    serializer_class = SubmissionSerializer
    permission_classes = [permissions.IsAuthenticated]
    filter_backends = [DjangoFilterBackend]
    filterset_fields = ["period", "status"]
    lookup_value_regex = r"\d+"

    def scoped_queryset(self, *, user):
        return selectors.submissions_visible_to(user=user)

    def _input(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(request=SubmitInput, responses={201: SubmissionSerializer})
    def create(self, request):
        submission = services.report_submit(period=self._input(SubmitInput)["period"], by=request.user)
        return Response(SubmissionSerializer(submission).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={200: SubmissionSerializer, 400: OpenApiResponse(description="不能批准（如已批准或无权审批）")},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        submission = services.report_submission_decide(
            submission=self.get_object(), approve=True, reason="", by=request.user
        )
        return Response(SubmissionSerializer(submission).data)

    @extend_schema(request=ReturnInput, responses={200: SubmissionSerializer})
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request, pk=None):
        submission = self.get_object()
        reason = self._input(ReturnInput)["reason"]
        submission = services.report_submission_decide(
            submission=submission, approve=False, reason=reason, by=request.user
        )
        return Response(SubmissionSerializer(submission).data)

    @extend_schema(request=None, responses={200: LateChangeSerializer(many=True)})
    @action(detail=True, methods=["get"], url_path="late-changes", url_name="late_changes", pagination_class=None)
    def late_changes(self, request, pk=None):
        submission = self.get_object()
        changes = selectors.late_changes(
            user=request.user, period=period_parse(submission.period), submission=submission
        ) if submission.status == SubmissionStatus.APPROVED else []  # fmt: skip
        return Response(LateChangeSerializer(changes, many=True).data)
