"""Import jobs in the admin: a read-only record of who imported what, when, and with what result. Jobs are made
by the upload page and the ``import_sheet`` command (through services), never edited here."""

from django.contrib import admin

from apps.core.admin import ReadOnlyAdmin
from apps.imports.models import ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = (
        "id", "kind", "dry_run", "mode", "status", "file_name", "area", "created_by", "created_at",
        "rows", "created", "updated", "unchanged", "rejected", "seconds",
    )  # fmt: skip
    list_filter = ("kind", "status", "dry_run", "mode")
    search_fields = ("file_name", "=file_sha256")
    list_select_related = ("area", "created_by")
    date_hierarchy = "created_at"
    # The files hold full ID numbers: no links to them here (the error report is served by the scoped page).
    exclude = ("file", "error_report")
