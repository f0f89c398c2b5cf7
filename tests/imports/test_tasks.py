"""The import task in a REAL Celery worker (tests/conftest.py ``celery_worker``) on the test database: the page
queues it after commit, the worker reads the uploaded file from the shared MEDIA_ROOT, and a redelivered or
repeated task changes nothing."""

from __future__ import annotations

import time

import openpyxl
import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.accounts.services import user_create
from apps.areas.models import Area
from apps.areas.services import areas_load_csv
from apps.imports import selectors, services
from apps.imports.models import ImportJob, ImportMode, ImportStatus
from apps.imports.tasks import import_run
from apps.registry.models import Person
from tests.conftest import AREAS_CSV, COUNTY, PASSWORD, SHARED

CLEAN = SHARED / "data" / "persons_clean.xlsx"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def admin(transactional_db, celery_worker, shared_media):
    areas_load_csv(text=AREAS_CSV.read_text(encoding="utf-8"))
    return user_create(
        username="xian_admin", password=PASSWORD, area=Area.objects.get(code=COUNTY), roles=["county_admin"]
    )


def wait_finished(pk: int, timeout: float = 60) -> ImportJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = ImportJob.objects.get(pk=pk)
        if job.is_finished:
            return job
        time.sleep(0.2)
    raise AssertionError(f"import job {pk} not finished after {timeout}s: {job.status}; see celery-worker.log")


def clean_rows() -> int:
    sheet = openpyxl.load_workbook(CLEAN, read_only=True).active
    return sum(1 for _ in sheet.iter_rows(values_only=True)) - 1


def test_upload_is_validated_by_the_worker_then_committed_and_a_second_import_changes_nothing(client, admin):
    rows = clean_rows()
    client.force_login(admin)
    response = client.post(
        reverse("imports:create"),
        {"kind": "persons", "mode": ImportMode.ALL_OR_NOTHING,
         "file": SimpleUploadedFile(CLEAN.name, CLEAN.read_bytes(), content_type=XLSX)},
    )  # fmt: skip
    dry = ImportJob.objects.get()
    assert response["Location"] == reverse("imports:detail", args=[dry.pk])

    dry = wait_finished(dry.pk)
    assert (dry.status, dry.dry_run, dry.rows, dry.created, dry.updated, dry.rejected) == (
        "validated", True, rows, rows, 0, 0
    )  # fmt: skip
    assert Person.objects.count() == 0
    # The worker reported its progress through the shared cache: the rows read, of the estimated total.
    assert selectors.import_job_progress(job=dry) == selectors.JobProgress(rows=rows, total=rows)

    response = client.post(reverse("imports:commit", args=[dry.pk]), {"mode": ImportMode.ALL_OR_NOTHING})
    real = ImportJob.objects.exclude(pk=dry.pk).get()
    assert response["Location"] == reverse("imports:detail", args=[real.pk])
    real = wait_finished(real.pk)
    assert (real.status, real.dry_run, real.created, real.rejected) == ("committed", False, rows, 0)
    assert Person.objects.count() == rows

    # The same file again: the dry run finds every row unchanged.
    client.post(
        reverse("imports:create"),
        {"kind": "persons", "mode": ImportMode.ALL_OR_NOTHING,
         "file": SimpleUploadedFile(CLEAN.name, CLEAN.read_bytes(), content_type=XLSX)},
    )  # fmt: skip
    again = wait_finished(ImportJob.objects.order_by("-pk").first().pk)
    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, rows, 0)


def test_a_finished_job_delivered_again_is_left_alone_and_one_left_running_runs_again(admin):
    with open(CLEAN, "rb") as fileobj:
        job = services.import_job_create(
            kind="persons", fileobj=fileobj, file_name=CLEAN.name, user=admin, mode=ImportMode.VALID_ROWS,
            dry_run=False,
        )  # fmt: skip
    # As if a worker had died mid-import: the job says "running", its transaction was rolled back.
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING)
    outcome = import_run.delay(job.pk).get(timeout=60)
    job.refresh_from_db()
    assert outcome == {"job": job.pk, "status": "committed", "rows": job.rows, "rejected": 0}
    assert job.created == job.rows == Person.objects.count()

    finished_at = job.finished_at
    cache.delete(services.progress_key(job.pk))
    outcome = import_run.delay(job.pk).get(timeout=60)
    job.refresh_from_db()
    assert outcome["status"] == "committed" and job.finished_at == finished_at and job.created == job.rows
    assert cache.get(services.progress_key(job.pk)) is None  # not run again

    assert import_run.delay(10**9).get(timeout=60) is None  # a job that no longer exists
