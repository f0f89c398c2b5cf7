"""Reads of the scoring app, always area-scoped (DESIGN §4): a township leader sees only its own unit.

Ranks are computed in SQL with ``RANK()`` over every non-vetoed unit of the county (ties share a rank), then
the rows the user may see are picked; a township leader thus sees its own true rank, and nothing of others.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import F, QuerySet, Window
from django.db.models.functions import Rank, Substr

from apps.accounts.models import User
from apps.core.access import may_read, readable
from apps.core.scoping import NOTHING, user_scope
from apps.scoring.models import (
    Adjustment,
    Assessment,
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


@dataclass
class ResultRow:
    assessment: Assessment
    rank: int | None
    lines: list[LineResult]
    grade: str
    yellow_card: bool
    pairings: list[Pairing] = field(default_factory=list)


@dataclass
class Results:
    year: int
    lines: list[SchemeItem]
    ranked: list[ResultRow]
    vetoed: list[ResultRow]


def results_for(*, user: User, year: int) -> Results:
    """The county results table of ``year``: ranked units (overall and per line), then vetoed units apart.
    A fixed number of queries, whatever the number of units."""
    visible = list(assessments_visible_to(user=user, year=year))
    ids = [a.pk for a in visible]
    counties = {a.area_id[:6] for a in visible}
    ranks: dict[int, int] = {}
    ranked_count: dict[str, list[int]] = defaultdict(list)
    if counties:
        for pk, area_id, rank in (
            Assessment.objects.filter(year=year, excluded=False)
            .annotate(county=_county("area_id"))
            .filter(county__in=counties)
            .annotate(rank=Window(Rank(), partition_by=[_county("area_id")], order_by=F("total").desc()))
            .values_list("pk", "area_id", "rank")
        ):
            ranks[pk] = rank
            ranked_count[area_id[:6]].append(rank)
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
            LineResult(ls.line, ls.score, line_ranks.get((ls.assessment_id, ls.line_id)), ls.zeroed)
        )
    bands = list(GradeBand.objects.filter(year=year).order_by("-min_total"))
    rules = ResultRules.objects.filter(year=year).first()
    bottom = rules.yellow_card_bottom_ranks if rules else 0
    cutoffs = {}
    for county, county_ranks in ranked_count.items():
        county_ranks.sort()
        if bottom and county_ranks:
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
            a, rank, line_scores[a.pk], grade, bool(rank and cutoff and rank >= cutoff), pairings[a.area_id]
        )
        (vetoed if a.excluded else ranked).append(row)
    ranked.sort(key=lambda r: (r.rank or 0, r.assessment.area_id))
    return Results(year, sorted(lines_by_id.values(), key=lambda s: s.position), ranked, vetoed)


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
    return assessment.adjustments.select_related("rule", "claimed_by", "decided_by").order_by("claimed_at", "pk")


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
    from apps.indicators.catalogue import BY_CODE
    from apps.scoring.calculation import fmt

    shown = []
    for t in ContractTarget.objects.filter(
        contract__area_id=assessment.area_id, contract__year=assessment.year
    ).order_by("pk"):
        indicator = BY_CODE.get(t.indicator_code)
        name = indicator.name if indicator else t.indicator_code
        unit = indicator.unit if indicator and indicator.unit in ("‰", "%") else ""
        shown.append(f"{name} {t.get_direction_display()} {fmt(t.target)}{unit}")
    return shown
