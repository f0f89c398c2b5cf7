"""Admin: fee standards and management parameters are editable data (with import/export); cases and the
money are read-only here, because every change to them goes through a service with its checks and audit."""

from django.contrib import admin
from import_export import resources
from import_export.admin import ImportExportModelAdmin

from apps.core.admin import ReadOnlyAdmin, ReadOnlyMixin
from apps.fees.models import (
    FeeCase,
    FeeEnd,
    FeePolicy,
    FeeRate,
    FeeStandard,
    FeeTermination,
    FeeTransfer,
    InstalmentDue,
    InstalmentPlan,
    LegalBasis,
    Payment,
    Refund,
)


class FeeRateInline(admin.TabularInline):
    model = FeeRate
    extra = 0


class FeeStandardResource(resources.ModelResource):
    class Meta:
        model = FeeStandard
        fields = ("id", "name", "valid_from", "valid_to", "urban_income", "rural_income", "legal_basis")


@admin.register(FeeStandard)
class FeeStandardAdmin(ImportExportModelAdmin):
    resource_classes = [FeeStandardResource]
    list_display = ("name", "valid_from", "valid_to", "urban_income", "rural_income")
    inlines = [FeeRateInline]


class FeePolicyResource(resources.ModelResource):
    class Meta:
        model = FeePolicy
        fields = (
            "id",
            "valid_from",
            "valid_to",
            "finding_share_percent",
            "enforcement_after_days",
            "max_instalment_months",
            "source",
        )


@admin.register(FeePolicy)
class FeePolicyAdmin(ImportExportModelAdmin):
    resource_classes = [FeePolicyResource]
    list_display = (
        "valid_from",
        "valid_to",
        "finding_share_percent",
        "enforcement_after_days",
        "max_instalment_months",
    )


@admin.register(FeeCase)
class FeeCaseAdmin(ReadOnlyAdmin):
    list_display = (
        "decision_number",
        "mother",
        "village",
        "home_township",
        "state",
        "decided_amount",
        "collected_amount",
    )
    list_filter = ("state", "category")
    list_select_related = ("mother", "village", "home_township")
    search_fields = ("decision_number",)


class InstalmentDueInline(ReadOnlyMixin, admin.TabularInline):
    model = InstalmentDue
    extra = 0


@admin.register(InstalmentPlan)
class InstalmentPlanAdmin(ReadOnlyAdmin):
    list_display = ("case", "application_number", "approval_number", "months", "first_due_on")
    list_select_related = ("case",)
    inlines = [InstalmentDueInline]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("receipt_number", "case", "kind", "amount", "paid_on", "method")
    list_select_related = ("case",)
    list_filter = ("kind", "method")
    search_fields = ("receipt_number",)


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ("voucher_number", "case", "amount", "refunded_on")
    list_select_related = ("case",)
    search_fields = ("voucher_number",)


@admin.register(FeeTransfer)
class FeeTransferAdmin(ReadOnlyAdmin):
    list_display = ("case", "from_township", "to_township", "share_percent", "transferred_on")
    list_select_related = ("case", "from_township", "to_township")


@admin.register(FeeEnd)
class FeeEndAdmin(admin.ModelAdmin):
    list_display = ("ends_on", "unsettled_outcome")

    def has_add_permission(self, request) -> bool:  # the fee ends once: one row
        return super().has_add_permission(request) and not FeeEnd.objects.exists()


class LegalBasisResource(resources.ModelResource):
    class Meta:
        model = LegalBasis
        fields = ("id", "valid_from", "valid_to", "text", "note")


@admin.register(LegalBasis)
class LegalBasisAdmin(ImportExportModelAdmin):
    resource_classes = [LegalBasisResource]
    list_display = ("valid_from", "valid_to", "text")


@admin.register(FeeTermination)
class FeeTerminationAdmin(ReadOnlyAdmin):
    list_display = ("terminated_on", "area", "cases", "outcome", "reason", "created_by")
    list_select_related = ("area", "created_by")
