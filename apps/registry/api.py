"""The registry's REST API under /api/v1/ (DESIGN §8): persons, households and their life events.

Thin by design (STYLE: HackSoft). Reads go through the area-scoped selectors (an object outside the user's
area is a 404); writes validate the shape of the payload, then call one function of ``services.py``, whose
``RuleViolation`` the project's exception handler turns into 400 ``{field: [message]}``. Persons, households
and permits named by pk in a payload are looked up through the same selectors, so a pk outside the area reads
"not found" rather than revealing that the record exists.

ID numbers and phones (DESIGN §4): lists always mask them; a single record (detail, or the answer to a write)
shows them in full only to roles that work with them (``User.may_see_full_ids``). Related persons are small
nested objects whose ID numbers are always masked.
"""

from __future__ import annotations

from dataclasses import replace

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django.db import transaction
from django.db.models import Q
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.accounts.models import Role
from apps.areas.selectors import areas_visible_to
from apps.core.api import AreaScopedViewSetMixin
from apps.core.areacodes import CODE_RE
from apps.core.errors import RuleViolation
from apps.core.fields import (
    AREA_CODE_MESSAGE,
    NOT_FOUND,
    IdFilter,
    LocatedFilterSet,
    MaskedField,
    StableOrderingFilter,
    VisibleObjectField,
    YesNoFilter,
)
from apps.core.idnumbers import normalise
from apps.core.privacy import mask_id_number, mask_phone
from apps.registry import selectors
from apps.registry.models import (
    LONG_ACTING_METHODS,
    Birth,
    BirthPermit,
    ContraceptiveMethod,
    ContraceptiveUse,
    Death,
    EmploymentType,
    Household,
    HukouType,
    MaritalStatus,
    Marriage,
    MarriageKind,
    Move,
    MoveKind,
    PermitKind,
    Person,
    PolicyStatus,
    Sex,
)
from apps.registry.services import (
    ChildData,
    PartyIdentity,
    PersonData,
    birth_correct,
    birth_policy_override,
    birth_record,
    birth_void,
    contraception_correct,
    contraception_end,
    contraception_record,
    contraception_void,
    death_correct,
    death_record,
    death_void,
    household_create,
    marriage_correct,
    marriage_record,
    marriage_void,
    move_correct,
    move_record,
    move_void,
    party_resolve,
    permit_correct,
    permit_issue,
    permit_void,
    person_create,
    person_update,
    persons_merge,
)

WRITER_ROLES = (Role.VILLAGE_CLERK, Role.TOWNSHIP_CLERK, Role.COUNTY_ADMIN)


class RegistryWritePermission(permissions.BasePermission):
    """Reading is for every signed-in user (within the area); entering and correcting records only for
    village and township clerks and county admins (DESIGN §4). Other roles get a 403 on writes."""

    message = "您的角色只能查询，不能录入或修改人口信息"

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return request.method in permissions.SAFE_METHODS or user.has_role(*WRITER_ROLES)


# --- fields -----------------------------------------------------------------------------------------


class VisibleAreaField(serializers.CharField):
    """A 12-digit area code in a write payload, resolved among the areas the user may see."""

    default_error_messages = {"not_found": NOT_FOUND}

    def __init__(self, *, what: str = "该区划", **kwargs) -> None:
        self.what = what
        super().__init__(**kwargs)
        self.validators.append(RegexValidator(CODE_RE, AREA_CODE_MESSAGE))

    def run_validation(self, data=serializers.empty):
        code = super().run_validation(data)
        if code is None:
            return None
        area = areas_visible_to(user=self.context["request"].user).filter(code=code).first()
        if area is None:
            self.fail("not_found", what=self.what)
        return area


def _person_field(what: str = "该人员", **kwargs) -> VisibleObjectField:
    return VisibleObjectField(selector=selectors.persons_visible_to, what=what, **kwargs)


# --- output shapes ----------------------------------------------------------------------------------


class PersonRefSerializer(serializers.ModelSerializer):
    """A related person, small: pk, name and the masked ID number."""

    id_number = MaskedField(mask=mask_id_number, always=True)

    class Meta:
        model = Person
        fields = ["id", "name", "id_number"]
        read_only_fields = fields


class HouseholdRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Household
        fields = ["id", "number"]
        read_only_fields = fields


class PersonSerializer(serializers.ModelSerializer):
    id_number = MaskedField(mask=mask_id_number)
    phone = MaskedField(mask=mask_phone)
    sex_display = serializers.CharField(source="get_sex_display", read_only=True)
    hukou_type_display = serializers.CharField(source="get_hukou_type_display", read_only=True)
    employment_type_display = serializers.CharField(source="get_employment_type_display", read_only=True)
    marital_status_display = serializers.CharField(source="get_marital_status_display", read_only=True)
    village_name = serializers.CharField(source="village.name", read_only=True)
    household = HouseholdRefSerializer(read_only=True, allow_null=True)
    is_dead = serializers.BooleanField(read_only=True)

    class Meta:
        model = Person
        fields = [
            "id",
            "id_number",
            "name",
            "sex",
            "sex_display",
            "birth_date",
            "ethnicity",
            "hukou_type",
            "hukou_type_display",
            "employment_type",
            "employment_type_display",
            "village",
            "village_name",
            "household",
            "relation_to_head",
            "marital_status",
            "marital_status_display",
            "phone",
            "death_date",
            "is_dead",
            "hukou_place_code",
            "is_external",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class HouseholdSerializer(serializers.ModelSerializer):
    village_name = serializers.CharField(source="village.name", read_only=True)
    member_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Household
        fields = ["id", "number", "address", "village", "village_name", "member_count", "created_at"]
        read_only_fields = fields


class HouseholdDetailSerializer(HouseholdSerializer):
    members = serializers.SerializerMethodField()

    class Meta(HouseholdSerializer.Meta):
        fields = [*HouseholdSerializer.Meta.fields, "members"]
        read_only_fields = fields

    @extend_schema_field(PersonRefSerializer(many=True))
    def get_members(self, household: Household) -> list:
        return PersonRefSerializer(selectors.household_members(household=household), many=True).data


# Every event shows whether it was voided (作废), by whom and why, and ``updated_at``: the version a PATCH sends
# back so that a correction based on a stale read is refused.
EVENT_FIELDS = ["voided_at", "voided_by", "void_reason", "updated_at"]


class PermitRefSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = BirthPermit
        fields = ["id", "number", "kind", "kind_display", "child_order"]
        read_only_fields = fields


class BirthSerializer(serializers.ModelSerializer):
    mother = PersonRefSerializer(read_only=True)
    father = PersonRefSerializer(read_only=True, allow_null=True)
    child = PersonRefSerializer(read_only=True)
    sex_display = serializers.CharField(source="get_sex_display", read_only=True)
    policy_status_display = serializers.CharField(source="get_policy_status_display", read_only=True)
    policy_status_computed_display = serializers.CharField(source="get_policy_status_computed_display", read_only=True)
    has_order_warning = serializers.BooleanField(read_only=True)
    permit = PermitRefSerializer(read_only=True, allow_null=True)
    village_name = serializers.CharField(source="village.name", read_only=True)

    class Meta:
        model = Birth
        fields = [
            "id",
            "mother",
            "father",
            "child",
            "date",
            "sex",
            "sex_display",
            "birth_order",
            "birth_order_given",
            "has_order_warning",
            "policy_status",
            "policy_status_display",
            "policy_status_computed",
            "policy_status_computed_display",
            "policy_override_reason",
            "permit",
            "village",
            "village_name",
            "entered_on",
            "created_at",
            *EVENT_FIELDS,
        ]
        read_only_fields = fields


class DeathSerializer(serializers.ModelSerializer):
    person = PersonRefSerializer(read_only=True)
    village_name = serializers.CharField(source="village.name", read_only=True)

    class Meta:
        model = Death
        fields = ["id", "person", "date", "village", "village_name", "created_at", *EVENT_FIELDS]
        read_only_fields = fields


class MarriageSerializer(serializers.ModelSerializer):
    wife = PersonRefSerializer(read_only=True)
    husband = PersonRefSerializer(read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    village_name = serializers.CharField(source="village.name", read_only=True)

    class Meta:
        model = Marriage
        fields = [
            "id", "wife", "husband", "kind", "kind_display", "date", "village", "village_name", "created_at",
            *EVENT_FIELDS,
        ]  # fmt: skip
        read_only_fields = fields


class ContraceptiveUseSerializer(serializers.ModelSerializer):
    person = PersonRefSerializer(read_only=True)
    method_display = serializers.CharField(source="get_method_display", read_only=True)
    long_acting = serializers.SerializerMethodField()
    in_use = serializers.SerializerMethodField()
    village_name = serializers.CharField(source="village.name", read_only=True)

    class Meta:
        model = ContraceptiveUse
        fields = [
            "id",
            "person",
            "method",
            "method_display",
            "long_acting",
            "start_date",
            "end_date",
            "in_use",
            "closed_by_death",
            "village",
            "village_name",
            "created_at",
            *EVENT_FIELDS,
        ]
        read_only_fields = fields

    def get_long_acting(self, use: ContraceptiveUse) -> bool:
        return use.method in LONG_ACTING_METHODS

    def get_in_use(self, use: ContraceptiveUse) -> bool:
        return use.end_date is None


class MoveSerializer(serializers.ModelSerializer):
    person = PersonRefSerializer(read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    village_name = serializers.CharField(source="village.name", read_only=True)

    class Meta:
        model = Move
        fields = [
            "id",
            "person",
            "kind",
            "kind_display",
            "date",
            "origin_code",
            "destination_code",
            "certificate_number",
            "village",
            "village_name",
            "created_at",
            *EVENT_FIELDS,
        ]
        read_only_fields = fields


class BirthPermitSerializer(serializers.ModelSerializer):
    wife = PersonRefSerializer(read_only=True)
    husband = PersonRefSerializer(read_only=True, allow_null=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    issuing_township_name = serializers.CharField(source="issuing_township.name", read_only=True)
    village_name = serializers.CharField(source="village.name", read_only=True)

    class Meta:
        model = BirthPermit
        fields = [
            "id",
            "number",
            "kind",
            "kind_display",
            "wife",
            "husband",
            "issuing_township",
            "issuing_township_name",
            "child_order",
            "issued_on",
            "valid_until",
            "issued_by",
            "village",
            "village_name",
            "created_at",
            *EVENT_FIELDS,
        ]
        read_only_fields = fields


# --- input shapes (types only; the rules are the services') -------------------------------------------


class PersonInputSerializer(serializers.Serializer):
    id_number = serializers.CharField(max_length=40, required=False, allow_blank=True, allow_null=True)
    name = serializers.CharField(max_length=50)
    sex = serializers.ChoiceField(choices=Sex.choices)
    birth_date = serializers.DateField()
    ethnicity = serializers.CharField(max_length=20, required=False, allow_blank=True, default="汉族")
    hukou_type = serializers.ChoiceField(choices=HukouType.choices)
    employment_type = serializers.ChoiceField(
        choices=EmploymentType.choices, required=False, allow_blank=True, default=""
    )
    village = VisibleAreaField(what="该村（居）")
    household = VisibleObjectField(
        selector=selectors.households_visible_to, what="该户", required=False, allow_null=True, default=None
    )
    relation_to_head = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    marital_status = serializers.ChoiceField(
        choices=MaritalStatus.choices, required=False, allow_blank=True, default=""
    )
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    hukou_place_code = serializers.RegexField(
        CODE_RE,
        required=False,
        allow_blank=True,
        default="",
        error_messages={"invalid": "户籍地区划代码应为12位数字"},
        help_text="户籍地区划代码（12位）；留空表示现住址所在县",
    )


class PersonUpdateSerializer(PersonInputSerializer):
    """PATCH: any subset of the fields, plus the ``version`` that was read (a stale version is refused)."""

    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name != "version":
                field.required = False
                field.default = serializers.empty


class HouseholdInputSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=30)
    village = VisibleAreaField(what="该村（居）")
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class PartyIdentitySerializer(serializers.Serializer):
    """The other party of a marriage or birth registered elsewhere in the county or outside it, as on the
    certificate: found only when ID number and name both match; ``is_external`` creates a minimal record."""

    id_number = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=50)
    is_external = serializers.BooleanField(required=False, default=False, help_text="县外人员")
    hukou_place_code = serializers.CharField(
        max_length=12, required=False, allow_blank=True, default="", help_text="县外人员的户籍地区划代码（12位）"
    )


def _resolve_party(data: dict, key: str, *, sex: str, village, user):
    """The person named by pk (``key``), or by ``<key>_identity`` (ID number and name) through the service."""
    if data.get(key) is not None or not data.get(f"{key}_identity"):
        return data.get(key)
    try:
        return party_resolve(
            identity=PartyIdentity(**data[f"{key}_identity"]), sex=sex, village=village, by=user, field=key
        )
    except RuleViolation as exc:
        field = f"{key}_identity" if exc.field in (key, "hukou_place_code") else exc.field
        raise RuleViolation(exc.message, field=field, code=exc.code) from exc


CONFIRMED_HELP = "合理性提示经核实后确认录入（需确认时接口返回400，code为needs_confirmation）"


class BirthInputSerializer(serializers.Serializer):
    mother = _person_field("母亲")
    father = _person_field("父亲", required=False, allow_null=True, default=None)
    father_identity = PartyIdentitySerializer(
        required=False, allow_null=True, default=None, help_text="父亲在本县其他辖区或县外时，按证件填写身份证号和姓名"
    )
    child = _person_field("婴儿", required=False, allow_null=True, default=None)
    child_name = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    child_sex = serializers.ChoiceField(choices=Sex.choices, required=False, allow_blank=True, default="")
    child_id_number = serializers.CharField(max_length=40, required=False, allow_blank=True, allow_null=True)
    date = serializers.DateField()
    village = VisibleAreaField(what="该出生地")
    permit = VisibleObjectField(
        selector=selectors.permits_visible_to, what="该生育证件", required=False, allow_null=True, default=None
    )
    birth_order = serializers.IntegerField(min_value=1, max_value=99, required=False, allow_null=True, default=None)
    policy_status = serializers.ChoiceField(choices=PolicyStatus.choices, required=False, allow_blank=True, default="")
    override_reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    entered_on = serializers.DateField(required=False, allow_null=True, default=None)
    confirmed = serializers.BooleanField(required=False, default=False, help_text=CONFIRMED_HELP)

    def validate(self, attrs):
        if attrs["father"] is not None and attrs["father_identity"]:
            raise serializers.ValidationError({"father_identity": ["father 与 father_identity 只能填写一个"]})
        if attrs["child"] is None and not attrs["child_sex"]:
            raise serializers.ValidationError({"child_sex": ["请选择婴儿性别（或用 child 指定已登记的人员）"]})
        return attrs


class PolicyOverrideInputSerializer(serializers.Serializer):
    policy_status = serializers.ChoiceField(choices=PolicyStatus.choices)
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class DeathInputSerializer(serializers.Serializer):
    person = _person_field()
    date = serializers.DateField()
    confirmed = serializers.BooleanField(required=False, default=False, help_text=CONFIRMED_HELP)


class MarriageInputSerializer(serializers.Serializer):
    """Each party by pk (a person of the user's area) or, for the party registered elsewhere in the county
    or outside it, by ``wife_identity`` / ``husband_identity`` (ID number and name, as on the certificate)."""

    wife = _person_field("女方", required=False, allow_null=True, default=None)
    husband = _person_field("男方", required=False, allow_null=True, default=None)
    wife_identity = PartyIdentitySerializer(required=False, allow_null=True, default=None)
    husband_identity = PartyIdentitySerializer(required=False, allow_null=True, default=None)
    kind = serializers.ChoiceField(choices=MarriageKind.choices)
    date = serializers.DateField()
    confirmed = serializers.BooleanField(required=False, default=False, help_text=CONFIRMED_HELP)

    def validate(self, attrs):
        errors = {}
        for key in ("wife", "husband"):
            given = (attrs[key] is not None) + bool(attrs[f"{key}_identity"])
            if given != 1:
                errors[key] = [f"请填写 {key}（本辖区人员编号）或 {key}_identity（身份证号和姓名）其中一个"]
        if not errors and attrs["wife"] is None and attrs["husband"] is None:
            errors["non_field_errors"] = ["至少一方须为您管辖范围内的人员（用 wife 或 husband 指定）"]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class PersonMergeInputSerializer(serializers.Serializer):
    retire = _person_field("要注销的重复记录")
    id_number_from = serializers.ChoiceField(
        choices=[("keep", "保留记录的身份证号"), ("retire", "被注销记录的身份证号")], default="keep"
    )
    reason = serializers.CharField(max_length=200)


class ContraceptionInputSerializer(serializers.Serializer):
    person = _person_field()
    method = serializers.ChoiceField(choices=ContraceptiveMethod.choices)
    start_date = serializers.DateField()
    end_date = serializers.DateField(required=False, allow_null=True, default=None)
    confirmed = serializers.BooleanField(required=False, default=False, help_text=CONFIRMED_HELP)


class ContraceptionEndInputSerializer(serializers.Serializer):
    end_date = serializers.DateField()


class MoveInputSerializer(serializers.Serializer):
    person = _person_field()
    kind = serializers.ChoiceField(choices=MoveKind.choices)
    date = serializers.DateField()
    origin_code = serializers.RegexField(CODE_RE, error_messages={"invalid": AREA_CODE_MESSAGE})
    destination_code = serializers.RegexField(CODE_RE, error_messages={"invalid": AREA_CODE_MESSAGE})
    certificate_number = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    confirmed = serializers.BooleanField(required=False, default=False, help_text=CONFIRMED_HELP)


class PermitInputSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=40)
    kind = serializers.ChoiceField(choices=PermitKind.choices)
    wife = _person_field("女方")
    husband = _person_field("男方", required=False, allow_null=True, default=None)
    issuing_township = VisibleAreaField(what="该发证乡镇")
    child_order = serializers.IntegerField(min_value=1, max_value=99, default=1)
    issued_on = serializers.DateField()
    valid_until = serializers.DateField(required=False, allow_null=True, default=None)
    issued_by = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    confirmed = serializers.BooleanField(required=False, default=False, help_text=CONFIRMED_HELP)


class CorrectionSerializer(serializers.Serializer):
    """PATCH of an event: any subset of its fields, the ``reason`` (required) and the ``version`` read with it
    (its ``updated_at``); a correction based on a stale read is refused."""

    reason = serializers.CharField(max_length=200, help_text="更正原因（必填）")
    version = serializers.DateTimeField(help_text="读取记录时的 updated_at")
    confirmed = serializers.BooleanField(required=False, default=False, help_text=CONFIRMED_HELP)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name not in ("reason", "version", "confirmed"):
                field.required = False
                field.default = serializers.empty


class VoidInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, help_text="作废原因（必填）")


class BirthCorrectionSerializer(CorrectionSerializer):
    mother = _person_field("母亲")
    father = _person_field("父亲", allow_null=True)
    date = serializers.DateField()
    sex = serializers.ChoiceField(choices=Sex.choices)
    village = VisibleAreaField(what="该出生地")
    permit = VisibleObjectField(selector=selectors.permits_visible_to, what="该生育证件", allow_null=True)
    entered_on = serializers.DateField()


class DeathCorrectionSerializer(CorrectionSerializer):
    date = serializers.DateField()


class MarriageCorrectionSerializer(CorrectionSerializer):
    kind = serializers.ChoiceField(choices=MarriageKind.choices)
    date = serializers.DateField()


class ContraceptionCorrectionSerializer(CorrectionSerializer):
    method = serializers.ChoiceField(choices=ContraceptiveMethod.choices)
    start_date = serializers.DateField()
    end_date = serializers.DateField(allow_null=True)


class MoveCorrectionSerializer(CorrectionSerializer):
    kind = serializers.ChoiceField(choices=MoveKind.choices)
    date = serializers.DateField()
    origin_code = serializers.RegexField(CODE_RE, error_messages={"invalid": AREA_CODE_MESSAGE})
    destination_code = serializers.RegexField(CODE_RE, error_messages={"invalid": AREA_CODE_MESSAGE})
    certificate_number = serializers.CharField(max_length=40, allow_blank=True)


class PermitCorrectionSerializer(CorrectionSerializer):
    number = serializers.CharField(max_length=40)
    kind = serializers.ChoiceField(choices=PermitKind.choices)
    child_order = serializers.IntegerField(min_value=1, max_value=99)
    issued_on = serializers.DateField()
    valid_until = serializers.DateField(allow_null=True)
    issued_by = serializers.CharField(max_length=50, allow_blank=True)


# --- filters ----------------------------------------------------------------------------------------


def no_full_id_in_url(value: str) -> None:
    """A full ID number must not travel in a URL (access logs, proxies, browser history)."""
    digits = normalise(value) if value else ""
    if len(digits) >= 15 and digits[:15].isdigit():
        raise forms.ValidationError("完整的身份证号不能放在网址中，请用 POST /api/v1/persons/search/ 查询")


class PersonSearchSerializer(serializers.Serializer):
    q = serializers.CharField(max_length=40, help_text="身份证号（完整或前几位）、姓名或户编号")


class PersonFilter(LocatedFilterSet):
    sex = django_filters.ChoiceFilter(choices=Sex.choices)
    hukou_type = django_filters.ChoiceFilter(choices=HukouType.choices)
    marital_status = django_filters.ChoiceFilter(choices=MaritalStatus.choices)
    born_after = django_filters.DateFilter(field_name="birth_date", lookup_expr="gte", label="出生日期不早于")
    born_before = django_filters.DateFilter(field_name="birth_date", lookup_expr="lte", label="出生日期不晚于")
    alive = YesNoFilter(method="filter_alive", label="健在")
    household = IdFilter(field_name="household_id")
    q = django_filters.CharFilter(
        method="filter_q",
        label="姓名、户编号或身份证号前几位（完整身份证号请用 POST /api/v1/persons/search/）",
        validators=[no_full_id_in_url],
    )

    class Meta:
        model = Person
        fields = []

    def filter_alive(self, queryset, name, value):
        return queryset.filter(death_date__isnull=value)

    def filter_q(self, queryset, name, value):
        # The search of the person search page (persons_visible_to), so the API finds the same persons.
        return queryset & selectors.persons_visible_to(user=self.request.user, q=value)


class HouseholdFilter(LocatedFilterSet):
    number = django_filters.CharFilter(field_name="number", lookup_expr="startswith", label="户编号（开头部分即可）")

    class Meta:
        model = Household
        fields = []


class EventFilterSet(LocatedFilterSet):
    """``?include_voided=true`` lists voided events too (the viewset reads it when building the scoped list)."""

    include_voided = YesNoFilter(method="keep", label="包括已作废的记录")

    def keep(self, queryset, name, value):
        return queryset


class BirthFilter(EventFilterSet):
    date_after = django_filters.DateFilter(field_name="date", lookup_expr="gte", label="不早于")
    date_before = django_filters.DateFilter(field_name="date", lookup_expr="lte", label="不晚于")
    entered_after = django_filters.DateFilter(field_name="entered_on", lookup_expr="gte")
    entered_before = django_filters.DateFilter(field_name="entered_on", lookup_expr="lte")
    policy_status = django_filters.ChoiceFilter(choices=PolicyStatus.choices)
    birth_order = django_filters.NumberFilter(field_name="birth_order", min_value=1, max_value=99)
    sex = django_filters.ChoiceFilter(choices=Sex.choices)
    mother = IdFilter(field_name="mother_id")
    person = IdFilter(method="filter_person", label="母亲、父亲或婴儿")
    overridden = YesNoFilter(method="filter_overridden", label="政策属性经人工调整")

    class Meta:
        model = Birth
        fields = []

    def filter_person(self, queryset, name, value):
        return queryset.filter(Q(mother_id=value) | Q(father_id=value) | Q(child_id=value))

    def filter_overridden(self, queryset, name, value):
        return queryset.exclude(policy_override_reason="") if value else queryset.filter(policy_override_reason="")


class DeathFilter(EventFilterSet):
    date_after = django_filters.DateFilter(field_name="date", lookup_expr="gte", label="不早于")
    date_before = django_filters.DateFilter(field_name="date", lookup_expr="lte", label="不晚于")
    person = IdFilter(field_name="person_id")

    class Meta:
        model = Death
        fields = []


class MarriageFilter(EventFilterSet):
    date_after = django_filters.DateFilter(field_name="date", lookup_expr="gte", label="不早于")
    date_before = django_filters.DateFilter(field_name="date", lookup_expr="lte", label="不晚于")
    kind = django_filters.ChoiceFilter(choices=MarriageKind.choices)
    person = IdFilter(method="filter_person", label="女方或男方")

    class Meta:
        model = Marriage
        fields = []

    def filter_person(self, queryset, name, value):
        return queryset.filter(Q(wife_id=value) | Q(husband_id=value))


class ContraceptionFilter(EventFilterSet):
    started_after = django_filters.DateFilter(field_name="start_date", lookup_expr="gte", label="不早于")
    started_before = django_filters.DateFilter(field_name="start_date", lookup_expr="lte", label="不晚于")
    method = django_filters.ChoiceFilter(choices=ContraceptiveMethod.choices)
    in_use = YesNoFilter(method="filter_in_use", label="仍在使用（未填结束日期）")
    person = IdFilter(field_name="person_id")

    class Meta:
        model = ContraceptiveUse
        fields = []

    def filter_in_use(self, queryset, name, value):
        return queryset.filter(end_date__isnull=value)


class MoveFilter(EventFilterSet):
    date_after = django_filters.DateFilter(field_name="date", lookup_expr="gte", label="不早于")
    date_before = django_filters.DateFilter(field_name="date", lookup_expr="lte", label="不晚于")
    kind = django_filters.ChoiceFilter(choices=MoveKind.choices)
    person = IdFilter(field_name="person_id")

    class Meta:
        model = Move
        fields = []


class PermitFilter(EventFilterSet):
    issued_after = django_filters.DateFilter(field_name="issued_on", lookup_expr="gte", label="不早于")
    issued_before = django_filters.DateFilter(field_name="issued_on", lookup_expr="lte", label="不晚于")
    kind = django_filters.ChoiceFilter(choices=PermitKind.choices)
    person = IdFilter(method="filter_person", label="女方或男方")
    number = django_filters.CharFilter(field_name="number")

    class Meta:
        model = BirthPermit
        fields = []

    def filter_person(self, queryset, name, value):
        return queryset.filter(Q(wife_id=value) | Q(husband_id=value))


# --- viewsets ---------------------------------------------------------------------------------------


class RegistryViewSet(
    AreaScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Read: list and detail through the scoped selector. Write: ``create`` validates ``input_serializer_class``
    and hands the data to ``perform_write``, which calls one service."""

    permission_classes = [permissions.IsAuthenticated, RegistryWritePermission]
    filter_backends = [DjangoFilterBackend, StableOrderingFilter]
    lookup_value_regex = r"\d+"
    input_serializer_class: type[serializers.Serializer]

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        user = getattr(self.request, "user", None)
        context["full_ids"] = self.action not in ("list", "search") and bool(getattr(user, "may_see_full_ids", False))
        return context

    def validated(self, serializer_class: type[serializers.Serializer], **kwargs) -> dict:
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context(), **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def answer(self, obj, *, code: int = status.HTTP_200_OK) -> Response:
        """The written record as a read shows it (re-read through the scope, with its related rows)."""
        fresh = self.get_queryset().get(pk=obj.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    def perform_write(self, data: dict):
        raise NotImplementedError

    def create(self, request, *args, **kwargs):
        obj = self.perform_write(self.validated(self.input_serializer_class))
        return self.answer(obj, code=status.HTTP_201_CREATED)


def _write_schema(input_serializer, output_serializer, code: int = 201):
    return extend_schema(request=input_serializer, responses={code: output_serializer})


class EventViewSet(RegistryViewSet):
    """A life event: PATCH corrects it (with ``reason`` and ``version``), ``POST <pk>/void/`` voids it with a
    ``reason``; nothing is ever deleted. Voided events are out of the list unless ``?include_voided=true``;
    a correction or a void of a voided event is a 404 (it is not among the events in force)."""

    correction_serializer_class: type[CorrectionSerializer]
    selector = None  # the app's area-scoped selector of this event

    def include_voided(self) -> bool:
        return self.action in ("list", "retrieve") and self.request.query_params.get("include_voided") == "true"

    def scoped_queryset(self, *, user):
        return type(self).selector(user=user, include_voided=self.include_voided())

    def perform_correct(self, obj, changes: dict, *, version, reason: str):
        raise NotImplementedError

    def perform_void(self, obj, *, reason: str):
        raise NotImplementedError

    def partial_update(self, request, *args, **kwargs):
        obj = self.get_object()
        changes = dict(self.validated(self.correction_serializer_class))
        version, reason = changes.pop("version"), changes.pop("reason")
        self.confirmed = changes.pop("confirmed", False)  # plausibility warnings the clerk confirmed
        return self.answer(self.perform_correct(obj, changes, version=version, reason=reason))

    @extend_schema(request=VoidInputSerializer)
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        """作废: the event stays with who, when and why, out of every count and rule."""
        obj = self.get_object()
        voided = self.perform_void(obj, reason=self.validated(VoidInputSerializer)["reason"])
        fresh = type(self).selector(user=request.user, include_voided=True).get(pk=voided.pk)
        return Response(self.get_serializer(fresh).data)


def _rename_fields(exc: RuleViolation, mapping: dict[str, str]) -> RuleViolation:
    if exc.field in mapping:
        return RuleViolation(exc.message, field=mapping[exc.field], code=exc.code)
    return exc


class PersonViewSet(RegistryViewSet):
    """人口: the persons in the user's area. PATCH needs the ``version`` read with the record."""

    serializer_class = PersonSerializer
    input_serializer_class = PersonInputSerializer
    filterset_class = PersonFilter
    ordering_fields = ["name", "birth_date", "village", "id", "updated_at"]

    def scoped_queryset(self, *, user):
        return selectors.persons_visible_to(user=user)

    @extend_schema(request=PersonSearchSerializer, responses={200: PersonSerializer(many=True)})
    @action(detail=False, methods=["post"], url_path="search", permission_classes=[permissions.IsAuthenticated])
    def search(self, request):
        """人口查询 by ID number, name or household number, POSTed so that an ID number stays out of URLs."""
        q = self.validated(PersonSearchSerializer)["q"]
        persons = self.filter_queryset(self.get_queryset()) & selectors.persons_visible_to(user=request.user, q=q)
        page = self.paginate_queryset(persons)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @_write_schema(PersonInputSerializer, PersonSerializer)
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def perform_write(self, data: dict) -> Person:
        return person_create(data=PersonData(**data), by=self.request.user)

    @_write_schema(PersonMergeInputSerializer, PersonSerializer, code=200)
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        """合并重复人员: this record is kept; ``retire`` (another record of the same person, in the user's area)
        gives it all its events and is retired. ``id_number_from`` picks the ID number kept; a reason is required."""
        keep = self.get_object()
        data = self.validated(PersonMergeInputSerializer)
        keep = persons_merge(
            keep=keep,
            retire=data["retire"],
            id_number_from=data["id_number_from"],
            reason=data["reason"],
            by=request.user,
        )
        return self.answer(keep)

    @_write_schema(PersonUpdateSerializer, PersonSerializer, code=200)
    def partial_update(self, request, *args, **kwargs):
        person = self.get_object()
        changes = dict(self.validated(PersonUpdateSerializer))
        version = changes.pop("version")
        current = PersonData(
            name=person.name,
            sex=person.sex,
            birth_date=person.birth_date,
            hukou_type=person.hukou_type,
            village=person.village,
            id_number=person.id_number,
            ethnicity=person.ethnicity,
            employment_type=person.employment_type,
            household=person.household,
            relation_to_head=person.relation_to_head,
            marital_status=person.marital_status,
            phone=person.phone,
            hukou_place_code=person.hukou_place_code,
        )
        person = person_update(person=person, version=version, data=replace(current, **changes), by=request.user)
        return self.answer(person)


class HouseholdViewSet(RegistryViewSet):
    """户: the households in the user's area; the detail lists the members."""

    serializer_class = HouseholdSerializer
    input_serializer_class = HouseholdInputSerializer
    filterset_class = HouseholdFilter
    ordering_fields = ["number", "village", "id"]

    def scoped_queryset(self, *, user):
        return selectors.households_visible_to(user=user)

    def get_serializer_class(self):
        return HouseholdSerializer if self.action == "list" else HouseholdDetailSerializer

    @_write_schema(HouseholdInputSerializer, HouseholdDetailSerializer)
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def perform_write(self, data: dict) -> Household:
        return household_create(**data, by=self.request.user)


class BirthViewSet(EventViewSet):
    """出生登记. Birth order (孩次) and policy status (政策属性) are computed by the service (DESIGN §5)."""

    serializer_class = BirthSerializer
    input_serializer_class = BirthInputSerializer
    filterset_class = BirthFilter
    ordering_fields = ["date", "birth_order", "entered_on", "village", "id"]

    # The child created with the birth reports its problems as a person's fields; the payload calls them child_*.
    CHILD_FIELDS = {"name": "child_name", "sex": "child_sex", "id_number": "child_id_number", "birth_date": "date"}

    selector = staticmethod(selectors.births_visible_to)
    correction_serializer_class = BirthCorrectionSerializer

    @_write_schema(BirthCorrectionSerializer, BirthSerializer, code=200)
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    def perform_correct(self, obj, changes: dict, *, version, reason: str):
        return birth_correct(
            birth=obj,
            version=version,
            mother=changes.get("mother", obj.mother),
            on=changes.get("date", obj.date),
            sex=changes.get("sex", obj.sex),
            village=changes.get("village", obj.village),
            father=changes.get("father", obj.father),
            permit=changes.get("permit", obj.permit),
            entered_on=changes.get("entered_on", obj.entered_on),
            reason=reason,
            by=self.request.user,
            confirmed=self.confirmed,
        )

    def perform_void(self, obj, *, reason: str):
        return birth_void(birth=obj, reason=reason, by=self.request.user)

    @_write_schema(BirthInputSerializer, BirthSerializer)
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def perform_write(self, data: dict) -> Birth:
        child_data = None
        if data["child"] is None:
            child_data = ChildData(
                name=data["child_name"], sex=data["child_sex"], id_number=data.get("child_id_number") or None
            )
        try:
            with transaction.atomic():  # an external father's record is created only with the birth
                father = _resolve_party(
                    data, "father", sex=Sex.MALE, village=data["mother"].village, user=self.request.user
                )
                return birth_record(
                    mother=data["mother"],
                    on=data["date"],
                    village=data["village"],
                    by=self.request.user,
                    child=data["child"],
                    child_data=child_data,
                    father=father,
                    permit=data["permit"],
                    birth_order_given=data["birth_order"],
                    policy_status_given=data["policy_status"] or None,
                    override_reason=data["override_reason"],
                    entered_on=data["entered_on"],
                    confirmed=data["confirmed"],
                )
        except RuleViolation as exc:
            raise _rename_fields(exc, self.CHILD_FIELDS) from exc

    @_write_schema(PolicyOverrideInputSerializer, BirthSerializer, code=200)
    @action(detail=True, methods=["post"], url_path="override-policy")
    def override_policy(self, request, pk=None):
        """Sets the policy status against the rules, with a reason (audited); the computed status is kept."""
        birth = self.get_object()
        data = self.validated(PolicyOverrideInputSerializer)
        birth = birth_policy_override(birth=birth, status=data["policy_status"], reason=data["reason"], by=request.user)
        return self.answer(birth)


class DeathViewSet(EventViewSet):
    """死亡登记."""

    serializer_class = DeathSerializer
    input_serializer_class = DeathInputSerializer
    filterset_class = DeathFilter
    ordering_fields = ["date", "village", "id"]

    selector = staticmethod(selectors.deaths_visible_to)
    correction_serializer_class = DeathCorrectionSerializer

    @_write_schema(DeathCorrectionSerializer, DeathSerializer, code=200)
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    def perform_correct(self, obj, changes: dict, *, version, reason: str):
        on = changes.get("date", obj.date)
        return death_correct(
            death=obj, version=version, on=on, reason=reason, by=self.request.user, confirmed=self.confirmed
        )

    def perform_void(self, obj, *, reason: str):
        return death_void(death=obj, reason=reason, by=self.request.user)

    @_write_schema(DeathInputSerializer, DeathSerializer)
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def perform_write(self, data: dict) -> Death:
        return death_record(person=data["person"], on=data["date"], by=self.request.user, confirmed=data["confirmed"])


class MarriageViewSet(EventViewSet):
    """婚姻登记 (结婚/离婚)."""

    serializer_class = MarriageSerializer
    input_serializer_class = MarriageInputSerializer
    filterset_class = MarriageFilter
    ordering_fields = ["date", "village", "id"]

    selector = staticmethod(selectors.marriages_visible_to)
    correction_serializer_class = MarriageCorrectionSerializer

    @_write_schema(MarriageCorrectionSerializer, MarriageSerializer, code=200)
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    def perform_correct(self, obj, changes: dict, *, version, reason: str):
        return marriage_correct(
            marriage=obj,
            version=version,
            kind=changes.get("kind", obj.kind),
            on=changes.get("date", obj.date),
            reason=reason,
            by=self.request.user,
            confirmed=self.confirmed,
        )

    def perform_void(self, obj, *, reason: str):
        return marriage_void(marriage=obj, reason=reason, by=self.request.user)

    @_write_schema(MarriageInputSerializer, MarriageSerializer)
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    @transaction.atomic  # an external spouse's record is created only with the marriage
    def perform_write(self, data: dict) -> Marriage:
        user = self.request.user
        village = (data["wife"] or data["husband"]).village  # the party of the user's area records it
        wife = _resolve_party(data, "wife", sex=Sex.FEMALE, village=village, user=user)
        husband = _resolve_party(data, "husband", sex=Sex.MALE, village=village, user=user)
        return marriage_record(
            wife=wife, husband=husband, kind=data["kind"], on=data["date"], by=user, confirmed=data["confirmed"]
        )


class ContraceptionViewSet(EventViewSet):
    """避孕措施; ``POST contraception/<pk>/end/`` records the end of a method in use."""

    serializer_class = ContraceptiveUseSerializer
    input_serializer_class = ContraceptionInputSerializer
    filterset_class = ContraceptionFilter
    ordering_fields = ["start_date", "end_date", "village", "id"]

    selector = staticmethod(selectors.contraception_visible_to)
    correction_serializer_class = ContraceptionCorrectionSerializer

    @_write_schema(ContraceptionCorrectionSerializer, ContraceptiveUseSerializer, code=200)
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    def perform_correct(self, obj, changes: dict, *, version, reason: str):
        return contraception_correct(
            use=obj,
            version=version,
            method=changes.get("method", obj.method),
            start=changes.get("start_date", obj.start_date),
            end=changes.get("end_date", obj.end_date),
            reason=reason,
            by=self.request.user,
            confirmed=self.confirmed,
        )

    def perform_void(self, obj, *, reason: str):
        return contraception_void(use=obj, reason=reason, by=self.request.user)

    @_write_schema(ContraceptionInputSerializer, ContraceptiveUseSerializer)
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def perform_write(self, data: dict) -> ContraceptiveUse:
        return contraception_record(
            person=data["person"],
            method=data["method"],
            start=data["start_date"],
            end=data["end_date"],
            by=self.request.user,
            confirmed=data["confirmed"],
        )

    @_write_schema(ContraceptionEndInputSerializer, ContraceptiveUseSerializer, code=200)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        use = self.get_object()
        data = self.validated(ContraceptionEndInputSerializer)
        return self.answer(contraception_end(use=use, end=data["end_date"], by=request.user))


class MoveViewSet(EventViewSet):
    """迁移流动 (迁入/迁出/流入/流出); the person's current village follows the latest move."""

    serializer_class = MoveSerializer
    input_serializer_class = MoveInputSerializer
    filterset_class = MoveFilter
    ordering_fields = ["date", "village", "id"]

    selector = staticmethod(selectors.moves_visible_to)
    correction_serializer_class = MoveCorrectionSerializer

    @_write_schema(MoveCorrectionSerializer, MoveSerializer, code=200)
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    def perform_correct(self, obj, changes: dict, *, version, reason: str):
        return move_correct(
            move=obj,
            version=version,
            kind=changes.get("kind", obj.kind),
            on=changes.get("date", obj.date),
            origin_code=changes.get("origin_code", obj.origin_code),
            destination_code=changes.get("destination_code", obj.destination_code),
            certificate_number=changes.get("certificate_number", obj.certificate_number),
            reason=reason,
            by=self.request.user,
            confirmed=self.confirmed,
        )

    def perform_void(self, obj, *, reason: str):
        return move_void(move=obj, reason=reason, by=self.request.user)

    @_write_schema(MoveInputSerializer, MoveSerializer)
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def perform_write(self, data: dict) -> Move:
        return move_record(
            person=data["person"],
            kind=data["kind"],
            on=data["date"],
            origin_code=data["origin_code"],
            destination_code=data["destination_code"],
            certificate_number=data["certificate_number"],
            by=self.request.user,
            confirmed=data["confirmed"],
        )


class BirthPermitViewSet(EventViewSet):
    """生育服务证 / 再生育审批. Issuing one recomputes the policy status of the wife's births."""

    serializer_class = BirthPermitSerializer
    input_serializer_class = PermitInputSerializer
    filterset_class = PermitFilter
    ordering_fields = ["issued_on", "number", "village", "id"]

    selector = staticmethod(selectors.permits_visible_to)
    correction_serializer_class = PermitCorrectionSerializer

    @_write_schema(PermitCorrectionSerializer, BirthPermitSerializer, code=200)
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    def perform_correct(self, obj, changes: dict, *, version, reason: str):
        return permit_correct(
            permit=obj,
            version=version,
            number=changes.get("number", obj.number),
            kind=changes.get("kind", obj.kind),
            child_order=changes.get("child_order", obj.child_order),
            issued_on=changes.get("issued_on", obj.issued_on),
            valid_until=changes.get("valid_until", obj.valid_until),
            issued_by=changes.get("issued_by", obj.issued_by),
            reason=reason,
            by=self.request.user,
            confirmed=self.confirmed,
        )

    def perform_void(self, obj, *, reason: str):
        return permit_void(permit=obj, reason=reason, by=self.request.user)

    @_write_schema(PermitInputSerializer, BirthPermitSerializer)
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    def perform_write(self, data: dict) -> BirthPermit:
        return permit_issue(**data, by=self.request.user)
