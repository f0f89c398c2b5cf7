"""Reads of import jobs, scoped to the user's area (a job outside it is a 404 to the caller)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import QuerySet

from apps.accounts.models import User
from apps.imports.models import ImportJob
from apps.imports.services import progress_key, progress_total_key


def jobs_visible_to(*, user: User) -> QuerySet[ImportJob]:
    return ImportJob.objects.visible_to(user).select_related("created_by", "area").order_by("-created_at", "-id")


def job_get_visible(*, user: User, pk: int) -> ImportJob:
    return jobs_visible_to(user=user).get(pk=pk)


@dataclass(frozen=True)
class JobProgress:
    """How far a running job has read: ``rows`` so far (``None`` before the first report, which the engine
    sends every ``engine.CHUNK_ROWS`` rows) of about ``total`` data rows (``None`` when the file does not say)."""

    rows: int | None
    total: int | None

    @property
    def percent(self) -> int | None:
        if not self.total or self.rows is None:
            return None
        # Reading is not all of the work (checks and the upsert follow): never show 100% before the end.
        return min(99, self.rows * 100 // self.total)


def import_job_progress(*, job: ImportJob) -> JobProgress:
    values = cache.get_many([progress_key(job.pk), progress_total_key(job.pk)])
    return JobProgress(rows=values.get(progress_key(job.pk)), total=values.get(progress_total_key(job.pk)))
