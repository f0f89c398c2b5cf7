"""Admin: alert thresholds, the birth registration deadline and the indicators' assessment ends are
configuration (editable); snapshots are read-only."""

from django.contrib import admin
from import_export import resources
from import_export.admin import ImportExportModelAdmin

from apps.indicators.models import AlertThreshold, AssessmentEnd, RegistrationDeadline, ReportRun


class AlertThresholdResource(resources.ModelResource):
    class Meta:
        model = AlertThreshold
        fields = ("id", "indicator_code", "comparison", "limit", "level", "valid_from", "valid_to", "note")


@admin.register(AlertThreshold)
class AlertThresholdAdmin(ImportExportModelAdmin):
    resource_classes = [AlertThresholdResource]
    list_display = ("indicator_code", "comparison", "limit", "level", "valid_from", "valid_to", "note")
    list_filter = ("indicator_code", "comparison", "level")


@admin.register(RegistrationDeadline)
class RegistrationDeadlineAdmin(admin.ModelAdmin):
    list_display = ("days", "valid_from", "valid_to", "note")


@admin.register(AssessmentEnd)
class AssessmentEndAdmin(admin.ModelAdmin):
    list_display = ("indicator_code", "last_date", "reason")


@admin.register(ReportRun)
class ReportRunAdmin(admin.ModelAdmin):
    list_display = ("id", "period", "area", "status", "created_at", "finished_at", "data_as_of", "requested_by")
    list_select_related = ("area", "requested_by")
    list_filter = ("status", "period")
    readonly_fields = [f.name for f in ReportRun._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
