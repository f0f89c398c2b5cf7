"""Browser forms of the registry. Each form only shapes input for one service; the rules live in services.py.

Persons and households named by number (ID number, 户编号) are looked up through the area-scoped selectors,
so a clerk cannot link a record outside their own area.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime

from apps.accounts.models import User
from apps.areas.models import Area, AreaLevel
from apps.areas.selectors import areas_visible_to, county_villages, is_county_code
from apps.core.areacodes import is_valid_code
from apps.core.errors import RuleViolation
from apps.core.forms import DATE_WIDGET
from apps.core.forms import ServiceForm as CoreServiceForm
from apps.core.idnumbers import parse_id_number
from apps.core.privacy import mask_id_number
from apps.core.scoping import in_scope
from apps.registry.models import (
    BirthPermit,
    ContraceptiveMethod,
    EmploymentType,
    HukouType,
    MaritalStatus,
    MarriageKind,
    MoveKind,
    PermitKind,
    Person,
    PolicyStatus,
    Sex,
)
from apps.registry.plausibility import CONFIRM_LABEL, NEEDS_CONFIRMATION
from apps.registry.selectors import households_visible_to, permits_visible_to, persons_visible_to
from apps.registry.services import PartyIdentity

PERSON_NOT_IN_AREA = "在您的管辖范围内没有该身份证号的人员，不能关联管辖范围以外的人员"
HOUSEHOLD_NOT_IN_AREA = "在您的管辖范围内没有户编号为{number}的户；如为新立户，请勾选“新立户”"

VILLAGE_NOT_IN_AREA = "所选村（居）不在您的管辖范围内"


def _blank(label: str, choices) -> list[tuple[str, str]]:
    return [("", label), *choices]


class ServiceForm(CoreServiceForm):
    """A registry form: also resolves ID numbers typed by the clerk through the area-scoped selector, and
    offers the confirmation checkbox (``confirmed``) once the service held the entry with plausibility
    warnings (``registry.plausibility``): the page shows the warnings, the clerk ticks and saves again."""

    held_warnings: str = ""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.is_bound and self.data.get("confirmed"):
            self._offer_confirmation()

    def _offer_confirmation(self) -> None:
        if "confirmed" not in self.fields:
            self.fields["confirmed"] = forms.BooleanField(
                label=CONFIRM_LABEL, required=False, widget=forms.CheckboxInput(attrs={"class": "form-check-input"})
            )

    @property
    def confirmed(self) -> bool:
        return bool(getattr(self, "cleaned_data", {}).get("confirmed"))

    def add_violation(self, exc: RuleViolation) -> None:
        if exc.code == NEEDS_CONFIRMATION:
            self._offer_confirmation()
            self.held_warnings = exc.message
            return
        super().add_violation(exc)

    def _visible_person(self, field: str) -> Person | None:
        """The person in the user's area with the ID number typed into ``field`` (none if left empty)."""
        raw = self.cleaned_data.get(field)
        if not raw:
            return None
        try:
            number = parse_id_number(raw).number
        except RuleViolation as exc:
            raise ValidationError(exc.message) from None
        person = persons_visible_to(user=self.user).filter(id_number=number).first()
        if person is None:
            raise ValidationError(PERSON_NOT_IN_AREA)
        return person


class VillageField(forms.ModelChoiceField):
    """A village (村/居) of the user's area, labelled with its township."""

    def __init__(self, *, user: User, **kwargs) -> None:
        queryset = areas_visible_to(user=user, level=AreaLevel.VILLAGE).order_by("code")
        kwargs.setdefault("empty_label", "请选择村（居）")
        kwargs.setdefault("error_messages", {"invalid_choice": VILLAGE_NOT_IN_AREA})
        super().__init__(queryset=queryset, **kwargs)

    def label_from_instance(self, obj: Area) -> str:
        township = obj.parent.name if obj.parent_id and obj.parent else ""
        return f"{township} {obj.name}（{obj.code}）".strip()


# --- persons ---------------------------------------------------------------------------------------


class PersonForm(ServiceForm):
    name = forms.CharField(label="姓名", max_length=50)
    id_number = forms.CharField(label="公民身份号码", max_length=30, required=False, help_text="18位；无号码可留空")
    sex = forms.ChoiceField(label="性别", choices=_blank("请选择", Sex.choices))
    birth_date = forms.DateField(label="出生日期", widget=DATE_WIDGET)
    ethnicity = forms.CharField(label="民族", max_length=20, required=False, initial="汉族")
    hukou_type = forms.ChoiceField(label="户籍性质", choices=_blank("请选择", HukouType.choices))
    employment_type = forms.ChoiceField(
        label="就业类型", choices=_blank("（未填）", EmploymentType.choices), required=False
    )
    village = forms.ModelChoiceField(label="现住址", queryset=Area.objects.none())
    household_number = forms.CharField(label="户编号", max_length=30, required=False)
    new_household = forms.BooleanField(label="新立户（按上面的户编号新建一户）", required=False)
    relation_to_head = forms.CharField(label="与户主关系", max_length=20, required=False)
    marital_status = forms.ChoiceField(
        label="婚姻状况", choices=_blank("（未填）", MaritalStatus.choices), required=False
    )
    phone = forms.CharField(label="联系电话", max_length=20, required=False)
    hukou_place_code = forms.RegexField(
        label="户籍地区划代码",
        regex=r"^\d{12}$",
        required=False,
        error_messages={"invalid": "户籍地区划代码应为12位数字"},
        help_text="户口登记地的12位区划代码；留空表示现住址所在县",
    )

    violation_fields = {"number": "household_number", "household": "household_number"}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["village"] = VillageField(user=self.user, label="现住址（村/居）")
        self.fields["village"].widget.attrs["class"] = "form-select"

    def clean(self):
        data = super().clean()
        number = (data.get("household_number") or "").strip()
        data["household"] = None
        if number:
            household = households_visible_to(user=self.user, q=number).filter(number=number).first()
            if household is not None:
                data["household"] = household
            elif not data.get("new_household"):
                self.add_error("household_number", HOUSEHOLD_NOT_IN_AREA.format(number=number))
        elif data.get("new_household"):
            self.add_error("household_number", "新立户请填写户编号")
        return data

    @classmethod
    def initial_for(cls, person: Person) -> dict:
        return {
            "name": person.name,
            "id_number": person.id_number or "",
            "sex": person.sex,
            "birth_date": person.birth_date,
            "ethnicity": person.ethnicity,
            "hukou_type": person.hukou_type,
            "employment_type": person.employment_type,
            "village": person.village_id,
            "household_number": person.household.number if person.household else "",
            "relation_to_head": person.relation_to_head,
            "marital_status": person.marital_status,
            "phone": person.phone,
            "hukou_place_code": person.hukou_place_code,
            "version": person.version,
        }


class PersonEditForm(PersonForm):
    version = forms.IntegerField(widget=forms.HiddenInput)


# --- events ----------------------------------------------------------------------------------------


class BirthForm(ServiceForm):
    child_name = forms.CharField(label="婴儿姓名", max_length=50)
    child_sex = forms.ChoiceField(label="婴儿性别", choices=_blank("请选择", Sex.choices))
    child_id_number = forms.CharField(label="婴儿身份证号", max_length=30, required=False, help_text="尚未申领可留空")
    date = forms.DateField(label="出生日期", widget=DATE_WIDGET)
    village = forms.ModelChoiceField(label="出生地", queryset=Area.objects.none())
    father_id_number = forms.CharField(
        label="父亲身份证号", max_length=30, required=False, help_text="父亲在本县其他辖区或县外的，也按证件填写"
    )
    father_name = forms.CharField(
        label="父亲姓名", max_length=50, required=False, help_text="与出生医学证明一致；须与身份证号同时填写"
    )
    father_is_external = forms.BooleanField(label="父亲为县外人员", required=False)
    father_hukou_place_code = forms.CharField(
        label="父亲户籍地区划代码", max_length=12, required=False, help_text="县外人员必填，12位区划代码"
    )
    permit = forms.ModelChoiceField(label="生育证件", queryset=BirthPermit.objects.none(), required=False)
    birth_order_given = forms.IntegerField(label="填报孩次", required=False, help_text="留空则按登记记录计算")
    policy_status = forms.ChoiceField(
        label="政策属性", choices=_blank("按政策规则计算", PolicyStatus.choices), required=False
    )
    override_reason = forms.CharField(
        label="调整原因", max_length=200, required=False, help_text="填报的政策属性与计算结果不一致时必填"
    )

    violation_fields = {
        "name": "child_name",
        "sex": "child_sex",
        "id_number": "child_id_number",
        "birth_date": "date",
        "father": "father_id_number",
        "hukou_place_code": "father_hukou_place_code",
        "birth_order": "birth_order_given",
        "reason": "override_reason",
    }

    def __init__(self, *args, mother: Person, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["village"] = VillageField(user=self.user, label="出生地（村/居）", initial=mother.village_id)
        self.fields["village"].widget.attrs["class"] = "form-select"
        permits = permits_visible_to(user=self.user).filter(wife=mother).order_by("-issued_on")
        self.fields["permit"].queryset = permits
        self.fields["permit"].empty_label = "（无）"
        self.fields["permit"].label_from_instance = lambda p: (
            f"{p.get_kind_display()} {p.number}（准生第{p.child_order}孩，{p.issued_on:%Y-%m-%d}发）"
        )

    def clean(self):
        data = super().clean()
        data["father_identity"] = _party_identity(self, "father")
        return data


class DeathForm(ServiceForm):
    date = forms.DateField(label="死亡日期", widget=DATE_WIDGET)


def _party_identity(form: forms.Form, prefix: str) -> PartyIdentity | None:
    """The other party typed as on the certificate (``<prefix>_id_number``, ``_name``, ``_is_external``,
    ``_hukou_place_code``); the service finds or creates the person. ``None`` when no ID number is given."""
    data = form.cleaned_data
    raw = data.get(f"{prefix}_id_number")
    if not raw:
        return None
    try:
        number = parse_id_number(raw).number
    except RuleViolation as exc:
        form.add_error(f"{prefix}_id_number", exc.message)
        return None
    name = (data.get(f"{prefix}_name") or "").strip()
    if not name:
        form.add_error(f"{prefix}_name", "请填写姓名（与证件上的一致）")
        return None
    return PartyIdentity(
        id_number=number,
        name=name,
        is_external=bool(data.get(f"{prefix}_is_external")),
        hukou_place_code=(data.get(f"{prefix}_hukou_place_code") or "").strip(),
    )


class MarriageForm(ServiceForm):
    """婚姻登记 from one party's page; the other party may live anywhere in the county or outside it and is
    identified by full ID number and name as on the marriage certificate (结婚证/离婚证)."""

    kind = forms.ChoiceField(label="类型", choices=MarriageKind.choices)
    other_id_number = forms.CharField(label="对方身份证号", max_length=30)
    other_name = forms.CharField(label="对方姓名", max_length=50, help_text="与结婚证（离婚证）上的一致")
    other_is_external = forms.BooleanField(label="对方为县外人员（户籍不在本县）", required=False)
    other_hukou_place_code = forms.CharField(
        label="对方户籍地区划代码", max_length=12, required=False, help_text="县外人员必填，12位区划代码"
    )
    date = forms.DateField(label="登记日期", widget=DATE_WIDGET)

    def __init__(self, *args, person: Person, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The service names the parties wife/husband; the one typed in here is the other party.
        other = "husband" if person.sex == Sex.FEMALE else "wife"
        self.violation_fields = {other: "other_id_number", "hukou_place_code": "other_hukou_place_code"}

    def clean(self):
        data = super().clean()
        data["other_identity"] = _party_identity(self, "other")
        return data


class ContraceptionForm(ServiceForm):
    method = forms.ChoiceField(label="避孕措施", choices=_blank("请选择", ContraceptiveMethod.choices))
    start_date = forms.DateField(label="开始日期", widget=DATE_WIDGET)
    end_date = forms.DateField(label="结束日期", widget=DATE_WIDGET, required=False, help_text="仍在使用则留空")


class ContraceptionEndForm(ServiceForm):
    end_date = forms.DateField(label="结束日期", widget=DATE_WIDGET)


OUTSIDE_COUNTY = "outside"


def place_choices() -> list:
    """The county's villages grouped by township (labelled 乡镇 村（code）), after a "县外" choice."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for village in county_villages():
        township = village.parent.name if village.parent_id else ""
        groups.setdefault(township, []).append((village.code, f"{township} {village.name}（{village.code}）".strip()))
    return [
        ("", "请选择"),
        ("县外", [(OUTSIDE_COUNTY, "县外（在下面填写12位区划代码）")]),
        *((township or "本县", villages) for township, villages in groups.items()),
    ]


class MoveForm(ServiceForm):
    """迁移流动: both ends picked by name among the county's villages, or "县外" with the other county's code."""

    kind = forms.ChoiceField(label="类型", choices=_blank("请选择", MoveKind.choices))
    date = forms.DateField(label="日期", widget=DATE_WIDGET)
    origin = forms.ChoiceField(label="原住地（迁出地）")
    origin_other_code = forms.CharField(
        label="原住地区划代码（县外）", max_length=12, required=False, help_text="原住地为县外时填写12位区划代码"
    )
    destination = forms.ChoiceField(label="现住地（迁入地）")
    destination_other_code = forms.CharField(
        label="现住地区划代码（县外）", max_length=12, required=False, help_text="现住地为县外时填写12位区划代码"
    )
    certificate_number = forms.CharField(label="婚育证明号", max_length=40, required=False)

    violation_fields = {"origin_code": "origin", "destination_code": "destination"}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = place_choices()
        for name in ("origin", "destination"):
            self.fields[name].choices = choices
            self.fields[name].error_messages["invalid_choice"] = "请在列表中选择村（居），或选择“县外”"

    def clean(self):
        data = super().clean()
        for end in ("origin", "destination"):
            picked = data.get(end)
            if picked != OUTSIDE_COUNTY:
                data[f"{end}_code"] = picked
                continue
            code = (data.get(f"{end}_other_code") or "").strip()
            if not is_valid_code(code):
                self.add_error(f"{end}_other_code", "请填写县外地区的12位区划代码")
            elif is_county_code(code):
                self.add_error(f"{end}_other_code", "该代码属于本县，请在列表中按名称选择村（居）")
            data[f"{end}_code"] = code
        return data


class PersonMergeForm(ServiceForm):
    """合并重复人员: which of the two records stays, whose ID number it takes, and why."""

    keep = forms.ChoiceField(label="保留哪条记录", widget=forms.RadioSelect)
    id_number_record = forms.ChoiceField(label="采用哪条记录的身份证号", widget=forms.RadioSelect)
    reason = forms.CharField(label="合并原因", max_length=200, widget=forms.Textarea(attrs={"rows": 3}))

    violation_fields = {"id_number_from": "id_number_record", "retire": "keep"}

    def __init__(self, *args, first: Person, second: Person, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        records = [(str(first.pk), f"记录一：{first.name}"), (str(second.pk), f"记录二：{second.name}")]
        self.fields["keep"].choices = records
        self.fields["id_number_record"].choices = records
        for name in ("keep", "id_number_record"):
            self.fields[name].widget.attrs["class"] = "form-check-input"


class PolicyOverrideForm(ServiceForm):
    policy_status = forms.ChoiceField(label="政策属性", choices=PolicyStatus.choices)
    reason = forms.CharField(label="调整原因", max_length=200, required=False, widget=forms.Textarea(attrs={"rows": 3}))


class QualityForm(forms.Form):
    older_than_days = forms.IntegerField(
        label="流动人口信息超过多少天未更新", min_value=1, max_value=36500, required=False
    )


# --- corrections and voids -------------------------------------------------------------------------


class VersionField(forms.CharField):
    """The ``updated_at`` read with the record, carried through the form: a stale correction is refused."""

    widget = forms.HiddenInput

    def to_python(self, value):
        value = super().to_python(value)
        parsed = parse_datetime(value) if value else None
        if parsed is None:
            raise ValidationError("页面已过期，请刷新后重新更正")
        return parsed


class VoidForm(ServiceForm):
    reason = forms.CharField(
        label="作废原因", max_length=200, widget=forms.Textarea(attrs={"rows": 2}), help_text="必填，记入变更历史"
    )


class CorrectionForm(ServiceForm):
    """A correction: the event's fields as they are now, the reason, and the version read with them."""

    version = VersionField()
    reason = forms.CharField(
        label="更正原因", max_length=200, widget=forms.Textarea(attrs={"rows": 2}), help_text="必填，记入变更历史"
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The reason last, after the event's own fields.
        self.order_fields([name for name in self.fields if name not in ("reason", "version")] + ["reason", "version"])

    @staticmethod
    def initial_for(obj) -> dict:
        return {"version": obj.updated_at.isoformat()}


class BirthCorrectionForm(CorrectionForm):
    date = forms.DateField(label="出生日期", widget=DATE_WIDGET)
    sex = forms.ChoiceField(label="婴儿性别", choices=Sex.choices)
    village = forms.ModelChoiceField(label="出生地", queryset=Area.objects.none())
    father_id_number = forms.CharField(label="父亲身份证号", max_length=30, required=False, help_text="无则留空")
    permit = forms.ModelChoiceField(label="生育证件", queryset=BirthPermit.objects.none(), required=False)
    entered_on = forms.DateField(label="登记日期", widget=DATE_WIDGET)

    violation_fields = {"father": "father_id_number", "birth_date": "date", "id_number": "date", "mother": "date"}

    def __init__(self, *args, birth, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.birth = birth
        # A father registered outside the clerk's area (a birth recorded across area lines) is shown masked and
        # kept as he is unless the clerk types another number: his full number never reaches this page.
        self.kept_father = ""
        father = birth.father
        if father is not None and not in_scope(self.user, father.village_id):
            self.kept_father = mask_id_number(father.id_number) if father.id_number else "（本县其他辖区）"
            self.initial["father_id_number"] = self.kept_father
        self.fields["village"] = VillageField(user=self.user, label="出生地（村/居）")
        self.fields["village"].widget.attrs["class"] = "form-select"
        self.fields["permit"].queryset = permits_visible_to(user=self.user).filter(wife_id=birth.mother_id)
        self.fields["permit"].empty_label = "（无）"
        self.order_fields(["date", "sex", "village", "father_id_number", "permit", "entered_on", "reason", "version"])

    @staticmethod
    def initial_for(birth) -> dict:
        return {
            **CorrectionForm.initial_for(birth),
            "date": birth.date,
            "sex": birth.sex,
            "village": birth.village_id,
            "father_id_number": (birth.father.id_number or "") if birth.father else "",
            "permit": birth.permit_id,
            "entered_on": birth.entered_on,
        }

    def clean_father_id_number(self):
        if self.kept_father and (self.cleaned_data.get("father_id_number") or "").strip() == self.kept_father:
            return self.birth.father
        return self._visible_person("father_id_number")


class MarriageCorrectionForm(CorrectionForm):
    kind = forms.ChoiceField(label="类型", choices=MarriageKind.choices)
    date = forms.DateField(label="登记日期", widget=DATE_WIDGET)

    @staticmethod
    def initial_for(marriage) -> dict:
        return {**CorrectionForm.initial_for(marriage), "kind": marriage.kind, "date": marriage.date}


class MoveCorrectionForm(CorrectionForm):
    kind = forms.ChoiceField(label="类型", choices=MoveKind.choices)
    date = forms.DateField(label="日期", widget=DATE_WIDGET)
    origin_code = forms.CharField(label="原区划代码", max_length=12, help_text="12位统计用区划代码")
    destination_code = forms.CharField(label="现区划代码", max_length=12, help_text="12位统计用区划代码")
    certificate_number = forms.CharField(label="婚育证明号", max_length=40, required=False)

    @staticmethod
    def initial_for(move) -> dict:
        return {
            **CorrectionForm.initial_for(move),
            "kind": move.kind,
            "date": move.date,
            "origin_code": move.origin_code,
            "destination_code": move.destination_code,
            "certificate_number": move.certificate_number,
        }


class DeathCorrectionForm(CorrectionForm):
    date = forms.DateField(label="死亡日期", widget=DATE_WIDGET)

    @staticmethod
    def initial_for(death) -> dict:
        return {**CorrectionForm.initial_for(death), "date": death.date}


class ContraceptionCorrectionForm(CorrectionForm):
    method = forms.ChoiceField(label="避孕措施", choices=ContraceptiveMethod.choices)
    start_date = forms.DateField(label="开始日期", widget=DATE_WIDGET)
    end_date = forms.DateField(label="结束日期", widget=DATE_WIDGET, required=False, help_text="仍在使用则留空")

    @staticmethod
    def initial_for(use) -> dict:
        return {
            **CorrectionForm.initial_for(use),
            "method": use.method,
            "start_date": use.start_date,
            "end_date": use.end_date,
        }


class PermitCorrectionForm(CorrectionForm):
    number = forms.CharField(label="证号", max_length=40)
    kind = forms.ChoiceField(label="类型", choices=PermitKind.choices)
    child_order = forms.IntegerField(label="准生孩次", min_value=1, max_value=99)
    issued_on = forms.DateField(label="发证日期", widget=DATE_WIDGET)
    valid_until = forms.DateField(label="有效期至", widget=DATE_WIDGET, required=False)
    issued_by = forms.CharField(label="经办人", max_length=50, required=False)

    @staticmethod
    def initial_for(permit) -> dict:
        return {
            **CorrectionForm.initial_for(permit),
            "number": permit.number,
            "kind": permit.kind,
            "child_order": permit.child_order,
            "issued_on": permit.issued_on,
            "valid_until": permit.valid_until,
            "issued_by": permit.issued_by,
        }
