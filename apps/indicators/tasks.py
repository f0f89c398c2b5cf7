"""Celery tasks of the indicators app: they take ids (or a period) and call services (STYLE: Saleor/Sentry)."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone

from apps.core.errors import RuleViolation
from apps.indicators import services
from apps.indicators.periods import finished_quarter_ytd

logger = logging.getLogger(__name__)

SOFT_TIME_LIMIT = 10 * 60
TIME_LIMIT = 12 * 60


@shared_task(name="indicators.compute", acks_late=True, soft_time_limit=SOFT_TIME_LIMIT, time_limit=TIME_LIMIT)
def indicators_compute_task(
    run_id: int | None = None, period: str | None = None, area_code: str | None = None
) -> list[dict]:
    """Executes a queued run (``run_id``, from the page), or computes ``period``; with neither (celery beat
    on the 5th) the year-to-date report of the quarter that has just ended and that quarter itself, which
    the trend charts show. Idempotent: a finished run is left alone, a run re-delivered after its worker died
    starts again from nothing, and a period already queued or running is not queued twice."""
    if run_id is not None:
        run_ids = [run_id]
    else:
        if period:
            periods = [period]
        else:
            ytd = finished_quarter_ytd(timezone.localdate())
            periods = [ytd.code, ytd.code.removesuffix("-YTD")]
        run_ids = []
        for code in periods:
            try:
                run_ids.append(services.report_run_request(period=code, area_code=area_code).pk)
            except RuleViolation as exc:
                logger.info("indicators.compute %s skipped: %s", code, exc.message)
    results = []
    for pk in run_ids:
        try:
            run = services.report_run_execute(run_id=pk)
        except SoftTimeLimitExceeded:
            logger.warning("report run %s stopped at its time limit", pk)
            services.report_run_fail(run_id=pk, message="计算超过10分钟仍未完成，已停止")
            raise
        if run is not None:
            results.append({"run": run.pk, "period": run.period, "area": run.area_id, "status": run.status})
    return results


@shared_task(name="indicators.recover", ignore_result=True, soft_time_limit=50, time_limit=55)
def report_runs_recover() -> list[int]:
    """Every minute (celery beat): runs whose worker died are marked failed, so the period can run again."""
    return services.report_runs_recover()
