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


class AreaScopedAdminMixin:
    """Located rows in the admin (contracts, pairings, users, disability records): only those in the user's
    own area (``visible_to``; a row outside is a 404 there too), and only areas inside it to choose from."""

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model._meta.label == "areas.Area":
            kwargs["queryset"] = db_field.related_model.objects.visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(ExportLog)
class ExportLogAdmin(ReadOnlyAdmin):
    list_display = ("at", "user", "export", "area_code", "rows", "full_ids", "purpose")
    list_select_related = ("user",)
    list_filter = ("export", "full_ids")
    date_hierarchy = "at"
