"""Writes of the scoring app (STYLE: HackSoft services; Zulip actions with the audit context).

Order of an assessment (seed 004, L76, L105–106, L121–131): item scores (indicator items from the latest
indicator snapshot against the contract target, manual items by assessors), then the veto (一票否决) is
evaluated before anything is summed, then lines are summed, then approved bonuses and deductions apply.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from apps.accounts.models import Role, User
from apps.areas.models import Area, AreaLevel
from apps.core import pagecache
from apps.core.areacodes import contains
from apps.core.audit import audit_context
from apps.core.dated import in_force
from apps.core.errors import RuleViolation
from apps.core.scoping import ensure_area_in_scope, in_scope
from apps.scoring.calculation import ZERO, adjustment_points, fmt, indicator_points
from apps.scoring.models import (
    CHECKED_KINDS,
    Adjustment,
    AdjustmentRule,
    AdjustmentStatus,
    Assessment,
    AssessmentStatus,
    AssessmentYear,
    Contract,
    ContractTarget,
    FindingKind,
    ItemMethod,
    ItemScore,
    LineScore,
    SampleCheck,
    SampleCheckPolicy,
    SampleCheckStatus,
    SampleFinding,
    Scheme,
    SchemeItem,
    SchemeStatus,
    ScoreSource,
    TargetDirection,
    VetoEffect,
)
from apps.scoring.schemes import ParsedItem, scheme_parse

ASSESSOR_ROLES = (Role.ASSESSOR,)
DECIDER_ROLES = (Role.ASSESSOR, Role.COUNTY_ADMIN)
# Who runs the year (open it, finalise its assessments): the role matrix's writers of ``scoring.year``.
YEAR_ROLES = DECIDER_ROLES
MAX_EVIDENCE_BYTES = 20 * 1024 * 1024


def _check_in_scope(*, user: User, area_code: str) -> None:
    ensure_area_in_scope(user=user, code=area_code, field=None, message="该单位不在您的管辖范围内")


def is_own_unit(user: User, assessment: Assessment) -> bool:
    """Not a scope question: whether the user belongs to the assessed unit itself (bound to its township or
    to a village of it). A unit never scores, decides on or finalises its own assessment (DESIGN §4)."""
    return bool(user.area_id) and contains(assessment.area_id, user.area_id)


def may_assess(user: User, assessment: Assessment, roles: tuple[str, ...] = ASSESSOR_ROLES) -> bool:
    """Whether ``user`` may act as the assessor of ``assessment`` (score, decide, finalise): one of ``roles``,
    the unit within the user's area, and not the user's own unit. Pages offer what this allows."""
    return (
        user.is_authenticated
        and user.has_role(*roles)
        and in_scope(user, assessment.area_id)
        and not is_own_unit(user, assessment)
    )


def _check_not_own_unit(*, user: User, assessment: Assessment, message: str) -> None:
    if is_own_unit(user, assessment):
        raise RuleViolation(message, code="own_unit")


def _check_evidence(evidence: UploadedFile | None) -> None:
    if evidence is not None and evidence.size > MAX_EVIDENCE_BYTES:
        raise RuleViolation("佐证材料不能超过20MB", field="evidence")


# --- schemes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SchemeLoadResult:
    scheme: Scheme
    created: bool


def _year_start(today: date) -> date:
    return date(today.year, 1, 1)


@transaction.atomic
def scheme_load(
    *, text: str, effective_from: date | None = None, publish: bool = True, by: User | None = None
) -> SchemeLoadResult:
    """Loads a scheme file as the next version of its code (or finds the identical latest version) and, by
    default, publishes it. A file that does not add up is refused with the item named; nothing is written."""
    parsed = scheme_parse(text)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    latest = Scheme.objects.select_for_update().filter(code=parsed.code).order_by("-version").first()
    if latest is not None and latest.source_sha256 == digest:
        if publish and latest.status == SchemeStatus.DRAFT:
            scheme_publish(scheme=latest, by=by)
        return SchemeLoadResult(latest, False)
    with audit_context(by, reason="load_scheme"):
        scheme = Scheme.objects.create(
            code=parsed.code,
            version=(latest.version + 1) if latest else 1,
            name=parsed.name,
            applies_to=parsed.applies_to,
            assessed_in_month=parsed.assessed_in_month,
            effective_from=effective_from or _year_start(timezone.localdate()),
            total_points=parsed.total_points,
            source_sha256=digest,
            source_text=text,
            results_config=parsed.results,
        )
        position = 0

        def create(item: ParsedItem, parent: SchemeItem | None, line: SchemeItem | None) -> None:
            nonlocal position
            position += 1
            row = SchemeItem.objects.create(
                scheme=scheme, parent=parent, line=line, code=item.code, name=item.name, path=item.path,
                position=position, depth=item.depth, points=item.points, method=item.method,
                indicator_code=item.indicator_code, scoring=item.scoring, floor=item.floor, veto=item.veto,
            )  # fmt: skip
            for child in item.children:
                create(child, row, line or row)

        for line in parsed.lines:
            create(line, None, None)
        AdjustmentRule.objects.bulk_create(
            AdjustmentRule(
                scheme=scheme, direction=r.direction, code=r.code, name=r.name, position=i, kind=r.kind,
                points=r.points, tiers=r.tiers, min_points=r.min_points, max_points=r.max_points,
                unreported_multiplier=r.unreported_multiplier,
            )
            for i, r in enumerate(parsed.rules, start=1)
        )  # fmt: skip
    if publish:
        scheme_publish(scheme=scheme, by=by)
    return SchemeLoadResult(scheme, True)


@transaction.atomic
def scheme_publish(*, scheme: Scheme, by: User | None = None) -> Scheme:
    """发布: from now on the scheme is frozen (a database trigger refuses any change to it). The time is
    kept: a year opened under a scheme published once it had begun needs a reason (``assessment_year_open``)."""
    if by is not None and not by.has_role(Role.COUNTY_ADMIN):
        raise RuleViolation("只有县级管理员可以发布考核方案")
    if Scheme.objects.select_for_update().get(pk=scheme.pk).status == SchemeStatus.PUBLISHED:
        raise RuleViolation("该考核方案已发布，不能再修改")
    with audit_context(by, reason="publish"):
        scheme.status = SchemeStatus.PUBLISHED
        scheme.published_at = timezone.now()
        scheme.published_by = by
        scheme.save(update_fields=["status", "published_at", "published_by"])
    return scheme


def scheme_for_year(*, year: int, applies_to: str = "township") -> Scheme:
    """The published scheme in force during ``year`` (latest version)."""
    scheme = (
        Scheme.objects.filter(status=SchemeStatus.PUBLISHED, applies_to=applies_to,
                              effective_from__lte=date(year, 12, 31))
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=date(year, 1, 1)))
        .order_by("-effective_from", "-version")
        .first()
    )  # fmt: skip
    if scheme is None:
        raise RuleViolation(f"{year}年没有已发布的考核方案，请先导入并发布考核方案")
    return scheme


# --- contracts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetData:
    indicator_code: str
    direction: str
    target: Decimal


@transaction.atomic
def contract_save(
    *, area: Area, year: int, signed_on: date, targets: list[TargetData], note: str = "", by: User | None = None
) -> Contract:
    """目标管理责任书 of a unit for a year: creates it or replaces its targets (idempotent)."""
    from apps.scoring.schemes import INDICATOR_CODES

    if area.level != AreaLevel.TOWNSHIP:
        raise RuleViolation("目标管理责任书只能与乡镇（街道）签订", field="area")
    if by is not None:
        if not by.has_role(Role.COUNTY_ADMIN):
            raise RuleViolation("只有县级管理员可以修改目标管理责任书")
        _check_in_scope(user=by, area_code=area.code)
    codes = [t.indicator_code for t in targets]
    if len(set(codes)) != len(codes):
        raise RuleViolation("同一指标只能有一个目标值", field="targets")
    for t in targets:
        if t.indicator_code not in INDICATOR_CODES:
            raise RuleViolation(f"指标代码「{t.indicator_code}」不是已定义的指标", field="targets")
        if t.direction not in TargetDirection.values:
            raise RuleViolation("目标方向应为“不高于”或“不低于”", field="targets")
    if Assessment.objects.filter(area=area, year=year, status=AssessmentStatus.FINAL).exists():
        raise RuleViolation(f"{year}年{area.name}的考核已定稿，不能再修改责任书")
    with audit_context(by, reason="contract"):
        contract, _ = Contract.objects.update_or_create(
            area=area, year=year, defaults={"signed_on": signed_on, "note": note}
        )
        contract.targets.exclude(indicator_code__in=codes).delete()
        ContractTarget.objects.bulk_create(
            [ContractTarget(contract=contract, indicator_code=t.indicator_code, direction=t.direction,
                            target=t.target) for t in targets],
            update_conflicts=True, unique_fields=["contract", "indicator_code"], update_fields=["direction", "target"],
        )  # fmt: skip
    return contract


# --- assessments ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class YearOpenResult:
    record: AssessmentYear
    created: int
    existing: int

    def summary(self) -> dict:
        return {
            "year": self.record.year,
            "county": self.record.county_id,
            "scheme": self.record.scheme.code,
            "scheme_version": self.record.scheme.version,
            "created": self.created,
            "existing": self.existing,
            "late_reason": self.record.late_reason,
        }


def _county_of(*, by: User | None, county: Area | None) -> Area:
    if by is not None and by.area_id:
        if by.area.level != AreaLevel.COUNTY:
            raise RuleViolation("只有县级用户可以开启考核年度")
        if county is not None and county.code != by.area_id:
            raise RuleViolation("该县不在您的管辖范围内", code="out_of_scope")
        return by.area
    if county is None:
        county = Area.objects.filter(level=AreaLevel.COUNTY).order_by("code").first()
        if county is None:
            raise RuleViolation("请先导入行政区划（load_areas）")
    if county.level != AreaLevel.COUNTY:
        raise RuleViolation("考核年度按县开启，请选择一个县", field="county")
    return county


@transaction.atomic
def assessment_year_open(
    *, year: int, by: User | None, county: Area | None = None, late_reason: str = ""
) -> YearOpenResult:
    """开启考核年度: an assessment for every township of the county under the published scheme in force.

    Idempotent: a second run creates only the missing assessments (a township added since) and scores them
    from the latest snapshot; it never touches a contract or an existing assessment's scores. A scheme
    published once the year had begun is refused unless ``late_reason`` says why; the reason is then shown
    on every result page of the year (seed 004, L8: the standard came out at the year's end)."""
    if by is not None and not by.has_role(*YEAR_ROLES):
        raise RuleViolation("只有考核评估员或县级管理员可以开启考核年度")
    county = _county_of(by=by, county=county)
    record = AssessmentYear.objects.select_for_update().filter(county=county, year=year).select_related("scheme")
    record = record.first()
    if record is None:
        scheme = scheme_for_year(year=year)
        reason = (late_reason or "").strip()
        late = scheme.published_late_for(year)
        if late and not reason:
            published = timezone.localtime(scheme.published_at).date()
            raise RuleViolation(
                f"考核方案「{scheme.name}」于{published:%Y-%m-%d}发布，晚于{year}年考核开始（{year}-01-01），"
                "须填写迟发说明；说明将显示在该年度的每个考核结果页面",
                field="late_reason",
                code="late_scheme",
            )
        with audit_context(by, reason="open_year"):
            record = AssessmentYear.objects.create(
                county=county, year=year, scheme=scheme, late_reason=reason if late else "",
                opened_at=timezone.now(), opened_by=by,
            )  # fmt: skip
    townships = set(Area.objects.within(county.code).filter(level=AreaLevel.TOWNSHIP).values_list("code", flat=True))
    existing = set(Assessment.objects.filter(year=year, area_id__in=townships).values_list("area_id", flat=True))
    missing = sorted(townships - existing)
    with audit_context(by, reason="open_year"):
        Assessment.objects.bulk_create(
            [Assessment(area_id=code, year=year, scheme_id=record.scheme_id) for code in missing],
            ignore_conflicts=True,
        )
    if missing:
        assessments_recompute(year=year, area_codes=missing, by=by)
    return YearOpenResult(record, len(missing), len(existing))


def assessment_year_of(*, year: int, area_code: str) -> AssessmentYear | None:
    return AssessmentYear.objects.filter(year=year, county_id=f"{area_code[:6]}000000").select_related("scheme").first()


def _periods_for(year: int) -> list[str]:
    """The periods whose snapshot can score a year, most complete first: the year, then year-to-date."""
    return [str(year)] + [f"{year}Q{q}-YTD" for q in (4, 3, 2, 1)]


def _latest_readings(*, year: int, area_codes: list[str], indicator_codes: set[str]) -> dict:
    """(area, indicator) → (period, reading) from the latest snapshot of the most complete period that has
    one for the area. Indicator values are read ONLY through ``indicator_values_latest``."""
    from apps.indicators.selectors import indicator_values_latest

    found: dict[tuple[str, str], tuple[str, object]] = {}
    missing = set(area_codes)
    for period in _periods_for(year):
        if not missing or not indicator_codes:
            break
        values = indicator_values_latest(period=period, area_codes=sorted(missing), indicator_codes=indicator_codes)
        covered = {area for (area, _code) in values}
        for key, reading in values.items():
            found[key] = (period, reading)
        missing -= covered
    return found


def _direction_label(direction: str) -> str:
    return "≤" if direction == TargetDirection.AT_MOST else "≥"


@transaction.atomic
def assessments_recompute(*, year: int, area_codes: list[str] | None = None, by: User | None = None) -> int:
    """Scores the open assessments of ``year`` (all, or those of ``area_codes``) from the latest snapshot:
    a new snapshot changes the projected score (预计得分). Set-based: a fixed number of queries whatever the
    number of units. Returns the number of assessments scored."""
    qs = Assessment.objects.select_for_update().filter(year=year, status=AssessmentStatus.OPEN)
    if area_codes is not None:
        qs = qs.filter(area_id__in=area_codes)
    assessments = list(qs)
    if not assessments:
        return 0
    scheme_ids = {a.scheme_id for a in assessments}
    items_by_scheme: dict[int, list[SchemeItem]] = defaultdict(list)
    for item in SchemeItem.objects.filter(scheme_id__in=scheme_ids).order_by("position"):
        items_by_scheme[item.scheme_id].append(item)
    codes = [a.area_id for a in assessments]
    targets = {
        (t.contract.area_id, t.indicator_code): t
        for t in ContractTarget.objects.filter(contract__year=year, contract__area_id__in=codes).select_related(
            "contract"
        )
    }
    indicator_codes = {i.indicator_code for items in items_by_scheme.values() for i in items if i.indicator_code}
    readings = _latest_readings(year=year, area_codes=codes, indicator_codes=indicator_codes)
    manual = {
        (s.assessment_id, s.item_id): s.points
        for s in ItemScore.objects.filter(assessment__in=assessments, source=ScoreSource.MANUAL)
    }
    # Approved adjustments: those on a line count in that line's score (and its rank), the others in the total.
    adjustments = defaultdict(lambda: {"bonus": ZERO, "deduction": ZERO})
    line_adjustments: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    for row in (
        Adjustment.objects.filter(assessment__in=assessments, status=AdjustmentStatus.APPROVED)
        .values("assessment_id", "line_id", "direction")
        .annotate(points=Sum("points"))
    ):
        if row["line_id"] is None:
            adjustments[row["assessment_id"]][row["direction"]] = row["points"]
        else:
            sign = 1 if row["direction"] == "bonus" else -1
            line_adjustments[(row["assessment_id"], row["line_id"])] += sign * row["points"]

    now = timezone.now()
    score_rows: list[ItemScore] = []
    line_rows: list[LineScore] = []
    for a in assessments:
        items = items_by_scheme[a.scheme_id]
        points: dict[int, Decimal] = {}
        vetoes: list[str] = []
        zero_lines: set[int] = set()
        run_ids, as_of, periods = set(), [], set()
        # 1. indicator items, and the veto before anything is summed (L76, L105–106).
        for item in items:
            if item.method == ItemMethod.MANUAL:
                points[item.pk] = manual.get((a.pk, item.pk)) or ZERO
                continue
            if item.method != ItemMethod.INDICATOR:
                continue
            target = targets.get((a.area_id, item.indicator_code))
            period_reading = readings.get((a.area_id, item.indicator_code))
            reading = period_reading[1] if period_reading else None
            row = ItemScore(assessment=a, item=item, source=ScoreSource.INDICATOR, scored_at=now, points=ZERO)
            if reading is not None:
                row.value = reading.value
                run_ids.add(reading.run_id)
                as_of.append(reading.data_as_of)
                periods.add(period_reading[0])
            if target is None:
                row.note = "责任书未规定该指标的目标值，本项不得分"
            elif reading is None or reading.value is None:
                row.target, row.direction = target.target, target.direction
                row.note = "暂无该指标的数据，本项暂不得分"
            else:
                row.target, row.direction = target.target, target.direction
                outcome = indicator_points(
                    points=item.points,
                    scoring=item.scoring,
                    floor=item.floor,
                    value=reading.value,
                    target=target.target,
                    direction=target.direction,
                )
                row.points, row.met = outcome.points, outcome.met
                actual = fmt(reading.value)
                if not outcome.met and actual == fmt(target.target):
                    # Rounding would show the target itself: show the value that missed it.
                    actual = f"{reading.value.quantize(Decimal('0.0001')):f}".rstrip("0").rstrip(".")
                shown = f"实际{actual}，目标{_direction_label(target.direction)}{fmt(target.target)}"
                row.note = f"{shown}，{'达标' if outcome.met else '未达标'}"
                if not outcome.met and item.veto:
                    row.vetoed = True
                    if item.veto == VetoEffect.EXCLUDE_UNIT:
                        vetoes.append(f"一票否决：「{item.name}」未完成目标（{shown}），不参与评分排名")
                    elif item.veto == VetoEffect.ZERO_LINE:
                        zero_lines.add(item.line_id)
                        row.note += "；一票否决，该线计0分"
                    else:
                        row.points = ZERO
                        row.note += "；一票否决，该项计0分"
            points[item.pk] = row.points
            score_rows.append(row)
        # 2. lines, then adjustments.
        line_sum: dict[int, Decimal] = defaultdict(lambda: ZERO)
        for item in items:
            if item.method != ItemMethod.GROUP and item.line_id:
                line_sum[item.line_id] += points.get(item.pk, ZERO)
        line_total = ZERO
        for line in (i for i in items if i.parent_id is None):
            zeroed = line.pk in zero_lines
            adjustment = line_adjustments[(a.pk, line.pk)]
            score = (ZERO if zeroed else line_sum[line.pk]) + adjustment
            line_total += score
            line_rows.append(LineScore(assessment=a, line=line, score=score, adjustment=adjustment, zeroed=zeroed))
        adj = adjustments[a.pk]
        a.line_total, a.bonus_total, a.deduction_total = line_total, adj["bonus"], adj["deduction"]
        a.total = line_total + adj["bonus"] - adj["deduction"]
        a.excluded = bool(vetoes)
        a.veto_reason = "\n".join(vetoes)
        a.indicator_run_id = max(run_ids) if run_ids else None
        a.indicator_period = sorted(periods, key=_periods_for(year).index)[0] if periods else ""
        a.data_as_of = max(as_of) if as_of else None
        a.computed_at = now
    with audit_context(by, reason="recompute"):
        if score_rows:
            ItemScore.objects.bulk_create(
                score_rows, update_conflicts=True, unique_fields=["assessment", "item"],
                update_fields=["source", "points", "note", "value", "target", "direction", "met", "vetoed",
                               "scored_at"],
            )  # fmt: skip
        LineScore.objects.bulk_create(
            line_rows, update_conflicts=True, unique_fields=["assessment", "line"],
            update_fields=["score", "adjustment", "zeroed"],
        )  # fmt: skip
        Assessment.objects.bulk_update(
            assessments,
            ["line_total", "bonus_total", "deduction_total", "total", "excluded", "veto_reason", "indicator_run_id",
             "indicator_period", "data_as_of", "computed_at"],
        )  # fmt: skip
        pagecache.bump("scoring")  # a rescoring: the results page shows the new scores
    return len(assessments)


def _check_open(assessment: Assessment) -> None:
    if assessment.status != AssessmentStatus.OPEN:
        raise RuleViolation(f"{assessment.year}年{assessment.area.name}的考核已定稿，不能再修改")


@dataclass(frozen=True)
class ManualScore:
    item: SchemeItem
    points: Decimal
    note: str


@transaction.atomic
def item_scores_manual(*, assessment: Assessment, scores: list[ManualScore], by: User | None) -> list[ItemScore]:
    """人工评分 of several items of one assessment at once (one recomputation): each 0..the item's points,
    with a note. ``by`` is an assessor over the unit and never of the unit itself; None is a system job
    (the demo)."""
    if by is not None:
        if not by.has_role(*ASSESSOR_ROLES):
            raise RuleViolation("只有考核评估员可以评分")
        _check_in_scope(user=by, area_code=assessment.area_id)
        _check_not_own_unit(user=by, assessment=assessment, message="考核评估员不能为本单位评分")
    _check_open(assessment)
    now = timezone.now()
    rows = []
    for s in scores:
        item, points = s.item, s.points
        if item.scheme_id != assessment.scheme_id or item.method != ItemMethod.MANUAL:
            raise RuleViolation("该项目不是本考核方案中的人工评分项目", field="item")
        if points is None or points < 0 or points > item.points:
            raise RuleViolation(f"「{item.name}」的得分应在0至{fmt(item.points)}分之间", field="points")
        if points != points.quantize(Decimal("0.01")):
            raise RuleViolation("得分最多保留两位小数", field="points")
        note = (s.note or "").strip()
        if not note:
            raise RuleViolation("请填写评分说明", field="note")
        rows.append(ItemScore(assessment=assessment, item=item, source=ScoreSource.MANUAL, points=points, note=note,
                              scored_by=by, scored_at=now))  # fmt: skip
    with audit_context(by, reason="manual_score"):
        ItemScore.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["assessment", "item"],
            update_fields=["source", "points", "note", "scored_by", "scored_at"],
        )  # fmt: skip
    assessments_recompute(year=assessment.year, area_codes=[assessment.area_id], by=by)
    return list(ItemScore.objects.filter(assessment=assessment, item__in=[s.item for s in scores]))


@transaction.atomic
def item_score_manual(
    *,
    assessment: Assessment,
    item: SchemeItem,
    points: Decimal,
    note: str,
    evidence: UploadedFile | None = None,
    by: User,
) -> ItemScore:
    """人工评分 by an assessor: 0..the item's points, with a note and, optionally, an evidence file."""
    _check_evidence(evidence)
    (score,) = item_scores_manual(assessment=assessment, scores=[ManualScore(item, points, note)], by=by)
    if evidence is not None:
        with audit_context(by, reason="manual_score"):
            score.evidence.save(evidence.name, evidence, save=True)
    return score


def may_claim(user: User, assessment: Assessment) -> bool:
    """The unit itself (a user of the township) or an assessor over it (seed 004, L125)."""
    if is_own_unit(user, assessment):
        return True
    return user.has_role(*ASSESSOR_ROLES)


@transaction.atomic
def adjustment_claim(
    *,
    assessment: Assessment,
    rule: AdjustmentRule,
    note: str,
    line: SchemeItem | None = None,
    chosen_points: Decimal | None = None,
    cases: int = 0,
    unreported_cases: int = 0,
    evidence: UploadedFile | None = None,
    by: User,
) -> Adjustment:
    """申报 a bonus or a deduction. It counts only once a different user has approved it."""
    _check_in_scope(user=by, area_code=assessment.area_id)
    if not may_claim(by, assessment):
        raise RuleViolation("只有本单位或考核评估员可以申报加减分")
    _check_open(assessment)
    if rule.scheme_id != assessment.scheme_id:
        raise RuleViolation("该加减分项目不属于本考核方案", field="rule")
    if line is not None and (line.scheme_id != assessment.scheme_id or line.parent_id is not None):
        raise RuleViolation("计入的线不是本考核方案中的考核线", field="line")
    if cases < 0 or unreported_cases < 0:
        raise RuleViolation("例数不能为负数", field="cases")
    note = (note or "").strip()
    if not note:
        raise RuleViolation("请填写事由", field="note")
    _check_evidence(evidence)
    points = adjustment_points(rule=rule, chosen_points=chosen_points, cases=cases, unreported_cases=unreported_cases)
    with audit_context(by, reason="adjustment_claim"):
        adjustment = Adjustment.objects.create(
            assessment=assessment, rule=rule, line=line, direction=rule.direction, chosen_points=chosen_points,
            cases=cases,
            unreported_cases=unreported_cases, points=points, note=note, claimed_by=by, claimed_at=timezone.now(),
        )  # fmt: skip
        if evidence is not None:
            adjustment.evidence.save(evidence.name, evidence, save=True)
    return adjustment


@transaction.atomic
def adjustment_decide(*, adjustment: Adjustment, approve: bool, note: str = "", by: User) -> Adjustment:
    """审核 a claim: an assessor or county admin other than the claimant, never the unit itself."""
    adjustment = Adjustment.objects.select_for_update().select_related("assessment__area").get(pk=adjustment.pk)
    assessment = adjustment.assessment
    if not by.has_role(*DECIDER_ROLES):
        raise RuleViolation("只有县级考核评估员或管理员可以审核加减分")
    _check_not_own_unit(user=by, assessment=assessment, message="只有县级考核评估员或管理员可以审核加减分")
    _check_in_scope(user=by, area_code=assessment.area_id)
    if adjustment.claimed_by_id == by.pk:
        raise RuleViolation("加减分须由申报人以外的人员审核")
    if adjustment.status != AdjustmentStatus.CLAIMED:
        raise RuleViolation("该申报已审核")
    _check_open(assessment)
    with audit_context(by, reason="adjustment_decide"):
        adjustment.status = AdjustmentStatus.APPROVED if approve else AdjustmentStatus.REJECTED
        adjustment.decided_by = by
        adjustment.decided_at = timezone.now()
        adjustment.decision_note = (note or "").strip()[:200]
        adjustment.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    assessments_recompute(year=assessment.year, area_codes=[assessment.area_id], by=by)
    return adjustment


@transaction.atomic
def assessment_finalise(*, assessment: Assessment, by: User | None) -> Assessment:
    """定稿: every manual item scored, no claim pending; the scores are then frozen. By an assessor or a
    county admin over the unit, never of the unit itself; None is a system job (the demo)."""
    if by is not None:
        if not by.has_role(*YEAR_ROLES):
            raise RuleViolation("只有考核评估员或县级管理员可以定稿")
        _check_in_scope(user=by, area_code=assessment.area_id)
        _check_not_own_unit(user=by, assessment=assessment, message="考核评估员不能为本单位定稿")
    assessment = Assessment.objects.select_for_update().select_related("area").get(pk=assessment.pk)
    _check_open(assessment)
    assessments_recompute(year=assessment.year, area_codes=[assessment.area_id], by=by)
    unscored = (
        SchemeItem.objects.filter(scheme_id=assessment.scheme_id, method=ItemMethod.MANUAL)
        .exclude(pk__in=ItemScore.objects.filter(assessment=assessment, source="manual").values("item_id"))
        .count()
    )
    if unscored:
        raise RuleViolation(f"还有{unscored}个人工评分项目未评分，不能定稿")
    if assessment.adjustments.filter(status=AdjustmentStatus.CLAIMED).exists():
        raise RuleViolation("还有待审核的加减分申报，不能定稿")
    with audit_context(by, reason="finalise"):
        Assessment.objects.filter(pk=assessment.pk).update(
            status=AssessmentStatus.FINAL, finalised_at=timezone.now(), finalised_by=by
        )
    assessment.refresh_from_db()
    return assessment


# --- 入户抽查 (sample checks) -----------------------------------------------------------------------------
# The draw is one statement for every township: each township's households ordered by md5(seed:id) and the
# first N taken. The seed is random, stored, and shown only after the check is closed; its SHA-256 is shown
# from the draw, so the published seed can be checked against it and the sample re-drawn from it.

SAMPLE_ROLES = (Role.ASSESSOR, Role.COUNTY_ADMIN)


def _sample_draw_all_sql() -> str:
    from apps.scoring.selectors import sample_draw_sql

    one = sample_draw_sql(seed="t.seed", low="t.low", high="t.high", n="%(n)s")
    return f"""
    INSERT INTO scoring_samplehousehold (sample_id, household_id, rank)
    SELECT t.sample_id, d.id, d.rank
    FROM unnest(%(samples)s::bigint[], %(seeds)s::text[], %(lows)s::text[], %(highs)s::text[])
         AS t(sample_id, seed, low, high)
    CROSS JOIN LATERAL ({one}) AS d
    """  # noqa: S608


def sample_policy_on(day: date) -> SampleCheckPolicy:
    policy = in_force(SampleCheckPolicy.objects.all(), day).order_by("-valid_from").first()
    if policy is None:
        raise RuleViolation("没有有效的入户抽查规则，请先在管理后台设置", code="no_policy")
    return policy


def _sample_require(by: User) -> None:
    if by is None or not by.has_role(*SAMPLE_ROLES) or not by.area_id or by.area.level != AreaLevel.COUNTY:
        raise RuleViolation("入户抽查由县级考核评估员组织", code="forbidden")


@transaction.atomic
def sample_checks_draw(*, year: int, by: User) -> list[SampleCheck]:
    """抽样: a check of every township of the user's county for ``year`` that has none yet, each with its own
    secret seed, the households drawn in one statement."""
    import secrets

    from django.db import connection

    from apps.core.areacodes import code_range

    _sample_require(by)
    policy = sample_policy_on(timezone.localdate())
    townships = list(
        Area.objects.filter(level=AreaLevel.TOWNSHIP, code__startswith=by.area_id[:6])
        .exclude(code__in=SampleCheck.objects.filter(year=year).values("township_id"))
        .order_by("code")
    )
    if not townships:
        raise RuleViolation(f"{year}年各乡镇均已抽样", code="duplicate")
    seeds = [secrets.token_hex(16) for _ in townships]
    with audit_context(by, reason="入户抽查抽样"):
        try:
            with transaction.atomic():
                created = SampleCheck.objects.bulk_create(
                    SampleCheck(
                        township=township,
                        year=year,
                        policy=policy,
                        seed=seed,
                        seed_sha256=hashlib.sha256(seed.encode()).hexdigest(),
                        drawn_by=by,
                    )
                    for township, seed in zip(townships, seeds, strict=True)
                )
        except IntegrityError:  # another user drew the same year at the same moment
            raise RuleViolation(f"{year}年的抽样刚由他人完成，请刷新后查看", code="duplicate") from None
        ranges = [code_range(c.township_id) for c in created]
        with connection.cursor() as cursor:
            cursor.execute(
                _sample_draw_all_sql(),
                {
                    "samples": [c.pk for c in created],
                    "seeds": [c.seed for c in created],
                    "lows": [r[0] for r in ranges],
                    "highs": [r[1] for r in ranges],
                    "n": policy.households_per_township,
                },
            )
    return created


def _sample_open(sample: SampleCheck, by: User) -> SampleCheck:
    _sample_require(by)
    sample = SampleCheck.objects.select_for_update().get(pk=sample.pk)
    _check_in_scope(user=by, area_code=sample.township_id)
    if sample.status != SampleCheckStatus.OPEN:
        raise RuleViolation("该抽查已结束，不能再录入", code="state")
    return sample


@transaction.atomic
def sample_finding_record(
    *, sample: SampleCheck, person, kind: str, by: User, field: str = "", note: str = ""
) -> SampleFinding:
    """核查结果 for one registered member of a sampled household (entered again: replaced)."""
    sample = _sample_open(sample, by)
    if kind not in CHECKED_KINDS:
        raise RuleViolation("请选择核查结果", field="kind")
    if not sample.households.filter(household_id=person.household_id).exists():
        raise RuleViolation("该人员不在抽中的户内", field="person")
    if kind == FindingKind.WRONG_FIELD and not field.strip():
        raise RuleViolation("请填写有误的项目", field="field")
    with audit_context(by, reason="入户抽查核查"):
        finding, _ = SampleFinding.objects.update_or_create(
            sample=sample, person=person,
            defaults={"household_id": person.household_id, "kind": kind, "field": field.strip()[:50] if kind ==
                      FindingKind.WRONG_FIELD else "", "note": note.strip()[:300], "by": by},
        )  # fmt: skip
    return finding


@transaction.atomic
def sample_unregistered_record(*, sample: SampleCheck, household, kind: str, note: str, by: User) -> SampleFinding:
    """漏登: a person living in a sampled household, or an event there (a birth, a death), not in the registry."""
    sample = _sample_open(sample, by)
    if kind not in (FindingKind.UNREGISTERED_PERSON, FindingKind.UNREGISTERED_EVENT):
        raise RuleViolation("请选择漏登人员或漏登事件", field="kind")
    if not sample.households.filter(household=household).exists():
        raise RuleViolation("该户不在抽中的户内", field="household")
    if not (note or "").strip():
        raise RuleViolation("请说明漏登的人员或事件", field="note")
    with audit_context(by, reason="入户抽查核查"):
        return SampleFinding.objects.create(
            sample=sample, household=household, kind=kind, note=note.strip()[:300], by=by
        )


@transaction.atomic
def sample_check_close(*, sample: SampleCheck, by: User) -> SampleCheck:
    """结束抽查: every listed person checked; the seed is published; when the 统计准确率 is below the policy's
    line, a deduction is proposed on the township's assessment of the year, for approval by another user."""
    from django.core.files.base import ContentFile

    from apps.scoring.selectors import sample_accuracy, sample_members

    sample = _sample_open(sample, by)
    unchecked = sample_members(sample=sample).exclude(
        pk__in=sample.findings.filter(person__isnull=False).values("person_id")
    )
    if unchecked.exists():
        raise RuleViolation(f"还有{unchecked.count()}人未录入核查结果", code="unchecked")
    accuracy = sample_accuracy(sample=sample)
    with audit_context(by, reason="结束入户抽查"):
        sample.status = SampleCheckStatus.CLOSED
        sample.closed_by = by
        sample.closed_at = timezone.now()
        sample.save(update_fields=["status", "closed_by", "closed_at"])
    policy = sample.policy
    if accuracy.rate is None or accuracy.rate >= policy.accuracy_threshold:
        return sample
    assessment = Assessment.objects.filter(area_id=sample.township_id, year=sample.year).first()
    rule = (
        AdjustmentRule.objects.filter(scheme_id=assessment.scheme_id, code=policy.adjustment_rule_code).first()
        if assessment
        else None
    )
    if assessment is None or rule is None or assessment.status != AssessmentStatus.OPEN:
        return sample  # no open assessment to propose it on: the result page says so
    note = (
        f"{sample.year}年入户抽查：核查{accuracy.checked}人，信息一致{accuracy.correct}人，统计准确率"
        f"{accuracy.rate}%（95%置信区间{accuracy.low}%–{accuracy.high}%），低于{policy.accuracy_threshold}%；"
        f"漏登{accuracy.unregistered}项"
    )
    evidence = ContentFile(note.encode("utf-8"), name=f"sample-check-{sample.pk}.txt")
    sample.adjustment = adjustment_claim(assessment=assessment, rule=rule, note=note, cases=1, evidence=evidence,
                                         by=by)  # fmt: skip
    sample.save(update_fields=["adjustment"])
    return sample
