"""Reconciliation in the REST API (``/api/v1/reconciliation/…``): the departments' records with their match
(read-only, area-scoped, mothers' ID numbers masked for roles without full IDs) and the capture–recapture
estimates of a year (``estimates/?year=&area=``)."""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from apps.areas.models import Area
from apps.core import access
from apps.core.api import AreaScopedViewSetMixin
from apps.core.privacy import mask_id_number
from apps.reconciliation import selectors


class OutsideBirthSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    source = serializers.CharField()
    source_display = serializers.CharField(source="get_source_display")
    mother_id_number = serializers.SerializerMethodField()
    sex = serializers.CharField()
    date = serializers.DateField()
    certificate_number = serializers.CharField()
    institution = serializers.CharField()
    registered_on = serializers.DateField(allow_null=True)
    village = serializers.CharField(source="village_id")
    status = serializers.CharField()
    status_display = serializers.CharField(source="get_status_display")
    birth = serializers.IntegerField(source="birth_id", allow_null=True)
    candidates = serializers.IntegerField()

    def get_mother_id_number(self, obj) -> str:
        user = self.context["request"].user
        number = obj.mother.id_number or ""
        return number if access.may_read(user, "registry.full_ids") else mask_id_number(number)


class OutsideBirthViewSet(AreaScopedViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """外部出生记录 (出生医学证明, 公安户籍登记) of the user's area with their match; ``?status=`` filters."""

    access_part = "reconciliation"
    serializer_class = OutsideBirthSerializer

    def scoped_queryset(self, *, user):
        qs = selectors.records_visible_to(user=user).order_by("id")
        status = self.request.query_params.get("status") if self.request else None
        return qs.filter(status=status) if status else qs


class EstimateSerializer(serializers.Serializer):
    area = serializers.CharField(source="code")
    name = serializers.CharField()
    registered = serializers.IntegerField(help_text="n1: 登记库出生数")
    hospital = serializers.IntegerField(help_text="n2: 出生医学证明数")
    matched = serializers.IntegerField(help_text="m: 两者匹配数")
    estimate = serializers.FloatField(allow_null=True, help_text="Chapman N̂")
    variance = serializers.FloatField(allow_null=True)
    low = serializers.FloatField(allow_null=True, help_text="95%置信区间下限")
    high = serializers.FloatField(allow_null=True, help_text="95%置信区间上限")
    completeness = serializers.FloatField(allow_null=True, help_text="登记完整率 %")
    completeness_low = serializers.FloatField(allow_null=True)
    completeness_high = serializers.FloatField(allow_null=True)


class EstimateViewSet(AreaScopedViewSetMixin, viewsets.GenericViewSet):
    """出生人数捕获-再捕获估计: the area (default the user's) first, then its townships."""

    access_part = "reconciliation"
    serializer_class = EstimateSerializer
    pagination_class = None

    def scoped_queryset(self, *, user):
        return selectors.records_visible_to(user=user).none()

    @extend_schema(
        parameters=[
            OpenApiParameter("year", int, description="年度（默认今年）"),
            OpenApiParameter("area", str, description="12位区划代码（县或乡镇，默认本人所在区划）"),
        ],
        responses=EstimateSerializer(many=True),
    )
    def list(self, request):
        raw_year = request.query_params.get("year") or str(timezone.localdate().year)
        if not (raw_year.isascii() and raw_year.isdigit() and 1900 <= int(raw_year) <= 2100):
            raise ValidationError({"year": ["年度应为1900到2100之间的四位数字"]})
        code = request.query_params.get("area") or selectors.default_area_code(user=request.user)
        try:
            area = Area.objects.get(code=code)
            total, rows = selectors.estimates(user=request.user, year=int(raw_year), area=area)
        except Area.DoesNotExist:
            raise Http404 from None
        return Response(EstimateSerializer([total, *rows], many=True).data)
