"""Scoring from a snapshot computed by the indicators app (``indicators_compute``) over a tiny registry."""

from datetime import date
from decimal import Decimal

import pytest

from apps.areas.models import Area
from apps.core.idnumbers import check_digit
from apps.indicators.models import AssessmentEnd
from apps.indicators.services import indicators_compute
from apps.registry.services import ChildData, PersonData, birth_record, person_create
from apps.scoring.models import Assessment, ItemScore
from apps.scoring.services import assessments_recompute
from tests.conftest import TOWNSHIP_A, VILLAGE_A
from tests.scoring.conftest import YEAR

pytestmark = pytest.mark.django_db


def _mother(name: str, serial: str) -> PersonData:
    first17 = f"131025{date(1991, 5, 1):%Y%m%d}{serial}4"
    return PersonData(name=name, sex="F", birth_date=date(1991, 5, 1), hukou_type="agricultural",
                      village=Area.objects.get(code=VILLAGE_A), id_number=first17 + check_digit(first17))  # fmt: skip


def test_items_are_scored_from_a_computed_snapshot(assessments):
    AssessmentEnd.objects.all().delete()  # a county that still assesses births' policy compliance
    village = Area.objects.get(code=VILLAGE_A)
    # Two first births in township A, both in policy; one entered on time, one 60 days late.
    for serial, born, entered in (("11", date(YEAR, 2, 1), date(YEAR, 2, 10)), ("12", date(YEAR, 2, 5), None)):
        mother = person_create(data=_mother(f"母亲{serial}", serial), by=None)
        birth_record(mother=mother, on=born, village=village, child_data=ChildData(f"婴儿{serial}", "F"), by=None,
                     entered_on=entered or date(YEAR, 4, 6))  # fmt: skip
    run = indicators_compute(period=f"{YEAR}Q1-YTD")
    assessments_recompute(year=YEAR, area_codes=[TOWNSHIP_A])
    a = Assessment.objects.get(area_id=TOWNSHIP_A, year=YEAR)
    assert (a.indicator_run_id, a.indicator_period) == (run.pk, f"{YEAR}Q1-YTD")
    compliance = ItemScore.objects.get(assessment=a, item__code="pg.basic_indicators")
    assert (compliance.value, compliance.points, compliance.met) == (Decimal("100"), Decimal("100.00"), True)
    # 出生登记及时率 1 of 2 = 50% against ≥ 90%: 统计合格率 missed, a veto that excludes the unit.
    timeliness = ItemScore.objects.get(assessment=a, item__code="pfp.basic_work.statistics_quality")
    assert (timeliness.value, timeliness.points, timeliness.vetoed) == (Decimal("50"), Decimal("0.00"), True)
    assert a.excluded
    assert a.veto_reason == "一票否决：「统计合格率」未完成目标（实际50，目标≥90），不参与评分排名"
