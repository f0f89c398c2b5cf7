"""Jobs heal themselves (issue 13): a REAL Celery worker killed with SIGKILL mid-import leaves nothing written, and
the job is found by the every-minute recovery task (celery beat) and run again by itself; a job interrupted too
often stops as a poison file instead of being redelivered in a loop."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import openpyxl
import pytest
from django.core.cache import cache

from apps.accounts.services import user_create
from apps.areas.models import Area
from apps.areas.services import areas_load_csv
from apps.imports import services
from apps.imports.models import ImportJob, ImportMode, ImportStatus
from apps.imports.tasks import import_run
from apps.registry.models import Person
from tests.conftest import AREAS_CSV, COUNTY, PASSWORD, ROOT
from tests.imports.test_tasks import CLEAN, wait_finished

KILL_QUEUE = f"kill-test-{uuid.uuid4().hex[:8]}"  # its own queue: no message of an earlier run


@pytest.fixture
def importer(transactional_db, celery_worker, shared_media):
    """A county admin on the demo county, with a real Celery worker reading from the shared MEDIA_ROOT."""
    areas_load_csv(text=AREAS_CSV.read_text(encoding="utf-8"))
    return user_create(
        username="xian_admin", password=PASSWORD, area=Area.objects.get(code=COUNTY), roles=["county_admin"]
    )


def _persons_csv(folder: Path, copies: int) -> Path:
    """``copies`` variants of each row of the shared clean sheet: new ID numbers (same birth date and sex)."""
    from apps.core.idnumbers import check_digit

    rows = list(openpyxl.load_workbook(CLEAN, read_only=True).active.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    seen: set[str] = set()
    path = folder / "persons_many.csv"
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for copy in range(copies):
            for row in body:
                old = str(row[0])
                first17 = old[:14] + f"{(int(old[14:16]) + copy) % 100:02d}" + old[16]
                number = first17 + check_digit(first17)
                if number in seen:
                    continue
                seen.add(number)
                born = row[3].strftime("%Y-%m-%d") if hasattr(row[3], "strftime") else row[3]
                writer.writerow([number, row[1], row[2], born, *["" if v is None else v for v in row[4:]]])
    return path


def _worker(env: dict, log: Path, *extra: str) -> subprocess.Popen:
    from config.celery import app

    out = open(log, "ab")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO",
         "--without-mingle", "--without-gossip", *extra],
        cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
    )  # fmt: skip
    hostname = next(a.split("=", 1)[1] for a in extra if a.startswith("--hostname="))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if app.control.ping(destination=[hostname], timeout=0.5):
            return proc
        if proc.poll() is not None:
            raise RuntimeError(f"worker {hostname} exited; see {log}")
    _stop(proc)
    raise RuntimeError(f"worker {hostname} did not answer; see {log}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def worker_env(test_database_env, worker_media_root) -> dict:
    return {**test_database_env, "MEDIA_ROOT": str(worker_media_root), "JOBS_RECOVER_SECONDS": "2"}


def test_a_worker_killed_mid_import_leaves_nothing_and_the_job_runs_again_by_itself(importer, worker_env, tmp_path):
    sheet = _persons_csv(tmp_path, copies=24)
    with open(sheet, "rb") as fileobj:
        job = services.import_job_create(
            kind="persons", fileobj=fileobj, file_name=sheet.name, user=importer, mode=ImportMode.VALID_ROWS,
            dry_run=False,
        )  # fmt: skip
    cache.delete(services.progress_key(job.pk))  # job ids repeat across runs; the cache does not forget
    log = ROOT / "test-artifacts" / f"celery-kill-test{os.environ.get('PYTEST_XDIST_WORKER', '')}.log"
    log.parent.mkdir(exist_ok=True)
    doomed = _worker(worker_env, log, f"--queues={KILL_QUEUE}", f"--hostname=doomed-{KILL_QUEUE}@localhost")
    try:
        import_run.apply_async(args=[job.pk], queue=KILL_QUEUE)
        # Killed once the first chunk of 10,000 rows is written (inside the import's transaction).
        deadline = time.monotonic() + 120
        while (cache.get(services.progress_key(job.pk)) or 0) < 10_000:
            assert time.monotonic() < deadline, "the import never got going; see celery-kill-test.log"
            job.refresh_from_db()
            assert not job.is_finished, job.message
            assert doomed.poll() is None
            time.sleep(0.05)
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait(timeout=10)
    finally:
        _stop(doomed)
    job.refresh_from_db()
    assert (job.status, job.attempts) == (ImportStatus.RUNNING, 1), job.message
    assert Person.objects.count() == 0  # nothing half-written

    # A worker with celery beat, as the compose file runs them; nobody touches the job.
    started = time.monotonic()
    healer = _worker(
        worker_env,
        log,
        "--queues=celery",
        f"--hostname=healer-{KILL_QUEUE}@localhost",
        "--beat",
        f"--schedule={tmp_path / 'beat'}",
    )
    try:
        job = wait_finished(job.pk, timeout=180)
        took = time.monotonic() - started
        assert (job.status, job.attempts) == (ImportStatus.COMMITTED, 2), job.message
        assert job.created == Person.objects.count() > 20_000
        assert took < 170
        assert healer.poll() is None  # not crash-looping
    finally:
        _stop(healer)
        cache.delete_many([services.progress_key(job.pk), services.progress_total_key(job.pk)])


def test_a_job_interrupted_too_often_stops_instead_of_looping(importer, test_database_env):
    with open(CLEAN, "rb") as fileobj:
        job = services.import_job_create(
            kind="persons", fileobj=fileobj, file_name=CLEAN.name, user=importer, mode=ImportMode.VALID_ROWS,
            dry_run=False,
        )  # fmt: skip
    # Its worker died three times (a file that kills workers): the recovery task fails it.
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, attempts=3)
    assert services.import_jobs_recover() == {"requeued": [], "failed": [job.pk]}
    job.refresh_from_db()
    assert (job.status, job.message) == (ImportStatus.FAILED, "导入任务多次中断，已停止，请检查文件后重新导入")

    # A message redelivered to a worker for such a job stops it too, without running it.
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.PENDING, attempts=3)
    outcome = import_run.delay(job.pk).get(timeout=60)
    assert outcome["status"] == "failed"
    job.refresh_from_db()
    assert (job.status, job.attempts, job.rows) == (ImportStatus.FAILED, 3, 0)
    assert job.message == services.GAVE_UP_MESSAGE and Person.objects.count() == 0

    # A job that a live process runs (it holds the job's lock) is left alone.
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, attempts=1)
    with services._job_lock(job.pk):
        probe = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c",
             "from apps.imports.services import import_jobs_recover; print(import_jobs_recover())"],
            cwd=ROOT, env=test_database_env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert "{'requeued': [], 'failed': []}" in probe.stdout, probe.stderr[-1500:]
    job.refresh_from_db()
    assert job.status == ImportStatus.RUNNING
