"""The subsidy API (DESIGN §8): subsidies/programmes, subsidies/rosters, subsidies/batches. Thin: reads through
the scoped selectors (outside the user's area is a 404), the workflow steps call one service each. ID numbers
are masked in lists; account numbers are always masked."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api import AreaScopedViewSetMixin
from apps.core.privacy import mask_id_number
from apps.subsidies import childcare_selectors, childcare_services, selectors, services
from apps.subsidies.eligibility import reason_labels
from apps.subsidies.models import (
    AccountKind,
    ChildcareApplication,
    Payment,
    PaymentBatch,
    Programme,
    ProgrammeRule,
    Relationship,
    Roster,
    RosterEntry,
    RosterStep,
)


class ProgrammeRuleSerializer(serializers.ModelSerializer):
    conditions = serializers.SerializerMethodField()

    class Meta:
        model = ProgrammeRule
        fields = [
            "id",
            "category",
            "priority",
            "valid_from",
            "valid_to",
            "predicates",
            "conditions",
            "amount",
            "notice_days",
        ]

    def get_conditions(self, obj) -> list[str]:
        codes = [
            s.get("code", "") + (":" + ",".join(str(v) for k, v in s.items() if k != "code") if len(s) > 1 else "")
            for s in obj.predicates
        ]
        return reason_labels(codes)


class ProgrammeSerializer(serializers.ModelSerializer):
    rules = ProgrammeRuleSerializer(many=True, read_only=True)

    class Meta:
        model = Programme
        fields = ["id", "code", "name", "subject", "period_kind", "reference_day", "is_active", "description", "rules"]


class RosterSerializer(serializers.ModelSerializer):
    programme = serializers.SlugRelatedField(slug_field="code", read_only=True)
    township = serializers.CharField(source="township_id", read_only=True)
    township_name = serializers.CharField(source="township.name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    beneficiaries = serializers.IntegerField(read_only=True, default=0)
    amount_due = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True, default=None)
    notice_ends_on = serializers.DateField(read_only=True, allow_null=True)

    class Meta:
        model = Roster
        fields = [
            "id", "programme", "township", "township_name", "period", "period_start", "period_end", "status",
            "status_label", "approved_on", "notice_days", "notice_ends_on", "beneficiaries", "amount_due",
        ]  # fmt: skip


class RosterEntrySerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="person.name")
    id_number = serializers.SerializerMethodField()
    payee_name = serializers.CharField(source="payee.name")
    reasons = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = RosterEntry
        fields = [
            "id",
            "name",
            "id_number",
            "village",
            "change",
            "category",
            "amount",
            "reason_codes",
            "reasons",
            "payee_name",
            "month",
        ]

    def get_id_number(self, obj) -> str:
        return mask_id_number(obj.person.id_number)


class StepSerializer(serializers.ModelSerializer):
    by = serializers.CharField(source="by.__str__")

    class Meta:
        model = RosterStep
        fields = ["kind", "village", "by", "at", "comment", "superseded"]


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class PaymentBatchSerializer(serializers.ModelSerializer):
    programme = serializers.CharField(source="roster.programme.code")
    period = serializers.CharField(source="roster.period")
    township = serializers.CharField(source="township_id")
    payment_count = serializers.IntegerField(read_only=True)
    total = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    paid = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    failed_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = PaymentBatch
        fields = ["id", "roster", "programme", "period", "township", "status", "created_at", "reconciled_at",
                  "payment_count", "total", "paid", "failed_count"]  # fmt: skip


@extend_schema_serializer(component_name="SubsidyPayment")  # fees has its own "Payment" (缴款)
class PaymentSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="person.name")
    payee_name = serializers.CharField(source="payee.name")
    account = serializers.CharField(source="account.masked_number")

    class Meta:
        model = Payment
        fields = [
            "id",
            "name",
            "payee_name",
            "period",
            "village",
            "amount",
            "account",
            "status",
            "bank_reason",
            "settled_at",
        ]


class ReadOnlyScoped(AreaScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [permissions.IsAuthenticated]
    lookup_value_regex = r"\d+"


class ProgrammeViewSet(ReadOnlyScoped):
    """奖扶项目 and their dated rules (county-wide configuration, readable by every signed-in user)."""

    serializer_class = ProgrammeSerializer

    def scoped_queryset(self, *, user):
        return selectors.programmes_list()


class RosterViewSet(ReadOnlyScoped):
    """花名册 of the user's area; ``?programme=&period=&status=``. Workflow steps are POSTs on a roster."""

    serializer_class = RosterSerializer

    def scoped_queryset(self, *, user):
        params = self.request.query_params
        return selectors.rosters_visible_to(
            user=user,
            programme=params.get("programme", "")[:40],
            period=params.get("period", "")[:8],
            status=params.get("status", "")[:20],
        )

    @extend_schema(responses={200: RosterEntrySerializer(many=True)})
    @action(detail=True, methods=["get"])
    def entries(self, request, pk=None):
        roster = self.get_object()
        page = self.paginate_queryset(selectors.roster_entries(roster=roster, user=request.user))
        return self.get_paginated_response(RosterEntrySerializer(page, many=True).data)

    @extend_schema(responses={200: StepSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def steps(self, request, pk=None):
        return Response(StepSerializer(selectors.roster_steps(roster=self.get_object()), many=True).data)

    def _step(self, request, service):
        roster = self.get_object()
        data = CommentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        service(roster=roster, by=request.user, comment=data.validated_data["comment"])
        return Response(self.get_serializer(self.get_queryset().get(pk=roster.pk)).data)

    @extend_schema(request=CommentSerializer, responses={200: RosterSerializer})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._step(request, services.roster_village_submit)

    @extend_schema(request=CommentSerializer, responses={200: RosterSerializer})
    @action(detail=True, methods=["post"])
    def review(self, request, pk=None):
        return self._step(request, services.roster_review)

    @extend_schema(request=CommentSerializer, responses={200: RosterSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._step(request, services.roster_approve)


class PaymentBatchViewSet(ReadOnlyScoped):
    """发放批次 of the user's area with totals; ``payments`` lists a batch's payments."""

    access_part = "subsidies.batches"

    serializer_class = PaymentBatchSerializer

    def scoped_queryset(self, *, user):
        return selectors.batches_visible_to(user=user)

    @extend_schema(responses={200: PaymentSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def payments(self, request, pk=None):
        batch = self.get_object()
        page = self.paginate_queryset(selectors.batch_payments(batch=batch, user=request.user))
        return self.get_paginated_response(PaymentSerializer(page, many=True).data)


class ChildcareApplicationSerializer(serializers.ModelSerializer):
    """育儿补贴申领 (IDs and the account masked)."""

    child_name = serializers.CharField(source="child.name", read_only=True)
    child_id_number = serializers.SerializerMethodField()
    child_birth_date = serializers.DateField(source="child.birth_date", read_only=True)
    applicant_name = serializers.CharField(source="applicant.name", read_only=True)
    applicant_id_number = serializers.SerializerMethodField()
    bank_name = serializers.CharField(source="account.bank_name", read_only=True)
    account = serializers.CharField(source="account.masked_number", read_only=True)

    class Meta:
        model = ChildcareApplication
        fields = [
            "id", "child_name", "child_id_number", "child_birth_date", "applicant_name", "applicant_id_number",
            "relationship", "guardian_basis", "applied_on", "bank_name", "account", "village", "status",
            "status_reason", "created_at",
        ]  # fmt: skip

    def get_child_id_number(self, obj) -> str:
        return mask_id_number(obj.child.id_number)

    def get_applicant_id_number(self, obj) -> str:
        return mask_id_number(obj.applicant.id_number)


class ChildcareApplicationInputSerializer(serializers.Serializer):
    child_id_number = serializers.CharField(max_length=30)
    applicant_id_number = serializers.CharField(max_length=30)
    relationship = serializers.ChoiceField(choices=Relationship.choices)
    guardian_basis = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    applied_on = serializers.DateField()
    bank_name = serializers.CharField(max_length=60)
    account_kind = serializers.ChoiceField(choices=AccountKind.choices, required=False, allow_blank=True, default="")
    account_number = serializers.CharField(max_length=40)


class ChildcareApplicationViewSet(ReadOnlyScoped):
    """育儿补贴申领 of the user's area (by the child's 户籍 village); ``?status=&q=``. POST enters one, as the
    clerk's form does (the same checks)."""

    serializer_class = ChildcareApplicationSerializer

    def scoped_queryset(self, *, user):
        params = self.request.query_params
        return childcare_selectors.childcare_applications_visible_to(
            user=user, status=params.get("status", "")[:10], q=params.get("q", "").strip()[:20]
        )

    @extend_schema(request=ChildcareApplicationInputSerializer, responses={201: ChildcareApplicationSerializer})
    def create(self, request):
        data = ChildcareApplicationInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        application = childcare_services.childcare_application_submit(by=request.user, **data.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=application.pk)).data, status=201)
