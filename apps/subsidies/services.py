"""Writes of the subsidy app: roster generation, the review workflow, bank accounts, batches, bank returns.

Every write runs in a transaction under ``pghistory.context`` (user, reason) so the audit trail says who did
it and why. Rules that must never break are database constraints (models.py); the workflow's permissions
(who may submit, review, approve, pay) are checked here and raise ``RuleViolation``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Max
from django.utils import timezone
from stdnum import luhn

from apps.accounts.models import Role, User
from apps.areas.models import Area, AreaLevel
from apps.core import pagecache, spreadsheets
from apps.core.areacodes import code_range, contains, county_of
from apps.core.audit import audit_context
from apps.core.dated import in_force
from apps.core.errors import RuleViolation
from apps.core.scoping import ensure_area_in_scope
from apps.registry.models import Person
from apps.registry.rules import living_county_person_sql
from apps.subsidies.childcare import childcare_fill_sql
from apps.subsidies.eligibility import reference_date, roster_fill_sql
from apps.subsidies.models import (
    AccountKind,
    BankAccount,
    BatchStatus,
    Change,
    CorrectionAction,
    DisabilityRecord,
    Objection,
    ObjectionStatus,
    Payment,
    PaymentBatch,
    PaymentStatus,
    Programme,
    ProgrammeRule,
    Roster,
    RosterCorrection,
    RosterEntry,
    RosterStatus,
    RosterStep,
    StepKind,
)
from apps.subsidies.periods import Period, period_parse, period_previous
from apps.subsidies.selectors import ENTRY_NOT_PAYABLE_SQL


def _today() -> date:
    return timezone.localdate()


def _require(by: User, *roles: str, message: str) -> None:
    if by is None or not by.is_authenticated or not by.has_role(*roles):
        raise RuleViolation(message, code="forbidden")


def _require_area(by: User, code: str) -> None:
    ensure_area_in_scope(user=by, code=code, field=None, message="该名册不在您的管辖范围内")


def _level(user: User) -> str | None:
    return user.area.level if user.area_id else None


def rules_in_force(*, programme: Programme, on: date) -> list[ProgrammeRule]:
    return list(in_force(programme.rules.all(), on).order_by("priority", "id"))


# --- eligibility and rosters --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    period: Period
    previous: Period
    ref: date
    rules: list[ProgrammeRule]
    low: str
    high: str


def _generation_plan(*, programme: Programme, period: str, by: User | None, county: str | None) -> _Plan:
    """The checks before an evaluation (who, which period, which rules, nothing under review yet)."""
    if by is not None:
        _require(by, Role.SUBSIDY_REVIEWER, Role.SUBSIDY_APPROVER, Role.COUNTY_ADMIN, message="您没有生成名册的权限")
        if not by.is_superuser and _level(by) != AreaLevel.COUNTY:
            raise RuleViolation("名册由县级统一生成", code="forbidden")
    county = county or (county_of(by.area_id) if by is not None and by.area_id else None)
    if county is None:
        county = Area.objects.filter(level=AreaLevel.COUNTY).values_list("code", flat=True).first()
    if not programme.is_active:
        raise RuleViolation("该项目已停用", field="programme")
    p = period_parse(period, kind=programme.period_kind)
    ref = reference_date(programme=programme, start=p.start, end=p.end)
    rules = rules_in_force(programme=programme, on=ref)
    if not rules:
        raise RuleViolation("该期间没有有效的资格规则", field="period", code="no_rules")
    low, high = code_range(county)
    locked = Roster.objects.filter(programme=programme, period=p.code, township_id__gte=low, township_id__lt=high)
    if locked.exclude(status=RosterStatus.DRAFT).exists():
        raise RuleViolation("本期名册已上报或审核，不能重新生成；如需更正请先退回", field="period", code="locked")
    return _Plan(p, period_previous(p, kind=programme.period_kind), ref, rules, low, high)


def rosters_generate_request(*, programme: Programme, period: str, by: User) -> str:
    """Checks the request now (the user sees a refusal at once) and evaluates the county in the background
    (``subsidies.generate_rosters``) once this transaction commits. Returns the normalised period code."""
    plan = _generation_plan(programme=programme, period=period, by=by, county=None)

    def send() -> None:
        from apps.subsidies.tasks import generate_rosters

        generate_rosters.delay(programme.pk, plan.period.code, by.pk)

    transaction.on_commit(send)
    return plan.period.code


@transaction.atomic
def rosters_generate(*, programme: Programme, period: str, by: User | None, county: str | None = None) -> int:
    """资格认定: evaluates the programme over the whole county for ``period`` and (re)fills the draft roster
    of every township in one ``INSERT … SELECT``. Returns the number of roster entries written.

    Refused once any township's roster of the period has been submitted: a roster under review is not
    silently rewritten (return it first). Idempotent: running it again rewrites the same draft rosters. The
    corrections made to a returned roster (名册更正) are decisions with reasons: they are applied again to what
    the evaluation now gives (``_CORRECTIONS_REPLAY_SQL``), not lost with the old entries."""
    plan = _generation_plan(programme=programme, period=period, by=by, county=county)
    p, low, high = plan.period, plan.low, plan.high
    if programme.by_application:  # 育儿补贴: every rule of the programme, for the back months too
        sql = childcare_fill_sql(rules=list(programme.rules.order_by("priority", "id")))
    else:
        sql = roster_fill_sql(rules=plan.rules, subject=programme.subject)
    rosters = Roster.objects.filter(programme=programme, period=p.code, township_id__gte=low, township_id__lt=high)
    with audit_context(by, reason=f"资格认定 {programme.code} {p.code}"):
        RosterStep.objects.filter(roster__in=rosters, superseded=False).update(superseded=True)
        RosterEntry.objects.filter(roster__in=rosters).delete()
        now = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO subsidies_roster
                    (programme_id, township_id, period, period_start, period_end, status, evaluated_at)
                SELECT %s, a.code, %s, %s, %s, 'draft', %s FROM areas_area a
                WHERE a.level = 'township' AND a.code >= %s AND a.code < %s
                ON CONFLICT (programme_id, township_id, period) DO UPDATE SET evaluated_at = EXCLUDED.evaluated_at
                """,
                [programme.pk, p.code, p.start, p.end, now, low, high],
            )
            cursor.execute(
                sql,
                {
                    "ref": plan.ref,
                    "low": low,
                    "high": high,
                    "programme": programme.pk,
                    "period": p.code,
                    "previous": plan.previous.code,
                    "start": p.start,
                    "end": p.end,
                },
            )
            written = cursor.rowcount
            if not programme.by_application:  # corrected through applications, not on the roster
                replay = {"programme": programme.pk, "period": p.code, "low": low, "high": high}
                for statement in _CORRECTIONS_REPLAY_SQL:
                    cursor.execute(statement, replay)
            pagecache.bump("subsidies")  # set-based: no row signals
            return written


# 名册更正 applied again after the evaluation has refilled the rosters of a programme's period: for each person
# with corrections, the last add or removal decides whether the person is on the roster (none: as evaluated),
# and the last add's or change's category (rule) is the one paid. A change of an entry the evaluation no
# longer gives, or of a leaving entry, has nothing to act on (as when it was made). One fold, three statements.
_CORRECTIONS_FOLD = f"""
WITH fold AS (
    SELECT c.roster_id, c.person_id,
        (array_agg(c.action ORDER BY c.at DESC, c.id DESC)
            FILTER (WHERE c.action <> '{CorrectionAction.CHANGE}'))[1] AS anchor,
        (array_agg(c.rule_id ORDER BY c.at DESC, c.id DESC)
            FILTER (WHERE c.action <> '{CorrectionAction.REMOVE}' AND c.rule_id IS NOT NULL))[1] AS rule_id
    FROM subsidies_rostercorrection c JOIN subsidies_roster r ON r.id = c.roster_id
    WHERE r.programme_id = %(programme)s AND r.period = %(period)s
      AND r.township_id >= %(low)s AND r.township_id < %(high)s
    GROUP BY c.roster_id, c.person_id
)
"""  # noqa: S608 - constants of the model, no value
_CORRECTIONS_REMOVE = f"""
    DELETE FROM subsidies_rosterentry e USING fold f
    WHERE f.anchor = '{CorrectionAction.REMOVE}'
      AND e.roster_id = f.roster_id AND e.person_id = f.person_id AND e.month = ''
"""  # noqa: S608 - a constant of the model, no value
_CORRECTIONS_CHANGE = f"""
    UPDATE subsidies_rosterentry e SET rule_id = g.id, category = g.category, amount = g.amount
    FROM fold f JOIN subsidies_programmerule g ON g.id = f.rule_id
    WHERE f.anchor IS DISTINCT FROM '{CorrectionAction.REMOVE}'
      AND e.roster_id = f.roster_id AND e.person_id = f.person_id AND e.month = '' AND e.change <> '{Change.LEAVING}'
"""  # noqa: S608 - a constant of the model, no value
_CORRECTIONS_ADD = f"""
    INSERT INTO subsidies_rosterentry
        (roster_id, person_id, payee_id, village_id, rule_id, category, amount, change, reason_codes, month)
    SELECT f.roster_id, f.person_id, f.person_id, p.village_id, g.id, g.category, g.amount, '{Change.NEW}',
           '{{}}', ''
    FROM fold f JOIN subsidies_programmerule g ON g.id = f.rule_id
    JOIN subsidies_roster r ON r.id = f.roster_id
    JOIN registry_person p ON p.id = f.person_id
    WHERE f.anchor = '{CorrectionAction.ADD}'
      -- the bounds ``roster_entry_add`` checked: alive, one county record, a resident of the roster's township
      AND {living_county_person_sql("p")}
      AND left(p.village_id, 9) || '000' = r.township_id
      AND NOT EXISTS (SELECT FROM subsidies_rosterentry e WHERE e.roster_id = f.roster_id
                      AND e.person_id = f.person_id AND e.month = '')
"""  # noqa: S608 - constants of the model, no value
_CORRECTIONS_REPLAY_SQL = tuple(
    _CORRECTIONS_FOLD + statement for statement in (_CORRECTIONS_REMOVE, _CORRECTIONS_CHANGE, _CORRECTIONS_ADD)
)


def _village_codes_with_entries(roster: Roster) -> set[str]:
    return set(roster.entries.values_list("village_id", flat=True).distinct())


def _village_submitted(*, roster: Roster, village_id: str, by: User, comment: str, on_behalf: bool) -> Roster:
    if roster.status != RosterStatus.DRAFT:
        raise RuleViolation(f"名册当前状态为“{roster.get_status_display()}”，不能上报", code="state")
    if RosterStep.objects.filter(
        roster=roster, kind=StepKind.VILLAGE_SUBMIT, village_id=village_id, superseded=False
    ).exists():
        raise RuleViolation("该村已上报该名册", code="duplicate")
    with audit_context(by, reason="乡镇代村上报" if on_behalf else "村级上报"):
        RosterStep.objects.create(
            roster=roster,
            kind=StepKind.VILLAGE_SUBMIT,
            village_id=village_id,
            by=by,
            comment=comment.strip(),
            on_behalf=on_behalf,
        )
        submitted = set(
            RosterStep.objects.filter(roster=roster, kind=StepKind.VILLAGE_SUBMIT, superseded=False).values_list(
                "village_id", flat=True
            )
        )
        if _village_codes_with_entries(roster) <= submitted:
            roster.status = RosterStatus.SUBMITTED
            roster.save(update_fields=["status"])
    return roster


@transaction.atomic
def roster_village_submit(*, roster: Roster, by: User, comment: str = "") -> Roster:
    """村级上报: a village clerk confirms the village's part of the roster; when every village with
    beneficiaries has confirmed, the roster goes to the township."""
    _require(by, Role.VILLAGE_CLERK, message="只有村级录入员可以上报名册")
    roster = Roster.objects.select_for_update().get(pk=roster.pk)
    if _level(by) != AreaLevel.VILLAGE or not contains(roster.township_id, by.area_id):
        raise RuleViolation("该名册不属于您所在的村", code="out_of_scope")
    return _village_submitted(roster=roster, village_id=by.area_id, by=by, comment=comment, on_behalf=False)


@transaction.atomic
def roster_village_submit_on_behalf(*, roster: Roster, village_code: str, by: User, comment: str) -> Roster:
    """乡镇代村上报: the township's subsidy reviewer submits a village's part (a village without a clerk, a
    clerk away) with the reason, which the step keeps; the village is named on the step as usual."""
    _require(by, Role.SUBSIDY_REVIEWER, message="只有乡镇奖扶审核员可以代村上报")
    roster = Roster.objects.select_for_update().get(pk=roster.pk)
    _require_area(by, roster.township_id)
    if _level(by) != AreaLevel.TOWNSHIP:
        raise RuleViolation("代村上报由乡镇办理", code="forbidden")
    if not comment.strip():
        raise RuleViolation("代村上报时请填写原因", field="comment", code="required")
    if village_code not in _village_codes_with_entries(roster):
        raise RuleViolation("该村在本名册中没有人员，无需上报", field="village", code="no_entries")
    return _village_submitted(roster=roster, village_id=village_code, by=by, comment=comment, on_behalf=True)


@transaction.atomic
def roster_review(*, roster: Roster, by: User, comment: str = "") -> Roster:
    """乡镇审核: the township's subsidy reviewer passes the roster to the county."""
    _require(by, Role.SUBSIDY_REVIEWER, message="只有奖扶审核员可以审核名册")
    roster = Roster.objects.select_for_update().get(pk=roster.pk)
    _require_area(by, roster.township_id)
    if _level(by) == AreaLevel.VILLAGE:
        raise RuleViolation("名册由乡镇审核", code="forbidden")
    if roster.status != RosterStatus.SUBMITTED:
        raise RuleViolation(f"名册当前状态为“{roster.get_status_display()}”，不能审核", code="state")
    with audit_context(by, reason="乡镇审核"):
        RosterStep.objects.create(roster=roster, kind=StepKind.TOWNSHIP_REVIEW, by=by, comment=comment.strip())
        roster.status = RosterStatus.REVIEWED
        roster.save(update_fields=["status"])
    return roster


@transaction.atomic
def roster_approve(*, roster: Roster, by: User, comment: str = "") -> Roster:
    """县级审批: the county approver approves; the public notice (公示) starts the same day and lasts the
    number of days the programme's rule in force says."""
    _require(by, Role.SUBSIDY_APPROVER, message="只有奖扶审批人可以审批名册")
    roster = Roster.objects.select_related("programme").select_for_update(of=("self",)).get(pk=roster.pk)
    _require_area(by, roster.township_id)
    if not by.is_superuser and _level(by) != AreaLevel.COUNTY:
        raise RuleViolation("名册由县级审批", code="forbidden")
    if roster.status != RosterStatus.REVIEWED:
        raise RuleViolation(f"名册当前状态为“{roster.get_status_display()}”，不能审批", code="state")
    ref = reference_date(programme=roster.programme, start=roster.period_start, end=roster.period_end)
    days = ProgrammeRule.objects.filter(pk__in=[r.pk for r in rules_in_force(programme=roster.programme, on=ref)])
    notice_days = days.aggregate(n=Max("notice_days"))["n"] or 0
    with audit_context(by, reason="县级审批"):
        RosterStep.objects.create(roster=roster, kind=StepKind.COUNTY_APPROVE, by=by, comment=comment.strip())
        roster.status = RosterStatus.APPROVED
        roster.approved_on = _today()
        roster.approved_by = by
        roster.notice_days = notice_days
        roster.save(update_fields=["status", "approved_on", "approved_by", "notice_days"])
    return roster


@transaction.atomic
def roster_return(*, roster: Roster, by: User, comment: str) -> Roster:
    """退回: the township (a submitted roster) or the county (a reviewed one) sends it back to the villages."""
    roster = Roster.objects.select_for_update().get(pk=roster.pk)
    _require_area(by, roster.township_id)
    if not comment.strip():
        raise RuleViolation("退回时请填写意见", field="comment", code="required")
    if roster.status == RosterStatus.SUBMITTED:
        _require(by, Role.SUBSIDY_REVIEWER, message="只有奖扶审核员可以退回待审核的名册")
    elif roster.status == RosterStatus.REVIEWED:
        _require(by, Role.SUBSIDY_APPROVER, message="只有奖扶审批人可以退回待审批的名册")
    else:
        raise RuleViolation(f"名册当前状态为“{roster.get_status_display()}”，不能退回", code="state")
    with audit_context(by, reason="退回"):
        RosterStep.objects.filter(roster=roster, superseded=False).update(superseded=True)
        RosterStep.objects.create(roster=roster, kind=StepKind.RETURN, by=by, comment=comment.strip())
        roster.status = RosterStatus.DRAFT
        roster.save(update_fields=["status"])
    return roster


# --- corrections of a returned roster, objections during the notice --------------------------------------


def _entry_label(entry: RosterEntry) -> str:
    return f"{entry.category or '—'} {entry.amount}元"


def _correction_allowed(*, roster: Roster, village_id: str, by: User) -> None:
    """A returned roster's entries are corrected by the village's clerk or the township's reviewer, before
    that village submits again; a roster the generation filled and nobody returned is not edited by hand."""
    _require(by, Role.VILLAGE_CLERK, Role.SUBSIDY_REVIEWER, message="您没有更正名册的权限")
    _require_area(by, village_id)
    if roster.programme.by_application:
        raise RuleViolation("按申领发放的项目请通过申领登记更正", code="by_application")
    if roster.status != RosterStatus.DRAFT or not roster.steps.filter(kind=StepKind.RETURN, superseded=False).exists():
        raise RuleViolation("只有被退回、尚未重新上报的名册可以更正", code="state")
    if roster.steps.filter(kind=StepKind.VILLAGE_SUBMIT, village_id=village_id, superseded=False).exists():
        raise RuleViolation("该村已重新上报，不能再更正", code="state")


def _rule_for(*, roster: Roster, rule: ProgrammeRule) -> ProgrammeRule:
    ref = reference_date(programme=roster.programme, start=roster.period_start, end=roster.period_end)
    if rule.pk not in {r.pk for r in rules_in_force(programme=roster.programme, on=ref)}:
        raise RuleViolation("所选类别不是本项目本期有效的规则", field="rule", code="rule")
    return rule


def _reason(reason: str) -> str:
    if not (reason or "").strip():
        raise RuleViolation("请填写更正原因", field="reason", code="required")
    return reason.strip()[:500]


@transaction.atomic
def roster_entry_remove(*, entry: RosterEntry, by: User, reason: str) -> RosterCorrection:
    """删除: a person who should not be on the returned roster."""
    roster = Roster.objects.select_related("programme").select_for_update(of=("self",)).get(pk=entry.roster_id)
    _correction_allowed(roster=roster, village_id=entry.village_id, by=by)
    reason = _reason(reason)
    with audit_context(by, reason=f"名册更正：{reason}"):
        correction = RosterCorrection.objects.create(
            roster=roster, person_id=entry.person_id, village_id=entry.village_id, action=CorrectionAction.REMOVE,
            before=_entry_label(entry), reason=reason, by=by,
        )  # fmt: skip
        entry.delete()
    pagecache.bump("subsidies")
    return correction


@transaction.atomic
def roster_entry_change(*, entry: RosterEntry, rule: ProgrammeRule, by: User, reason: str) -> RosterCorrection:
    """修改: another category of the programme (and so its amount), e.g. a disability grade corrected."""
    roster = Roster.objects.select_related("programme").select_for_update(of=("self",)).get(pk=entry.roster_id)
    _correction_allowed(roster=roster, village_id=entry.village_id, by=by)
    reason = _reason(reason)
    if entry.change == Change.LEAVING:
        raise RuleViolation("退出人员不能修改类别；如应继续享受，请删除后重新增加", code="leaving")
    rule = _rule_for(roster=roster, rule=rule)
    before = _entry_label(entry)
    with audit_context(by, reason=f"名册更正：{reason}"):
        entry.rule, entry.category, entry.amount = rule, rule.category, rule.amount
        entry.save(update_fields=["rule", "category", "amount"])
        correction = RosterCorrection.objects.create(
            roster=roster, person_id=entry.person_id, village_id=entry.village_id, action=CorrectionAction.CHANGE,
            rule=rule, before=before, after=_entry_label(entry), reason=reason, by=by,
        )  # fmt: skip
    pagecache.bump("subsidies")
    return correction


@transaction.atomic
def roster_entry_add(*, roster: Roster, person: Person, rule: ProgrammeRule, by: User, reason: str) -> RosterEntry:
    """增加: a person the evaluation missed (a record corrected since), paid to the person's own account."""
    roster = Roster.objects.select_related("programme").select_for_update(of=("self",)).get(pk=roster.pk)
    if not contains(roster.township_id, person.village_id):
        raise RuleViolation("该人员不在本名册所属乡镇", field="person", code="out_of_scope")
    _correction_allowed(roster=roster, village_id=person.village_id, by=by)
    reason = _reason(reason)
    rule = _rule_for(roster=roster, rule=rule)
    if person.death_date is not None:
        raise RuleViolation("该人员已登记死亡，不能列入名册", field="person", code="dead")
    # the evaluation's own bounds (eligibility.py): county residents, each once (not a retired duplicate record)
    if person.merged_into_id is not None or person.is_external:
        raise RuleViolation("该人员记录已合并或不是本县常住人员，不能列入名册", field="person", code="not_resident")
    if roster.entries.filter(person=person).exists():
        raise RuleViolation("该人员已在本名册中", field="person", code="duplicate")
    with audit_context(by, reason=f"名册更正：{reason}"):
        entry = RosterEntry.objects.create(
            roster=roster, person=person, payee=person, village_id=person.village_id, rule=rule,
            category=rule.category, amount=rule.amount, change=Change.NEW, reason_codes=[],
        )  # fmt: skip
        RosterCorrection.objects.create(
            roster=roster, person=person, village_id=person.village_id, action=CorrectionAction.ADD, rule=rule,
            after=_entry_label(entry), reason=reason, by=by,
        )  # fmt: skip
    pagecache.bump("subsidies")
    return entry


OBJECTION_ROLES = (Role.SUBSIDY_REVIEWER, Role.SUBSIDY_APPROVER, Role.COUNTY_ADMIN)


@transaction.atomic
def objection_record(
    *, roster: Roster, by: User, objector: str, content: str, received_on: date, entry: RosterEntry | None = None
) -> Objection:
    """登记公示异议: received while the notice is posted (from its first day to the day before it ends)."""
    _require(by, *OBJECTION_ROLES, message="您没有登记公示异议的权限")
    roster = Roster.objects.select_for_update().get(pk=roster.pk)
    _require_area(by, roster.township_id)
    if roster.status != RosterStatus.APPROVED:
        raise RuleViolation("名册尚未公示，不能登记异议", code="state")
    if received_on is None or received_on > _today():
        raise RuleViolation("收到日期不能晚于今天", field="received_on")
    if not roster.approved_on <= received_on < roster.notice_ends_on:
        raise RuleViolation(
            f"公示期为{roster.approved_on:%Y-%m-%d}至{roster.notice_ends_on:%Y-%m-%d}前一天，收到日期不在公示期内",
            field="received_on",
        )
    if entry is not None and entry.roster_id != roster.pk:
        raise RuleViolation("被异议人员不在本名册中", field="entry")
    if not (objector or "").strip() or not (content or "").strip():
        raise RuleViolation("请填写异议人和异议内容", field="content", code="required")
    with audit_context(by, reason="登记公示异议"):
        objection = Objection.objects.create(
            roster=roster, entry=entry, township_id=roster.township_id, objector=objector.strip()[:50],
            content=content.strip()[:500], received_on=received_on, recorded_by=by,
        )  # fmt: skip
    return objection


@transaction.atomic
def objection_decide(*, objection: Objection, upheld: bool, decision: str, by: User) -> Objection:
    """处理公示异议: after checking, upheld (the person's payment is withheld) or dismissed, with the reason."""
    _require(by, *OBJECTION_ROLES, message="您没有处理公示异议的权限")
    objection = Objection.objects.select_for_update().get(pk=objection.pk)
    _require_area(by, objection.township_id)
    if objection.status != ObjectionStatus.OPEN:
        raise RuleViolation("该异议已处理", code="state")
    if not (decision or "").strip():
        raise RuleViolation("请填写核查意见", field="decision", code="required")
    with audit_context(by, reason="处理公示异议"):
        objection.status = ObjectionStatus.UPHELD if upheld else ObjectionStatus.DISMISSED
        objection.decision = decision.strip()[:500]
        objection.decided_by = by
        objection.decided_at = timezone.now()
        objection.save(update_fields=["status", "decision", "decided_by", "decided_at"])
    return objection


# --- programme-side records ---------------------------------------------------------------------------


def disability_check(*, person: Person, grade: int, recognised_on: date) -> None:
    if grade not in (1, 2, 3, 4):
        raise RuleViolation("伤残等级应为一至四级", field="grade")
    if recognised_on > _today() or recognised_on < person.birth_date:
        raise RuleViolation("认定日期应在出生日期之后、今天之前", field="recognised_on")


@transaction.atomic
def disability_record(
    *, person: Person, certificate_number: str, grade: int, recognised_on: date, by: User | None
) -> DisabilityRecord:
    """独生子女伤残登记 (the registry has no disability field): entered by staff from the certificate."""
    if by is not None:
        _require_area(by, person.village_id)
    disability_check(person=person, grade=grade, recognised_on=recognised_on)
    with audit_context(by, reason="伤残登记"):
        return DisabilityRecord.objects.create(
            person=person,
            village_id=person.village_id,
            certificate_number=certificate_number.strip(),
            grade=grade,
            recognised_on=recognised_on,
            created_by=by,
        )


def account_number_clean(*, kind: str, raw: str) -> str:
    """Digits only (full-width and spaces normalised); a card 16–19 digits with a valid Luhn check digit,
    a passbook 8–25 digits (passbook numbers carry no Luhn digit)."""
    text = unicodedata.normalize("NFKC", raw or "").replace(" ", "").replace("-", "")
    if not text:
        raise RuleViolation("请填写账号", field="account_number", code="required")
    if not text.isdigit():
        raise RuleViolation("账号只能包含数字", field="account_number", code="digits")
    if kind == AccountKind.CARD:
        if not 16 <= len(text) <= 19:
            raise RuleViolation(f"银行卡号应为16至19位数字，实际为{len(text)}位", field="account_number")
        if not luhn.is_valid(text):
            raise RuleViolation("银行卡号校验位不正确，请核对是否录错", field="account_number", code="luhn")
    elif kind == AccountKind.PASSBOOK:
        if not 8 <= len(text) <= 25:
            raise RuleViolation(f"存折账号应为8至25位数字，实际为{len(text)}位", field="account_number")
    else:
        raise RuleViolation("请选择账户类型", field="kind")
    return text


@transaction.atomic
def bank_account_save(
    *, person: Person, kind: str, bank_name: str, account_number: str, by: User | None
) -> BankAccount:
    """登记领取账户: the person's own account; a new one replaces the active one (kept in the audit trail)."""
    if by is not None:
        _require(
            by,
            Role.VILLAGE_CLERK,
            Role.TOWNSHIP_CLERK,
            Role.SUBSIDY_REVIEWER,
            Role.COUNTY_ADMIN,
            message="您没有登记领取账户的权限",
        )
        _require_area(by, person.village_id)
    number = account_number_clean(kind=kind, raw=account_number)
    if not (bank_name or "").strip():
        raise RuleViolation("请填写开户银行", field="bank_name", code="required")
    if person.death_date is not None:
        raise RuleViolation(f"{person.name}已登记死亡，不能登记领取账户", field="person")
    with audit_context(by, reason="登记领取账户"):
        BankAccount.objects.filter(person=person, is_active=True).update(is_active=False)
        return BankAccount.objects.create(
            person=person,
            village_id=person.village_id,
            kind=kind,
            bank_name=bank_name.strip(),
            account_number=number,
            created_by=by,
        )


# --- payment batches ----------------------------------------------------------------------------------

_BATCH_PAYMENTS_SQL = f"""
INSERT INTO subsidies_payment
    (batch_id, entry_id, person_id, payee_id, programme_id, period, village_id, amount, account_id, status, bank_reason,
     reissue_of_id)
SELECT %(batch)s, e.id, e.person_id, e.payee_id, r.programme_id, coalesce(nullif(e.month, ''), r.period),
       e.village_id, e.amount, a.id, 'pending', '',
       (SELECT max(f.id) FROM subsidies_payment f  -- 补发: the failed payment this one pays again
        WHERE f.person_id = e.person_id AND f.programme_id = r.programme_id
          AND f.period = coalesce(nullif(e.month, ''), r.period) AND f.status = 'failed')
FROM subsidies_rosterentry e
JOIN subsidies_roster r ON r.id = e.roster_id
JOIN subsidies_bankaccount a ON a.person_id = e.payee_id AND a.is_active
WHERE r.programme_id = %(programme)s AND r.township_id = %(township)s AND r.status = 'approved'
  AND r.period_start <= %(period_start)s
  AND r.approved_on + r.notice_days <= %(today)s
  AND r.approved_by_id <> %(by)s
  AND ({ENTRY_NOT_PAYABLE_SQL}) IS NULL  -- the one rule of who may be paid (selectors)
ORDER BY e.village_id, e.person_id, r.period_start, e.month
"""  # noqa: S608 - constants only


@transaction.atomic
def batch_create(*, roster: Roster, by: User) -> PaymentBatch:
    """生成发放批次: every beneficiary of the approved roster (after its 公示) not yet paid for the period, plus
    earlier periods' failed payments of the programme in the township, each to the payee's own account.

    The approver of the roster may not create its batch (separation of duties). A second batch for the same
    period pays no one twice: the partial unique index ``payment_once_per_person_period`` refuses it, even
    when two batches are created at once (the second transaction waits for the first and then fails)."""
    _require(by, Role.SUBSIDY_REVIEWER, Role.SUBSIDY_APPROVER, Role.COUNTY_ADMIN, message="您没有生成发放批次的权限")
    roster = Roster.objects.select_related("programme").get(pk=roster.pk)
    _require_area(by, roster.township_id)
    if roster.status != RosterStatus.APPROVED:
        raise RuleViolation("名册尚未经县级审批，不能发放", code="state")
    if roster.approved_by_id == by.pk:
        raise RuleViolation("名册的审批人不能生成该名册的发放批次（审批与发放须分人办理）", code="separation_of_duties")
    today = _today()
    open_objections = roster.objections.filter(status=ObjectionStatus.OPEN).count()
    if open_objections:
        raise RuleViolation(f"本名册有{open_objections}件公示异议尚未处理，处理后才能发放", code="open_objections")
    if today < roster.notice_ends_on:
        raise RuleViolation(
            f"名册公示期至{roster.notice_ends_on:%Y-%m-%d}前一天结束，公示期满后才能发放", code="notice_period"
        )
    with audit_context(by, reason="生成发放批次"):
        batch = PaymentBatch.objects.create(roster=roster, township_id=roster.township_id, created_by=by)
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    _BATCH_PAYMENTS_SQL,
                    {
                        "batch": batch.pk,
                        "programme": roster.programme_id,
                        "township": roster.township_id,
                        "period_start": roster.period_start,
                        "today": today,
                        "by": by.pk,
                    },
                )
                created = cursor.rowcount
        except IntegrityError as exc:
            if "payment_once_per_person_period" not in str(exc):
                raise
            raise RuleViolation(
                "本期已有人员在另一发放批次中，不能重复发放；请刷新后查看已有批次", code="already_paid"
            ) from None
        if created == 0:
            raise RuleViolation(
                "没有待发放的人员（均已发放、正在发放、缺少领取账户或发放失败的账户尚未更正）", code="nothing_to_pay"
            )
    pagecache.bump("subsidies")  # payments written set-based
    return batch


EXPORT_HEADERS = ["付款编号", "姓名", "身份证号", "开户银行", "账号", "金额", "项目", "期间"]
RETURN_HEADERS = ["付款编号", "账号", "金额", "结果", "失败原因"]
PAID_WORDS = {"成功", "已发放", "paid", "success"}
FAILED_WORDS = {"失败", "发放失败", "failed", "fail"}


def batch_export(*, batch: PaymentBatch, fmt: str, by: User) -> bytes:
    """代发文件 for the bank as one piece of bytes: the streamed file of ``apps.subsidies.exports.batch_export``
    (its checks, its log entry), read to the end."""
    from apps.subsidies.exports import batch_export as batch_file

    return batch_file(batch=batch, fmt=fmt, by=by).content()


RETURN_FILE_BOUNDS = {"max_bytes": 20 * 1024 * 1024, "max_rows": 200_000, "max_columns": 50}


def _read_return_rows(*, name: str, content: bytes) -> list[list[str]]:
    """The bank's file through the project's one bounded reader (size, dimensions and a confined parse)."""
    if not name.lower().endswith((".csv", ".xlsx", ".xls")):
        raise RuleViolation("回盘文件应为.csv或.xlsx格式", field="file")
    rows = spreadsheets.read_rows(content=content, filename=name, bounds=spreadsheets.limits(**RETURN_FILE_BOUNDS))
    return [
        ["" if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)) for v in row]
        for row in rows
    ]


@dataclass
class ReturnSummary:
    paid: int
    failed: int
    pending: int


@transaction.atomic
def batch_import_return(*, batch: PaymentBatch, name: str, content: bytes, by: User) -> ReturnSummary:
    """银行回盘: marks each payment paid or failed with the bank's reason, all or nothing. Every row must
    name a payment of this batch with its account and amount; any error changes nothing."""
    _require(by, Role.SUBSIDY_REVIEWER, Role.SUBSIDY_APPROVER, Role.COUNTY_ADMIN, message="您没有导入回盘文件的权限")
    _require_area(by, batch.township_id)
    rows = _read_return_rows(name=name, content=content)
    header_at = next(
        (i for i, row in enumerate(rows[:10]) if set(RETURN_HEADERS[:4]) <= {c.strip() for c in row}), None
    )
    if header_at is None:
        raise RuleViolation(f"回盘文件缺少表头：{'、'.join(RETURN_HEADERS)}", field="file")
    header = [c.strip() for c in rows[header_at]]
    col = {h: header.index(h) for h in RETURN_HEADERS if h in header}
    payments = {p.pk: p for p in Payment.objects.select_for_update().filter(batch=batch).select_related("account")}
    errors: list[str] = []
    updates: dict[int, tuple[str, str]] = {}
    for line, row in enumerate(rows[header_at + 1 :], start=header_at + 2):
        if not any(c.strip() for c in row):
            continue

        def cell(h: str, row: list[str] = row) -> str:
            i = col.get(h)
            return row[i].strip() if i is not None and i < len(row) else ""

        try:
            pk = int(cell("付款编号"))
        except ValueError:
            errors.append(f"第{line}行：付款编号不是数字")
            continue
        payment = payments.get(pk)
        if payment is None:
            errors.append(f"第{line}行：付款编号{pk}不属于本批次")
            continue
        if cell("账号") != payment.account.account_number:
            errors.append(f"第{line}行：付款编号{pk}的账号与本批次不一致")
        try:
            amount = Decimal(cell("金额"))
        except InvalidOperation:
            amount = None
        if amount is not None and not amount.is_finite():
            amount = None  # "NaN", "sNaN", "Infinity": not an amount (and sNaN cannot even be compared)
        if amount != payment.amount:
            errors.append(f"第{line}行：付款编号{pk}的金额与本批次不一致（应为{payment.amount}）")
        result = cell("结果")
        reason = cell("失败原因")
        if result in PAID_WORDS:
            status = PaymentStatus.PAID
        elif result in FAILED_WORDS:
            status = PaymentStatus.FAILED
            if not reason:
                errors.append(f"第{line}行：发放失败须有失败原因")
        else:
            errors.append(f"第{line}行：结果应为“成功”或“失败”")
            continue
        if pk in updates:
            errors.append(f"第{line}行：付款编号{pk}重复")
        elif payment.status != PaymentStatus.PENDING and payment.status != status:
            errors.append(f"第{line}行：付款编号{pk}已回盘为“{payment.get_status_display()}”")
        updates[pk] = (status, reason if status == PaymentStatus.FAILED else "")
    if errors:
        more = f"（另有{len(errors) - 10}处）" if len(errors) > 10 else ""
        raise RuleViolation("回盘文件有误，未作任何更改：" + "；".join(errors[:10]) + more, field="file")
    fresh = {pk: v for pk, v in updates.items() if payments[pk].status == PaymentStatus.PENDING}
    with audit_context(by, reason=f"银行回盘 {name[:80]}"):
        if fresh:
            with connection.cursor() as cursor:
                cursor.execute(
                    """
                    UPDATE subsidies_payment p
                    SET status = v.status, bank_reason = v.reason, settled_at = now()
                    FROM unnest(%s::bigint[], %s::varchar[], %s::varchar[]) AS v(id, status, reason)
                    WHERE p.id = v.id AND p.batch_id = %s AND p.status = 'pending'
                    """,
                    [list(fresh), [s for s, _ in fresh.values()], [r for _, r in fresh.values()], batch.pk],
                )
            pagecache.bump("subsidies")  # set-based: no row signals
        counts = dict.fromkeys(PaymentStatus.values, 0)
        counts.update(dict(batch.payments.values_list("status").annotate(n=Count("id")).values_list("status", "n")))
        if counts[PaymentStatus.PENDING] == 0 and batch.status != BatchStatus.RECONCILED:
            batch.status = BatchStatus.RECONCILED
            batch.reconciled_at = timezone.now()
            batch.save(update_fields=["status", "reconciled_at"])
    return ReturnSummary(paid=counts["paid"], failed=counts["failed"], pending=counts["pending"])
