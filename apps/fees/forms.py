"""Browser forms of the fee app: each shapes the input of one service (the rules live in services.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.areas.models import Area, AreaLevel
from apps.core.forms import DATE_WIDGET, ServiceForm
from apps.fees.models import FeeCase, FeeCaseState, PaymentMethod

MONEY_FIELD = {
    "max_digits": 12,
    "decimal_places": 2,
    "min_value": Decimal("0.01"),
    "error_messages": {
        "invalid": "请输入金额（元），最多两位小数",
        "max_decimal_places": "金额最多保留两位小数（精确到分）",
        "max_digits": "金额过大",
        "min_value": "金额应大于零",
    },
}


def _date(label: str, **kwargs) -> forms.DateField:
    return forms.DateField(label=label, widget=DATE_WIDGET, error_messages={"invalid": "请输入有效日期"}, **kwargs)


class DecisionForm(ServiceForm):
    decision_number = forms.CharField(label="决定书文号", max_length=60)
    decided_on = _date("决定日期")
    amount = forms.DecimalField(label="决定征收额（元）", **MONEY_FIELD)
    due_on = _date("缴款期限")
    legal_basis = forms.CharField(
        label="法律依据",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="留空则使用决定日期当日有效的依据条文",
    )


class InstalmentForm(ServiceForm):
    application_received_on = _date("书面申请日期")
    application_number = forms.CharField(label="书面申请编号", max_length=60)
    approval_number = forms.CharField(label="县人口计生局批准文号", max_length=60)
    months = forms.IntegerField(
        label="分期月数", min_value=1, error_messages={"invalid": "请输入整数月数", "min_value": "分期月数应为正整数"}
    )
    first_due_on = _date("首期缴款日期")


class PaymentForm(ServiceForm):
    receipt_number = forms.CharField(label="票据号", max_length=40)
    amount = forms.DecimalField(label="缴款金额（元）", **MONEY_FIELD)
    paid_on = _date("缴款日期")
    method = forms.ChoiceField(label="缴款方式", choices=PaymentMethod.choices)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["paid_on"].initial = timezone.localdate()


class ReversalForm(ServiceForm):
    reason = forms.CharField(label="冲正原因", max_length=300)
    on = _date("冲正日期")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["on"].initial = timezone.localdate()


class RefundForm(ServiceForm):
    voucher_number = forms.CharField(label="退款凭证号", max_length=40)
    amount = forms.DecimalField(label="退款金额（元）", **MONEY_FIELD)
    refunded_on = _date("退款日期")
    reason = forms.CharField(label="退款原因", max_length=300)


class TransferForm(ServiceForm):
    to_township = forms.ModelChoiceField(
        label="接收乡镇",
        queryset=Area.objects.none(),
        empty_label="请选择乡镇",
        error_messages={"invalid_choice": "请选择本县的乡镇"},
    )
    reason = forms.CharField(label="移交原因", max_length=300)
    on = _date("移交日期")

    def __init__(self, *args, case: FeeCase, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["on"].initial = timezone.localdate()
        # Any township of the county may receive a case: the receiving township is outside the sender's area.
        self.fields["to_township"].queryset = (
            Area.objects.filter(level=AreaLevel.TOWNSHIP)
            .within(case.village_id[:6] + "000000")
            .exclude(code=case.home_township_id)
            .order_by("code")
        )


class ReasonForm(ServiceForm):
    reason = forms.CharField(label="原因", max_length=300)


class TerminateForm(ServiceForm):
    reason = forms.CharField(
        label="终止原因",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="写明依据，如：依据《中共中央 国务院关于优化生育政策促进人口长期均衡发展的决定》，社会抚养费已取消",
    )
    confirm = forms.BooleanField(
        label="我已核对：终止后这些案件不再征收，已收款项保留在台账上",
        error_messages={"required": "请勾选确认后再终止"},
    )


class LedgerForm(forms.Form):
    start = _date("决定日期自", required=False)
    end = _date("至", required=False)

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        data["start"] = data.get("start") or date(today.year, 1, 1)
        data["end"] = data.get("end") or today
        if data["start"] > data["end"]:
            raise ValidationError("起始日期不能晚于截止日期")
        return data


class CaseFilterForm(forms.Form):
    state = forms.ChoiceField(
        label="状态",
        choices=[("", "全部"), *FeeCaseState.choices],
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    q = forms.CharField(
        label="决定书文号或缴费人姓名",
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
