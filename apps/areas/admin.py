from django.contrib import admin
from import_export import resources
from import_export.admin import ImportExportModelAdmin

from apps.areas.models import Area


class AreaResource(resources.ModelResource):
    class Meta:
        model = Area
        fields = ("code", "name", "level", "parent")
        import_id_fields = ("code",)
        skip_unchanged = True
        report_skipped = False


@admin.register(Area)
class AreaAdmin(ImportExportModelAdmin):
    resource_classes = [AreaResource]
    list_display = ("code", "name", "level", "parent")
    list_select_related = ("parent",)
    list_filter = ("level",)
    search_fields = ("code", "name")
    raw_id_fields = ("parent",)
