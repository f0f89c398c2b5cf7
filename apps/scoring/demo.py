"""Demo scoring data for ``make run``: a contract per township of the demo county (targets after seed 004,
L147–153), pairings (包保), and an open assessment per township under the published scheme. Idempotent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction

from apps.areas.models import Area, AreaLevel
from apps.core.errors import RuleViolation
from apps.scoring.models import Pairing, PairingKind, TargetDirection
from apps.scoring.services import TargetData, assessments_open, contract_save

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


@transaction.atomic
def scoring_demo_ensure(*, year: int) -> dict:
    county = Area.objects.filter(level=AreaLevel.COUNTY).order_by("code").first()
    if county is None:
        raise RuleViolation("请先导入行政区划（load_areas）")
    townships = list(Area.objects.within(county.code).filter(level=AreaLevel.TOWNSHIP).order_by("code"))
    for i, township in enumerate(townships):
        contract_save(area=township, year=year, signed_on=date(year, 1, 15), targets=list(DEMO_TARGETS))
        Pairing.objects.get_or_create(
            area=township, year=year, kind=PairingKind.LEADER, name=DEMO_LEADERS[i % len(DEMO_LEADERS)]
        )
        Pairing.objects.get_or_create(
            area=township, year=year, kind=PairingKind.DEPARTMENT, name=DEMO_DEPARTMENTS[i % len(DEMO_DEPARTMENTS)]
        )
    assessments = assessments_open(year=year, county=county)
    return {"year": year, "contracts": len(townships), "assessments": len(assessments)}
