"""Forms of the scoring pages: shapes only; the rules live in ``services.py``."""

from django import forms

from apps.scoring.models import AdjustmentRule, SchemeItem, TargetDirection


class ManualScoreForm(forms.Form):
    points = forms.DecimalField(label="得分", max_digits=7, decimal_places=2, min_value=0)
    note = forms.CharField(label="评分说明", max_length=2000)
    evidence = forms.FileField(label="佐证材料", required=False)


class AdjustmentClaimForm(forms.Form):
    rule = forms.ModelChoiceField(label="加减分项目", queryset=AdjustmentRule.objects.none(), empty_label="请选择")
    line = forms.ModelChoiceField(
        label="计入", queryset=SchemeItem.objects.none(), required=False, empty_label="总分（不计入某一线）"
    )
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
        self.fields["line"].queryset = SchemeItem.objects.filter(scheme_id=scheme_id, parent__isnull=True).order_by(
            "position"
        )
        self.fields["line"].label_from_instance = lambda line: line.name
        for name, field in self.fields.items():
            field.widget.attrs["class"] = (
                "form-select form-select-sm" if name in ("rule", "line") else "form-control form-control-sm"
            )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label="审核结果", choices=[("approve", "批准"), ("reject", "不批准")])
    note = forms.CharField(label="审核意见", max_length=200, required=False)


class YearForm(forms.Form):
    year = forms.IntegerField(min_value=2000, max_value=2100, required=False)


class YearOpenForm(forms.Form):
    year = forms.IntegerField(label="考核年度", min_value=2000, max_value=2100)
    late_reason = forms.CharField(
        label="方案迟发说明", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ContractForm(forms.Form):
    """目标管理责任书 of one unit: the signing date and, per indicator, a direction and a target (both empty:
    no target for that indicator)."""

    signed_on = forms.DateField(label="签订日期", widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label="备注", max_length=200, required=False)

    def __init__(self, *args, indicators: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.indicators = indicators
        for code, name in indicators:
            self.fields[f"direction_{code}"] = forms.ChoiceField(
                label=f"{name}方向", choices=[("", "—"), *TargetDirection.choices], required=False
            )
            self.fields[f"target_{code}"] = forms.DecimalField(
                label=f"{name}目标值", max_digits=12, decimal_places=4, required=False
            )

    def rows(self):
        return [(code, name, self[f"direction_{code}"], self[f"target_{code}"]) for code, name in self.indicators]

    def clean(self):
        data = super().clean()
        for code, name in self.indicators:
            direction, target = data.get(f"direction_{code}"), data.get(f"target_{code}")
            if bool(direction) != (target is not None):
                self.add_error(f"target_{code}", f"「{name}」请同时填写方向和目标值，或都不填")
        return data

    def targets(self) -> list:
        from apps.scoring.services import TargetData

        data = self.cleaned_data
        return [
            TargetData(code, data[f"direction_{code}"], data[f"target_{code}"])
            for code, _name in self.indicators
            if data.get(f"direction_{code}")
        ]
