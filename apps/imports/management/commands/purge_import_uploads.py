"""Delete the uploaded files and error reports of import jobs finished more than N days ago (default: the
IMPORT_UPLOAD_RETENTION_DAYS setting). Also runs nightly from Celery beat (imports.purge_uploads)."""

import json

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.imports.services import import_uploads_purge


class Command(BaseCommand):
    help = "删除完成超过N天的导入任务的上传文件和错误报告"

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="保存天数（默认取 IMPORT_UPLOAD_RETENTION_DAYS）")

    def handle(self, *args, days=None, **options):
        days = settings.IMPORT_UPLOAD_RETENTION_DAYS if days is None else days
        purged = import_uploads_purge(older_than_days=days)
        self.stdout.write(json.dumps({"ok": True, "purged": purged, "days": days}))
