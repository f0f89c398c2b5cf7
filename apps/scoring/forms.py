"""Forms of the scoring pages: shapes only; the rules live in ``services.py``."""

from django import forms

from apps.scoring.models import AdjustmentRule


class ManualScoreForm(forms.Form):
    points = forms.DecimalField(label="得分", max_digits=7, decimal_places=2, min_value=0)
    note = forms.CharField(label="评分说明", max_length=2000)
    evidence = forms.FileField(label="佐证材料", required=False)


class AdjustmentClaimForm(forms.Form):
    rule = forms.ModelChoiceField(label="加减分项目", queryset=AdjustmentRule.objects.none(), empty_label="请选择")
    chosen_points = forms.DecimalField(
        label="分值（分档、区间项目填写）", max_digits=7, decimal_places=2, required=False
    )
    cases = forms.IntegerField(label="例数（已如实上报）", min_value=0, max_value=10_000, required=False)
    unreported_cases = forms.IntegerField(label="例数（未如实上报）", min_value=0, max_value=10_000, required=False)
    note = forms.CharField(label="事由", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    evidence = forms.FileField(label="佐证材料", required=False)

    def __init__(self, *args, scheme_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule"].queryset = AdjustmentRule.objects.filter(scheme_id=scheme_id).order_by("position")
        self.fields["rule"].label_from_instance = lambda r: f"{r.get_direction_display()}：{r.name}"
        for name, field in self.fields.items():
            field.widget.attrs["class"] = (
                "form-select form-select-sm" if name == "rule" else "form-control form-control-sm"
            )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label="审核结果", choices=[("approve", "批准"), ("reject", "不批准")])
    note = forms.CharField(label="审核意见", max_length=200, required=False)


class YearForm(forms.Form):
    year = forms.IntegerField(min_value=2000, max_value=2100, required=False)
