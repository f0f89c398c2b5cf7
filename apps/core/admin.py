"""Admin pieces shared by the apps."""

from django.contrib import admin

from apps.core.models import ExportLog


class ReadOnlyMixin:
    """Records written only through the services (registry rows, money, rosters): the admin may look, never
    add, change or delete."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    pass


@admin.register(ExportLog)
class ExportLogAdmin(ReadOnlyAdmin):
    list_display = ("at", "user", "export", "area_code", "rows", "full_ids", "purpose")
    list_select_related = ("user",)
    list_filter = ("export", "full_ids")
    date_hierarchy = "at"
