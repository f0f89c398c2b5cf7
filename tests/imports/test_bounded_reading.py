"""Hostile files (tests/hostile_sheets.py) uploaded at /imports/ and read by a REAL Celery worker: each is refused
with a clear message (the job ends failed with it, or the upload form says so), the worker never dies, keeps
under 1 GB, and imports the next ordinary file as before."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.accounts.services import user_create
from apps.areas.models import Area
from apps.areas.services import areas_load_csv
from apps.imports import services
from apps.imports.models import ImportJob, ImportMode
from apps.registry.models import Person
from tests.conftest import AREAS_CSV, COUNTY, PASSWORD
from tests.hostile_sheets import REFUSALS, peak_rss_mb, write_all
from tests.imports.test_tasks import CLEAN, XLSX, clean_rows, wait_finished


@pytest.fixture
def importer(transactional_db, celery_worker, shared_media):
    """A county admin on the demo county, with a real Celery worker reading from the shared MEDIA_ROOT."""
    areas_load_csv(text=AREAS_CSV.read_text(encoding="utf-8"))
    return user_create(
        username="xian_admin", password=PASSWORD, area=Area.objects.get(code=COUNTY), roles=["county_admin"]
    )


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    return write_all(tmp_path_factory.mktemp("hostile"))


def _upload(client, path, name: str):
    return client.post(
        reverse("imports:create"),
        {"kind": "persons", "mode": ImportMode.ALL_OR_NOTHING,
         "file": SimpleUploadedFile(name, path.read_bytes(), content_type=XLSX)},
    )  # fmt: skip


def test_every_hostile_upload_is_refused_and_the_worker_lives_on(client, importer, hostile, celery_worker):
    client.force_login(importer)
    for name, path in hostile.items():
        before = set(ImportJob.objects.values_list("pk", flat=True))
        response = _upload(client, path, name)
        new = ImportJob.objects.exclude(pk__in=before)
        if name == "over_50mb.csv":  # refused by the form at once: nothing stored, nothing queued
            assert response.status_code == 200 and not new.exists()
            assert REFUSALS[name] in response.content.decode()
            continue
        job = wait_finished(new.get().pk, timeout=120)
        assert (job.status, job.rows, job.created) == ("failed", 0, 0), name
        assert REFUSALS[name] in job.message, (name, job.message)
        page = client.get(reverse("imports:detail", args=[job.pk]))
        assert page.status_code == 200 and REFUSALS[name] in page.content.decode()
        assert celery_worker.poll() is None, f"the worker died on {name}"
    assert Person.objects.count() == 0
    assert peak_rss_mb(celery_worker.pid) < 1024

    # The same worker answers the next, ordinary upload.
    _upload(client, CLEAN, CLEAN.name)
    job = wait_finished(ImportJob.objects.order_by("-pk").first().pk)
    assert (job.status, job.rows, job.rejected) == ("validated", clean_rows(), 0)
    assert celery_worker.poll() is None
    cache.delete_many([services.progress_key(job.pk), services.progress_total_key(job.pk)])  # job ids repeat
