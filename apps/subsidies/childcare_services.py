"""育儿补贴申领 (applications) — entered by a clerk (``childcare_application_submit``) or imported (the
``childcare_applications`` sheet, ``apps.imports.kinds.childcare``): both run the one set-based check
``application_problems_sql`` over their candidates, so a rule is written once for one row and for a file."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.accounts.models import Role, User
from apps.areas.models import Area, AreaLevel
from apps.core.areacodes import code_range
from apps.core.audit import audit_context
from apps.core.errors import RuleViolation
from apps.core.idnumbers import parse_id_number
from apps.core.scoping import NOTHING, user_scope
from apps.registry.models import Person
from apps.registry.rules import hukou_at_sql
from apps.subsidies.childcare import rule_terms
from apps.subsidies.models import (
    AccountKind,
    ApplicationStatus,
    BankAccount,
    ChildcareApplication,
    Programme,
    Relationship,
)
from apps.subsidies.services import account_number_clean

# problem code -> (field of the form, column of the sheet, message). No message names the child or the
# applicant, nor says where a person outside the user's area is registered.
CHILD_NOT_IN_SCOPE = "在您的管辖范围内没有该身份证号的婴幼儿"
PROBLEMS: dict[str, tuple[str, str, str]] = {
    "child_unknown": ("child_id_number", "婴儿身份证号", CHILD_NOT_IN_SCOPE),
    "before_birth": ("applied_on", "申请日期", "申请日期早于婴幼儿的出生日期"),
    "before_start": ("applied_on", "申请日期", "申请日期早于育儿补贴的实施日期"),
    "hukou_out": ("child_id_number", "婴儿身份证号", "该婴幼儿的户籍不在本县，不能申领本县育儿补贴"),
    "hukou_elsewhere": (
        "child_id_number",
        "婴儿身份证号",
        "该婴幼儿的户籍在本县其他乡镇（村），请由户籍地受理申领",
    ),
    "too_old": ("child_id_number", "婴儿身份证号", "该婴幼儿在育儿补贴实施前已满3周岁，不在补贴范围内"),
    "applicant_unknown": (
        "applicant_id_number",
        "申请人身份证号",
        "申请人的身份证号未登记；请先登记申请人（县外的父母可在出生登记时录入简要记录）",
    ),
    "applicant_dead": ("applicant_id_number", "申请人身份证号", "申请人已登记死亡，请由另一方父母或监护人申领"),
    "no_birth": (
        "relationship",
        "申请人与婴儿关系",
        "该婴幼儿没有出生登记，无法核对父母；请先登记出生，或按其他监护人申领",
    ),
    "not_father": ("relationship", "申请人与婴儿关系", "申请人不是该婴幼儿出生登记中的父亲"),
    "not_mother": ("relationship", "申请人与婴儿关系", "申请人不是该婴幼儿出生登记中的母亲"),
    "guardian_is_parent": ("relationship", "申请人与婴儿关系", "申请人是该婴幼儿的父母，关系请选父亲或母亲"),
}
DUPLICATE = "该申请人已为该婴幼儿申领，不能重复申领"


def childcare_programme() -> Programme:
    """The programme paid on application (育儿补贴)."""
    programme = Programme.objects.filter(by_application=True, is_active=True).order_by("code").first()
    if programme is None:
        raise RuleViolation("没有启用的育儿补贴项目", code="no_programme")
    return programme


@dataclass(frozen=True)
class CheckParams:
    """What ``application_problems_sql`` needs besides the candidates."""

    scope: tuple[str, str]  # where the user may place an application (the county for a system job)
    county: tuple[str, str]
    first_day: date  # the programme's start (its earliest rule)
    months: int  # the age limit in months

    def as_dict(self) -> dict:
        return {
            "cc_scope_lo": self.scope[0],
            "cc_scope_hi": self.scope[1],
            "cc_county_lo": self.county[0],
            "cc_county_hi": self.county[1],
            "cc_first": self.first_day,
            "cc_months": self.months,
        }


def check_params(*, programme: Programme, scope: tuple[str, str] | None) -> CheckParams:
    """``scope``: the user's code range (``core.scoping.user_scope``), None for the whole county."""
    rules = list(programme.rules.all())
    if not rules:
        raise RuleViolation("育儿补贴项目没有资格规则", code="no_rules")
    county = Area.objects.filter(level=AreaLevel.COUNTY).values_list("code", flat=True).first()
    county_range = code_range(county)
    return CheckParams(
        scope=scope or county_range,
        county=county_range,
        first_day=min(r.valid_from for r in rules),
        months=max(rule_terms(r)[0] for r in rules),
    )


def application_problems_sql(candidates: str) -> str:
    """For each candidate ``(key, child_id, applicant_id, relationship, applied_on)`` (an SQL query), the first
    problem code of ``PROBLEMS`` (NULL when none) and the village the application belongs to: the child's
    户籍 village on the application day (its residence when the 户籍 names no village). The child must be
    visible to the user (residence in scope) and have its 户籍 in the county and the user's area; a parent
    must be the birth record's parent, a guardian someone else; the applicant registered and alive."""
    hukou = hukou_at_sql(person="ch", on="c.applied_on")
    return f"""
SELECT c.key,
    CASE
        WHEN ch.id IS NULL OR ch.merged_into_id IS NOT NULL OR ch.is_external
             OR NOT (ch.village_id >= %(cc_scope_lo)s AND ch.village_id < %(cc_scope_hi)s) THEN 'child_unknown'
        WHEN c.applied_on < ch.birth_date THEN 'before_birth'
        WHEN c.applied_on < %(cc_first)s THEN 'before_start'
        WHEN NOT (hk.code >= %(cc_county_lo)s AND hk.code < %(cc_county_hi)s) THEN 'hukou_out'
        WHEN NOT (pl.place >= %(cc_scope_lo)s AND pl.place < %(cc_scope_hi)s) THEN 'hukou_elsewhere'
        WHEN date_trunc('month', ch.birth_date::timestamp) + make_interval(months => %(cc_months)s)
             <= date_trunc('month', %(cc_first)s::timestamp) THEN 'too_old'
        WHEN ap.id IS NULL OR ap.merged_into_id IS NOT NULL THEN 'applicant_unknown'
        WHEN ap.death_date IS NOT NULL THEN 'applicant_dead'
        WHEN c.relationship IN ('father', 'mother') AND b.id IS NULL THEN 'no_birth'
        WHEN c.relationship = 'father' AND b.father_id IS DISTINCT FROM ap.id THEN 'not_father'
        WHEN c.relationship = 'mother' AND b.mother_id <> ap.id THEN 'not_mother'
        WHEN c.relationship = 'guardian' AND (ap.id = b.mother_id OR ap.id = b.father_id) THEN 'guardian_is_parent'
    END AS problem,
    pl.place AS village_id
FROM ({candidates}) c
LEFT JOIN registry_person ch ON ch.id = c.child_id
LEFT JOIN registry_person ap ON ap.id = c.applicant_id
LEFT JOIN registry_birth b ON b.child_id = ch.id AND b.voided_at IS NULL
LEFT JOIN LATERAL (SELECT {hukou} AS code) hk ON ch.id IS NOT NULL
LEFT JOIN areas_area v ON v.code = hk.code AND v.level = 'village'
CROSS JOIN LATERAL (SELECT coalesce(v.code, ch.village_id) AS place) pl
"""  # noqa: S608


def _require_clerk(by: User | None) -> None:
    if by is not None and (
        not by.is_authenticated
        or not by.has_role(Role.VILLAGE_CLERK, Role.TOWNSHIP_CLERK, Role.SUBSIDY_REVIEWER, Role.COUNTY_ADMIN)
    ):
        raise RuleViolation("您没有受理育儿补贴申领的权限", code="forbidden")


def account_kind_of(number: str) -> str:
    """A sheet gives no account type: a number that passes as a bank card (16–19 digits, Luhn) is a card."""
    try:
        account_number_clean(kind=AccountKind.CARD, raw=number)
    except RuleViolation:
        return AccountKind.PASSBOOK
    return AccountKind.CARD


def _person_by_number(raw: str, *, field: str, label: str) -> Person | None:
    try:
        number = parse_id_number(raw).number
    except RuleViolation as exc:
        raise RuleViolation(f"{label}：{exc.message}", field=field, code=exc.code) from None
    return Person.objects.filter(id_number=number).first()


@transaction.atomic
def childcare_application_submit(
    *,
    child_id_number: str,
    applicant_id_number: str,
    relationship: str,
    applied_on: date,
    bank_name: str,
    account_number: str,
    account_kind: str = "",
    guardian_basis: str = "",
    by: User | None,
) -> ChildcareApplication:
    """受理申领: checks the child, the applicant and the relationship (``application_problems_sql``), records
    the applicant's own account (replacing an older active one) and the application."""
    _require_clerk(by)
    programme = childcare_programme()
    if relationship not in Relationship.values:
        raise RuleViolation("申请人与婴儿关系应为父亲、母亲或其他监护人", field="relationship")
    basis = unicodedata.normalize("NFKC", guardian_basis or "").strip()
    if relationship == Relationship.GUARDIAN and not basis:
        raise RuleViolation("其他监护人申领须填写监护依据", field="guardian_basis", code="required")
    if applied_on is None or applied_on > timezone.localdate():
        raise RuleViolation("申请日期不能晚于今天", field="applied_on")
    kind = account_kind or account_kind_of(unicodedata.normalize("NFKC", account_number or "").strip())
    number = account_number_clean(kind=kind, raw=account_number)
    bank = (bank_name or "").strip()
    if not bank:
        raise RuleViolation("请填写开户银行", field="bank_name", code="required")
    child = _person_by_number(child_id_number, field="child_id_number", label="婴儿身份证号")
    applicant = _person_by_number(applicant_id_number, field="applicant_id_number", label="申请人身份证号")
    scope = user_scope(by)
    if scope == NOTHING:
        raise RuleViolation("您的账号未绑定区划", code="forbidden")
    params = check_params(programme=programme, scope=scope)
    candidate = "SELECT 0 AS key, %(cc_child)s::bigint AS child_id, %(cc_applicant)s::bigint AS applicant_id, " \
        "%(cc_relationship)s::varchar AS relationship, %(cc_applied_on)s::date AS applied_on"  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            application_problems_sql(candidate),
            params.as_dict()
            | {
                "cc_child": child.pk if child else None,
                "cc_applicant": applicant.pk if applicant else None,
                "cc_relationship": relationship,
                "cc_applied_on": applied_on,
            },
        )
        _, problem, village = cursor.fetchone()
    if problem:
        field, _, message = PROBLEMS[problem]
        raise RuleViolation(message, field=field, code=problem)
    if ChildcareApplication.objects.filter(
        programme=programme, child=child, applicant=applicant, status=ApplicationStatus.ACTIVE
    ).exists():
        raise RuleViolation(DUPLICATE, field="applicant_id_number", code="duplicate")
    with audit_context(by, reason="育儿补贴申领"):
        account = BankAccount.objects.filter(person=applicant, is_active=True).first()
        if account is None or (account.account_number, account.bank_name) != (number, bank):
            BankAccount.objects.filter(person=applicant, is_active=True).update(is_active=False)
            account = BankAccount.objects.create(
                person=applicant,
                village_id=applicant.village_id,
                kind=kind,
                bank_name=bank,
                account_number=number,
                created_by=by,
            )
        try:
            with transaction.atomic():
                return ChildcareApplication.objects.create(
                    programme=programme,
                    child=child,
                    applicant=applicant,
                    relationship=relationship,
                    guardian_basis=basis if relationship == Relationship.GUARDIAN else "",
                    applied_on=applied_on,
                    account=account,
                    village_id=village,
                    created_by=by,
                )
        except IntegrityError as exc:  # the same application entered at the same moment by someone else
            if "childcare_application_once_per_applicant" not in str(exc):
                raise
            raise RuleViolation(DUPLICATE, field="applicant_id_number", code="duplicate") from None


@transaction.atomic
def childcare_application_close(
    *, application: ChildcareApplication, status: str, reason: str, by: User | None
) -> ChildcareApplication:
    """撤回 (the applicant withdraws) or 不予受理 (refused on review), with the reason; months already paid
    stay paid, later months go to another standing application or stop (the roster says why)."""
    _require_clerk(by)
    if status not in (ApplicationStatus.WITHDRAWN, ApplicationStatus.REJECTED):
        raise RuleViolation("状态应为已撤回或不予受理", field="status")
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("请填写原因", field="reason", code="required")
    application = ChildcareApplication.objects.select_for_update().get(pk=application.pk)
    if application.status != ApplicationStatus.ACTIVE:
        raise RuleViolation(f"该申领已是“{application.get_status_display()}”", code="state")
    with audit_context(by, reason=f"育儿补贴申领{ApplicationStatus(status).label}"):
        application.status = status
        application.status_reason = reason[:200]
        application.save(update_fields=["status", "status_reason"])
    return application
