"""Users in the admin: a superuser's tool. The county's own admins manage users in our pages
(/accounts/users/, through the services); here their role's group lets them only look, within their area.
Groups and the admin site follow the roles (``services.user_set_roles``), so neither is edited here."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm

from apps.accounts.models import Role, User
from apps.accounts.services import user_set_roles
from apps.core.admin import AreaScopedAdminMixin


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
class UserAdmin(AreaScopedAdminMixin, BaseUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    list_display = ("username", "first_name", "area", "roles", "is_active", "last_login")
    list_select_related = ("area",)
    list_filter = ("is_active", "is_staff")
    search_fields = ("username", "first_name", "area__name", "area__code")
    raw_id_fields = ("area",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("个人信息", {"fields": ("first_name", "last_name", "email")}),
        ("状态", {"fields": ("is_active", "is_superuser", "must_change_password")}),
        ("区划与角色", {"fields": ("area", "roles")}),
        ("重要日期", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "usable_password", "password1", "password2")}),
        ("区划与角色", {"fields": ("area", "roles")}),
    )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        user_set_roles(user=obj, area=obj.area, roles=obj.roles)
