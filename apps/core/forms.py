"""The base of every browser form in front of a service (STYLE: thin forms; the rules live in services)."""

from __future__ import annotations

from django import forms

from apps.core.errors import RuleViolation

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
