"""The subsidy API (DESIGN §8): subsidies/programmes, subsidies/rosters, subsidies/batches. Thin: reads through
the scoped selectors (outside the user's area is a 404), the workflow steps call one service each. ID numbers
are masked in lists; account numbers are always masked."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api import AreaScopedViewSetMixin
from apps.core.errors import RuleViolation
from apps.core.privacy import mask_id_number
from apps.subsidies import childcare_selectors, childcare_services, selectors, services
from apps.subsidies.eligibility import reason_labels
from apps.subsidies.models import (
    AccountKind,
    ChildcareApplication,
    CorrectionAction,
    Objection,
    Payment,
    PaymentBatch,
    Programme,
    ProgrammeRule,
    Relationship,
    Roster,
    RosterCorrection,
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


class OnBehalfSerializer(serializers.Serializer):
    village = serializers.CharField(max_length=12, help_text="代为上报的村（居）区划代码")
    comment = serializers.CharField(max_length=500, help_text="代为上报的原因")


class GenerateSerializer(serializers.Serializer):
    programme = serializers.SlugRelatedField(slug_field="code", queryset=Programme.objects.filter(is_active=True))
    period = serializers.CharField(max_length=8, help_text="按年：2025；按月：2025M03")


class CorrectionInputSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=CorrectionAction.choices)
    entry = serializers.IntegerField(required=False, help_text="删除、修改：名册人员id")
    id_number = serializers.CharField(max_length=30, required=False, help_text="增加：身份证号")
    rule = serializers.IntegerField(required=False, help_text="增加、修改：本项目本期有效规则的id（类别与金额）")
    reason = serializers.CharField(max_length=500)


class CorrectionSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="person.name")
    by = serializers.CharField(source="by.__str__")

    class Meta:
        model = RosterCorrection
        fields = ["id", "name", "village", "action", "before", "after", "reason", "by", "at"]


class ObjectionSerializer(serializers.ModelSerializer):
    entry_name = serializers.CharField(source="entry.person.name", default=None, allow_null=True)

    class Meta:
        model = Objection
        fields = ["id", "entry", "entry_name", "objector", "content", "received_on", "status", "decision",
                  "decided_at"]  # fmt: skip


class ObjectionInputSerializer(serializers.Serializer):
    entry = serializers.IntegerField(required=False, allow_null=True, help_text="被异议的名册人员id；空为整份名册")
    objector = serializers.CharField(max_length=50)
    content = serializers.CharField(max_length=500)
    received_on = serializers.DateField()


class ObjectionDecisionSerializer(serializers.Serializer):
    upheld = serializers.BooleanField(help_text="true：异议成立（不予发放）；false：异议不成立")
    decision = serializers.CharField(max_length=500)


class UnpaidSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="person.name")
    reason_code = serializers.CharField(source="unpaid_code")
    reason = serializers.CharField(source="unpaid_reason")

    class Meta:
        model = RosterEntry
        fields = ["id", "name", "village", "amount", "reason_code", "reason"]


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

    @extend_schema(request=CommentSerializer, responses={200: RosterSerializer})
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request, pk=None):
        """退回 (a reason is required)."""
        return self._step(request, services.roster_return)

    @extend_schema(request=OnBehalfSerializer, responses={200: RosterSerializer})
    @action(detail=True, methods=["post"], url_path="submit-on-behalf")
    def submit_on_behalf(self, request, pk=None):
        """乡镇代村上报: the township's reviewer submits a village's part, with the reason."""
        roster = self.get_object()
        data = OnBehalfSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.roster_village_submit_on_behalf(
            roster=roster, village_code=data.validated_data["village"], by=request.user,
            comment=data.validated_data["comment"],
        )  # fmt: skip
        return Response(self.get_serializer(self.get_queryset().get(pk=roster.pk)).data)

    @extend_schema(request=GenerateSerializer, responses={202: GenerateSerializer})
    @action(detail=False, methods=["post"])
    def generate(self, request):
        """资格认定: the county's rosters of a period are (re)evaluated in the background."""
        data = GenerateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        period = services.rosters_generate_request(
            programme=data.validated_data["programme"], period=data.validated_data["period"], by=request.user
        )
        return Response({"programme": data.validated_data["programme"].code, "period": period}, status=202)

    @extend_schema(methods=["get"], responses={200: CorrectionSerializer(many=True)})
    @extend_schema(methods=["post"], request=CorrectionInputSerializer, responses={201: CorrectionSerializer})
    @action(detail=True, methods=["get", "post"])
    def corrections(self, request, pk=None):
        """名册更正 of a returned roster: ``add`` (id_number, rule), ``remove`` (entry), ``change`` (entry, rule)."""
        roster = self.get_object()
        if request.method == "GET":
            return Response(CorrectionSerializer(selectors.roster_corrections(roster=roster, user=request.user),
                                                 many=True).data)  # fmt: skip
        data = CorrectionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        rule = ProgrammeRule.objects.filter(programme_id=roster.programme_id, pk=v.get("rule")).first()
        if v["action"] in ("add", "change") and rule is None:
            raise RuleViolation("请选择本项目的规则（类别）", field="rule", code="required")
        if v["action"] == "add":
            person = selectors.person_to_add(user=request.user, id_number=v.get("id_number") or "")
            entry = services.roster_entry_add(roster=roster, person=person, rule=rule, by=request.user,
                                              reason=v["reason"])  # fmt: skip
            correction = roster.corrections.filter(person=entry.person).latest("id")
        else:
            entry = selectors.roster_entries(roster=roster, user=request.user).filter(pk=v.get("entry")).first()
            if entry is None:
                raise RuleViolation("名册中没有该人员", field="entry", code="not_found")
            if v["action"] == "remove":
                correction = services.roster_entry_remove(entry=entry, by=request.user, reason=v["reason"])
            else:
                correction = services.roster_entry_change(entry=entry, rule=rule, by=request.user, reason=v["reason"])
        return Response(CorrectionSerializer(correction).data, status=201)

    @extend_schema(methods=["get"], responses={200: ObjectionSerializer(many=True)})
    @extend_schema(methods=["post"], request=ObjectionInputSerializer, responses={201: ObjectionSerializer})
    @action(detail=True, methods=["get", "post"])
    def objections(self, request, pk=None):
        """公示异议: listed, and recorded during the notice."""
        roster = self.get_object()
        if request.method == "GET":
            return Response(ObjectionSerializer(selectors.roster_objections(roster=roster, user=request.user),
                                                many=True).data)  # fmt: skip
        data = ObjectionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        entry = None
        if v.get("entry"):
            entry = selectors.roster_entries(roster=roster, user=request.user).filter(pk=v["entry"]).first()
            if entry is None:
                raise RuleViolation("名册中没有该人员", field="entry", code="not_found")
        objection = services.objection_record(
            roster=roster, by=request.user, objector=v["objector"], content=v["content"],
            received_on=v["received_on"], entry=entry,
        )  # fmt: skip
        return Response(ObjectionSerializer(objection).data, status=201)

    @extend_schema(request=ObjectionDecisionSerializer, responses={200: ObjectionSerializer})
    @action(detail=True, methods=["post"], url_path=r"objections/(?P<objection_pk>\d+)/decide")
    def objection_decide(self, request, pk=None, objection_pk=None):
        """处理公示异议: upheld (the person is not paid) or dismissed, with the reason."""
        roster = self.get_object()
        objection = selectors.roster_objections(roster=roster, user=request.user).filter(pk=objection_pk).first()
        if objection is None:
            raise Http404
        data = ObjectionDecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        objection = services.objection_decide(
            objection=objection, upheld=data.validated_data["upheld"], decision=data.validated_data["decision"],
            by=request.user,
        )  # fmt: skip
        return Response(ObjectionSerializer(objection).data)

    @extend_schema(responses={200: UnpaidSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def unpaid(self, request, pk=None):
        """未发放人员 of an approved roster, each with why (no account, a failed account not corrected, an upheld
        objection, waiting for the next batch)."""
        return Response(UnpaidSerializer(selectors.roster_unpaid(roster=self.get_object(), user=request.user),
                                         many=True).data)  # fmt: skip

    @extend_schema(
        request=None,
        responses={
            201: PaymentBatchSerializer,
            400: OpenApiResponse(description="不能生成（如公示未满、异议未处理、无待发放人员或审批人本人经办）"),
        },
    )
    @action(detail=True, methods=["post"])
    def batch(self, request, pk=None):
        """生成发放批次 of an approved roster after its notice (objections decided; failed payments only to a
        corrected account)."""
        batch = services.batch_create(roster=self.get_object(), by=request.user)
        return Response(PaymentBatchSerializer(selectors.batches_visible_to(user=request.user).get(pk=batch.pk)).data,
                        status=201)  # fmt: skip


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
