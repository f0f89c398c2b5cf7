"""``indicators.recover`` (celery beat, every minute): a report run left "running" by a dead worker (nobody holds
its period's lock) is failed at once, so the period can be computed again; a run a live worker holds is left."""

from __future__ import annotations

import zlib

import psycopg
from django.db import connection

from apps.areas.models import Area
from apps.areas.services import areas_load_csv
from apps.indicators import services
from apps.indicators.models import ReportRun, RunStatus
from tests.conftest import AREAS_CSV, COUNTY


def test_a_run_whose_worker_died_is_failed_and_one_a_live_worker_holds_is_left(transactional_db):
    areas_load_csv(text=AREAS_CSV.read_text(encoding="utf-8"))
    county = Area.objects.get(code=COUNTY)
    dead = ReportRun.objects.create(period="2024Q1", area=county, status=RunStatus.RUNNING, step="计算村级指标")
    live = ReportRun.objects.create(period="2024Q2", area=county, status=RunStatus.RUNNING, step="计算村级指标")
    key = zlib.crc32(live.period.encode()) & 0x7FFFFFFF
    with psycopg.connect(**connection.get_connection_params()) as worker:  # a live worker's own session
        worker.execute("SELECT pg_advisory_lock(%s, %s)", [0x1D1C, key])
        assert services.report_runs_recover() == [dead.pk]
    dead.refresh_from_db()
    live.refresh_from_db()
    assert (dead.status, dead.message) == (RunStatus.FAILED, "计算进程意外退出，未完成的结果已作废，请重新计算")
    assert live.status == RunStatus.RUNNING
    # The period is free again at once (not after the 20 minutes a stale run used to block it).
    assert services.report_run_request(period="2024Q1").status == RunStatus.PENDING
