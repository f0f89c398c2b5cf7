"""Admin for configuration (birth-policy rules, with import/export) and read-mostly views of registry rows.

Registry records are entered through the clerks' forms (services keep the invariants); the admin shows them
read-only so that nobody edits a birth order or a policy status around the services.
"""

from django.contrib import admin
from import_export import resources
from import_export.admin import ImportExportModelAdmin

from apps.core.admin import ReadOnlyAdmin
from apps.registry.models import (
    PLAUSIBILITY_PARAMETERS,
    Birth,
    BirthPermit,
    BirthPolicyRule,
    ContraceptiveUse,
    Death,
    Household,
    Marriage,
    Move,
    Person,
    PlausibilityCode,
    PlausibilityRule,
)
from apps.registry.services import policy_rule_save


class BirthPolicyRuleResource(resources.ModelResource):
    class Meta:
        model = BirthPolicyRule
        fields = ("id", "name", "valid_from", "valid_to", "hukou_type", "condition", "children_allowed", "source")

    def after_import(self, dataset, result, **kwargs):
        if not kwargs.get("dry_run"):
            policy_rule_save(rule=None, by=kwargs.get("user"))


@admin.register(BirthPolicyRule)
class BirthPolicyRuleAdmin(ImportExportModelAdmin):
    resource_classes = [BirthPolicyRuleResource]
    list_display = ("name", "valid_from", "valid_to", "hukou_type", "condition", "children_allowed")
    list_filter = ("hukou_type", "condition")

    def save_model(self, request, obj, form, change):
        policy_rule_save(rule=obj, by=request.user)

    def delete_model(self, request, obj):
        obj.delete()
        policy_rule_save(rule=None, by=request.user)


@admin.register(PlausibilityRule)
class PlausibilityRuleAdmin(admin.ModelAdmin):
    """合理性规则: the numbers forms, the API and imports check entries against (``registry.plausibility``).
    A change applies to entries made from then on; nothing already registered is re-judged."""

    list_display = ("code", "action", "valid_from", "valid_to", "parameters", "basis")
    list_filter = ("code", "action")
    ordering = ("code", "action", "valid_from")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        lines = [
            f"{PlausibilityCode(code).label}：" + ("，".join(f"{k}（{v}）" for k, v in params.items()) or "无参数")
            for code, params in PLAUSIBILITY_PARAMETERS.items()
        ]
        form.base_fields["parameters"].help_text = "各规则的参数：" + "；".join(lines)
        return form


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    list_display = ("name", "sex", "birth_date", "village", "hukou_type", "death_date")
    list_filter = ("sex", "hukou_type")
    search_fields = ("name",)  # never by ID number: admin search terms travel in the URL
    list_select_related = ("village",)
    show_full_result_count = False


@admin.register(Household)
class HouseholdAdmin(ReadOnlyAdmin):
    list_display = ("number", "village")
    search_fields = ("=number",)
    list_select_related = ("village",)


@admin.register(Birth)
class BirthAdmin(ReadOnlyAdmin):
    list_display = ("date", "mother", "child", "birth_order", "policy_status", "village")
    list_filter = ("policy_status", "birth_order")
    list_select_related = ("mother", "child", "village")
    show_full_result_count = False


for model in (BirthPermit, ContraceptiveUse, Death, Marriage, Move):
    admin.site.register(model, ReadOnlyAdmin)
