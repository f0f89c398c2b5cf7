from django import forms

from apps.subsidies.models import AccountKind, Programme


class GenerateForm(forms.Form):
    programme = forms.ModelChoiceField(
        label="项目", queryset=Programme.objects.filter(is_active=True), to_field_name="code"
    )
    period = forms.CharField(label="期间", max_length=8, help_text="按年：2025；按月：2025M03")


class CommentForm(forms.Form):
    comment = forms.CharField(label="意见", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AccountForm(forms.Form):
    kind = forms.ChoiceField(label="账户类型", choices=AccountKind.choices)
    bank_name = forms.CharField(label="开户银行", max_length=60)
    account_number = forms.CharField(label="账号", max_length=40)


class ReturnFileForm(forms.Form):
    file = forms.FileField(label="银行回盘文件（.csv或.xlsx）")
