"""Admin: programmes and their dated rules are configuration (editable); rosters and payments are read-only
here, because they change only through the workflow services."""

from django.contrib import admin

from apps.subsidies.models import (
    BankAccount,
    DisabilityRecord,
    Payment,
    PaymentBatch,
    Programme,
    ProgrammeRule,
    Roster,
)


class ProgrammeRuleInline(admin.StackedInline):
    model = ProgrammeRule
    extra = 0
    fields = ("category", "priority", "valid_from", "valid_to", "predicates", "amount", "notice_days", "source")


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "subject", "period_kind", "reference_day", "is_active")
    inlines = [ProgrammeRuleInline]


@admin.register(ProgrammeRule)
class ProgrammeRuleAdmin(admin.ModelAdmin):
    list_display = ("programme", "category", "valid_from", "valid_to", "amount", "notice_days")
    list_filter = ("programme",)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Roster)
class RosterAdmin(ReadOnlyAdmin):
    list_display = ("programme", "township", "period", "status", "approved_on")
    list_filter = ("programme", "status")


@admin.register(PaymentBatch)
class PaymentBatchAdmin(ReadOnlyAdmin):
    list_display = ("id", "roster", "status", "created_by", "created_at")


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("id", "batch", "programme", "period", "amount", "status", "bank_reason")
    list_filter = ("status", "programme")
    exclude = ("account",)


@admin.register(BankAccount)
class BankAccountAdmin(ReadOnlyAdmin):
    list_display = ("person", "bank_name", "masked_number", "is_active")
    exclude = ("account_number",)


@admin.register(DisabilityRecord)
class DisabilityRecordAdmin(ReadOnlyAdmin):
    list_display = ("person", "grade", "recognised_on")
