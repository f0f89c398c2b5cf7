"""Admin pieces shared by the apps."""

from django.contrib import admin


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
