"""Admin: result rules, grade bands, contracts and pairings are configuration (data per year); schemes are
loaded with ``load_scheme`` and shown read-only (a published scheme is frozen in the database)."""

from django.contrib import admin

from apps.core.admin import AreaScopedAdminMixin
from apps.scoring.models import (
    AdjustmentRule,
    AssessmentYear,
    Contract,
    ContractTarget,
    GradeBand,
    Pairing,
    ResultRules,
    SampleCheckPolicy,
    Scheme,
    SchemeItem,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class SchemeItemInline(ReadOnlyInline):
    model = SchemeItem
    fields = ("path", "name", "points", "method", "indicator_code", "scoring", "floor", "veto")


class AdjustmentRuleInline(ReadOnlyInline):
    model = AdjustmentRule
    fields = ("direction", "code", "name", "kind", "points", "tiers", "min_points", "max_points",
              "unreported_multiplier")  # fmt: skip


@admin.register(Scheme)
class SchemeAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "version", "status", "effective_from", "effective_to", "total_points")
    inlines = [SchemeItemInline, AdjustmentRuleInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ResultRules)
class ResultRulesAdmin(admin.ModelAdmin):
    list_display = ("year", "yellow_card_bottom_ranks", "tie_break")


@admin.register(GradeBand)
class GradeBandAdmin(admin.ModelAdmin):
    list_display = ("year", "label", "min_total")
    list_filter = ("year",)


class ContractTargetInline(admin.TabularInline):
    model = ContractTarget
    extra = 0


@admin.register(Contract)
class ContractAdmin(AreaScopedAdminMixin, admin.ModelAdmin):
    list_display = ("area", "year", "signed_on")
    list_select_related = ("area",)
    list_filter = ("year",)
    inlines = [ContractTargetInline]


@admin.register(SampleCheckPolicy)
class SampleCheckPolicyAdmin(admin.ModelAdmin):
    list_display = ("valid_from", "valid_to", "households_per_township", "accuracy_threshold", "adjustment_rule_code")


@admin.register(Pairing)
class PairingAdmin(AreaScopedAdminMixin, admin.ModelAdmin):
    list_display = ("year", "area", "kind", "name", "title")
    list_select_related = ("area",)
    list_filter = ("year", "kind")


@admin.register(AssessmentYear)
class AssessmentYearAdmin(admin.ModelAdmin):
    """Opened by ``assessment_year_open`` (page, command, API); shown here, not edited."""

    list_display = ("year", "county", "scheme", "opened_at", "opened_by", "late_reason")
    list_select_related = ("county", "scheme", "opened_by")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
