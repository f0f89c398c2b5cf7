"""The base of every browser form in front of a service (STYLE: thin forms; the rules live in services)."""

from __future__ import annotations

from django import forms

from apps.core.errors import RuleViolation
from apps.core.exports import PURPOSE_MIN_LENGTH

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ServiceForm(forms.Form):
    """A form in front of one service: Bootstrap classes on the widgets, and a service's ``RuleViolation``
    shown beside the field it names (``violation_fields`` maps a service's field name to the form's)."""

    violation_fields: dict[str, str] = {}

    def __init__(self, *args, user, **kwargs) -> None:
        self.user = user
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs.setdefault("class", css)

    def add_violation(self, exc: RuleViolation) -> None:
        field = self.violation_fields.get(exc.field, exc.field) if exc.field else None
        self.add_error(field if field in self.fields else None, exc.message)


class FullIdsExportForm(forms.Form):
    """Asking for an export with full ID numbers and phones: only with a stated purpose, which is logged
    (DESIGN §4). The purpose must say something; "导出" or "工作" does not."""

    purpose = forms.CharField(
        label="用途",
        min_length=PURPOSE_MIN_LENGTH,
        max_length=200,
        strip=True,
        help_text=f"导出完整身份证号和电话须说明用途（至少{PURPOSE_MIN_LENGTH}个字），将记入导出记录，例如：报送县公安局核对户籍信息。",
        error_messages={
            "required": "请填写用途",
            "min_length": f"用途至少填写{PURPOSE_MIN_LENGTH}个字，请说明为何需要完整号码",
        },
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )
    area = forms.CharField(required=False, max_length=12, widget=forms.HiddenInput)
