"""The nightly rescoring task in a REAL Celery worker on the test database: a new snapshot changes the projected
score, and running the task again changes nothing."""

from datetime import date
from decimal import Decimal

import pytest

from apps.areas.models import Area
from apps.areas.services import areas_load_csv
from apps.scoring.models import Assessment
from apps.scoring.services import contract_save, scheme_load
from apps.scoring.tasks import recompute
from tests.conftest import AREAS_CSV, TOWNSHIP_A
from tests.scoring.conftest import ALL_MET, SCHEME_TEXT, TARGETS, YEAR, make_snapshot


@pytest.fixture
def assessment(transactional_db, celery_worker):
    areas_load_csv(text=AREAS_CSV.read_text(encoding="utf-8"))
    scheme = scheme_load(text=SCHEME_TEXT, effective_from=date(YEAR, 1, 1)).scheme
    contract_save(area=Area.objects.get(code=TOWNSHIP_A), year=YEAR, signed_on=date(YEAR, 1, 5), targets=TARGETS)
    return Assessment.objects.create(area_id=TOWNSHIP_A, year=YEAR, scheme=scheme)


def test_the_worker_rescores_projections_from_the_latest_snapshot(assessment):
    make_snapshot(f"{YEAR}Q2-YTD", {TOWNSHIP_A: ALL_MET})
    assert recompute.delay(YEAR).get(timeout=60) == {"year": YEAR, "assessments": 1}
    assessment.refresh_from_db()
    assert assessment.total == Decimal("228.00")
    make_snapshot(f"{YEAR}Q3-YTD", {TOWNSHIP_A: {**ALL_MET, "record_completeness_rate": "91"}})
    recompute.delay(YEAR).get(timeout=60)
    recompute.delay(YEAR).get(timeout=60)
    assessment.refresh_from_db()
    assert (assessment.total, assessment.indicator_period) == (Decimal("203.00"), f"{YEAR}Q3-YTD")
