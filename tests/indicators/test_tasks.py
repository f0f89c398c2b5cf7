"""The ``indicators.compute`` task in a REAL Celery worker (tests/conftest.py ``celery_worker``) on the test
database: a county admin starts a recompute from the page and watches it finish; the beat's call computes the
finished quarter; a run delivered again changes nothing."""

from __future__ import annotations

import time
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.services import user_create
from apps.areas.models import Area
from apps.areas.services import areas_load_csv
from apps.indicators.models import IndicatorValue, ReportRun
from apps.indicators.periods import finished_quarter_ytd
from apps.indicators.selectors import indicator_values_latest
from apps.indicators.tasks import indicators_compute_task
from apps.registry.services import ChildData, PersonData, birth_record, person_create
from tests.conftest import AREAS_CSV, COUNTY, PASSWORD, VILLAGE_A


@pytest.fixture
def admin(transactional_db, celery_worker):
    areas_load_csv(text=AREAS_CSV.read_text(encoding="utf-8"))
    village = Area.objects.get(code=VILLAGE_A)
    mother = person_create(
        data=PersonData(name="母亲", sex="F", birth_date=date(1990, 1, 1), hukou_type="agricultural", village=village),
        by=None,
    )
    birth_record(mother=mother, on=date(2024, 3, 31), village=village, child_data=ChildData("女婴", "F"),
                 entered_on=date(2024, 4, 2), by=None)  # fmt: skip
    return user_create(
        username="xian_admin", password=PASSWORD, area=Area.objects.get(code=COUNTY), roles=["county_admin"]
    )


def wait_finished(pk: int, timeout: float = 90) -> ReportRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = ReportRun.objects.get(pk=pk)
        if run.is_finished:
            return run
        time.sleep(0.2)
    raise AssertionError(f"report run {pk} not finished after {timeout}s: {run.status}; see celery-worker.log")


def test_a_county_admin_recomputes_from_the_page_and_watches_it_finish(client, admin):
    client.force_login(admin)
    response = client.post(reverse("indicators:recompute"), {"period": "2024Q1"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    run = ReportRun.objects.get()
    progress_url = reverse("indicators:run_progress", args=[run.pk])
    assert f'hx-get="{progress_url}"' in response.content.decode()

    run = wait_finished(run.pk)
    assert (run.status, run.progress, run.requested_by) == ("success", 100, admin)
    values = indicator_values_latest(period="2024Q1", area_codes=[COUNTY])
    assert values[(COUNTY, "births")].numerator == 1
    assert values[(COUNTY, "sex_ratio_at_birth")].value == 0
    page = client.get(progress_url).content.decode()
    assert "已重新计算完成" in page and "hx-trigger" not in page  # polling stops


def test_the_beat_call_computes_the_finished_quarter_and_a_finished_run_is_left_alone(admin):
    (result,) = indicators_compute_task.delay(period="2024Q1").get(timeout=90)
    assert result["status"] == "success" and result["area"] == COUNTY
    stored = IndicatorValue.objects.filter(run_id=result["run"]).count()
    assert stored == (1 + 10 + 400) * 34  # every registry indicator of every area; no fee/subsidy source

    # Delivered again (acks_late after a lost connection): nothing is recomputed or duplicated.
    (again,) = indicators_compute_task.delay(run_id=result["run"]).get(timeout=90)
    assert again == result
    assert IndicatorValue.objects.filter(run_id=result["run"]).count() == stored
    assert ReportRun.objects.count() == 1

    # celery beat on the 5th: the year-to-date report of the quarter that has just ended, and the quarter.
    results = indicators_compute_task.delay().get(timeout=180)
    ytd = finished_quarter_ytd(timezone.localdate()).code
    assert sorted(r["period"] for r in results) == sorted([ytd, ytd.removesuffix("-YTD")])
    assert all(r["status"] == "success" for r in results)
