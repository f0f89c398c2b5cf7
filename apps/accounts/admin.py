from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm

from apps.accounts.models import Role, User


def _roles_field() -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label="角色", choices=Role.choices, widget=forms.CheckboxSelectMultiple, required=False
    )


class UserChangeForm(forms.ModelForm):
    roles = _roles_field()

    class Meta:
        model = User
        fields = ("username", "area", "roles")  # the admin adds the rest from its fieldsets


class UserCreationForm(AdminUserCreationForm):
    roles = _roles_field()

    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "area", "roles")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    list_display = ("username", "first_name", "area", "roles", "is_active", "last_login")
    list_select_related = ("area",)
    list_filter = ("is_active", "is_staff")
    search_fields = ("username", "first_name", "area__name", "area__code")
    raw_id_fields = ("area",)
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("区划与角色", {"fields": ("area", "roles")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "usable_password", "password1", "password2")}),
        ("区划与角色", {"fields": ("area", "roles")}),
    )
