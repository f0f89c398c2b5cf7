"""Admin: programmes and their dated rules are configuration (editable); rosters and payments are read-only
here, because they change only through the workflow services."""

from django import forms
from django.contrib import admin

from apps.core.admin import AreaScopedAdminMixin, ReadOnlyAdmin
from apps.core.errors import RuleViolation
from apps.subsidies.models import (
    BankAccount,
    ChildcareApplication,
    DisabilityRecord,
    Payment,
    PaymentBatch,
    Programme,
    ProgrammeRule,
    Roster,
)
from apps.subsidies.services import disability_check, disability_record


class DisabilityRecordForm(forms.ModelForm):
    class Meta:
        model = DisabilityRecord
        fields = ("person", "certificate_number", "grade", "recognised_on")

    def clean(self):
        data = super().clean()
        if data.get("person") and data.get("grade") and data.get("recognised_on"):
            try:
                disability_check(person=data["person"], grade=data["grade"], recognised_on=data["recognised_on"])
            except RuleViolation as exc:
                raise forms.ValidationError(exc.message) from None
        return data


class ProgrammeRuleInline(admin.StackedInline):
    model = ProgrammeRule
    extra = 0
    fields = ("category", "priority", "valid_from", "valid_to", "predicates", "amount", "notice_days", "source")


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "subject", "by_application", "period_kind", "reference_day", "is_active")
    inlines = [ProgrammeRuleInline]


@admin.register(ProgrammeRule)
class ProgrammeRuleAdmin(admin.ModelAdmin):
    list_display = ("programme", "category", "valid_from", "valid_to", "amount", "notice_days")
    list_select_related = ("programme",)
    list_filter = ("programme",)


@admin.register(Roster)
class RosterAdmin(ReadOnlyAdmin):
    list_display = ("programme", "township", "period", "status", "approved_on")
    list_select_related = ("programme", "township")
    list_filter = ("programme", "status")


@admin.register(PaymentBatch)
class PaymentBatchAdmin(ReadOnlyAdmin):
    list_display = ("id", "roster", "status", "created_by", "created_at")
    list_select_related = ("roster__programme", "created_by")


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    # Named relations only: with none, the changelist follows every foreign key of a payment recursively,
    # a join of some thirty tables that PostgreSQL spent minutes planning.
    list_display = ("id", "batch", "programme", "period", "amount", "status", "bank_reason")
    list_select_related = ("batch", "programme")
    list_filter = ("status", "programme")
    exclude = ("account",)


@admin.register(BankAccount)
class BankAccountAdmin(ReadOnlyAdmin):
    list_display = ("person", "bank_name", "masked_number", "is_active")
    list_select_related = ("person",)
    exclude = ("account_number",)


@admin.register(ChildcareApplication)
class ChildcareApplicationAdmin(ReadOnlyAdmin):
    """育儿补贴申领 change only through the clerk's pages, the API or an import (the checks live there)."""

    list_display = ("child", "applicant", "relationship", "applied_on", "status", "village")
    list_select_related = ("child", "applicant", "village")
    list_filter = ("status", "relationship")
    exclude = ("account",)


@admin.register(DisabilityRecord)
class DisabilityRecordAdmin(AreaScopedAdminMixin, admin.ModelAdmin):
    """独生子女伤残登记 entered by staff from the certificate (the registry has no disability field)."""

    list_display = ("person", "grade", "recognised_on")
    list_select_related = ("person",)
    raw_id_fields = ("person",)
    fields = ("person", "certificate_number", "grade", "recognised_on")

    def has_change_permission(self, request, obj=None):
        return obj is None

    form = DisabilityRecordForm

    def save_model(self, request, obj, form, change):
        saved = disability_record(
            person=obj.person,
            certificate_number=obj.certificate_number,
            grade=obj.grade,
            recognised_on=obj.recognised_on,
            by=request.user,
        )
        obj.pk = saved.pk
