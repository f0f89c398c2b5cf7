from pathlib import Path

from apps.accounts.models import User
from apps.core.errors import RuleViolation
from apps.core.management.base import JsonSummaryCommand
from apps.imports.models import ImportKind, ImportMode, ImportStatus
from apps.imports.services import import_job_create, import_job_run


class Command(JsonSummaryCommand):
    help = "Import a spreadsheet (DESIGN §8): validate every row, then write all of it or nothing."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=ImportKind.values)
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="validate and count, write nothing")
        parser.add_argument("--user", help="import as this user (within the user's area)")
        parser.add_argument("--valid-rows-only", action="store_true", help="write the valid rows despite errors")

    def run(self, *args, kind, file: Path, dry_run, user, valid_rows_only, **options) -> dict:
        acting = None
        if user:
            acting = User.objects.filter(username=user, is_active=True).first()
            if acting is None:
                raise RuleViolation(f"用户“{user}”不存在或已停用")
        if not file.is_file():
            raise RuleViolation(f"文件不存在：{file}")
        with open(file, "rb") as fileobj:
            job = import_job_create(
                kind=kind,
                fileobj=fileobj,
                file_name=file.name,
                user=acting,
                mode=ImportMode.VALID_ROWS if valid_rows_only else ImportMode.ALL_OR_NOTHING,
                dry_run=dry_run,
            )
        job = import_job_run(job_id=job.pk)
        for error in job.first_errors[:20]:
            self.stdout.write(f"  第{error['row']}行 {error['column']}：{error['message']}")
        return {
            # A dry run that finds errors is a failure too: scripts can stop before committing.
            "ok": job.status == ImportStatus.COMMITTED or (job.status == ImportStatus.VALIDATED and not job.rejected),
            "job": job.pk,
            "status": job.status,
            "rows": job.rows,
            "created": job.created,
            "updated": job.updated,
            "unchanged": job.unchanged,
            "errors": job.rejected,
            "error_report": job.error_report.path if job.error_report else None,
            "message": job.message,
            "seconds": job.seconds,
        }
