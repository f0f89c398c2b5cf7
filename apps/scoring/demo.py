"""Demo scoring data for ``make run``: a contract per township of the demo county (targets after seed 004,
L147–153) where none exists yet, pairings (包保), the year opened through ``assessment_year_open`` and, by
default, the townships' manual items scored and finalised so that totals spread over the grade bands — all but
the last ``leave_open`` townships, left for the assessor's start page: the first of those half scored, the
others not yet.
Deterministic for a seed; idempotent: contracts that exist are never changed, scored or final units are
left alone."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

from django.db import transaction

from apps.areas.models import Area, AreaLevel
from apps.core.errors import RuleViolation
from apps.scoring.models import (
    Assessment,
    AssessmentStatus,
    Contract,
    ItemMethod,
    ItemScore,
    Pairing,
    PairingKind,
    SchemeItem,
    TargetDirection,
)
from apps.scoring.services import (
    ManualScore,
    TargetData,
    assessment_finalise,
    assessment_year_open,
    contract_save,
    item_scores_manual,
)

AT_MOST, AT_LEAST = TargetDirection.AT_MOST, TargetDirection.AT_LEAST
DEMO_TARGETS = (
    TargetData("birth_rate", AT_MOST, Decimal("11.00")),  # 出生率 ≤ 11.00‰
    TargetData("natural_growth_rate", AT_MOST, Decimal("6.30")),  # 自然增长率 ≤ 6.30‰
    TargetData("policy_compliance_rate", AT_LEAST, Decimal("95.00")),  # 政策生育率 ≥ 95%
    TargetData("birth_registration_timeliness", AT_LEAST, Decimal("90.00")),
    TargetData("sex_ratio_at_birth", AT_MOST, Decimal("110.00")),
    TargetData("subsidy_payment_rate", AT_LEAST, Decimal("98.00")),
    TargetData("record_completeness_rate", AT_LEAST, Decimal("96.00")),
)
DEMO_LEADERS = ("县委副书记", "县政府副县长", "县人大常委会副主任", "县政协副主席", "县委常委")
DEMO_DEPARTMENTS = ("县卫生健康局", "县公安局", "县民政局", "县财政局", "县统计局")
# The demo loads its scheme when the database is set up, i.e. after its year began: said on every result page.
DEMO_LATE_REASON = "演示数据：考核方案在演示库初始化时才导入并发布，晚于考核年度开始"
# How well a township did its manual items (share of their points): spread from weak to excellent so that
# the totals fall into every grade band (优秀 ≥ 900, 良好 ≥ 800, 合格 ≥ 600 in the example bands).
LEVEL_LOW, LEVEL_HIGH, LEVEL_NOISE = 0.40, 0.99, 0.06
NOTES = ((0.85, "台账齐全，工作扎实，有创新做法"), (0.6, "基本完成，个别资料不全"), (0.0, "工作滞后，整改未到位"))


def _manual_scores(items: list[SchemeItem], level: float, rng: random.Random) -> list[ManualScore]:
    scores = []
    for item in items:
        share = min(1.0, max(0.0, level + rng.uniform(-LEVEL_NOISE, LEVEL_NOISE)))
        points = (Decimal(str(share)) * item.points * 2).quantize(Decimal(1)) / 2  # half points, as assessors do
        note = next(text for floor, text in NOTES if share >= floor)
        scores.append(ManualScore(item, points, note))
    return scores


def finalised_before(county: str, year: int) -> int:
    return Assessment.objects.within(county).filter(year=year).exclude(status=AssessmentStatus.OPEN).count()


@transaction.atomic
def scoring_demo_ensure(*, year: int, seed: int = 1, score: bool = True, leave_open: int = 0) -> dict:
    county = Area.objects.filter(level=AreaLevel.COUNTY).order_by("code").first()
    if county is None:
        raise RuleViolation("请先导入行政区划（load_areas）")
    townships = list(Area.objects.within(county.code).filter(level=AreaLevel.TOWNSHIP).order_by("code"))
    signed = set(Contract.objects.filter(year=year, area__in=townships).values_list("area_id", flat=True))
    for i, township in enumerate(townships):
        if township.code not in signed:
            contract_save(area=township, year=year, signed_on=date(year, 1, 15), targets=list(DEMO_TARGETS))
        Pairing.objects.get_or_create(
            area=township, year=year, kind=PairingKind.LEADER, name=DEMO_LEADERS[i % len(DEMO_LEADERS)]
        )
        Pairing.objects.get_or_create(
            area=township, year=year, kind=PairingKind.DEPARTMENT, name=DEMO_DEPARTMENTS[i % len(DEMO_DEPARTMENTS)]
        )
    opened = assessment_year_open(year=year, by=None, county=county, late_reason=DEMO_LATE_REASON)
    finalised = 0
    if score:
        rng = random.Random(seed)
        manual = list(SchemeItem.objects.filter(scheme_id=opened.record.scheme_id, method=ItemMethod.MANUAL))
        untouched = list(
            Assessment.objects.within(county.code)
            .filter(year=year, status=AssessmentStatus.OPEN)
            .exclude(pk__in=ItemScore.objects.filter(source="manual").values("assessment_id"))
            .select_related("area")
            .order_by("area_id")
        )
        if finalised_before(county.code, year):  # scored before: leave the year as it is
            untouched = []
        kept = max(0, min(leave_open, len(untouched) - 1))
        scored = len(untouched) - kept
        steps = max(scored - 1, 1)
        levels = [LEVEL_LOW + (LEVEL_HIGH - LEVEL_LOW) * i / steps for i in range(scored)]
        rng.shuffle(levels)
        levels += [(LEVEL_LOW + LEVEL_HIGH) / 2] * kept
        for n, (assessment, level) in enumerate(zip(untouched, levels, strict=True)):
            scores = _manual_scores(manual, level, rng)
            if n >= scored:  # left open: the first of these half scored, the others not yet
                if n == scored:
                    item_scores_manual(assessment=assessment, scores=scores[: len(scores) // 2], by=None)
                continue
            item_scores_manual(assessment=assessment, scores=scores, by=None)
            assessment_finalise(assessment=assessment, by=None)
            finalised += 1
    return {
        "year": year,
        "contracts_created": len(townships) - len(signed),
        "assessments_created": opened.created,
        "assessments": opened.created + opened.existing,
        "finalised": finalised,
    }
