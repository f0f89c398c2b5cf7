"""Import jobs: create one from an upload, run it (in a Celery worker, or directly from the command)."""

from __future__ import annotations

import hashlib
import logging
import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from django.core.cache import cache
from django.core.files import File
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from apps.accounts.models import Role, User
from apps.core import pagecache, spreadsheets
from apps.core.errors import RuleViolation
from apps.core.exports import Heading, office_name
from apps.core.files import shorten_file_name
from apps.imports.engine import FIRST_ERRORS_KEPT, ImportResult, run_import
from apps.imports.kinds import spec_for
from apps.imports.models import ImportJob, ImportKind, ImportMode, ImportStatus
from apps.imports.reading import SPREADSHEET_SUFFIXES
from apps.imports.reports import write_error_report
from apps.registry.quality import quality_findings_refresh

logger = logging.getLogger(__name__)

IMPORT_ROLES = (Role.COUNTY_ADMIN, Role.TOWNSHIP_CLERK)


def may_import(user: User) -> bool:
    return user.is_authenticated and user.has_role(*IMPORT_ROLES)


def progress_key(job_id: int) -> str:
    return f"imports:progress:{job_id}"


def _sha256(fileobj) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: fileobj.read(1 << 20), b""):
        digest.update(chunk)
    fileobj.seek(0)
    return digest.hexdigest()


@transaction.atomic
def import_job_create(*, kind: str, fileobj, file_name: str, user: User | None, mode: str, dry_run: bool) -> ImportJob:
    if kind not in ImportKind.values:
        raise RuleViolation(f"不支持的导入类型：{kind}", field="kind")
    if mode not in ImportMode.values:
        raise RuleViolation("导入方式无效", field="mode")
    suffix = Path(file_name).suffix.lower()
    if suffix not in SPREADSHEET_SUFFIXES | {".csv"}:
        raise RuleViolation("只能导入 .xlsx、.xls 或 .csv 文件", field="file")
    size = getattr(fileobj, "size", None)
    if size is None:
        size = fileobj.seek(0, 2)
        fileobj.seek(0)
    spreadsheets.check_size(size)  # the rest of the file's bounds are checked where it is read
    if user is not None and not may_import(user):
        raise RuleViolation("您的角色不能批量导入", field="kind")
    job = ImportJob(
        kind=kind,
        mode=mode,
        dry_run=dry_run,
        file_name=shorten_file_name(Path(file_name).name, 200),
        file_sha256=_sha256(fileobj),
        area_id=user.area_id if user else None,
        created_by=user,
    )
    job.file.save(f"{kind}{suffix}", File(fileobj), save=False)
    job.save()
    # Job ids are reused after a database is recreated (a test run, a restore) while Redis keeps its keys:
    # a new job starts with no progress, never an old job's.
    cache.delete_many([progress_key(job.pk), progress_total_key(job.pk)])
    return job


def import_job_run(*, job_id: int) -> ImportJob:
    """Runs (or re-runs) a job: idempotent, since every write is an upsert on the natural key. Holds the job's
    lock while it runs, so that ``import_jobs_recover`` can tell a live run from one whose process died."""
    with _job_lock(job_id) as locked:
        if not locked:
            raise RuleViolation("该导入任务正在由另一进程处理")
        return _run(job_id)


def _run(job_id: int) -> ImportJob:
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    started = timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING, started_at=started, attempts=F("attempts") + 1
    )
    # The same in memory: ``_store_result`` saves the whole row.
    job.status, job.started_at, job.attempts = ImportStatus.RUNNING, started, job.attempts + 1
    spec = spec_for(job.kind)

    def progress(rows: int) -> None:
        cache.set(progress_key(job.pk), rows, timeout=3600)

    try:
        result = run_import(
            spec=spec,
            path=Path(job.file.path),
            filename=job.file_name,
            user=job.created_by,
            dry_run=job.dry_run,
            valid_rows_only=job.mode == ImportMode.VALID_ROWS,
            job_id=job.pk,
            progress=progress,
        )
    except RuleViolation as exc:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED, message=exc.message, finished_at=timezone.now()
        )
        job.refresh_from_db()
        return job
    if result.committed:
        # The data-quality lists follow the import before the job reads as finished (DESIGN: after imports).
        quality_findings_refresh()
        pagecache.bump()  # written by COPY and upserts (no row signals): every page may show imported rows
    return _store_result(job, result)


def _store_result(job: ImportJob, result: ImportResult) -> ImportJob:
    if result.committed:
        status = ImportStatus.COMMITTED
    elif job.dry_run:
        status = ImportStatus.VALIDATED
    else:
        status = ImportStatus.REJECTED
    job.status = status
    job.header_row = result.header_row
    job.rows, job.created, job.updated = result.rows, result.created, result.updated
    job.unchanged, job.rejected, job.warnings = result.unchanged, result.rejected, len(result.warnings)
    job.first_errors = [
        {"row": e.row, "column": e.column, "message": e.message} for e in result.errors[:FIRST_ERRORS_KEPT]
    ] + [{"row": w.row, "column": w.column, "message": w.message, "warning": True} for w in result.warnings[:50]]
    job.seconds = result.seconds
    job.finished_at = timezone.now()
    if status == ImportStatus.REJECTED:
        job.message = f"有{result.rejected}行错误，按“全部正确才导入”的方式未导入任何数据"
    elif status == ImportStatus.COMMITTED:
        job.message = f"已导入：新增{result.created}行，修改{result.updated}行，未变{result.unchanged}行"
    else:
        job.message = "校验完成，尚未导入"
    if result.errors:
        from django.conf import settings

        relative = f"imports/errors/{job.created_at:%Y/%m}/job-{job.pk}-errors.xlsx"
        heading = Heading(
            f"{job.get_kind_display()}导入错误报告：{job.file_name}",
            office_name(job.area),
            f"导入任务{job.pk}，上传于{timezone.localtime(job.created_at):%Y-%m-%d %H:%M}",
        )
        write_error_report(result, Path(settings.MEDIA_ROOT) / relative, heading=heading)
        job.error_report.name = relative
    job.save()
    return job


# --- the browser's path: upload -> dry run in a worker -> confirm -> the real import in a worker -------------

PROGRESS_TOTAL_KEY_TIMEOUT = 3600
_LOCK_NAMESPACE = 0x494D << 48  # "IM": advisory-lock keys of import jobs, apart from any other lock's
_FINISHED = (ImportStatus.VALIDATED, ImportStatus.COMMITTED, ImportStatus.REJECTED, ImportStatus.FAILED)
_XLSX_ROW = b"<row "


def progress_total_key(job_id: int) -> str:
    return f"imports:progress-total:{job_id}"


def _enqueue(job: ImportJob) -> None:
    """Queues the job's run once the surrounding transaction commits (the worker must find the row)."""
    from apps.imports.tasks import import_run  # the tasks module imports this one

    job_id = job.pk

    def send() -> None:
        try:
            import_run.delay(job_id)
        except KombuOperationalError:
            # The job stays "pending"; its page offers to queue it again once the broker is back.
            logger.exception("import job %s could not be queued: the broker is unreachable", job_id)

    transaction.on_commit(send)


@transaction.atomic
def import_job_submit(*, kind: str, fileobj, file_name: str, user: User, mode: str) -> ImportJob:
    """An upload from the browser: always a dry run first (nothing is written until the user confirms),
    run by a Celery worker after this transaction commits."""
    spec_for(kind)  # a kind without an importer yet is refused here, not by the worker
    job = import_job_create(kind=kind, fileobj=fileobj, file_name=file_name, user=user, mode=mode, dry_run=True)
    _enqueue(job)
    return job


@transaction.atomic
def import_job_commit(*, job: ImportJob, user: User, mode: str) -> ImportJob:
    """确认导入: the real import of a validated dry run — a new job for a copy of the same stored file and kind,
    in the mode the user chose now. The worker validates every row again against the registry as it is then."""
    if not ImportJob.objects.visible_to(user).filter(pk=job.pk).exists():
        raise RuleViolation("该导入任务不在您的管辖范围内")
    if not (job.dry_run and job.status == ImportStatus.VALIDATED):
        raise RuleViolation("只有校验完成的试导入才能确认导入")
    if mode not in ImportMode.values:
        raise RuleViolation("导入方式无效", field="mode")
    if job.rows - job.rejected <= 0:
        raise RuleViolation("没有正确的行可以导入；请改正错误后重新上传", field="mode")
    if job.rejected and mode == ImportMode.ALL_OR_NOTHING:
        raise RuleViolation(
            f"校验发现{job.rejected}行错误，按“全部正确才导入”的方式不会导入任何数据；"
            "请改正后重新上传，或选择“只导入正确的行”",
            field="mode",
        )
    if not job.file:
        raise RuleViolation("上传的文件已超过保存期限被清除，请重新上传")
    with job.file.open("rb") as fileobj:
        new = import_job_create(
            kind=job.kind, fileobj=fileobj, file_name=job.file_name, user=user, mode=mode, dry_run=False
        )
    _enqueue(new)
    return new


def import_job_requeue(*, job: ImportJob, user: User) -> ImportJob:
    """重新运行 an unfinished job whose worker was lost or whose message never reached the broker. Safe at any
    time: a finished job is left alone and one job never runs twice at once (``import_job_run_queued``)."""
    if not may_import(user) or not ImportJob.objects.visible_to(user).filter(pk=job.pk).exists():
        raise RuleViolation("您不能重新运行该导入任务")
    if job.is_finished:
        raise RuleViolation("该导入任务已经完成，不需要重新运行")
    _enqueue(job)
    return job


@contextmanager
def _job_lock(job_id: int) -> Iterator[bool]:
    """A session-level PostgreSQL advisory lock on the job: ``True`` if this worker holds it. A worker that dies
    loses its connection and with it the lock, so a redelivered job is never locked out."""
    key = _LOCK_NAMESPACE + job_id
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        locked = cursor.fetchone()[0]
    try:
        yield locked
    finally:
        if locked:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
            except DatabaseError:
                logger.warning("import job %s: could not release its lock (the connection will)", job_id)


def import_job_run_queued(*, job_id: int) -> ImportJob | None:
    """What the Celery task runs; safe to deliver twice. A finished job is left as it is; a job another worker
    is running is left to it; a job whose worker died mid-run (still "running", its transaction rolled back)
    simply runs again — every write is an upsert, so nothing is written twice."""
    with _job_lock(job_id) as locked:
        job = ImportJob.objects.filter(pk=job_id).first()
        if job is None:
            logger.warning("import job %s no longer exists; nothing to run", job_id)
            return None
        if job.is_finished or not locked:
            logger.info("import job %s is %s; not run again", job_id, "finished" if job.is_finished else "running")
            return job
        if job.attempts >= max_attempts():
            # Delivered again after its worker died this often: the file itself may kill workers. Stop here.
            logger.warning("import job %s: %s runs interrupted; not run again", job_id, job.attempts)
            import_job_fail(job_id=job_id, message=GAVE_UP_MESSAGE)
            job.refresh_from_db()
            return job
        total = _estimate_data_rows(Path(job.file.path), job.file_name)
        if total:
            cache.set(progress_total_key(job.pk), total, timeout=PROGRESS_TOTAL_KEY_TIMEOUT)
        return _run(job_id)


def import_jobs_recover() -> dict[str, list[int]]:
    """What the beat task ``imports.recover`` runs every minute: a job that says "running" while nobody holds
    its lock lost its process (a worker killed, a machine restarted; its transaction was rolled back, so
    nothing of it was written). It is queued again, or marked failed once it has been interrupted
    ``max_attempts()`` times, so a file that kills workers is never redelivered in a loop."""
    requeued: list[int] = []
    failed: list[int] = []
    for job_id in ImportJob.objects.filter(status=ImportStatus.RUNNING).values_list("pk", flat=True):
        with _job_lock(job_id) as locked:
            if not locked:
                continue  # a live process is running it
            job = ImportJob.objects.filter(pk=job_id, status=ImportStatus.RUNNING).first()
            if job is None:
                continue  # finished meanwhile
            if job.attempts >= max_attempts():
                import_job_fail(job_id=job_id, message=GAVE_UP_MESSAGE)
                failed.append(job_id)
                continue
            ImportJob.objects.filter(pk=job_id, status=ImportStatus.RUNNING).update(
                status=ImportStatus.PENDING,
                message=f"第{job.attempts}次处理中断（处理进程意外退出），未写入任何数据，已自动重新排队",
            )
            requeued.append(job_id)
        _enqueue(job)
    if requeued or failed:
        logger.warning("import jobs whose process died: requeued %s, failed %s", requeued, failed)
    return {"requeued": requeued, "failed": failed}


GAVE_UP_MESSAGE = "导入任务多次中断，已停止，请检查文件后重新导入"


def max_attempts() -> int:
    """Runs of one job that may start before it is given up as a poison file (``IMPORT_MAX_ATTEMPTS``)."""
    from django.conf import settings

    return getattr(settings, "IMPORT_MAX_ATTEMPTS", 3)


def import_job_fail(*, job_id: int, message: str) -> None:
    """Marks an unfinished job failed (the worker hit its time limit or an unexpected error; the import's
    transaction was rolled back, so nothing of it was written)."""
    ImportJob.objects.filter(pk=job_id).exclude(status__in=_FINISHED).update(
        status=ImportStatus.FAILED, message=message, finished_at=timezone.now()
    )


def _estimate_data_rows(path: Path, file_name: str) -> int | None:
    """About how many data rows the file holds, for the progress bar: lines of a CSV, ``<row`` elements of an
    .xlsx's first worksheet (streamed: nothing is parsed or kept). ``None`` when the format does not tell
    cheaply (.xls, .ods) or the file is not what its name says (the import itself then reports that)."""
    suffix = Path(file_name).suffix.lower()
    try:
        spreadsheets.check_file(path, filename=file_name)  # a zip bomb is refused, not streamed through
        if suffix == ".csv":
            with open(path, "rb") as raw:
                rows = sum(chunk.count(b"\n") for chunk in iter(lambda: raw.read(1 << 20), b""))
        elif suffix in {".xlsx", ".xlsm"}:
            with zipfile.ZipFile(path) as archive:
                names = sorted(n for n in archive.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n))
                if not names:
                    return None
                # sheet1 is the first sheet of nearly every workbook; an estimate need not be more exact.
                first = "xl/worksheets/sheet1.xml" if "xl/worksheets/sheet1.xml" in names else names[0]
                rows, tail = 0, b""
                with archive.open(first) as sheet:
                    for chunk in iter(lambda: sheet.read(1 << 20), b""):
                        data = tail + chunk
                        rows += data.count(_XLSX_ROW)
                        tail = data[-(len(_XLSX_ROW) - 1) :]  # too short to hold a whole match again
        else:
            return None
    except (OSError, zipfile.BadZipFile, zlib.error, EOFError, RuleViolation):
        return None
    return max(rows - 1, 0) or None  # less the header row


def import_uploads_purge(*, older_than_days: int) -> int:
    """Uploads are not kept forever: the uploaded file and error report of every job finished more than
    ``older_than_days`` days ago are deleted from storage (the job, its counts and first errors stay). Returns
    the number of jobs purged. Idempotent."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    finished = [ImportStatus.VALIDATED, ImportStatus.COMMITTED, ImportStatus.REJECTED, ImportStatus.FAILED]
    jobs = list(
        ImportJob.objects.filter(status__in=finished, finished_at__lt=cutoff)
        .filter(Q(file__gt="") | Q(error_report__gt=""))
        .only("pk", "file", "error_report")
    )
    for job in jobs:
        for field in (job.file, job.error_report):
            if field:
                field.storage.delete(field.name)
    ImportJob.objects.filter(pk__in=[j.pk for j in jobs]).update(file="", error_report=None)
    if jobs:
        logger.info("purged the uploads of %s finished import jobs older than %s days", len(jobs), older_than_days)
    return len(jobs)
