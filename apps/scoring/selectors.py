"""Reads of the scoring app, always area-scoped (DESIGN §4): a township leader sees only its own unit.

Ranks are computed over every non-vetoed unit of the county, then the rows the user may see are picked; a
township leader thus sees its own true rank, and nothing of others. A tie on the total is decided by the
year's result rules (``ResultRules.tie_break``: line or item codes compared in order); units still tied
share a rank. Per-line ranks (三线排位) are SQL ``RANK()``, ties shared. The yellow card (黄牌警告) is given
only once every assessment of the county's year is final: a projected score never earns one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import F, Prefetch, QuerySet, Window
from django.db.models.functions import Rank, Substr

from apps.accounts.models import User
from apps.core.access import may_read, readable
from apps.core.scoping import NOTHING, user_scope
from apps.scoring.models import (
    Adjustment,
    Assessment,
    AssessmentYear,
    ContractTarget,
    GradeBand,
    ItemMethod,
    ItemScore,
    LineScore,
    Pairing,
    ResultRules,
    Scheme,
    SchemeItem,
    SchemeStatus,
)


def may_read_results(user: User) -> bool:
    """Who reads assessment results (pages and API alike): the role matrix's readers of ``scoring``
    (assessors, county viewers and admins, and the township clerks and leaders of the unit itself)."""
    return bool(user and user.is_authenticated and may_read(user, "scoring"))


def _assessments(user: User) -> QuerySet[Assessment]:
    return readable(Assessment.objects.visible_to(user), user, "scoring")


def assessments_visible_to(*, user: User, year: int | None = None) -> QuerySet[Assessment]:
    qs = _assessments(user).select_related("area", "scheme")
    if year is not None:
        qs = qs.filter(year=year)
    return qs.order_by("area_id")


def assessment_get_visible(*, user: User, pk: int) -> Assessment:
    """Raises ``Assessment.DoesNotExist`` for a unit outside the user's area (a 404 to the caller)."""
    return assessments_visible_to(user=user).get(pk=pk)


def assessment_years_visible(*, user: User) -> list[int]:
    return list(_assessments(user).values_list("year", flat=True).distinct().order_by("-year"))


def assessment_year_records(*, user: User, year: int) -> list[AssessmentYear]:
    """The opened years (考核年度) of the county the user works in."""
    if user_scope(user) == NOTHING or not may_read(user, "scoring"):
        return []
    qs = AssessmentYear.objects.filter(year=year).select_related("scheme", "opened_by", "county")
    if user.area_id:
        qs = qs.filter(county_id=f"{user.area_id[:6]}000000")
    return list(qs.order_by("county_id"))


def schemes_for_year_page(*, user: User) -> QuerySet[Scheme]:
    """Published schemes, and drafts too for a county admin (who publishes them)."""
    from apps.accounts.models import Role

    if user.has_role(Role.COUNTY_ADMIN):
        return Scheme.objects.order_by("code", "-version")
    return schemes_visible_to(user=user)


def contracts_of_year(*, user: User, year: int) -> list[tuple]:
    """(township, contract or None, targets as read) for every township in the user's area: the 目标管理责任书
    of the year, signed or not. Three queries whatever the number of units."""
    from apps.areas.models import Area, AreaLevel
    from apps.scoring.models import Contract

    if not may_read(user, "scoring.contracts"):
        return []
    townships = list(Area.objects.visible_to(user).filter(level=AreaLevel.TOWNSHIP).order_by("code"))
    contracts = {
        c.area_id: c
        for c in Contract.objects.visible_to(user)
        .filter(year=year)
        .prefetch_related(Prefetch("targets", queryset=ContractTarget.objects.order_by("indicator_code")))
    }
    return [(t, contracts.get(t.code), _targets_shown(contracts[t.code].targets.all()) if t.code in contracts else [])
            for t in townships]  # fmt: skip


def schemes_visible_to(*, user: User) -> QuerySet[Scheme]:
    """Published schemes are public to every reader of scoring in the county (units read them all year)."""
    if user_scope(user) == NOTHING or not may_read(user, "scoring"):
        return Scheme.objects.none()
    return Scheme.objects.filter(status=SchemeStatus.PUBLISHED).order_by("code", "-version")


def _county(field_name: str):
    return Substr(field_name, 1, 6)


@dataclass
class LineResult:
    line: SchemeItem
    score: Decimal
    rank: int | None
    zeroed: bool
    adjustment: Decimal = Decimal(0)  # approved bonuses and deductions counted in this line


@dataclass
class ResultRow:
    assessment: Assessment
    rank: int | None
    lines: list[LineResult]
    grade: str
    yellow_card: bool
    pairings: list[Pairing] = field(default_factory=list)
    provisional: bool = True  # the county's ranking is final only once every unit's assessment is final


@dataclass
class Results:
    year: int
    lines: list[SchemeItem]
    ranked: list[ResultRow]
    vetoed: list[ResultRow]
    year_records: list[AssessmentYear] = field(default_factory=list)
    final: bool = False

    @property
    def late_notices(self) -> list[str]:
        return [late_notice(r) for r in self.year_records if r.late_reason]


def late_notice(record: AssessmentYear) -> str:
    """The sentence shown on every result page of a year opened under a scheme published late (seed 004, L8)."""
    published = record.scheme.published_at
    when = f"于{published:%Y-%m-%d}发布，" if published else ""
    return f"{record.year}年考核方案{when}晚于考核年度开始。迟发说明：{record.late_reason}"


def rank_with_tie_break(keys: dict[int, tuple]) -> dict[int, int]:
    """Standard competition ranks (1, 1, 3) by ``keys`` (higher first, compared element by element): the
    total, then the tie-break scores of the year's result rules. Equal keys share a rank."""
    ordered = sorted(keys.items(), key=lambda kv: tuple(-v for v in kv[1]))
    ranks, previous, rank = {}, None, 0
    for position, (pk, key) in enumerate(ordered, start=1):
        if key != previous:
            rank, previous = position, key
        ranks[pk] = rank
    return ranks


def _total_ranks(
    *, year: int, counties: set[str], tie_break: list[str]
) -> tuple[dict[int, int], dict[str, list[int]], set[str]]:
    """(assessment → rank among the non-vetoed units of its county, county → every rank given in it,
    counties whose year is all final)."""
    rows = list(
        Assessment.objects.filter(year=year)
        .annotate(county=_county("area_id"))
        .filter(county__in=counties)
        .values_list("pk", "area_id", "total", "excluded", "status")
    )
    final = {area[:6] for _pk, area, *_ in rows} - {area[:6] for _pk, area, _t, _e, st in rows if st != "final"}
    ranked = {pk: (area[:6], total) for pk, area, total, excluded, _st in rows if not excluded}
    extra: dict[tuple[int, str], Decimal] = {}
    if tie_break and ranked:
        for pk, code, score in LineScore.objects.filter(assessment_id__in=ranked, line__code__in=tie_break).values_list(
            "assessment_id", "line__code", "score"
        ):
            extra[(pk, code)] = score
        for pk, code, points in ItemScore.objects.filter(
            assessment_id__in=ranked, item__code__in=tie_break
        ).values_list("assessment_id", "item__code", "points"):
            extra[(pk, code)] = points or Decimal(0)
    ranks: dict[int, int] = {}
    by_county: dict[str, list[int]] = {}
    for county in {c for c, _t in ranked.values()}:
        keys = {
            pk: (total, *(extra.get((pk, code), Decimal(0)) for code in tie_break))
            for pk, (c, total) in ranked.items()
            if c == county
        }
        county_ranks = rank_with_tie_break(keys)
        ranks.update(county_ranks)
        by_county[county] = sorted(county_ranks.values())
    return ranks, by_county, final


def results_for(*, user: User, year: int) -> Results:
    """The county results table of ``year``: ranked units (overall and per line), then vetoed units apart.
    A fixed number of queries, whatever the number of units."""
    visible = list(assessments_visible_to(user=user, year=year))
    ids = [a.pk for a in visible]
    counties = {a.area_id[:6] for a in visible}
    rules = ResultRules.objects.filter(year=year).first()
    tie_break = list(rules.tie_break) if rules else []
    ranks, ranked_count, final_counties = _total_ranks(year=year, counties=counties, tie_break=tie_break)
    line_ranks: dict[tuple[int, int], int] = {}
    county = _county("assessment__area_id")
    if counties:
        for assessment_id, line_id, rank in (
            LineScore.objects.filter(assessment__year=year, assessment__excluded=False)
            .annotate(county=_county("assessment__area_id"))
            .filter(county__in=counties)
            .annotate(
                rank=Window(
                    Rank(), partition_by=[F("line_id"), _county("assessment__area_id")], order_by=F("score").desc()
                )
            )
            .values_list("assessment_id", "line_id", "rank")
        ):
            line_ranks[(assessment_id, line_id)] = rank
    line_scores = defaultdict(list)
    lines_by_id: dict[int, SchemeItem] = {}
    for ls in LineScore.objects.filter(assessment_id__in=ids).select_related("line").order_by("line__position"):
        lines_by_id[ls.line_id] = ls.line
        line_scores[ls.assessment_id].append(
            LineResult(ls.line, ls.score, line_ranks.get((ls.assessment_id, ls.line_id)), ls.zeroed, ls.adjustment)
        )
    bands = list(GradeBand.objects.filter(year=year).order_by("-min_total"))
    bottom = rules.yellow_card_bottom_ranks if rules else 0
    cutoffs = {}
    for county, county_ranks in ranked_count.items():
        # Only a final ranking gives yellow cards (the bottom ``bottom`` places, ties at the cut-off included).
        if bottom and county_ranks and county in final_counties:
            cutoffs[county] = county_ranks[max(0, len(county_ranks) - bottom)]
    pairings = defaultdict(list)
    for p in Pairing.objects.visible_to(user).filter(year=year).order_by("-kind", "name"):  # leaders first
        pairings[p.area_id].append(p)

    ranked, vetoed = [], []
    for a in visible:
        rank = ranks.get(a.pk)
        grade = "" if a.excluded else next((b.label for b in bands if a.total >= b.min_total), "")
        cutoff = cutoffs.get(a.area_id[:6])
        row = ResultRow(
            a, rank, line_scores[a.pk], grade, bool(rank and cutoff and rank >= cutoff), pairings[a.area_id],
            provisional=a.area_id[:6] not in final_counties,
        )  # fmt: skip
        (vetoed if a.excluded else ranked).append(row)
    ranked.sort(key=lambda r: (r.rank or 0, r.assessment.area_id))
    year_records = list(
        AssessmentYear.objects.filter(year=year, county_id__in=[f"{c}000000" for c in counties])
        .select_related("scheme")
        .order_by("county_id")
    )
    lines = sorted(lines_by_id.values(), key=lambda s: s.position)
    final = bool(counties) and counties <= final_counties
    return Results(year, lines, ranked, vetoed, year_records, final)


def result_rows_for(*, user: User, assessments: list[Assessment]) -> dict[int, ResultRow]:
    """assessment → its result row (rank, per-line ranks, grade, yellow card), for the API's pages: one
    results computation per year present."""
    rows: dict[int, ResultRow] = {}
    for year in sorted({a.year for a in assessments}):
        results = results_for(user=user, year=year)
        rows.update({r.assessment.pk: r for r in results.ranked + results.vetoed})
    return rows


def result_row_for(*, user: User, assessment: Assessment) -> ResultRow:
    results = results_for(user=user, year=assessment.year)
    return next(r for r in results.ranked + results.vetoed if r.assessment.pk == assessment.pk)


@dataclass
class BreakdownRow:
    item: SchemeItem
    score: ItemScore | None
    points: Decimal | None

    @property
    def indicator_name(self) -> str:
        from apps.indicators.catalogue import BY_CODE

        indicator = BY_CODE.get(self.item.indicator_code)
        return indicator.name if indicator else self.item.indicator_code


def assessment_breakdown(*, assessment: Assessment) -> list[BreakdownRow]:
    """Every item of the scheme in order, with its score (group rows carry the sum of their leaves)."""
    items = list(SchemeItem.objects.filter(scheme_id=assessment.scheme_id).order_by("position"))
    scores = {s.item_id: s for s in ItemScore.objects.filter(assessment=assessment).select_related("scored_by")}
    line_scores = {ls.line_id: ls for ls in LineScore.objects.filter(assessment=assessment)}
    children = defaultdict(list)
    for item in items:
        children[item.parent_id].append(item)
    sums: dict[int, Decimal | None] = {}

    def total(item: SchemeItem) -> Decimal | None:
        if item.method != ItemMethod.GROUP:
            s = scores.get(item.pk)
            return s.points if s else None
        parts = [total(c) for c in children[item.pk]]
        value = sum((p for p in parts if p is not None), Decimal("0.00"))
        sums[item.pk] = value
        return value

    for line in children[None]:
        total(line)
    rows = []
    for item in items:
        if item.parent_id is None and item.pk in line_scores:
            points = line_scores[item.pk].score
        elif item.method == ItemMethod.GROUP:
            points = sums.get(item.pk)
        else:
            points = scores[item.pk].points if item.pk in scores else None
        rows.append(BreakdownRow(item, scores.get(item.pk), points))
    return rows


def adjustments_of(*, assessment: Assessment) -> QuerySet[Adjustment]:
    related = ("rule", "line", "claimed_by", "decided_by")
    return assessment.adjustments.select_related(*related).order_by("claimed_at", "pk")


def item_score_get_visible(*, user: User, pk: int) -> ItemScore:
    return ItemScore.objects.select_related("assessment").get(pk=pk, assessment__in=_assessments(user))


def adjustment_get_visible(*, user: User, pk: int) -> Adjustment:
    return Adjustment.objects.select_related("assessment__area", "rule").get(pk=pk, assessment__in=_assessments(user))


def pairings_of(*, assessment: Assessment) -> QuerySet[Pairing]:
    return Pairing.objects.filter(area_id=assessment.area_id, year=assessment.year).order_by(
        "-kind", "name"
    )  # leaders first


def contract_targets_of(*, assessment: Assessment) -> list[str]:
    """The unit's 目标管理责任书 targets as people read them: "出生率 ≤ 11‰"."""
    return _targets_shown(
        ContractTarget.objects.filter(contract__area_id=assessment.area_id, contract__year=assessment.year).order_by(
            "pk"
        )
    )


def _targets_shown(targets) -> list[str]:
    from apps.indicators.catalogue import BY_CODE
    from apps.scoring.calculation import fmt

    shown = []
    for t in targets:
        indicator = BY_CODE.get(t.indicator_code)
        name = indicator.name if indicator else t.indicator_code
        unit = indicator.unit if indicator and indicator.unit in ("‰", "%") else ""
        shown.append(f"{name} {t.get_direction_display()} {fmt(t.target)}{unit}")
    return shown


# --- 入户抽查 (sample checks) -----------------------------------------------------------------------------


def sample_checks_visible(*, user: User) -> QuerySet:
    """A user bound below the county (a township's leader) sees the own township's check only once it is
    closed: while it is open, its sample is what the township must not know in advance."""
    from apps.areas.models import AreaLevel
    from apps.scoring.models import SampleCheck, SampleCheckStatus

    qs = readable(SampleCheck.objects.visible_to(user), user, "scoring.year")
    if not user.is_superuser and getattr(user.area, "level", None) != AreaLevel.COUNTY:
        qs = qs.filter(status=SampleCheckStatus.CLOSED)
    return qs.select_related("township", "policy", "adjustment").order_by("-year", "township_id")


def sample_members(*, sample) -> QuerySet:
    """The registered persons living in the sampled households (the checklist's rows)."""
    from apps.registry.models import Person
    from apps.registry.rules import LIVING_COUNTY_PERSON

    return (
        Person.objects.filter(LIVING_COUNTY_PERSON, household_id__in=sample.households.values("household_id"))
        .select_related("household", "village")
        .order_by("household__number", "birth_date", "id")
    )


def sample_draw_sql(*, seed: str, low: str, high: str, n: str) -> str:
    """The one rule of the draw, as SQL over the given expressions: the township's households with a living,
    unmerged, non-external registered person, ordered by md5(seed:id) (ties by id), the first ``n``, with their
    rank. The draw (``services.sample_checks_draw``) and the re-draw from a published seed both use it."""
    from apps.registry.rules import living_county_person_sql

    return f"""
    SELECT h.id, row_number() OVER (ORDER BY md5({seed} || ':' || h.id::text), h.id) AS rank
    FROM registry_household h
    WHERE h.village_id >= {low} AND h.village_id < {high}
      AND EXISTS (SELECT 1 FROM registry_person p WHERE p.household_id = h.id AND {living_county_person_sql("p")})
    ORDER BY md5({seed} || ':' || h.id::text), h.id
    LIMIT {n}
    """  # noqa: S608 - the arguments are SQL expressions of ours (parameter names), never user text


def sample_redraw(*, sample, seed: str) -> list[int]:
    """The household ids the seed gives for the sample's township and size: anyone holding the published seed
    can check the sample against it."""
    from django.db import connection

    from apps.core.areacodes import code_range

    low, high = code_range(sample.township_id)
    sql = sample_draw_sql(seed="%(seed)s", low="%(low)s", high="%(high)s", n="%(n)s")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM ({sql}) AS d ORDER BY rank",  # noqa: S608
            {"low": low, "high": high, "seed": seed, "n": sample.policy.households_per_township},
        )
        return [row[0] for row in cursor.fetchall()]


@dataclass(frozen=True)
class SampleAccuracy:
    """统计准确率: registered persons checked at the door whose record was right, with Wilson's 95 % interval
    (it stays inside 0–100 % and behaves at small samples and at 100 %, unlike the normal approximation)."""

    checked: int
    correct: int
    unregistered: int
    rate: Decimal | None
    low: Decimal | None
    high: Decimal | None


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    import math

    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)  # exactly, not 0.999… in floating point
    return low, high


def _accuracy_counts(prefix: str = "") -> dict:
    """The findings counted for 统计准确率, as aggregates over ``prefix`` (``"findings__"`` from the check)."""
    from django.db.models import Count, Q

    from apps.scoring.models import CHECKED_KINDS, FindingKind

    kind = f"{prefix}kind"
    unregistered = [FindingKind.UNREGISTERED_PERSON, FindingKind.UNREGISTERED_EVENT]
    return {
        "checked": Count(f"{prefix}id", filter=Q(**{f"{kind}__in": CHECKED_KINDS})),
        "correct": Count(f"{prefix}id", filter=Q(**{kind: FindingKind.FOUND})),
        "unregistered": Count(f"{prefix}id", filter=Q(**{f"{kind}__in": unregistered})),
    }


def sample_checks_with_accuracy(*, user: User) -> list:
    """The checks the user may see, each with its ``accuracy``, in one query (the list page)."""
    checks = list(sample_checks_visible(user=user).annotate(**_accuracy_counts("findings__")))
    for check in checks:
        check.accuracy = _accuracy(check.checked, check.correct, check.unregistered)
    return checks


def sample_accuracy(*, sample) -> SampleAccuracy:
    counts = sample.findings.aggregate(**_accuracy_counts())
    return _accuracy(counts["checked"], counts["correct"], counts["unregistered"])


def _accuracy(checked: int, correct: int, unregistered: int) -> SampleAccuracy:
    if not checked:
        return SampleAccuracy(0, 0, unregistered, None, None, None)
    low, high = wilson_interval(correct, checked)

    def pct(x: float) -> Decimal:
        return (Decimal(str(x)) * 100).quantize(Decimal("0.01"))

    return SampleAccuracy(checked, correct, unregistered, pct(correct / checked), pct(low), pct(high))
