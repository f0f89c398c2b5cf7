from django.contrib import admin

from apps.reconciliation.models import MatchTolerance


@admin.register(MatchTolerance)
class MatchToleranceAdmin(admin.ModelAdmin):
    list_display = ("days", "valid_from", "valid_to", "basis")
