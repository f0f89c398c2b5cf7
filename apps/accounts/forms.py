from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm

from apps.accounts.models import Role
from apps.accounts.selectors import areas_assignable_by
from apps.core import access
from apps.core.forms import ServiceForm


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "用户名或密码错误，请重新输入。连续多次输错将锁定账号。",
        "inactive": "该账号已停用，请联系县级管理员。",
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = "用户名"
        self.fields["password"].label = "密码"
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-control"
        self.fields["username"].widget.attrs["autofocus"] = True


class OwnPasswordChangeForm(PasswordChangeForm):
    """The user's own new password; the old one (or the temporary one an admin gave) is checked first."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = "当前密码"
        self.fields["new_password1"].label = "新密码"
        self.fields["new_password2"].label = "再次输入新密码"
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-control"


class UserForm(ServiceForm):
    """Name, area and roles of a user: areas inside the admin's own, roles the admin may grant (the service
    checks both again)."""

    full_name = forms.CharField(label="姓名", max_length=150, required=False)
    area = forms.ModelChoiceField(label="所属区划", queryset=None, empty_label="请选择区划")
    roles = forms.MultipleChoiceField(label="角色", widget=forms.CheckboxSelectMultiple, required=True)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.fields["area"].queryset = areas_assignable_by(user=user)
        self.fields["area"].label_from_instance = lambda a: f"{a.name}（{a.get_level_display()}，{a.code}）"
        grantable = access.grantable_roles(user)
        self.fields["roles"].choices = [(value, label) for value, label in Role.choices if value in grantable]
        self.fields["roles"].error_messages["required"] = "请至少选择一个角色"
        self.fields["roles"].widget.attrs["class"] = "form-check-input"


class UserCreateForm(UserForm):
    username = forms.CharField(label="用户名", max_length=150)
    password1 = forms.CharField(label="初始密码", widget=forms.PasswordInput(render_value=False), strip=False,
                                help_text="至少10位，不能全是数字。用户首次登录后须自行修改。")  # fmt: skip
    password2 = forms.CharField(label="再次输入初始密码", widget=forms.PasswordInput, strip=False)
    field_order = ["username", "full_name", "area", "roles", "password1", "password2"]
    violation_fields = {"password": "password1"}

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password2") and data["password1"] != data["password2"]:
            self.add_error("password2", "两次输入的密码不一致")
        return data


class PasswordResetForm(ServiceForm):
    password = forms.CharField(
        label="临时密码", required=False, strip=False, widget=forms.PasswordInput,
        help_text="留空则由系统生成。用户下次登录后须自行修改。",
    )  # fmt: skip
