from django import forms

from apps.core.errors import RuleViolation
from apps.indicators.periods import Period, period_parse


class RecomputeForm(forms.Form):
    period = forms.CharField(label="报表期", max_length=12)

    def clean_period(self) -> Period:
        try:
            return period_parse(self.cleaned_data["period"])
        except RuleViolation as exc:
            raise forms.ValidationError(exc.message) from None
