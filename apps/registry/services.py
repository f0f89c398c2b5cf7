"""Writes of the registry. Each service validates, writes in one transaction, and keeps the invariants
that span rows (DESIGN §5):

- birth order (孩次) is the rank of a birth among the mother's births by date, recomputed for all her
  births whenever one is added, moved or removed; policy status (政策属性) is recomputed with it;
- the person's current village follows the latest move;
- a death closes the person's open contraceptive use;
- no event is dated before the person's birth, after the person's death, or in the future.

Callers pass objects they fetched through the area-scoped selectors; services also refuse to place a new
record in a village outside the acting user's area.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

from django.apps import apps as django_apps
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.accounts.models import User
from apps.areas.models import Area, AreaLevel
from apps.areas.selectors import is_county_code
from apps.core.areacodes import is_valid_code
from apps.core.audit import audit_context
from apps.core.errors import RuleViolation
from apps.core.idnumbers import check_agreement, parse_id_number
from apps.core.scoping import ensure_area_in_scope, in_scope
from apps.registry import plausibility
from apps.registry.models import (
    INWARD_MOVES,
    Birth,
    BirthPermit,
    ContraceptiveMethod,
    ContraceptiveUse,
    Death,
    Household,
    HukouType,
    MaritalStatus,
    Marriage,
    MarriageKind,
    Move,
    Person,
    PolicyStatus,
    QualityList,
    Sex,
)
from apps.registry.quality import quality_findings_refresh_objects
from apps.registry.rules import (
    births_recompute,
    births_recompute_policy_all,
    contraception_sync,
    death_sync,
    marital_status_sync,
    residence_sync,
    spouses_of,
)

FEMALE_ONLY_METHODS = frozenset(
    {
        ContraceptiveMethod.IUD,
        ContraceptiveMethod.FEMALE_STERILISATION,
        ContraceptiveMethod.IMPLANT,
        ContraceptiveMethod.PILL,
        ContraceptiveMethod.INJECTION,
    }
)


def _today() -> date:
    return timezone.localdate()


def _village(code: str, *, field: str = "village") -> Area:
    area = Area.objects.filter(code=code, level=AreaLevel.VILLAGE).first()
    if area is None:
        raise RuleViolation(f"区划代码{code}不是本县的村（居）", field=field, code="unknown_village")
    return area


def _check_event_date(person: Person, on: date, *, field: str = "date", what: str = "事件") -> None:
    if on > _today():
        raise RuleViolation(f"{what}日期不能晚于今天", field=field, code="future")
    if on < person.birth_date:
        raise RuleViolation(
            f"{what}日期{on:%Y-%m-%d}早于{person.name}的出生日期{person.birth_date:%Y-%m-%d}",
            field=field,
            code="before_birth",
        )
    if person.death_date and on > person.death_date:
        raise RuleViolation(
            f"{what}日期{on:%Y-%m-%d}晚于{person.name}的死亡日期{person.death_date:%Y-%m-%d}",
            field=field,
            code="after_death",
        )


# --- persons and households -------------------------------------------------------------------------


@dataclass
class PersonData:
    """What a form, the API or an import row says about a person."""

    name: str
    sex: str
    birth_date: date
    hukou_type: str
    village: Area
    id_number: str | None = None
    ethnicity: str = "汉族"
    employment_type: str = ""
    household: Household | None = None
    relation_to_head: str = ""
    marital_status: str = ""
    phone: str = ""
    hukou_place_code: str = ""


def _clean_person(data: PersonData, *, exclude_pk: int | None = None) -> str | None:
    data.name = (data.name or "").strip()
    if not data.name:
        raise RuleViolation("姓名不能为空", field="name", code="required")
    if data.sex not in Sex.values:
        raise RuleViolation("性别应为“男”或“女”", field="sex", code="invalid")
    if data.hukou_type not in HukouType.values:
        raise RuleViolation("户籍性质应为“农业”或“非农业”", field="hukou_type", code="invalid")
    if data.marital_status and data.marital_status not in MaritalStatus.values:
        raise RuleViolation("婚姻状况应为未婚、已婚、离婚或丧偶", field="marital_status", code="invalid")
    if data.birth_date > _today():
        raise RuleViolation("出生日期不能晚于今天", field="birth_date", code="future")
    if data.village.level != AreaLevel.VILLAGE:
        raise RuleViolation("现住址应选择到村（居）", field="village", code="not_village")
    number = None
    if data.id_number:
        parsed = parse_id_number(data.id_number)
        check_agreement(parsed, birth_date=data.birth_date, sex=data.sex)
        number = parsed.number
        taken = Person.objects.filter(id_number=number)
        if exclude_pk:
            taken = taken.exclude(pk=exclude_pk)
        if taken.exists():
            raise RuleViolation("该身份证号已登记在另一人名下", field="id_number", code="duplicate")
    data.hukou_place_code = (data.hukou_place_code or "").strip()
    if data.hukou_place_code and not is_valid_code(data.hukou_place_code):
        raise RuleViolation("户籍地区划代码应为12位数字", field="hukou_place_code", code="invalid")
    if data.phone:
        data.phone = data.phone.strip()
        if not data.phone.replace("-", "").isdigit() or len(data.phone) > 20:
            raise RuleViolation("联系电话只能包含数字", field="phone", code="invalid")
    return number


@transaction.atomic
def person_create(*, data: PersonData, by: User | None) -> Person:
    ensure_area_in_scope(user=by, code=data.village.code)
    number = _clean_person(data)
    with audit_context(by):
        return Person.objects.create(
            id_number=number,
            name=data.name,
            sex=data.sex,
            birth_date=data.birth_date,
            ethnicity=(data.ethnicity or "").strip(),
            hukou_type=data.hukou_type,
            employment_type=data.employment_type,
            village=data.village,
            household=data.household,
            relation_to_head=data.relation_to_head,
            marital_status=data.marital_status,
            phone=data.phone,
            hukou_place_code=data.hukou_place_code,
            created_by=by,
        )


@transaction.atomic
def person_update(*, person: Person, version: int, data: PersonData, by: User | None) -> Person:
    """Saves a correction, refusing it if someone else saved the person since ``version`` was read."""
    ensure_area_in_scope(user=by, code=data.village.code)
    number = _clean_person(data, exclude_pk=person.pk)
    if person.birth_date != data.birth_date and (
        Birth.objects.filter(Q(mother=person) | Q(father=person), date__lt=data.birth_date).exists()
    ):
        raise RuleViolation("修改后的出生日期晚于其子女的出生日期", field="birth_date", code="before_birth")
    fields = {
        "id_number": number,
        "name": data.name,
        "sex": data.sex,
        "birth_date": data.birth_date,
        "ethnicity": (data.ethnicity or "").strip(),
        "hukou_type": data.hukou_type,
        "employment_type": data.employment_type,
        "village": data.village,
        "household": data.household,
        "relation_to_head": data.relation_to_head,
        "marital_status": data.marital_status,
        "phone": data.phone,
        "hukou_place_code": data.hukou_place_code,
    }
    with audit_context(by):
        updated = Person.objects.filter(pk=person.pk, version=version).update(
            **fields, version=F("version") + 1, updated_at=timezone.now()
        )
    if not updated:
        raise RuleViolation(
            "该人员信息已被其他人修改，您的修改未保存。请刷新页面查看最新信息后重新修改。",
            code="stale_version",
        )
    person.refresh_from_db()
    if person.sex == Sex.FEMALE:
        births_recompute(mother_ids=[person.pk])  # hukou type may change what the rules allow
    return person


@transaction.atomic
def household_create(*, number: str, village: Area, address: str = "", by: User | None) -> Household:
    number = (number or "").strip()
    if not number:
        raise RuleViolation("户编号不能为空", field="number", code="required")
    ensure_area_in_scope(user=by, code=village.code)
    if Household.objects.filter(number=number).exists():
        raise RuleViolation(f"户编号{number}已存在", field="number", code="duplicate")
    with audit_context(by):
        return Household.objects.create(number=number, village=village, address=address, created_by=by)


# --- marriages -------------------------------------------------------------------------------------


@transaction.atomic
def marriage_record(
    *, wife: Person, husband: Person, kind: str, on: date, by: User | None, confirmed: bool = False
) -> Marriage:
    if kind not in MarriageKind.values:
        raise RuleViolation("类型应为结婚或离婚", field="kind", code="invalid")
    if wife.sex != Sex.FEMALE:
        raise RuleViolation("女方的性别登记为男", field="wife", code="sex")
    if husband.sex != Sex.MALE:
        raise RuleViolation("男方的性别登记为女", field="husband", code="sex")
    village_id = _recording_village(by, wife, husband)  # the party in the clerk's area (across area lines)
    _check_party_date(wife, on, by=by, what="登记")
    _check_party_date(husband, on, by=by, what="登记")
    couple = Marriage.objects.filter(wife=wife, husband=husband, date__lte=on).order_by("-date", "-id").first()
    if kind == MarriageKind.DIVORCE and (couple is None or couple.kind != MarriageKind.MARRIAGE):
        raise RuleViolation("这两人在该日期前没有结婚登记，不能登记离婚", field="kind", code="no_marriage")
    if Marriage.objects.filter(wife=wife, husband=husband, kind=kind, date=on).exists():
        raise RuleViolation("该婚姻登记已存在", code="duplicate")
    checked = plausibility.confirm(
        plausibility.check_marriage(wife=wife, husband=husband, kind=kind, on=on), confirmed=confirmed
    )
    with audit_context(by, reason=checked, areas=_party_areas(wife, husband)):
        marriage = Marriage.objects.create(
            wife=wife, husband=husband, kind=kind, date=on, village_id=village_id, created_by=by
        )
        marital_status_sync(person_ids=[wife.pk, husband.pk])
    return marriage


# --- births ----------------------------------------------------------------------------------------


@dataclass
class ChildData:
    name: str
    sex: str
    id_number: str | None = None


@transaction.atomic
def birth_record(
    *,
    mother: Person,
    on: date,
    village: Area,
    by: User | None,
    child: Person | None = None,
    child_data: ChildData | None = None,
    father: Person | None = None,
    permit: BirthPermit | None = None,
    birth_order_given: int | None = None,
    policy_status_given: str | None = None,
    override_reason: str = "",
    entered_on: date | None = None,
    confirmed: bool = False,
) -> Birth:
    """出生登记: records a birth, creating the child unless an existing person is given, and recomputes
    the order and policy status of all the mother's births."""
    ensure_area_in_scope(user=by, code=village.code)
    if village.level != AreaLevel.VILLAGE:
        raise RuleViolation("出生地应选择到村（居）", field="village", code="not_village")
    if mother.sex != Sex.FEMALE:
        raise RuleViolation("母亲的性别登记为男", field="mother", code="sex")
    if father is not None and father.sex != Sex.MALE:
        raise RuleViolation("父亲的性别登记为女", field="father", code="sex")
    _check_event_date(mother, on, field="date", what="出生")
    if father is not None and on <= father.birth_date:
        raise RuleViolation("出生日期早于父亲的出生日期", field="date", code="before_birth")
    entered_on = entered_on or _today()
    if entered_on < on:
        raise RuleViolation("登记日期不能早于出生日期", field="entered_on", code="before_birth")
    if permit is not None and permit.wife_id != mother.pk:
        raise RuleViolation("该生育证件不属于这位母亲", field="permit", code="permit_mismatch")
    if policy_status_given and policy_status_given not in PolicyStatus.values:
        raise RuleViolation("政策属性应为政策内或政策外", field="policy_status", code="invalid")
    if birth_order_given is not None and birth_order_given < 1:
        raise RuleViolation("孩次应为正整数", field="birth_order", code="invalid")
    checked = plausibility.confirm(plausibility.check_birth(mother=mother, on=on, father=father), confirmed=confirmed)

    with audit_context(
        by,
        reason="；".join(filter(None, (override_reason, checked))) or None,
        areas=_party_areas(mother, father) if father else None,
    ):
        if child is None:
            if child_data is None:
                raise RuleViolation("请填写婴儿信息", field="child", code="required")
            child = person_create(
                data=PersonData(
                    name=child_data.name,
                    sex=child_data.sex,
                    birth_date=on,
                    hukou_type=mother.hukou_type,
                    village=Area.objects.get(code=mother.village_id),
                    id_number=child_data.id_number,
                    household=mother.household,
                    relation_to_head="子女",
                    marital_status=MaritalStatus.UNMARRIED,
                ),
                by=None,  # the birth's own village was checked above; the child lives with the mother
            )
        else:
            if child.birth_date != on:
                raise RuleViolation("婴儿的出生日期与登记的出生日期不一致", field="date", code="mismatch")
            if Birth.objects.filter(child=child).exists():
                raise RuleViolation("该婴儿已有出生登记", field="child", code="duplicate")
            if child.pk == mother.pk:
                raise RuleViolation("母亲与婴儿不能是同一人", field="child", code="invalid")
        birth = Birth.objects.create(
            mother=mother,
            father=father,
            child=child,
            date=on,
            sex=child.sex,
            village=village,
            birth_order=1,
            birth_order_given=birth_order_given,
            policy_status=PolicyStatus.IN_POLICY,
            policy_status_computed=PolicyStatus.IN_POLICY,
            permit=permit,
            entered_on=entered_on,
            created_by=by,
        )
        births_recompute(mother_ids=[mother.pk])
        birth.refresh_from_db()
        if policy_status_given and policy_status_given != birth.policy_status_computed:
            if not override_reason.strip():
                raise RuleViolation(
                    f"填报的政策属性与按政策规则计算的结果（{birth.get_policy_status_computed_display()}）不一致，"
                    "如需调整请填写原因",
                    field="policy_status",
                    code="override_needs_reason",
                )
            birth = birth_policy_override(birth=birth, status=policy_status_given, reason=override_reason, by=by)
    return birth


@transaction.atomic
def birth_policy_override(*, birth: Birth, status: str, reason: str, by: User | None) -> Birth:
    """Staff set the policy status against the rules, with a reason kept in the audit trail."""
    reason = (reason or "").strip()
    if status not in PolicyStatus.values:
        raise RuleViolation("政策属性应为政策内或政策外", field="policy_status", code="invalid")
    if status != birth.policy_status_computed and not reason:
        raise RuleViolation("调整政策属性必须填写原因", field="reason", code="required")
    if status == birth.policy_status_computed:
        reason = ""  # back to what the rules say
    with audit_context(by, reason=reason or "恢复按规则计算的政策属性"):
        Birth.objects.filter(pk=birth.pk).update(policy_status=status, policy_override_reason=reason)
    birth.refresh_from_db()
    return birth


@transaction.atomic
def permit_issue(
    *,
    number: str,
    kind: str,
    wife: Person,
    husband: Person | None,
    issuing_township: Area,
    child_order: int,
    issued_on: date,
    valid_until: date | None,
    issued_by: str,
    by: User | None,
    confirmed: bool = False,
) -> BirthPermit:
    number = (number or "").strip()
    if not number:
        raise RuleViolation("证号不能为空", field="number", code="required")
    if BirthPermit.objects.filter(number=number).exists():
        raise RuleViolation(f"证号{number}已存在", field="number", code="duplicate")
    if issuing_township.level != AreaLevel.TOWNSHIP:
        raise RuleViolation("发证单位应为乡镇（街道）", field="issuing_township", code="invalid")
    ensure_area_in_scope(user=by, code=wife.village_id, field="wife")
    if wife.sex != Sex.FEMALE:
        raise RuleViolation("女方的性别登记为男", field="wife", code="sex")
    if valid_until and valid_until < issued_on:
        raise RuleViolation("有效期不能早于发证日期", field="valid_until", code="invalid")
    _check_event_date(wife, issued_on, field="issued_on", what="发证")
    checked = plausibility.confirm(
        plausibility.check_permit(wife=wife, husband=husband, issued_on=issued_on), confirmed=confirmed
    )
    with audit_context(by, reason=checked):
        permit = BirthPermit.objects.create(
            number=number,
            kind=kind,
            wife=wife,
            husband=husband,
            issuing_township=issuing_township,
            child_order=child_order,
            issued_on=issued_on,
            valid_until=valid_until,
            issued_by=issued_by,
            village_id=wife.village_id,
            created_by=by,
        )
        births_recompute(mother_ids=[wife.pk])
    return permit


# --- deaths, contraception, moves ------------------------------------------------------------------


@transaction.atomic
def death_record(*, person: Person, on: date, by: User | None, confirmed: bool = False) -> Death:
    """死亡登记: sets the death date and closes the person's open contraceptive use on that date."""
    ensure_area_in_scope(user=by, code=person.village_id, field="person")
    if person.death_date is not None:
        raise RuleViolation(f"{person.name}已登记死亡", field="person", code="duplicate")
    _check_event_date(person, on, what="死亡")
    later = {
        "出生登记": Birth.objects.filter(mother=person, date__gt=on),
        "婚姻登记": Marriage.objects.filter(Q(wife=person) | Q(husband=person), date__gt=on),
        "迁移流动": Move.objects.filter(person=person, date__gt=on),
        "避孕措施": ContraceptiveUse.objects.filter(person=person, start_date__gt=on),
    }
    for label, qs in later.items():
        if qs.exists():
            raise RuleViolation(f"该人员在{on:%Y-%m-%d}之后还有{label}记录，请核对死亡日期", field="date")
    checked = plausibility.confirm(plausibility.check_death(person=person, on=on), confirmed=confirmed)
    with audit_context(by, reason=checked):
        death = Death.objects.create(person=person, date=on, village_id=person.village_id, created_by=by)
        death_sync(person_ids=[person.pk])
    person.refresh_from_db()
    return death


def _check_method(person: Person, method: str) -> None:
    if method not in ContraceptiveMethod.values:
        raise RuleViolation("避孕措施不在规定的类别中", field="method", code="invalid")
    if method in FEMALE_ONLY_METHODS and person.sex != Sex.FEMALE:
        raise RuleViolation(f"“{ContraceptiveMethod(method).label}”只适用于女性", field="method", code="sex")
    if method == ContraceptiveMethod.MALE_STERILISATION and person.sex != Sex.MALE:
        raise RuleViolation("“男性绝育”只适用于男性", field="method", code="sex")


@transaction.atomic
def contraception_record(
    *, person: Person, method: str, start: date, end: date | None = None, by: User | None, confirmed: bool = False
) -> ContraceptiveUse:
    """避孕措施: a new method in use; an open earlier method ends the day the new one starts."""
    _check_method(person, method)
    ensure_area_in_scope(user=by, code=person.village_id, field="person")
    _check_event_date(person, start, field="start_date", what="开始")
    if end is not None:
        if end < start:
            raise RuleViolation("结束日期不能早于开始日期", field="end_date", code="invalid")
        _check_event_date(person, end, field="end_date", what="结束")
    if ContraceptiveUse.objects.filter(person=person, method=method, start_date=start).exists():
        raise RuleViolation("该避孕措施记录已存在", code="duplicate")
    checked = plausibility.confirm(plausibility.check_contraception(person=person, start=start), confirmed=confirmed)
    with audit_context(by, reason=checked):
        use = ContraceptiveUse.objects.create(
            person=person, method=method, start_date=start, end_date=end, village_id=person.village_id, created_by=by
        )
        contraception_sync(person_ids=[person.pk])  # the earlier open method ends; none after a death
    use.refresh_from_db()
    return use


@transaction.atomic
def contraception_end(*, use: ContraceptiveUse, end: date, by: User | None) -> ContraceptiveUse:
    ensure_area_in_scope(user=by, code=use.village_id)
    if end < use.start_date:
        raise RuleViolation("结束日期不能早于开始日期", field="end_date", code="invalid")
    _check_event_date(use.person, end, field="end_date", what="结束")
    with audit_context(by):
        ContraceptiveUse.objects.filter(pk=use.pk).update(end_date=end)
    use.refresh_from_db()
    return use


def _move_village(*, kind: str, origin_code: str, destination_code: str, by: User | None) -> Area:
    """The county-side end of a move (the destination of a move in, the origin of a move out): a village of
    this county within the acting user's area; the other end may lie outside the county."""
    from apps.registry.models import MoveKind

    if kind not in MoveKind.values:
        raise RuleViolation("类型应为迁入、迁出、流入或流出", field="kind", code="invalid")
    for field, code in (("origin_code", origin_code), ("destination_code", destination_code)):
        if not (code or "").isdigit() or len(code) != 12:
            raise RuleViolation("区划代码应为12位数字", field=field, code="invalid")
    if origin_code == destination_code:
        raise RuleViolation("原区划与现区划相同", field="destination_code", code="invalid")
    local_field, local_code = (
        ("destination_code", destination_code) if kind in INWARD_MOVES else ("origin_code", origin_code)
    )
    village = _village(local_code, field=local_field)
    ensure_area_in_scope(user=by, code=village.code, field=local_field)
    return village


@transaction.atomic
def move_record(
    *,
    person: Person,
    kind: str,
    on: date,
    origin_code: str,
    destination_code: str,
    certificate_number: str = "",
    by: User | None,
    confirmed: bool = False,
) -> Move:
    """迁入/迁出/流入/流出. Either end may lie outside the county, but the county-side end must be one of
    its villages and within the acting user's area."""

    village = _move_village(kind=kind, origin_code=origin_code, destination_code=destination_code, by=by)
    _check_event_date(person, on, what="迁移")
    if Move.objects.filter(person=person, kind=kind, date=on).exists():
        raise RuleViolation("该迁移记录已存在", code="duplicate")
    checked = plausibility.confirm(
        plausibility.check_move(
            person=person, kind=kind, on=on, origin_code=origin_code, destination_code=destination_code
        ),
        confirmed=confirmed,
    )
    with audit_context(by, reason=checked):
        move = Move.objects.create(
            person=person,
            kind=kind,
            date=on,
            origin_code=origin_code,
            destination_code=destination_code,
            certificate_number=(certificate_number or "").strip(),
            village=village,
            created_by=by,
        )
        residence_sync(person_ids=[person.pk])
    person.refresh_from_db()
    return move


@transaction.atomic
def policy_rule_save(*, rule, by: User | None) -> None:
    """Saves a birth-policy rule (or, with ``rule=None``, just reacts to a change made elsewhere) and
    recomputes every birth's policy status under the rules now in force; overrides with a reason stay."""
    with audit_context(by, reason="生育政策规则调整"):
        if rule is not None:
            rule.full_clean()
            rule.save()
        births_recompute_policy_all()


# --- across areas and merges ---------------------------------------------------------------------------
#
# A marriage or a birth may join a person of the clerk's area to one registered elsewhere in the county, or to
# someone from outside it. The clerk of one party records it and identifies the other by full ID number AND
# name (as on the certificate); the other party is touched only through the event (its derived marital status,
# through ``marital_status_sync``), and nothing of theirs is ever shown or confirmed on a mismatch.

PARTY_NOT_MATCHED = "未能按身份证号和姓名找到该人员；如为县外人员，请勾选“县外人员”并填写户籍地"
PARTY_DATE_MISMATCH = "登记日期与对方的出生或死亡日期不符，请核对"


@dataclass
class PartyIdentity:
    """The other party of a marriage or a birth as the clerk reads it off the certificate."""

    id_number: str
    name: str
    is_external: bool = False
    hukou_place_code: str = ""  # 户籍地 of a person from outside the county


def _same_name(a: str, b: str) -> bool:
    def norm(text: str) -> str:
        return "".join(unicodedata.normalize("NFKC", text or "").split())

    return bool(norm(a)) and norm(a) == norm(b)


def _party_area(person: Person) -> str:
    """Where a party belongs, for the audit trail: the 户籍地 of an external person, else the village."""
    return (person.hukou_place_code or person.village_id) if person.is_external else person.village_id


def _party_areas(*persons: Person | None) -> list[str]:
    return [_party_area(p) for p in persons if p is not None]


def _recording_village(by: User | None, *parties: Person) -> str:
    """The village an event joining ``parties`` is located at: that of the first party in the clerk's area
    (the first party's for a system job). None in the area: the event is not this clerk's to record."""
    for person in parties:
        if in_scope(by, person.village_id):
            return person.village_id
    ensure_area_in_scope(user=by, code=parties[0].village_id, field="wife")
    return parties[0].village_id  # unreachable: ensure_area_in_scope raised


def _check_party_date(person: Person, on: date, *, by: User | None, what: str) -> None:
    """The event-date check; for a party outside the clerk's area the message names none of their dates."""
    if in_scope(by, person.village_id):
        _check_event_date(person, on, what=what)
        return
    try:
        _check_event_date(person, on, what=what)
    except RuleViolation as exc:
        raise RuleViolation(PARTY_DATE_MISMATCH, field=exc.field, code=exc.code) from None


@transaction.atomic
def party_resolve(*, identity: PartyIdentity, sex: str, village: Area, by: User | None, field: str) -> Person:
    """The other party of an event recorded in ``village`` (the recording party's village).

    A county person is linked only when both the ID number and the name match; "not found" and "the name does
    not match" give one message, so nothing confirms that a number exists. A person from outside the county
    (``is_external``) becomes a minimal record (name, sex and birth date from the ID, ID number, 户籍地),
    located at ``village`` so that it stays in the recording clerk's area; it is never county population."""
    ensure_area_in_scope(user=by, code=village.code, field=field)
    name = (identity.name or "").strip()
    if not name:
        raise RuleViolation("请填写对方姓名（与证件上的一致）", field=field, code="required")
    try:
        parsed = parse_id_number(identity.id_number)
    except RuleViolation as exc:
        raise RuleViolation(exc.message, field=field, code=exc.code) from None
    found = Person.objects.filter(id_number=parsed.number, merged_into__isnull=True).first()
    if found is not None:
        if not _same_name(found.name, name):
            raise RuleViolation(PARTY_NOT_MATCHED, field=field, code="not_matched")
        return found
    if not identity.is_external:
        raise RuleViolation(PARTY_NOT_MATCHED, field=field, code="not_matched")
    code = (identity.hukou_place_code or "").strip()
    if not is_valid_code(code):
        raise RuleViolation("请填写县外人员户籍地的12位区划代码", field="hukou_place_code", code="invalid")
    if is_county_code(code):
        raise RuleViolation(
            "该户籍地区划代码属于本县；本县人员请不要勾选“县外人员”", field="hukou_place_code", code="in_county"
        )
    if parsed.sex != sex:
        raise RuleViolation(
            f"身份证号显示的性别为{Sex(parsed.sex).label}，与对方应有的性别不符", field=field, code="sex"
        )
    with audit_context(by, reason="县外人员简要记录", areas=[village.code, code]):
        return Person.objects.create(
            id_number=parsed.number,
            name=name,
            sex=parsed.sex,
            birth_date=parsed.birth_date,
            hukou_type="",
            hukou_place_code=code,
            is_external=True,
            village=village,
            created_by=by,
        )


# Merging two records of one person: the live-event constraints a merge may collide with.
MERGE_CONFLICTS = {
    "birth_live_child": "两条记录都有出生登记（本人为婴儿），请先作废重复的一条再合并",
    "death_live_person": "两条记录都有死亡登记，请先作废重复的一条再合并",
    "marriage_live_event": "两条记录有同一次婚姻登记，请先作废重复的一条再合并",
    "marriage_two_persons": "两条记录之间有婚姻登记，不能合并",
    "birth_mother_not_child": "两条记录之间有出生登记（母亲与婴儿），不能合并",
    "move_live_event": "两条记录有同一天的同类迁移登记，请先作废重复的一条再合并",
    "contraception_live_start": "两条记录有相同的避孕措施登记，请先作废重复的一条再合并",
}

# Every event pointing at a person: (model, field). Voided events move too, with their history.
_PERSON_EVENT_FIELDS = (
    (Birth, "mother"),
    (Birth, "father"),
    (Birth, "child"),
    (Marriage, "wife"),
    (Marriage, "husband"),
    (Move, "person"),
    (Death, "person"),
    (ContraceptiveUse, "person"),
    (BirthPermit, "wife"),
    (BirthPermit, "husband"),
)

# What the kept record takes from the retired one when it has nothing there itself.
_MERGE_FILL_FIELDS = ("household_id", "relation_to_head", "phone", "ethnicity", "employment_type", "hukou_place_code")


def _outside_references(person: Person) -> list[str]:
    """The other apps' records (fee cases, subsidies…) naming ``person``: a merge does not rewrite them."""
    found = []
    for model in django_apps.get_models():
        if model._meta.app_label == "registry" or any(f.name == "pgh_obj" for f in model._meta.fields):
            continue
        for field in model._meta.fields:
            if (
                field.is_relation
                and field.related_model is Person
                and model._base_manager.filter(**{field.name: person}).exists()
            ):
                found.append(str(model._meta.verbose_name))
                break
    return found


@transaction.atomic
def persons_merge(*, keep: Person, retire: Person, id_number_from: str, reason: str, by: User | None) -> Person:
    """合并重复人员: two records of one person become one. Every event of ``retire`` (births as mother, father
    or child, marriages, moves, deaths, contraception, permits; voided ones too) moves to ``keep``, which takes
    the ID number of the record ``id_number_from`` names ("keep" or "retire") and fills its blanks from the
    other; ``retire`` is retired (``merged_into`` = keep, no ID number) and drops out of every list and count.
    Consequences recompute through the registry rules. Both records must lie in the clerk's area."""
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("合并重复人员必须填写原因", field="reason", code="required")
    if id_number_from not in ("keep", "retire"):
        raise RuleViolation("请选择采用哪条记录的身份证号", field="id_number_from", code="invalid")
    if keep.pk == retire.pk:
        raise RuleViolation("请选择另一条记录", field="retire", code="invalid")
    rows = {p.pk: p for p in Person.objects.select_for_update().filter(pk__in=[keep.pk, retire.pk])}
    keep, retire = rows[keep.pk], rows[retire.pk]
    for person, field in ((keep, "keep"), (retire, "retire")):
        ensure_area_in_scope(user=by, code=person.village_id, field=field, message="两条记录都须在您的管辖范围内")
        if person.merged_into_id is not None:
            raise RuleViolation("该记录已被合并注销", field=field, code="merged")
    if keep.sex != retire.sex:
        raise RuleViolation("两条记录的性别不同，不是同一人", field="retire", code="sex")
    if keep.is_external and not retire.is_external:
        raise RuleViolation("请保留本县人员的记录，注销县外人员的简要记录", field="keep", code="external")
    number = keep.id_number if id_number_from == "keep" else retire.id_number
    if number:
        try:
            check_agreement(parse_id_number(number), birth_date=keep.birth_date, sex=keep.sex)
        except RuleViolation as exc:
            raise RuleViolation(
                f"所选身份证号与保留记录不符：{exc.message}", field="id_number_from", code=exc.code
            ) from None
    outside = _outside_references(retire)
    if outside:
        raise RuleViolation(
            f"要注销的记录已有{'、'.join(outside)}，请改为保留该记录", field="retire", code="referenced"
        )

    with audit_context(by, reason=reason, merged=[keep.pk, retire.pk]):
        try:
            with transaction.atomic():
                for model, field in _PERSON_EVENT_FIELDS:
                    model.all_objects.filter(**{field: retire}).update(**{field: keep})
        except IntegrityError as exc:
            constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
            message = MERGE_CONFLICTS.get(constraint, "两条记录的登记有冲突，请先作废重复的登记再合并")
            raise RuleViolation(message, code="conflict") from None
        fill = {f: getattr(retire, f) for f in _MERGE_FILL_FIELDS if not getattr(keep, f) and getattr(retire, f)}
        if retire.is_external:
            fill.pop("hukou_place_code", None)  # another county's 户籍地 is not the kept county person's
        fill["id_number"] = number
        Person.objects.filter(pk=retire.pk).update(
            id_number=None, merged_into=keep, version=F("version") + 1, updated_at=timezone.now()
        )
        Person.objects.filter(pk=keep.pk).update(**fill, version=F("version") + 1, updated_at=timezone.now())
        death_sync(person_ids=[keep.pk, retire.pk])
        marital_status_sync(person_ids=[keep.pk, retire.pk, *spouses_of(person_ids=[keep.pk])])
        residence_sync(person_ids=[keep.pk])
        births_recompute(mother_ids=[keep.pk])
        # The pair leaves the duplicates list the clerk came from now, not at the next refresh.
        namesakes = Person.objects.filter(
            Q(name=keep.name, birth_date=keep.birth_date) | Q(name=retire.name, birth_date=retire.birth_date)
        )
        quality_findings_refresh_objects(
            key=QualityList.DUPLICATES, object_ids=list(namesakes.values_list("pk", flat=True))
        )
    keep.refresh_from_db()
    return keep


# --- corrections and voids ---------------------------------------------------------------------------
#
# Every event can be corrected or voided, with a reason, by the clerks of its area (DESIGN §5). A void keeps
# the row (``voided_at``/``voided_by``/``void_reason``) and its history; every rule of ``rules.py`` ignores
# it. A correction re-checks the rules of recording and refuses a stale form (``version`` is the
# ``updated_at`` read with the record). Consequences recompute through the one function of each rule.

CORRECTOR_ROLES = ("village_clerk", "township_clerk", "county_admin")
STALE_EVENT = "该记录已被其他人修改，您的更正未保存。请刷新页面查看最新信息后重新更正。"


def _reason(reason: str, *, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation(f"{what}必须填写原因", field="reason", code="required")
    if len(reason) > 200:
        raise RuleViolation("原因不能超过200个字", field="reason", code="too_long")
    return reason


def _may_correct(by: User | None, code: str) -> None:
    """Clerks and county admins of the event's area; anyone else is refused (the views and the API answer
    403 for the role and 404 for the area before it comes to this)."""
    from django.core.exceptions import PermissionDenied

    if by is not None and not by.has_role(*CORRECTOR_ROLES):
        raise PermissionDenied("您的角色只能查询，不能更正或作废人口信息")
    ensure_area_in_scope(user=by, code=code, field=None, message="该记录不在您的管辖范围内")


def _lock_live(model, obj, *, version=None):
    """The event row, locked, still live and unchanged since ``version`` (its ``updated_at``) was read."""
    current = model.all_objects.select_for_update().filter(pk=obj.pk).first()
    if current is None:
        raise RuleViolation("未找到该记录", code="not_found")
    if current.voided_at is not None:
        raise RuleViolation("该记录已作废，不能再更正或作废", code="voided")
    if version is not None and current.updated_at != version:
        raise RuleViolation(STALE_EVENT, code="stale_version")
    return current


def _void(model, obj, *, reason: str, by: User | None, what: str, cascade=None):
    """Marks the event void (who, when, why) and runs its cascade, all under the reason's audit context."""
    reason = _reason(reason, what=f"作废{what}")
    _may_correct(by, obj.village_id)
    current = _lock_live(model, obj)
    now = timezone.now()
    with audit_context(by, reason=reason):
        model.all_objects.filter(pk=current.pk).update(voided_at=now, voided_by=by, void_reason=reason, updated_at=now)
        current.refresh_from_db()
        if cascade is not None:
            cascade(current)
    return current


# births


@transaction.atomic
def birth_correct(
    *,
    birth: Birth,
    version=None,
    on: date,
    sex: str,
    village: Area,
    father: Person | None,
    permit: BirthPermit | None,
    entered_on: date,
    reason: str,
    by: User | None,
    mother: Person | None = None,
    confirmed: bool = False,
) -> Birth:
    """更正出生登记: date, sex, father, birthplace, permit, entry date (and the mother, if entered wrong).
    The child's own birth date and sex follow the birth; the order and policy status of every birth of the
    old and the new mother are recomputed (a fee case whose birth turns in policy is flagged on the fee side)."""
    reason = _reason(reason, what="更正出生登记")
    _may_correct(by, birth.village_id)
    current = _lock_live(Birth, birth, version=version)
    mother = mother or current.mother
    ensure_area_in_scope(user=by, code=village.code)
    if village.level != AreaLevel.VILLAGE:
        raise RuleViolation("出生地应选择到村（居）", field="village", code="not_village")
    if sex not in Sex.values:
        raise RuleViolation("性别应为“男”或“女”", field="sex", code="invalid")
    if mother.sex != Sex.FEMALE:
        raise RuleViolation("母亲的性别登记为男", field="mother", code="sex")
    if mother.pk == current.child_id:
        raise RuleViolation("母亲与婴儿不能是同一人", field="mother", code="invalid")
    if father is not None and father.sex != Sex.MALE:
        raise RuleViolation("父亲的性别登记为女", field="father", code="sex")
    _check_event_date(mother, on, field="date", what="出生")
    if father is not None and on <= father.birth_date:
        raise RuleViolation("出生日期早于父亲的出生日期", field="date", code="before_birth")
    if entered_on < on:
        raise RuleViolation("登记日期不能早于出生日期", field="entered_on", code="before_birth")
    if entered_on > _today():
        raise RuleViolation("登记日期不能晚于今天", field="entered_on", code="future")
    if permit is not None and (permit.wife_id != mother.pk or permit.is_voided):
        raise RuleViolation("该生育证件不属于这位母亲", field="permit", code="permit_mismatch")

    child = Person.objects.select_for_update().get(pk=current.child_id)
    if child.id_number and (child.birth_date != on or child.sex != sex):
        check_agreement(parse_id_number(child.id_number), birth_date=on, sex=sex)  # the ID number says otherwise
    if child.death_date and child.death_date < on:
        raise RuleViolation("更正后的出生日期晚于婴儿的死亡日期", field="date", code="after_death")
    later_than_birth = {
        "出生登记": Birth.objects.filter(Q(mother=child) | Q(father=child), date__lt=on),
        "婚姻登记": Marriage.objects.filter(Q(wife=child) | Q(husband=child), date__lt=on),
        "迁移流动": Move.objects.filter(person=child, date__lt=on),
        "避孕措施": ContraceptiveUse.objects.filter(person=child, start_date__lt=on),
    }
    for label, qs in later_than_birth.items():
        if qs.exists():
            raise RuleViolation(f"婴儿在{on:%Y-%m-%d}之前已有{label}记录，请核对出生日期", field="date")

    old_mother_id = current.mother_id
    checked = plausibility.confirm(
        plausibility.check_birth(mother=mother, on=on, father=father, birth=current), confirmed=confirmed
    )
    with audit_context(by, reason="；".join(filter(None, (reason, checked)))):
        now = timezone.now()
        if child.birth_date != on or child.sex != sex:
            Person.objects.filter(pk=child.pk).update(birth_date=on, sex=sex, version=F("version") + 1, updated_at=now)
        Birth.all_objects.filter(pk=current.pk).update(
            mother=mother,
            date=on,
            sex=sex,
            village=village,
            father=father,
            permit=permit,
            entered_on=entered_on,
            updated_at=now,
        )
        births_recompute(mother_ids=[old_mother_id, mother.pk])
    current.refresh_from_db()
    return current


@transaction.atomic
def birth_void(*, birth: Birth, reason: str, by: User | None) -> Birth:
    """作废出生登记 (a wrong or duplicate entry): the row and its history stay, the child's person record
    stays; the mother's later births move up in order and their policy status is recomputed."""
    return _void(
        Birth,
        birth,
        reason=reason,
        by=by,
        what="出生登记",
        cascade=lambda b: births_recompute(mother_ids=[b.mother_id]),
    )


# marriages


def _check_couple_sequence(wife_id: int, husband_id: int, *, field: str = "kind") -> None:
    """A couple's live events, by date, alternate 结婚 → 离婚 → 结婚 …: no divorce without a marriage before
    it, no second marriage without a divorce between (one couple has only a handful of events)."""
    events = Marriage.objects.filter(wife_id=wife_id, husband_id=husband_id).order_by("date", "id")
    married = False
    for event in events.values_list("kind", flat=True):
        if event == MarriageKind.DIVORCE and not married:
            raise RuleViolation(
                "这两人在离婚登记之前没有结婚登记，请先更正或作废离婚登记", field=field, code="no_marriage"
            )
        if event == MarriageKind.MARRIAGE and married:
            raise RuleViolation("这两人已登记结婚，未离婚前不能重复登记", field=field, code="already_married")
        married = event == MarriageKind.MARRIAGE


@transaction.atomic
def marriage_correct(
    *, marriage: Marriage, version=None, kind: str, on: date, reason: str, by: User | None, confirmed: bool = False
) -> Marriage:
    """更正婚姻登记 (type or date); both spouses' marital status follows."""
    reason = _reason(reason, what="更正婚姻登记")
    _may_correct(by, marriage.village_id)
    current = _lock_live(Marriage, marriage, version=version)
    if kind not in MarriageKind.values:
        raise RuleViolation("类型应为结婚或离婚", field="kind", code="invalid")
    _check_event_date(current.wife, on, what="登记")
    _check_event_date(current.husband, on, what="登记")
    same = Marriage.objects.filter(wife_id=current.wife_id, husband_id=current.husband_id, kind=kind, date=on)
    if same.exclude(pk=current.pk).exists():
        raise RuleViolation("该婚姻登记已存在", code="duplicate")
    checked = plausibility.confirm(
        plausibility.check_marriage(wife=current.wife, husband=current.husband, kind=kind, on=on, marriage=current),
        confirmed=confirmed,
    )
    with audit_context(by, reason="；".join(filter(None, (reason, checked)))):
        Marriage.all_objects.filter(pk=current.pk).update(kind=kind, date=on, updated_at=timezone.now())
        _check_couple_sequence(current.wife_id, current.husband_id)  # rolled back with the update if broken
        marital_status_sync(person_ids=[current.wife_id, current.husband_id])
    current.refresh_from_db()
    return current


@transaction.atomic
def marriage_void(*, marriage: Marriage, reason: str, by: User | None) -> Marriage:
    """作废婚姻登记 (e.g. a duplicate, or the wrong spouse): both spouses' marital status is recomputed from
    their remaining events (no event left: 未婚)."""

    def cascade(m: Marriage) -> None:
        _check_couple_sequence(m.wife_id, m.husband_id, field=None)  # rolled back with the void if broken
        marital_status_sync(person_ids=[m.wife_id, m.husband_id])

    return _void(Marriage, marriage, reason=reason, by=by, what="婚姻登记", cascade=cascade)


# moves


@transaction.atomic
def move_correct(
    *,
    move: Move,
    version=None,
    kind: str,
    on: date,
    origin_code: str,
    destination_code: str,
    certificate_number: str = "",
    reason: str,
    by: User | None,
    confirmed: bool = False,
) -> Move:
    """更正迁移流动: the same rules as recording it; the person's current village follows (residence_sync),
    and so does the residence at every date."""

    reason = _reason(reason, what="更正迁移流动")
    _may_correct(by, move.village_id)
    current = _lock_live(Move, move, version=version)
    village = _move_village(kind=kind, origin_code=origin_code, destination_code=destination_code, by=by)
    _check_event_date(current.person, on, what="迁移")
    if Move.objects.filter(person_id=current.person_id, kind=kind, date=on).exclude(pk=current.pk).exists():
        raise RuleViolation("该迁移记录已存在", code="duplicate")
    checked = plausibility.confirm(
        plausibility.check_move(
            person=current.person,
            kind=kind,
            on=on,
            origin_code=origin_code,
            destination_code=destination_code,
            move=current,
        ),
        confirmed=confirmed,
    )
    with audit_context(by, reason="；".join(filter(None, (reason, checked)))):
        Move.all_objects.filter(pk=current.pk).update(
            kind=kind,
            date=on,
            origin_code=origin_code,
            destination_code=destination_code,
            certificate_number=(certificate_number or "").strip(),
            village=village,
            updated_at=timezone.now(),
        )
        residence_sync(person_ids=[current.person_id])
    current.refresh_from_db()
    return current


@transaction.atomic
def move_void(*, move: Move, reason: str, by: User | None) -> Move:
    """作废迁移流动: the person's current village goes back to what the remaining moves say, and the right
    move can then be entered (uniqueness holds among live moves only)."""
    return _void(
        Move, move, reason=reason, by=by, what="迁移流动", cascade=lambda m: residence_sync(person_ids=[m.person_id])
    )


# deaths


@transaction.atomic
def death_correct(
    *, death: Death, version=None, on: date, reason: str, by: User | None, confirmed: bool = False
) -> Death:
    """更正死亡日期: the person's death date, the contraception the death closed and the spouses' marital
    status follow (death_sync)."""
    reason = _reason(reason, what="更正死亡登记")
    _may_correct(by, death.village_id)
    current = _lock_live(Death, death, version=version)
    person = current.person
    if on > _today():
        raise RuleViolation("死亡日期不能晚于今天", field="date", code="future")
    if on < person.birth_date:
        raise RuleViolation(
            f"死亡日期{on:%Y-%m-%d}早于{person.name}的出生日期{person.birth_date:%Y-%m-%d}",
            field="date",
            code="before_birth",
        )
    later = {
        "出生登记": Birth.objects.filter(mother=person, date__gt=on),
        "婚姻登记": Marriage.objects.filter(Q(wife=person) | Q(husband=person), date__gt=on),
        "迁移流动": Move.objects.filter(person=person, date__gt=on),
        "避孕措施": ContraceptiveUse.objects.filter(person=person, start_date__gt=on),
    }
    for label, qs in later.items():
        if qs.exists():
            raise RuleViolation(f"该人员在{on:%Y-%m-%d}之后还有{label}记录，请核对死亡日期", field="date")
    checked = plausibility.confirm(plausibility.check_death(person=person, on=on, death=current), confirmed=confirmed)
    with audit_context(by, reason="；".join(filter(None, (reason, checked)))):
        Death.all_objects.filter(pk=current.pk).update(date=on, updated_at=timezone.now())
        death_sync(person_ids=[person.pk])
    current.refresh_from_db()
    return current


@transaction.atomic
def death_void(*, death: Death, reason: str, by: User | None) -> Death:
    """作废死亡登记 (the person is alive): the death date is cleared, the contraception that this death closed
    (and only that) is in use again, and the spouses are married again rather than widowed."""
    return _void(
        Death, death, reason=reason, by=by, what="死亡登记", cascade=lambda d: death_sync(person_ids=[d.person_id])
    )


# contraception


@transaction.atomic
def contraception_correct(
    *,
    use: ContraceptiveUse,
    version=None,
    method: str,
    start: date,
    end: date | None,
    reason: str,
    by: User | None,
    confirmed: bool = False,
) -> ContraceptiveUse:
    """更正避孕措施 (method, start, end) under the rules of recording; a method left open for a person who
    died is closed on the death date again by the one death rule."""
    reason = _reason(reason, what="更正避孕措施")
    _may_correct(by, use.village_id)
    current = _lock_live(ContraceptiveUse, use, version=version)
    person = current.person
    _check_method(person, method)
    _check_event_date(person, start, field="start_date", what="开始")
    if end is not None:
        if end < start:
            raise RuleViolation("结束日期不能早于开始日期", field="end_date", code="invalid")
        _check_event_date(person, end, field="end_date", what="结束")
    same = ContraceptiveUse.objects.filter(person=person, method=method, start_date=start).exclude(pk=current.pk)
    if same.exists():
        raise RuleViolation("该避孕措施记录已存在", code="duplicate")
    checked = plausibility.confirm(
        plausibility.check_contraception(person=person, start=start, use=current), confirmed=confirmed
    )
    with audit_context(by, reason="；".join(filter(None, (reason, checked)))):
        ContraceptiveUse.all_objects.filter(pk=current.pk).update(
            method=method, start_date=start, end_date=end, closed_by_death=False, updated_at=timezone.now()
        )
        contraception_sync(person_ids=[person.pk])
    current.refresh_from_db()
    return current


@transaction.atomic
def contraception_void(*, use: ContraceptiveUse, reason: str, by: User | None) -> ContraceptiveUse:
    """作废避孕措施: out of every count; nothing else depends on it."""
    return _void(ContraceptiveUse, use, reason=reason, by=by, what="避孕措施")


# permits


@transaction.atomic
def permit_correct(
    *,
    permit: BirthPermit,
    version=None,
    number: str,
    kind: str,
    child_order: int,
    issued_on: date,
    valid_until: date | None,
    issued_by: str = "",
    reason: str,
    by: User | None,
    confirmed: bool = False,
) -> BirthPermit:
    """更正生育证件: the policy status of the wife's births is recomputed under the corrected permit."""
    from apps.registry.models import PermitKind

    reason = _reason(reason, what="更正生育证件")
    _may_correct(by, permit.village_id)
    current = _lock_live(BirthPermit, permit, version=version)
    number = (number or "").strip()
    if not number:
        raise RuleViolation("证号不能为空", field="number", code="required")
    if kind not in PermitKind.values:
        raise RuleViolation("证件类型不正确", field="kind", code="invalid")
    if child_order is None or child_order < 1:
        raise RuleViolation("准生孩次应为正整数", field="child_order", code="invalid")
    if BirthPermit.objects.filter(number=number).exclude(pk=current.pk).exists():
        raise RuleViolation(f"证号{number}已存在", field="number", code="duplicate")
    if valid_until and valid_until < issued_on:
        raise RuleViolation("有效期不能早于发证日期", field="valid_until", code="invalid")
    _check_event_date(current.wife, issued_on, field="issued_on", what="发证")
    checked = plausibility.confirm(
        plausibility.check_permit(wife=current.wife, husband=current.husband, issued_on=issued_on, permit=current),
        confirmed=confirmed,
    )
    with audit_context(by, reason="；".join(filter(None, (reason, checked)))):
        BirthPermit.all_objects.filter(pk=current.pk).update(
            number=number,
            kind=kind,
            child_order=child_order,
            issued_on=issued_on,
            valid_until=valid_until,
            issued_by=(issued_by or "").strip(),
            updated_at=timezone.now(),
        )
        births_recompute(mother_ids=[current.wife_id])
    current.refresh_from_db()
    return current


@transaction.atomic
def permit_void(*, permit: BirthPermit, reason: str, by: User | None) -> BirthPermit:
    """作废生育证件: it covers no birth any more; the wife's births' policy status is recomputed."""
    return _void(
        BirthPermit,
        permit,
        reason=reason,
        by=by,
        what="生育证件",
        cascade=lambda p: births_recompute(mother_ids=[p.wife_id]),
    )
