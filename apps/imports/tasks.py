"""Celery tasks of the imports app: they take ids and call services (STYLE: Saleor/Sentry)."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from apps.imports import services

logger = logging.getLogger(__name__)

SOFT_TIME_LIMIT = 25 * 60
TIME_LIMIT = 30 * 60


@shared_task(name="imports.run", acks_late=True, soft_time_limit=SOFT_TIME_LIMIT, time_limit=TIME_LIMIT)
def import_run(job_id: int) -> dict | None:
    """Runs one import job. Idempotent: a finished job is left alone, and a job re-delivered after its worker
    died runs again from the start (its transaction was rolled back; every write is an upsert)."""
    try:
        job = services.import_job_run_queued(job_id=job_id)
    except SoftTimeLimitExceeded:
        logger.warning("import job %s stopped at its time limit", job_id)
        services.import_job_fail(
            job_id=job_id, message="处理超过25分钟仍未完成，已停止，没有写入任何数据；请把文件分成几个较小的文件导入"
        )
        raise
    except Exception:
        logger.exception("import job %s failed", job_id)
        services.import_job_fail(job_id=job_id, message="处理失败（系统错误），没有写入任何数据；请联系系统管理员")
        raise
    if job is None:
        return None
    return {"job": job.pk, "status": job.status, "rows": job.rows, "rejected": job.rejected}


@shared_task(name="imports.recover", ignore_result=True, soft_time_limit=50, time_limit=55)
def import_jobs_recover() -> dict:
    """Every minute (celery beat): jobs whose worker died are queued again or, interrupted too often, failed."""
    return services.import_jobs_recover()


@shared_task(name="imports.purge_uploads")
def import_uploads_purge() -> int:
    """Nightly: delete the uploads of jobs finished more than IMPORT_UPLOAD_RETENTION_DAYS days ago."""
    from django.conf import settings

    return services.import_uploads_purge(older_than_days=settings.IMPORT_UPLOAD_RETENTION_DAYS)
