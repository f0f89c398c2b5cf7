"""Social maintenance fee (社会抚养费) cases, from an out-of-policy birth to a closed ledger (DESIGN §7).

The rules that must never break are database constraints here: one case per birth, no assessment before the
birth, a decided amount inside the computed range, collected money never above the decided amount, one receipt
number per payment, one reversal per payment, and payments and refunds that can be neither updated nor deleted
(a trigger refuses it, whatever the code path). Every other rule lives in ``services.py``.
"""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeOperators
from django.db import models
from django.db.models import F, Func, Q, Value

from apps.core.audit import tracked
from apps.core.scoping import AreaScopedQuerySet

MONEY = {"max_digits": 12, "decimal_places": 2}


class DateRange(Func):
    """``daterange(valid_from, valid_to, '[]')``: an open end (NULL) runs forever."""

    function = "DATERANGE"
    output_field = DateRangeField()


def _dates_check(name: str) -> models.CheckConstraint:
    """A validity range never ends before it starts (an open end runs forever)."""
    return models.CheckConstraint(condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")), name=name)


def _validity_exclusion(name: str) -> ExclusionConstraint:
    """No two rows in force on the same day: the rule for a date is never ambiguous."""
    return ExclusionConstraint(
        name=name,
        expressions=[(DateRange("valid_from", "valid_to", Value("[]")), RangeOperators.OVERLAPS)],
    )


class PayerCategory(models.TextChoices):
    """Who pays, as the seed's minimums distinguish them (农村人口 / 城镇人口 / 单位职工, seed 000 L81–82)."""

    RURAL = "rural", "农村人口"
    URBAN = "urban", "城镇人口"
    EMPLOYEE = "employee", "单位职工"


@tracked()
class FeeStandard(models.Model):
    """社会抚养费征收标准: one versioned rule set. A birth on a date in ``[valid_from, valid_to]`` is assessed
    by it; a birth after ``valid_to`` of the last standard gets no case (the fee was abolished in 2021)."""

    name = models.CharField("名称", max_length=100)
    valid_from = models.DateField("适用出生日期起")
    valid_to = models.DateField("适用出生日期止", null=True, blank=True, help_text="此日期以后出生的，不再立案征收")
    urban_income = models.DecimalField("上年城镇居民人均可支配收入（元）", **MONEY)
    rural_income = models.DecimalField("上年农村居民人均纯收入（元）", **MONEY)
    legal_basis = models.CharField("法律依据", max_length=300)

    class Meta:
        verbose_name = "征收标准"
        verbose_name_plural = "征收标准"
        ordering = ["valid_from"]
        constraints = [
            _dates_check("fee_standard_dates"),
            models.CheckConstraint(
                condition=Q(urban_income__gt=0) & Q(rural_income__gt=0), name="fee_standard_income_positive"
            ),
            _validity_exclusion("fee_standard_no_overlap"),
        ]

    def __str__(self) -> str:
        return self.name


@tracked()
class FeeRate(models.Model):
    """One line of a standard: for a payer category and the order of the excess child (违法生育第n孩), the
    multiples of the income base and the minimum (首征标准, "不得低于"). The highest order given applies to
    every later excess child."""

    standard = models.ForeignKey(FeeStandard, verbose_name="征收标准", on_delete=models.CASCADE, related_name="rates")
    category = models.CharField("缴费人类别", max_length=20, choices=PayerCategory.choices)
    excess_order = models.PositiveSmallIntegerField("违法生育第几孩", help_text="1 为违法生育第一孩，依此类推")
    multiple_min = models.DecimalField("最低倍数", max_digits=5, decimal_places=2)
    multiple_max = models.DecimalField("最高倍数", max_digits=5, decimal_places=2)
    minimum_amount = models.DecimalField("最低征收额（元）", **MONEY)

    class Meta:
        verbose_name = "征收倍数与最低额"
        verbose_name_plural = "征收倍数与最低额"
        ordering = ["standard", "category", "excess_order"]
        constraints = [
            models.UniqueConstraint(fields=["standard", "category", "excess_order"], name="fee_rate_unique"),
            models.CheckConstraint(condition=Q(excess_order__gte=1), name="fee_rate_order_positive"),
            models.CheckConstraint(
                condition=Q(multiple_min__gte=0) & Q(multiple_max__gte=F("multiple_min")), name="fee_rate_multiples"
            ),
            models.CheckConstraint(condition=Q(minimum_amount__gte=0), name="fee_rate_minimum_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} 违法生育第{self.excess_order}孩"


@tracked()
class FeePolicy(models.Model):
    """征收管理参数 in force over a date range: the finding township's share on a transfer, how long past
    due a decided case waits before it is referred for enforcement, and the longest instalment term."""

    valid_from = models.DateField("生效日期")
    valid_to = models.DateField("失效日期", null=True, blank=True)
    finding_share_percent = models.DecimalField(
        "发现地乡镇分成比例（%）",
        max_digits=5,
        decimal_places=2,
        help_text="案件移交后，发现地乡镇分得已征收金额的比例",
    )
    enforcement_after_days = models.PositiveIntegerField("逾期多少天列入强制执行移送名单")
    max_instalment_months = models.PositiveSmallIntegerField("分期缴纳最长期限（月）")
    source = models.CharField("依据", max_length=300, blank=True)

    class Meta:
        verbose_name = "征收管理参数"
        verbose_name_plural = "征收管理参数"
        ordering = ["valid_from"]
        constraints = [
            _dates_check("fee_policy_dates"),
            models.CheckConstraint(
                condition=Q(finding_share_percent__gte=0) & Q(finding_share_percent__lte=100),
                name="fee_policy_share_percent",
            ),
            models.CheckConstraint(condition=Q(max_instalment_months__gte=1), name="fee_policy_instalment_months"),
            _validity_exclusion("fee_policy_no_overlap"),
        ]

    def __str__(self) -> str:
        return f"征收管理参数（{self.valid_from}起）"


class UnsettledOutcome(models.TextChoices):
    """What becomes of the cases not settled when the fee ends: the county's choice."""

    TERMINATE = "terminate", "终止征收（未缴部分不再征收）"
    COLLECT = "collect", "已决定的案件继续征收至缴清"


@tracked()
class FeeEnd(models.Model):
    """社会抚养费停征: the day after which no case is opened, decided or paid (refunds and closing entries
    aside), and how the cases still open then end. One row (the fee ends once); editable data, not a constant:
    the 2021 amendment of the Population and Family Planning Law removed the fee, and the central decision of
    2021-07-20 cancelled it (seeded by the data migration). No row: the fee has not ended."""

    ends_on = models.DateField(
        "停征日期", help_text="此日期之后（不含当日）不得立案、作出征收决定、批准分期或收款；退款和结案记录除外"
    )
    unsettled_outcome = models.CharField(
        "停征时未结案件的处理", max_length=20, choices=UnsettledOutcome.choices, default=UnsettledOutcome.TERMINATE
    )
    source = models.TextField("依据")

    class Meta:
        verbose_name = "停征参数"
        verbose_name_plural = "停征参数"
        constraints = [models.UniqueConstraint(Value(True), name="fee_end_one_row")]

    def __str__(self) -> str:
        return f"社会抚养费停征（{self.ends_on}）"


@tracked()
class LegalBasis(models.Model):
    """依据条文 in force over a date range: each printed document (决定书, 票据, 终止征收通知书) cites the text
    in force on the document's own date, so a 2019 decision cites the 2015 law's article 41 and a 2022
    termination cites the 2021 decision that cancelled the fee."""

    valid_from = models.DateField("生效日期")
    valid_to = models.DateField("失效日期", null=True, blank=True)
    text = models.TextField("依据条文", help_text="印在文书上的依据，如“《中华人民共和国人口与计划生育法》第四十一条”")
    note = models.CharField("说明", max_length=300, blank=True)

    class Meta:
        verbose_name = "文书依据条文"
        verbose_name_plural = "文书依据条文"
        ordering = ["valid_from"]
        constraints = [
            _dates_check("legal_basis_dates"),
            _validity_exclusion("legal_basis_no_overlap"),
        ]

    def __str__(self) -> str:
        return f"依据条文（{self.valid_from}起）"


class FeeCaseState(models.TextChoices):
    DRAFT = "draft", "立案待决定"
    DECIDED = "decided", "已决定"
    INSTALMENTS = "instalments", "分期缴纳中"
    PAID = "paid", "已缴清"
    ENFORCEMENT = "enforcement", "已移送强制执行"
    WITHDRAWN = "withdrawn", "已撤销"
    TERMINATED = "terminated", "已终止征收"


DECIDED_STATES = (FeeCaseState.DECIDED, FeeCaseState.INSTALMENTS, FeeCaseState.PAID, FeeCaseState.ENFORCEMENT)
# Cases still open: the ones a bulk termination closes when the fee ends.
OPEN_STATES = (FeeCaseState.DRAFT, FeeCaseState.DECIDED, FeeCaseState.INSTALMENTS, FeeCaseState.ENFORCEMENT)


class FeeCaseQuerySet(AreaScopedQuerySet):
    """A case is located at the birth's village; after a transfer, the receiving (home) township sees it too."""

    def within_range(self, low: str, high: str) -> FeeCaseQuerySet:
        return self.filter(
            Q(village_id__gte=low, village_id__lt=high) | Q(home_township_id__gte=low, home_township_id__lt=high)
        )


@tracked()
class FeeCase(models.Model):
    """社会抚养费征收案件: exactly one per out-of-policy birth (``birth`` is unique)."""

    birth = models.OneToOneField(
        "registry.Birth", verbose_name="出生登记", on_delete=models.PROTECT, related_name="fee_case"
    )
    village = models.ForeignKey(
        "areas.Area", verbose_name="出生地村（居）", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    birth_date = models.DateField("出生日期")  # kept here so that "nothing before the birth" is a constraint
    mother = models.ForeignKey(
        "registry.Person", verbose_name="缴费人（母亲）", on_delete=models.PROTECT, related_name="+"
    )
    father = models.ForeignKey(
        "registry.Person",
        verbose_name="缴费人（父亲）",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    finding_township = models.ForeignKey(
        "areas.Area", verbose_name="发现地乡镇", on_delete=models.PROTECT, related_name="+"
    )
    home_township = models.ForeignKey("areas.Area", verbose_name="征收乡镇", on_delete=models.PROTECT, related_name="+")
    finding_share_percent = models.DecimalField(
        "发现地分成比例（%）", max_digits=5, decimal_places=2, default=0, help_text="移交时按征收管理参数确定"
    )
    state = models.CharField("状态", max_length=20, choices=FeeCaseState.choices, default=FeeCaseState.DRAFT)
    opened_on = models.DateField("立案日期")
    standard = models.ForeignKey(FeeStandard, verbose_name="征收标准", on_delete=models.PROTECT, related_name="+")
    category = models.CharField("缴费人类别", max_length=20, choices=PayerCategory.choices)
    excess_order = models.PositiveSmallIntegerField("违法生育第几孩")
    income_base = models.DecimalField("计征基数（元）", **MONEY)
    range_min = models.DecimalField("应征额下限（元）", **MONEY)
    range_max = models.DecimalField("应征额上限（元）", **MONEY)
    decision_number = models.CharField("决定书文号", max_length=60, null=True, blank=True)
    decided_on = models.DateField("决定日期", null=True, blank=True)
    decided_amount = models.DecimalField("决定征收额（元）", null=True, blank=True, **MONEY)
    due_on = models.DateField("缴款期限", null=True, blank=True)
    legal_basis = models.TextField("法律依据", blank=True)
    collected_amount = models.DecimalField(
        "已征收净额（元）", default=0, help_text="缴款减冲正减退款，由缴款服务在锁定案件后维护", **MONEY
    )
    closed_reason = models.CharField("撤销、移送或终止原因", max_length=300, blank=True)
    closed_on = models.DateField("终止征收日期", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="立案人", on_delete=models.SET_NULL, null=True, related_name="+"
    )

    area_scope_field = "village_id"
    objects = FeeCaseQuerySet.as_manager()

    class Meta:
        verbose_name = "社会抚养费案件"
        verbose_name_plural = "社会抚养费案件"
        ordering = ["-opened_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["decision_number"], name="fee_case_decision_number_unique"),
            models.CheckConstraint(condition=Q(opened_on__gte=F("birth_date")), name="fee_case_not_before_birth"),
            models.CheckConstraint(
                condition=Q(decided_on__isnull=True) | Q(decided_on__gte=F("birth_date")),
                name="fee_case_decision_not_before_birth",
            ),
            models.CheckConstraint(
                condition=Q(range_min__gt=0) & Q(range_max__gte=F("range_min")), name="fee_case_range"
            ),
            models.CheckConstraint(
                condition=Q(decided_amount__isnull=True)
                | (Q(decided_amount__gte=F("range_min")) & Q(decided_amount__lte=F("range_max"))),
                name="fee_case_amount_in_range",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=DECIDED_STATES)
                | (
                    Q(decided_amount__isnull=False)
                    & Q(decided_on__isnull=False)
                    & Q(due_on__isnull=False)
                    & Q(decision_number__isnull=False)
                ),
                name="fee_case_decided_has_decision",
            ),
            models.CheckConstraint(
                condition=Q(due_on__isnull=True) | Q(due_on__gte=F("decided_on")), name="fee_case_due_after_decision"
            ),
            # No money before a decision, never more than decided (预收 and overpayment both impossible).
            models.CheckConstraint(
                condition=Q(collected_amount=0)
                | (Q(collected_amount__gt=0) & Q(collected_amount__lte=F("decided_amount"))),
                name="fee_case_collected_within_decided",
            ),
            models.CheckConstraint(
                condition=~Q(state=FeeCaseState.PAID) | Q(collected_amount=F("decided_amount")),
                name="fee_case_paid_in_full",
            ),
            models.CheckConstraint(
                condition=Q(finding_share_percent__gte=0) & Q(finding_share_percent__lte=100),
                name="fee_case_share_percent",
            ),
            models.CheckConstraint(
                condition=~Q(state=FeeCaseState.TERMINATED) | (Q(closed_on__isnull=False) & ~Q(closed_reason="")),
                name="fee_case_terminated_has_date_and_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["village", "decided_on"], name="fee_case_village_decided_idx"),
            models.Index(fields=["home_township", "decided_on"], name="fee_case_home_decided_idx"),
            models.Index(fields=["decided_on"], name="fee_case_decided_idx"),
        ]

    def __str__(self) -> str:
        return self.decision_number or f"案件{self.pk}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("fees:case_detail", kwargs={"pk": self.pk})

    @property
    def is_transferred(self) -> bool:
        return self.home_township_id != self.finding_township_id

    @property
    def outstanding_amount(self):
        return (self.decided_amount or 0) - self.collected_amount


@tracked()
class InstalmentPlan(models.Model):
    """分期缴纳: granted only on a recorded written application (书面申请), for at most the policy's term."""

    case = models.OneToOneField(FeeCase, verbose_name="案件", on_delete=models.PROTECT, related_name="instalment_plan")
    application_received_on = models.DateField("书面申请日期")
    application_number = models.CharField("书面申请编号", max_length=60)
    approval_number = models.CharField("县人口计生局批准文号", max_length=60)
    months = models.PositiveSmallIntegerField("分期月数")
    first_due_on = models.DateField("首期缴款日期")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "分期缴纳"
        verbose_name_plural = "分期缴纳"
        constraints = [models.CheckConstraint(condition=Q(months__gte=1), name="instalment_months_positive")]

    def __str__(self) -> str:
        return f"分期{self.months}个月"


@tracked()
class InstalmentDue(models.Model):
    """One month of the schedule (分期缴款计划)."""

    plan = models.ForeignKey(InstalmentPlan, verbose_name="分期计划", on_delete=models.PROTECT, related_name="dues")
    sequence = models.PositiveSmallIntegerField("期数")
    due_on = models.DateField("应缴日期")
    amount = models.DecimalField("应缴金额（元）", **MONEY)

    class Meta:
        verbose_name = "分期应缴"
        verbose_name_plural = "分期应缴"
        ordering = ["plan", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "sequence"], name="instalment_due_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="instalment_due_positive"),
        ]

    def __str__(self) -> str:
        return f"第{self.sequence}期 {self.due_on}"


class PaymentMethod(models.TextChoices):
    CASH = "cash", "现金"
    BANK_TRANSFER = "bank_transfer", "银行转账"
    POS = "pos", "刷卡"


class PaymentKind(models.TextChoices):
    PAYMENT = "payment", "缴款"
    REVERSAL = "reversal", "冲正"


def _append_only() -> pgtrigger.Protect:
    """Ledger rows are written once: the database refuses any UPDATE or DELETE of them."""
    return pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)


class PaymentQuerySet(models.QuerySet):
    def visible_to(self, user) -> PaymentQuerySet:
        return self.filter(case__in=FeeCase.objects.visible_to(user).values("pk"))


@tracked()
@pgtrigger.register(_append_only())
class Payment(models.Model):
    """缴款 (with its 缴纳社会抚养费票据 receipt), or the reversing entry (冲正) of one. Never updated or deleted:
    a mistaken payment is reversed by a new row of the opposite amount that names it."""

    case = models.ForeignKey(FeeCase, verbose_name="案件", on_delete=models.PROTECT, related_name="payments")
    kind = models.CharField("类型", max_length=10, choices=PaymentKind.choices, default=PaymentKind.PAYMENT)
    receipt_number = models.CharField("票据号", max_length=40)
    amount = models.DecimalField("金额（元）", **MONEY)
    paid_on = models.DateField("缴款日期")
    method = models.CharField("缴款方式", max_length=20, choices=PaymentMethod.choices)
    reverses = models.OneToOneField(
        "self", verbose_name="冲正的缴款", on_delete=models.PROTECT, null=True, blank=True, related_name="reversal"
    )
    note = models.CharField("说明", max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="经办人", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    objects = PaymentQuerySet.as_manager()

    class Meta:
        verbose_name = "缴款"
        verbose_name_plural = "缴款"
        ordering = ["paid_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["receipt_number"], name="payment_receipt_number_unique"),
            models.CheckConstraint(
                condition=(Q(kind=PaymentKind.PAYMENT) & Q(amount__gt=0) & Q(reverses__isnull=True))
                | (Q(kind=PaymentKind.REVERSAL) & Q(amount__lt=0) & Q(reverses__isnull=False)),
                name="payment_kind_amount",
            ),
        ]
        indexes = [models.Index(fields=["case", "paid_on"], name="payment_case_paid_idx")]

    def __str__(self) -> str:
        return self.receipt_number

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("fees:receipt", kwargs={"pk": self.pk})


class RefundQuerySet(models.QuerySet):
    def visible_to(self, user) -> RefundQuerySet:
        return self.filter(case__in=FeeCase.objects.visible_to(user).values("pk"))


@tracked()
@pgtrigger.register(_append_only())
class Refund(models.Model):
    """退款: money given back (e.g. after a decision is withdrawn), its own record with its own voucher."""

    case = models.ForeignKey(FeeCase, verbose_name="案件", on_delete=models.PROTECT, related_name="refunds")
    voucher_number = models.CharField("退款凭证号", max_length=40)
    amount = models.DecimalField("金额（元）", **MONEY)
    refunded_on = models.DateField("退款日期")
    reason = models.CharField("退款原因", max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="经办人", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField("录入时间", auto_now_add=True)

    objects = RefundQuerySet.as_manager()

    class Meta:
        verbose_name = "退款"
        verbose_name_plural = "退款"
        ordering = ["refunded_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["voucher_number"], name="refund_voucher_number_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.voucher_number


@tracked()
class FeeTransfer(models.Model):
    """案件移交: the case goes to the township that collects it; the finding township keeps a share."""

    case = models.ForeignKey(FeeCase, verbose_name="案件", on_delete=models.PROTECT, related_name="transfers")
    from_township = models.ForeignKey("areas.Area", verbose_name="移出乡镇", on_delete=models.PROTECT, related_name="+")
    to_township = models.ForeignKey("areas.Area", verbose_name="接收乡镇", on_delete=models.PROTECT, related_name="+")
    share_percent = models.DecimalField("发现地分成比例（%）", max_digits=5, decimal_places=2)
    transferred_on = models.DateField("移交日期")
    reason = models.CharField("移交原因", max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="经办人", on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = "案件移交"
        verbose_name_plural = "案件移交"
        ordering = ["transferred_on", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(from_township=F("to_township")), name="fee_transfer_changes_township")
        ]

    def __str__(self) -> str:
        return f"{self.transferred_on} 移交"


@tracked()
class FeeTermination(models.Model):
    """停征后终止未结案件: one reasoned action of the county that closed every open case in its area at once.
    The cases carry the reason and date themselves (and each case's audit event names this action's user and
    reason); this row is the action as a whole, with how many cases it closed."""

    area = models.ForeignKey("areas.Area", verbose_name="范围", on_delete=models.PROTECT, related_name="+")
    terminated_on = models.DateField("终止日期")
    reason = models.CharField("终止原因", max_length=300)
    outcome = models.CharField("处理方式", max_length=20, choices=UnsettledOutcome.choices)
    cases = models.PositiveIntegerField("终止案件数")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="经办人", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField("办理时间", auto_now_add=True)

    class Meta:
        verbose_name = "批量终止征收"
        verbose_name_plural = "批量终止征收"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.terminated_on} 终止{self.cases}件"
