"""Writes of the indicators app: requesting and executing report runs (snapshots), DESIGN §6.

A run is executed in steps, each committed, so that its progress can be watched from the page; its values
are only read once the run is marked successful, and a failed run's values are deleted, so a reader never
sees half a snapshot. One run per period at a time: a database constraint on queued/running runs, plus a
PostgreSQL advisory lock held while a worker executes one.
"""

from __future__ import annotations

import logging
import zlib
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.areas.models import Area
from apps.core import pagecache
from apps.core.areacodes import code_range, is_valid_code
from apps.core.audit import audit_context
from apps.core.errors import RuleViolation
from apps.core.scoping import ensure_area_in_scope
from apps.indicators import computation
from apps.indicators.models import (
    ACTIVE_STATUSES,
    AssessmentEnd,
    CountedRecord,
    IndicatorValue,
    ReportRun,
    ReportSubmission,
    RunStatus,
    SubmissionStatus,
)
from apps.indicators.periods import period_parse
from apps.indicators.selectors import _ancestors_and_self as area_and_ancestors
from apps.indicators.selectors import may_decide_submissions, may_submit
from apps.indicators.sources import sources_registered

logger = logging.getLogger(__name__)

# A queued or running run with no news for this long lost its worker (the task's hard limit is shorter).
STALE_AFTER = timedelta(minutes=20)
_LOCK_NAMESPACE = 0x1D1C  # first key of the advisory lock; the second is the period's hash


def _root_area(area_code: str | None) -> Area:
    if area_code is None:
        area = Area.objects.filter(parent__isnull=True).order_by("code").first()
        if area is None:
            raise RuleViolation("尚未建立行政区划", field="area", code="no_areas")
        return area
    area_code = (area_code or "").strip()
    area = Area.objects.filter(code=area_code).first() if is_valid_code(area_code) else None
    if area is None:
        raise RuleViolation("区划代码应为本县已有的12位区划代码", field="area", code="unknown_area")
    return area


@transaction.atomic
def report_run_request(*, period: str, area_code: str | None = None, by: User | None = None) -> ReportRun:
    """Queues a run of ``period`` for ``area_code`` (default: the county) and everything under it. Refused
    while another run of the period is queued or running; one that lost its worker is marked failed first."""
    parsed = period_parse(period)
    area = _root_area(area_code)
    ensure_area_in_scope(user=by, code=area.code, field="area")
    ReportRun.objects.filter(
        period=parsed.code, status__in=ACTIVE_STATUSES, created_at__lt=timezone.now() - STALE_AFTER
    ).update(status=RunStatus.FAILED, finished_at=timezone.now(), message="超时未完成，已作废")
    try:
        with transaction.atomic():
            return ReportRun.objects.create(period=parsed.code, area=area, requested_by=by, step="排队中")
    except IntegrityError:
        raise RuleViolation(f"{parsed.label}的报表正在计算，请等待完成后再试", field="period", code="busy") from None


def _progress(run: ReportRun, *, percent: int, step: str, **fields) -> None:
    ReportRun.objects.filter(pk=run.pk).update(progress=percent, step=step, **fields)


def report_run_execute(*, run_id: int) -> ReportRun | None:
    """Computes a queued run. Idempotent: a finished run is left alone, a run re-delivered after its worker
    died starts again from nothing; while another worker holds the period's lock, nothing happens (None)."""
    run = ReportRun.objects.select_related("area").filter(pk=run_id).first()
    if run is None or run.is_finished:
        return run
    lock_key = zlib.crc32(run.period.encode()) & 0x7FFFFFFF
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_NAMESPACE, lock_key])
        if not cursor.fetchone()[0]:
            logger.info("report run %s: period %s is being computed by another worker", run.pk, run.period)
            return None
    try:
        run.refresh_from_db()
        if run.is_finished:
            return run
        _execute(run)
    except Exception as exc:
        logger.exception("report run %s (%s, %s) failed", run.pk, run.period, run.area_id)
        report_run_fail(run_id=run.pk, message=f"计算失败（{type(exc).__name__}），请联系系统管理员")
        raise
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_NAMESPACE, lock_key])
    run.refresh_from_db()
    return run


def _execute(run: ReportRun) -> None:
    period = period_parse(run.period)
    low, high = code_range(run.area_id)
    IndicatorValue.objects.filter(run=run).delete()  # a re-delivered run starts from nothing
    CountedRecord.objects.filter(run=run).delete()
    data_as_of = timezone.now()
    _progress(run, percent=10, step="计算村级指标", status=RunStatus.RUNNING, started_at=data_as_of)
    ends = {e.indicator_code: e for e in AssessmentEnd.objects.all()}
    params = computation.run_parameters(run_id=run.pk, period_code=run.period, low=low, high=high)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(computation.VILLAGE_SESSION_SETTINGS)
        cursor.execute(computation.VILLAGE_SQL, params)
    _progress(run, percent=60, step="汇总收费与奖扶数据")
    for code, source in sources_registered().items():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(computation.source_sql(source.records), params | {"indicator": code})
    not_applicable = [e for e in ends.values() if e.last_date < period.start]
    if not_applicable:  # the period starts after the indicator's assessment ended: 不适用, not a rate
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                computation.NOT_APPLICABLE_SQL,
                {
                    "run": run.pk,
                    "codes": [e.indicator_code for e in not_applicable],
                    "reasons": [e.reason for e in not_applicable],
                },
            )
    _progress(run, percent=80, step="汇总乡镇和全县")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(computation.ROLLUP_SQL, {"run": run.pk, "low": low, "high": high})
        _progress(
            run,
            percent=100,
            step="已完成",
            status=RunStatus.SUCCESS,
            finished_at=timezone.now(),
            data_as_of=data_as_of,
            records_kept=True,
        )
        pagecache.bump("indicators")  # a finished run: the dashboard and the results show the new snapshot
    with connection.cursor() as cursor:
        # Thousands of rows at once: fresh statistics keep the pages' plans right before autovacuum comes by.
        cursor.execute("ANALYZE indicators_indicatorvalue")


def report_run_fail(*, run_id: int, message: str) -> None:
    """Marks an unfinished run failed and drops its partial values (they were never visible)."""
    with transaction.atomic():
        IndicatorValue.objects.filter(run_id=run_id).delete()
        CountedRecord.objects.filter(run_id=run_id).delete()
        ReportRun.objects.filter(pk=run_id, status__in=ACTIVE_STATUSES).update(
            status=RunStatus.FAILED, finished_at=timezone.now(), message=message[:300], step="失败"
        )


def report_runs_recover() -> list[int]:
    """What the beat task ``indicators.recover`` runs every minute: a run that says "running" while nobody
    holds its period's lock lost its worker. It is marked failed (its values were never visible) so that
    the period can be computed again at once, instead of after ``STALE_AFTER``."""
    failed = []
    for run in ReportRun.objects.filter(status=RunStatus.RUNNING).only("pk", "period"):
        lock_key = zlib.crc32(run.period.encode()) & 0x7FFFFFFF
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_NAMESPACE, lock_key])
            if not cursor.fetchone()[0]:
                continue  # a live worker computes the period
        try:
            if ReportRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).exists():
                report_run_fail(run_id=run.pk, message="计算进程意外退出，未完成的结果已作废，请重新计算")
                failed.append(run.pk)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_NAMESPACE, lock_key])
    if failed:
        logger.warning("report runs whose worker died, marked failed: %s", failed)
    return failed


def indicators_compute(*, period: str, area_code: str | None = None, by: User | None = None) -> ReportRun:
    """Computes and stores a snapshot of every indicator of ``period`` for ``area_code`` (default: the county)
    and every area under it, now, in this process (the Celery task and ``compute_indicators`` call this).
    Not one transaction on purpose: each step commits so its progress shows (see the module docstring)."""
    run = report_run_request(period=period, area_code=area_code, by=by)
    result = report_run_execute(run_id=run.pk)
    if result is None:  # another worker holds the period's lock: leave this run to fail as stale
        report_run_fail(run_id=run.pk, message="同一报表期正在另一进程中计算")
        raise RuleViolation("该报表期正在计算，请稍后再试", field="period", code="busy")
    return result


def report_run_enqueue(*, period: str, area_code: str | None = None, by: User | None = None) -> ReportRun:
    """重新计算 from the page: queues a run and hands it to a Celery worker after commit."""
    from apps.indicators.tasks import indicators_compute_task

    run = report_run_request(period=period, area_code=area_code, by=by)
    transaction.on_commit(lambda: indicators_compute_task.delay(run_id=run.pk))
    return run


# --- submitting a report (上报) --------------------------------------------------------------------


@transaction.atomic
def report_submit(*, period: str, by: User) -> ReportSubmission:
    """上报: the user's township submits its figures of ``period`` as they stand in the latest successful
    snapshot covering it. A returned submission is submitted again (same row); a submitted or approved one
    is refused, as is a period with no snapshot yet."""
    if not may_submit(by):
        raise RuleViolation("只有乡镇用户可以上报本乡镇的报表", field="period", code="not_a_township")
    parsed = period_parse(period)
    township = by.area_id
    run = (
        ReportRun.objects.filter(period=parsed.code, status=RunStatus.SUCCESS, area_id__in=area_and_ancestors(township))
        .order_by("-finished_at", "-id")
        .first()
    )
    if run is None:
        raise RuleViolation(
            f"{parsed.label}的报表尚未计算，不能上报；请县级管理员先计算该报表期", field="period", code="not_computed"
        )
    now = timezone.now()
    with audit_context(by=by):
        submission = ReportSubmission.objects.select_for_update().filter(area_id=township, period=parsed.code).first()
        if submission is None:
            return ReportSubmission.objects.create(
                area_id=township, period=parsed.code, run=run, submitted_at=now, submitted_by=by
            )
        if submission.status != SubmissionStatus.RETURNED:
            raise RuleViolation(
                f"{parsed.label}的报表已{submission.get_status_display()}，不能重复上报", field="period", code="exists"
            )
        submission.run = run
        submission.status = SubmissionStatus.SUBMITTED
        submission.submitted_at, submission.submitted_by = now, by
        submission.decided_at = submission.decided_by = None
        submission.reason = ""  # the returned round and its reason stay in the audit trail
        submission.save()
        return submission


@transaction.atomic
def report_submission_decide(*, submission: ReportSubmission, approve: bool, reason: str, by: User) -> ReportSubmission:
    """审核 (``approve``) or 退回 (a reason is required) a submitted report; county administrators only."""
    if not may_decide_submissions(by):
        raise RuleViolation("只有县级管理员可以审核乡镇上报的报表", field="reason", code="not_county")
    reason = (reason or "").strip()
    if not approve and not reason:
        raise RuleViolation("退回时请填写退回原因", field="reason", code="reason_required")
    if len(reason) > 300:
        raise RuleViolation("原因不能超过300字", field="reason", code="too_long")
    locked = ReportSubmission.objects.select_for_update().get(pk=submission.pk)
    if locked.status != SubmissionStatus.SUBMITTED:
        raise RuleViolation(f"该报表{locked.get_status_display()}，不能再审核", field="reason", code="decided")
    locked.status = SubmissionStatus.APPROVED if approve else SubmissionStatus.RETURNED
    locked.decided_at, locked.decided_by, locked.reason = timezone.now(), by, reason
    with audit_context(by=by, reason=reason or None):
        locked.save()
    return locked
