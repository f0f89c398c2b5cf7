"""The start page's scoring work (``apps.core.worklist``): open assessments with manual items the assessor
has still to score, and bonus/deduction claims to decide — never of the user's own unit (DESIGN §4)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef

from apps.core.access import ASSESSOR, COUNTY_ADMIN
from apps.core.areacodes import county_of, township_of
from apps.core.worklist import WorkItem
from apps.scoring import selectors
from apps.scoring.models import Adjustment, AdjustmentStatus, AssessmentStatus, ItemMethod, ItemScore, SchemeItem


def _open_of_others(user):
    """Open assessments the user may see, the user's own unit left out."""
    qs = selectors.assessments_visible_to(user=user).filter(status=AssessmentStatus.OPEN)
    if user.area_id:
        qs = qs.exclude(area_id__in={user.area_id, township_of(user.area_id), county_of(user.area_id)})
    return qs


def items(user) -> list[WorkItem]:
    def to_score() -> int:
        scored = ItemScore.objects.filter(assessment=OuterRef(OuterRef("pk")), item=OuterRef("pk"),
                                          points__isnull=False)  # fmt: skip
        unscored = SchemeItem.objects.filter(scheme=OuterRef("scheme_id"), method=ItemMethod.MANUAL).exclude(
            Exists(scored)
        )
        return _open_of_others(user).filter(Exists(unscored)).count()

    def to_decide() -> int:
        claims = Adjustment.objects.filter(status=AdjustmentStatus.CLAIMED, assessment__in=_open_of_others(user))
        return claims.count()

    return [
        WorkItem("scoring.to_score", "有人工评分项目待评分的考核单位", "scoring:results", count=to_score,
                 roles=frozenset({ASSESSOR}), hint="打开单位的考核明细，逐项评分并填写评分说明", order=60),
        WorkItem("scoring.to_decide", "待审核的加减分申报", "scoring:results", count=to_decide,
                 roles=frozenset({ASSESSOR, COUNTY_ADMIN}), hint="核实佐证材料后批准或不批准", order=60),
    ]  # fmt: skip
