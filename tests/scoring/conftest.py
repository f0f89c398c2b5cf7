"""Scoring fixtures: the shared scheme, contracts with the seed 004 targets, users, and snapshots built as
ReportRun/IndicatorValue rows (the indicators app's models) that scoring reads through
``indicator_values_latest``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from apps.indicators.models import IndicatorValue, ReportRun, RunStatus
from apps.scoring.models import Assessment, TargetDirection
from apps.scoring.services import TargetData, contract_save, scheme_load
from tests.conftest import COUNTY, SHARED, TOWNSHIP_A, TOWNSHIP_B

SCHEME_FILE = SHARED / "reference" / "scheme_township_1000.yaml"
SCHEME_TEXT = SCHEME_FILE.read_text(encoding="utf-8")
YEAR = 2026
TOWNSHIP_C = "131025102000"  # 大尚屯镇

AT_MOST, AT_LEAST = TargetDirection.AT_MOST, TargetDirection.AT_LEAST
TARGETS = [
    TargetData("birth_rate", AT_MOST, Decimal("11.00")),
    TargetData("natural_growth_rate", AT_MOST, Decimal("6.30")),
    TargetData("policy_compliance_rate", AT_LEAST, Decimal("95")),
    TargetData("birth_registration_timeliness", AT_LEAST, Decimal("90")),
    TargetData("sex_ratio_at_birth", AT_MOST, Decimal("110")),
    TargetData("subsidy_payment_rate", AT_LEAST, Decimal("98")),
    TargetData("record_completeness_rate", AT_LEAST, Decimal("96")),
]
# Every indicator item of the shared scheme met: 100 + 20 + 20 + 28 + 10 + 50 = 228 points.
ALL_MET = {
    "policy_compliance_rate": "99.5",
    "birth_registration_timeliness": "97",
    "sex_ratio_at_birth": "106",
    "subsidy_payment_rate": "100",
    "record_completeness_rate": "98.2",
}

TINY_SCHEME = """
code: tiny
name: 测试方案
lines:
  - code: a
    name: 甲线
    points: 100
    items:
      - {code: a.rate, name: 政策符合率, points: 60, method: indicator, indicator: policy_compliance_rate,
         scoring: all_or_nothing, veto: zero_line}
      - {code: a.manual, name: 甲线人工项, points: 40, method: manual}
  - code: b
    name: 乙线
    points: 50
    items:
      - {code: b.complete, name: 信息完整率, points: 30, method: indicator, indicator: record_completeness_rate,
         scoring: linear, floor: 80, veto: zero_item}
      - {code: b.manual, name: 乙线人工项, points: 20, method: manual}
"""

_clock = iter(range(1, 10_000))


def make_snapshot(period: str, values: dict[str, dict[str, str]], *, area: str = COUNTY) -> ReportRun:
    """A successful snapshot of ``period`` holding ``values[area_code][indicator_code]``."""
    at = datetime(YEAR, 6, 30, tzinfo=UTC) + timedelta(minutes=next(_clock))
    run = ReportRun.objects.create(
        period=period, area_id=area, status=RunStatus.SUCCESS, started_at=at, finished_at=at, data_as_of=at,
        progress=100,
    )  # fmt: skip
    IndicatorValue.objects.bulk_create(
        IndicatorValue(run=run, area_id=code, indicator_code=ind, value=Decimal(v) if v is not None else None,
                       numerator=Decimal(v or 0), denominator=Decimal(100))
        for code, by_indicator in values.items()
        for ind, v in by_indicator.items()
    )  # fmt: skip
    return run


@pytest.fixture
def scheme(areas):
    return scheme_load(text=SCHEME_TEXT, effective_from=date(YEAR, 1, 1)).scheme


@pytest.fixture
def contracts(areas):
    return {
        code: contract_save(area=areas[code], year=YEAR, signed_on=date(YEAR, 1, 10), targets=TARGETS)
        for code in (TOWNSHIP_A, TOWNSHIP_B, TOWNSHIP_C)
    }


@pytest.fixture
def assessments(scheme, contracts):
    return {
        code: Assessment.objects.create(area_id=code, year=YEAR, scheme=scheme)
        for code in (TOWNSHIP_A, TOWNSHIP_B, TOWNSHIP_C)
    }


@pytest.fixture
def assessor(make_user):
    return make_user("kaohe", COUNTY, "assessor", "county_viewer", full_name="考核员甲")


@pytest.fixture
def second_assessor(make_user):
    return make_user("kaohe2", COUNTY, "assessor", full_name="考核员乙")


@pytest.fixture
def county_admin(make_user):
    return make_user("xian_admin", COUNTY, "county_admin", full_name="县管理员")


@pytest.fixture
def leader_a(make_user):
    """A township leader (乡镇领导): county_viewer bound to township A."""
    return make_user("leader_a", TOWNSHIP_A, "county_viewer", full_name="平舒镇领导")


@pytest.fixture
def clerk_b(make_user):
    return make_user("clerk_b", TOWNSHIP_B, "township_clerk")
