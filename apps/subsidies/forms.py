from django import forms

from apps.subsidies.models import AccountKind, ApplicationStatus, Programme, Relationship


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


class ChildcareApplicationForm(forms.Form):
    """育儿补贴申领, as the clerk reads it off the application form (申请表)."""

    child_id_number = forms.CharField(label="婴儿身份证号", max_length=30)
    applicant_id_number = forms.CharField(label="申请人身份证号", max_length=30)
    relationship = forms.ChoiceField(label="申请人与婴儿关系", choices=Relationship.choices)
    guardian_basis = forms.CharField(
        label="监护依据", max_length=200, required=False, help_text="其他监护人必填，如法院判决书、村（居）委会指定监护"
    )
    applied_on = forms.DateField(label="申请日期", widget=forms.DateInput(attrs={"type": "date"}))
    bank_name = forms.CharField(label="开户银行", max_length=60)
    account_kind = forms.ChoiceField(label="账户类型", choices=AccountKind.choices)
    account_number = forms.CharField(label="银行账号", max_length=40)


class ChildcareCloseForm(forms.Form):
    status = forms.ChoiceField(
        label="处理",
        choices=[(ApplicationStatus.WITHDRAWN, "申请人撤回"), (ApplicationStatus.REJECTED, "不予受理")],
    )
    reason = forms.CharField(label="原因", max_length=200)


class OnBehalfForm(forms.Form):
    village = forms.CharField(label="村（居）", max_length=12)
    comment = forms.CharField(label="代为上报的原因", max_length=500)


class CorrectionForm(forms.Form):
    """名册更正: one entry removed or given another category, or a person added, with the reason."""

    action = forms.ChoiceField(label="更正方式", choices=[("add", "增加"), ("remove", "删除"), ("change", "修改类别")])
    entry = forms.IntegerField(label="名册人员", required=False)
    id_number = forms.CharField(label="身份证号（增加时）", max_length=30, required=False)
    rule = forms.IntegerField(label="类别", required=False)
    reason = forms.CharField(label="更正原因", max_length=500)


class ObjectionForm(forms.Form):
    entry = forms.IntegerField(label="被异议人员", required=False)
    objector = forms.CharField(label="异议人", max_length=50, help_text="姓名或“匿名”")
    content = forms.CharField(label="异议内容", max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    received_on = forms.DateField(label="收到日期", widget=forms.DateInput(attrs={"type": "date"}))


class ObjectionDecisionForm(forms.Form):
    upheld = forms.TypedChoiceField(
        label="处理结果", choices=[("1", "异议成立"), ("0", "异议不成立")], coerce=lambda v: v == "1"
    )
    decision = forms.CharField(label="核查意见", max_length=500)
