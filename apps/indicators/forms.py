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


class SubmissionDecideForm(forms.Form):
    """审核 or 退回 a submitted report; a return needs its reason (checked by the service)."""

    decision = forms.ChoiceField(label="审核结果", choices=[("approve", "审核通过"), ("return", "退回")])
    reason = forms.CharField(label="退回原因", max_length=300, required=False)
