"""Import jobs: create one from an upload, run it (in a Celery worker, or directly from the command)."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from django.core.cache import cache
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Role, User
from apps.core.errors import RuleViolation
from apps.imports.engine import FIRST_ERRORS_KEPT, ImportResult, run_import
from apps.imports.kinds import spec_for
from apps.imports.models import ImportJob, ImportKind, ImportMode, ImportStatus
from apps.imports.reading import SPREADSHEET_SUFFIXES
from apps.imports.reports import write_error_report

logger = logging.getLogger(__name__)

IMPORT_ROLES = (Role.COUNTY_ADMIN, Role.TOWNSHIP_CLERK)
MAX_UPLOAD_BYTES = 200 * 1024 * 1024


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
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise RuleViolation("文件超过200MB，请分成几个文件导入", field="file")
    if user is not None and not may_import(user):
        raise RuleViolation("您的角色不能批量导入", field="kind")
    job = ImportJob(
        kind=kind,
        mode=mode,
        dry_run=dry_run,
        file_name=Path(file_name).name[:200],
        file_sha256=_sha256(fileobj),
        area_id=user.area_id if user else None,
        created_by=user,
    )
    job.file.save(f"{kind}{suffix}", File(fileobj), save=False)
    job.save()
    return job


def import_job_run(*, job_id: int) -> ImportJob:
    """Runs (or re-runs) a job: idempotent, since every write is an upsert on the natural key."""
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, started_at=timezone.now())
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
        write_error_report(result, Path(settings.MEDIA_ROOT) / relative)
        job.error_report.name = relative
    job.save()
    return job
