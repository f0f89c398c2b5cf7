"""The fee API under /api/v1/fees/ (DESIGN §8): ``fees/cases`` and ``fees/payments``.

Thin: reads through the area-scoped selectors (outside the area is a 404), writes validate the payload's
shape and call one service (a ``RuleViolation`` is a 400 with the message, a refused role or township a 403).
Payers' ID numbers are always masked here; the printed documents show them to the roles that need them.
"""

from __future__ import annotations

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.areas.models import Area, AreaLevel
from apps.core.api import AreaScopedViewSetMixin
from apps.core.fields import AreaCodeFilter, IdFilter, StableOrderingFilter, VisibleObjectField
from apps.fees import selectors, services
from apps.fees.models import FeeCase, FeeCaseState, FeeTransfer, InstalmentPlan, Payment, PaymentMethod, Refund
from apps.registry.api import PersonRefSerializer
from apps.registry.selectors import births_visible_to

MONEY = {"max_digits": 12, "decimal_places": 2}


# --- output shapes ----------------------------------------------------------------------------------


class FeeCaseSerializer(serializers.ModelSerializer):
    mother = PersonRefSerializer(read_only=True)
    father = PersonRefSerializer(read_only=True, allow_null=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    category_display = serializers.CharField(source="get_category_display", read_only=True)
    village_name = serializers.CharField(source="village.name", read_only=True)
    home_township_name = serializers.CharField(source="home_township.name", read_only=True)
    finding_township_name = serializers.CharField(source="finding_township.name", read_only=True)
    outstanding_amount = serializers.DecimalField(read_only=True, **MONEY)

    class Meta:
        model = FeeCase
        fields = [
            "id", "birth", "birth_date", "mother", "father", "village", "village_name",
            "finding_township", "finding_township_name", "home_township", "home_township_name",
            "finding_share_percent", "state", "state_display", "opened_on", "standard", "category",
            "category_display", "excess_order", "income_base", "range_min", "range_max", "decision_number",
            "decided_on", "decided_amount", "due_on", "legal_basis", "collected_amount", "outstanding_amount",
            "closed_reason", "closed_on",
        ]  # fmt: skip
        read_only_fields = fields


class PaymentSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    method_display = serializers.CharField(source="get_method_display", read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id", "case", "kind", "kind_display", "receipt_number", "amount", "paid_on", "method",
            "method_display", "reverses", "note", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class RefundSerializer(serializers.ModelSerializer):
    class Meta:
        model = Refund
        fields = ["id", "case", "voucher_number", "amount", "refunded_on", "reason", "created_at"]
        read_only_fields = fields


class TransferSerializer(serializers.ModelSerializer):
    class Meta:
        model = FeeTransfer
        fields = ["id", "case", "from_township", "to_township", "share_percent", "transferred_on", "reason"]
        read_only_fields = fields


class InstalmentPlanSerializer(serializers.ModelSerializer):
    dues = serializers.SerializerMethodField()

    class Meta:
        model = InstalmentPlan
        fields = [
            "id", "case", "application_received_on", "application_number", "approval_number", "months",
            "first_due_on", "dues",
        ]  # fmt: skip
        read_only_fields = fields

    def get_dues(self, plan: InstalmentPlan) -> list[dict]:
        return [{"sequence": d.sequence, "due_on": d.due_on, "amount": str(d.amount)} for d in plan.dues.all()]


# --- input shapes -----------------------------------------------------------------------------------


class CaseOpenInput(serializers.Serializer):
    birth = VisibleObjectField(selector=births_visible_to, what="该出生登记")
    opened_on = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="默认今天；补录纸质案件时为原立案日期"
    )


class DecisionInput(serializers.Serializer):
    decision_number = serializers.CharField(max_length=60)
    decided_on = serializers.DateField()
    amount = serializers.DecimalField(**MONEY)
    due_on = serializers.DateField()
    legal_basis = serializers.CharField(required=False, allow_blank=True, default="")


class InstalmentInput(serializers.Serializer):
    application_received_on = serializers.DateField()
    application_number = serializers.CharField(max_length=60)
    approval_number = serializers.CharField(max_length=60)
    months = serializers.IntegerField(min_value=1, max_value=1200)
    first_due_on = serializers.DateField()


class TransferInput(serializers.Serializer):
    to_township = serializers.RegexField(r"^\d{12}$", error_messages={"invalid": "区划代码应为12位数字"})
    reason = serializers.CharField(max_length=300)
    on = serializers.DateField(required=False, allow_null=True, default=None, help_text="默认今天")

    def validate_to_township(self, code: str) -> Area:
        area = Area.objects.filter(code=code, level=AreaLevel.TOWNSHIP).first()
        if area is None:
            raise serializers.ValidationError("请选择本县的乡镇")
        return area


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class RefundInput(serializers.Serializer):
    voucher_number = serializers.CharField(max_length=40)
    amount = serializers.DecimalField(**MONEY)
    refunded_on = serializers.DateField()
    reason = serializers.CharField(max_length=300)


class PaymentInput(serializers.Serializer):
    case = VisibleObjectField(selector=selectors.fee_cases_visible_to, what="该案件")
    receipt_number = serializers.CharField(max_length=40)
    amount = serializers.DecimalField(**MONEY)
    paid_on = serializers.DateField()
    method = serializers.ChoiceField(choices=PaymentMethod.choices)


class ReversalInput(serializers.Serializer):
    reason = serializers.CharField(max_length=300)
    on = serializers.DateField(required=False, allow_null=True, default=None)


# --- filters ----------------------------------------------------------------------------------------


class FeeCaseFilter(django_filters.FilterSet):
    village = AreaCodeFilter()
    state = django_filters.ChoiceFilter(choices=FeeCaseState.choices)
    decided_after = django_filters.DateFilter(field_name="decided_on", lookup_expr="gte")
    decided_before = django_filters.DateFilter(field_name="decided_on", lookup_expr="lte")
    birth = IdFilter(field_name="birth_id")

    class Meta:
        model = FeeCase
        fields = []


class PaymentFilter(django_filters.FilterSet):
    case = IdFilter(field_name="case_id")
    paid_after = django_filters.DateFilter(field_name="paid_on", lookup_expr="gte")
    paid_before = django_filters.DateFilter(field_name="paid_on", lookup_expr="lte")

    class Meta:
        model = Payment
        fields = []


# --- viewsets ---------------------------------------------------------------------------------------


class FeeViewSet(AreaScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [permissions.IsAuthenticated]
    filter_backends = [DjangoFilterBackend, StableOrderingFilter]
    lookup_value_regex = r"\d+"

    def validated(self, serializer_class: type[serializers.Serializer]) -> dict:
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def answer(self, obj, *, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=obj.pk)
        return Response(self.get_serializer(fresh).data, status=code)


class FeeCaseViewSet(FeeViewSet):
    """社会抚养费案件. POST opens a case from a birth; each transition is its own action."""

    serializer_class = FeeCaseSerializer
    filterset_class = FeeCaseFilter
    ordering_fields = ["opened_on", "decided_on", "decided_amount", "id"]

    def scoped_queryset(self, *, user):
        return selectors.fee_cases_visible_to(user=user)

    @extend_schema(request=CaseOpenInput, responses={201: FeeCaseSerializer})
    def create(self, request, *args, **kwargs):
        case = services.fee_case_open(by=request.user, **self.validated(CaseOpenInput))
        return self.answer(case, code=status.HTTP_201_CREATED)

    @extend_schema(request=DecisionInput, responses={200: FeeCaseSerializer})
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        case = services.fee_case_decide(case=self.get_object(), by=request.user, **self.validated(DecisionInput))
        return self.answer(case)

    @extend_schema(request=InstalmentInput, responses={201: InstalmentPlanSerializer})
    @action(detail=True, methods=["post"])
    def instalments(self, request, pk=None):
        plan = services.fee_case_instalments_grant(
            case=self.get_object(), by=request.user, **self.validated(InstalmentInput)
        )
        return Response(InstalmentPlanSerializer(plan).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=TransferInput, responses={201: TransferSerializer})
    @action(detail=True, methods=["post"])
    def transfer(self, request, pk=None):
        transfer = services.fee_case_transfer(case=self.get_object(), by=request.user, **self.validated(TransferInput))
        return Response(TransferSerializer(transfer).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReasonInput, responses={200: FeeCaseSerializer})
    @action(detail=True, methods=["post"])
    def refer(self, request, pk=None):
        case = services.fee_case_refer_enforcement(
            case=self.get_object(), by=request.user, **self.validated(ReasonInput)
        )
        return self.answer(case)

    @extend_schema(request=ReasonInput, responses={200: FeeCaseSerializer})
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        case = services.fee_case_withdraw(case=self.get_object(), by=request.user, **self.validated(ReasonInput))
        return self.answer(case)

    @extend_schema(request=RefundInput, responses={201: RefundSerializer})
    @action(detail=True, methods=["post"])
    def refunds(self, request, pk=None):
        refund = services.refund_record(case=self.get_object(), by=request.user, **self.validated(RefundInput))
        return Response(RefundSerializer(refund).data, status=status.HTTP_201_CREATED)


class PaymentViewSet(FeeViewSet):
    """缴款 and 冲正 entries: created through the payment service, never changed; POST reverse to correct."""

    serializer_class = PaymentSerializer
    filterset_class = PaymentFilter
    ordering_fields = ["paid_on", "amount", "id"]

    def scoped_queryset(self, *, user):
        return selectors.payments_visible_to(user=user)

    @extend_schema(request=PaymentInput, responses={201: PaymentSerializer})
    def create(self, request, *args, **kwargs):
        payment = services.payment_record(by=request.user, **self.validated(PaymentInput))
        return self.answer(payment, code=status.HTTP_201_CREATED)

    @extend_schema(request=ReversalInput, responses={201: PaymentSerializer})
    @action(detail=True, methods=["post"])
    def reverse(self, request, pk=None):
        reversal = services.payment_reverse(payment=self.get_object(), by=request.user, **self.validated(ReversalInput))
        return self.answer(reversal, code=status.HTTP_201_CREATED)
