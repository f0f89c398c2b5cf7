"""Reward and assistance programmes (奖励扶助): rules, rosters, review, bank accounts and payments (DESIGN §7).

Eligibility is data: a ``ProgrammeRule`` is a dated version holding a list of predicate codes with parameters
(``eligibility.PREDICATES``) and the amount per period. Rosters are filled set-based by ``eligibility``; the
invariants that must never break are constraints here: one roster per programme, township and period, one
entry per person in a roster, and one non-failed payment per person, programme and period.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q

from apps.core.areacodes import CodeLevel, level_of, township_of
from apps.core.audit import tracked
from apps.core.privacy import mask_account, mask_id_number
from apps.core.scoping import NOTHING, AreaScopedQuerySet, user_scope


class Subject(models.TextChoices):
    PARENT = "parent", "父母（按人）"
    CHILD = "child", "子女（按孩）"


class PeriodKind(models.TextChoices):
    YEAR = "year", "按年"
    MONTH = "month", "按月"


class ReferenceDay(models.TextChoices):
    START = "start", "期初（首日）"
    END = "end", "期末（末日）"


@tracked()
class Programme(models.Model):
    """奖励扶助项目, e.g. 农村部分计划生育家庭奖励扶助. Who is eligible and how much is in its rules."""

    code = models.SlugField("项目代码", max_length=40, unique=True)
    name = models.CharField("项目名称", max_length=100)
    subject = models.CharField("发放对象", max_length=10, choices=Subject.choices)
    period_kind = models.CharField("发放周期", max_length=10, choices=PeriodKind.choices)
    reference_day = models.CharField(
        "年龄计算基准日",
        max_length=10,
        choices=ReferenceDay.choices,
        default=ReferenceDay.START,
        help_text="年龄、子女数等按每期的这一天计算",
    )
    description = models.TextField("说明", blank=True)
    is_active = models.BooleanField("启用", default=True)
    by_application = models.BooleanField(
        "按申领发放",
        default=False,
        db_default=False,
        help_text="育儿补贴：由父母或监护人申领、按婴幼儿户籍地认定、按月（含补发往月）发给申请人；"
        "不勾选时按子女发放的项目发给母亲",
    )
    # 公示名单's footer: who publishes it and whom to tell of an objection (data the county edits).
    notice_office = models.CharField(
        "公示单位", max_length=100, blank=True, db_default="", help_text="公示名单落款，如“大城县卫生健康局”"
    )
    notice_contact = models.CharField(
        "异议受理联系方式", max_length=100, blank=True, db_default="", help_text="公示名单所列受理异议的电话或地址"
    )

    class Meta:
        verbose_name = "奖扶项目"
        verbose_name_plural = "奖扶项目"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


@tracked()
class ProgrammeRule(models.Model):
    """资格规则（版本）: in force from ``valid_from`` to ``valid_to``; a person in a category is eligible when
    every predicate holds. Among several categories (特扶: 死亡 / 伤残) the lowest ``priority`` wins."""

    programme = models.ForeignKey(Programme, verbose_name="项目", on_delete=models.PROTECT, related_name="rules")
    category = models.CharField("类别", max_length=50, help_text="如“独生子女死亡”“独生子女伤残”")
    priority = models.PositiveSmallIntegerField("优先级", default=1, help_text="同时符合多个类别时取数字小的")
    valid_from = models.DateField("生效日期")
    valid_to = models.DateField("失效日期", null=True, blank=True)
    predicates = models.JSONField(
        "资格条件",
        default=list,
        help_text='条件列表，如 [{"code": "age_at_least", "years": 60}, {"code": "hukou", "type": "agricultural"}]',
    )
    amount = models.DecimalField("每期金额（元）", max_digits=12, decimal_places=2)
    notice_days = models.PositiveSmallIntegerField("公示天数", default=7)
    source = models.CharField("政策依据", max_length=200, blank=True)

    class Meta:
        verbose_name = "资格与标准"
        verbose_name_plural = "资格与标准"
        ordering = ["programme", "valid_from", "priority"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")), name="programme_rule_dates"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="programme_rule_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.programme} · {self.category}（{self.valid_from}起）"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from apps.core.errors import RuleViolation
        from apps.subsidies.eligibility import predicates_validate

        try:
            self.predicates = predicates_validate(
                self.predicates, subject=self.programme.subject if self.programme_id else None
            )
        except RuleViolation as exc:
            raise ValidationError({"predicates": exc.message}) from None


class DisabilityGrade(models.IntegerChoices):
    ONE = 1, "一级"
    TWO = 2, "二级"
    THREE = 3, "三级"
    FOUR = 4, "四级"


@tracked()
class DisabilityRecord(models.Model):
    """独生子女伤残登记: the registry has no disability field, so staff record the disability certificate
    (残疾人证) of a child here; the 特别扶助 (伤残) predicate reads it."""

    person = models.ForeignKey(
        "registry.Person", verbose_name="伤残子女", on_delete=models.PROTECT, related_name="disability_records"
    )
    village = models.ForeignKey(
        "areas.Area", verbose_name="村（居）", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    certificate_number = models.CharField("残疾证号", max_length=30)
    grade = models.PositiveSmallIntegerField("伤残等级", choices=DisabilityGrade.choices)
    recognised_on = models.DateField("认定日期")
    created_at = models.DateTimeField("录入时间", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="录入人", on_delete=models.SET_NULL, null=True, related_name="+"
    )

    area_scope_field = "village_id"
    objects = AreaScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "独生子女伤残登记"
        verbose_name_plural = "独生子女伤残登记"
        constraints = [
            models.UniqueConstraint(fields=["person", "recognised_on"], name="disability_person_date_unique"),
            models.CheckConstraint(condition=Q(grade__gte=1, grade__lte=4), name="disability_grade_valid"),
        ]
        indexes = [models.Index(fields=["village"], name="disability_village_idx")]

    def __str__(self) -> str:
        return f"{self.get_grade_display()}伤残 {self.recognised_on}"


class TownshipScopedQuerySet(AreaScopedQuerySet):
    """Rows located at a township: its users, the county's, and the clerks of its villages see them."""

    def visible_to(self, user):
        scope = user_scope(user) if user else NOTHING
        if scope not in (None, NOTHING) and level_of(user.area_id) == CodeLevel.VILLAGE:
            return self.filter(**{self._scope_field(): township_of(user.area_id)})
        return super().visible_to(user)


class RosterStatus(models.TextChoices):
    DRAFT = "draft", "待村级上报"
    SUBMITTED = "submitted", "待乡镇审核"
    REVIEWED = "reviewed", "待县级审批"
    APPROVED = "approved", "已审批（公示）"


@tracked()
class Roster(models.Model):
    """花名册: the beneficiaries of one programme in one township for one period."""

    programme = models.ForeignKey(Programme, verbose_name="项目", on_delete=models.PROTECT, related_name="rosters")
    township = models.ForeignKey(
        "areas.Area", verbose_name="乡镇（街道）", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    period = models.CharField("期间", max_length=8)
    period_start = models.DateField("期间开始")
    period_end = models.DateField("期间结束")
    status = models.CharField("状态", max_length=20, choices=RosterStatus.choices, default=RosterStatus.DRAFT)
    evaluated_at = models.DateTimeField("资格计算时间")
    approved_on = models.DateField("审批日期", null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审批人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    notice_days = models.PositiveSmallIntegerField("公示天数", null=True, blank=True)

    area_scope_field = "township_id"
    objects = TownshipScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "花名册"
        verbose_name_plural = "花名册"
        ordering = ["-period_start", "programme", "township"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "township", "period"], name="roster_unique_period"),
            models.CheckConstraint(
                condition=~Q(status="approved") | (Q(approved_on__isnull=False) & Q(approved_by__isnull=False)),
                name="roster_approved_has_approver",
            ),
        ]
        indexes = [models.Index(fields=["township", "period"], name="roster_township_period_idx")]

    def __str__(self) -> str:
        return f"{self.programme} {self.period}"

    @property
    def notice_ends_on(self):
        """公示 runs from the approval day for ``notice_days`` days; payment may start the day after."""
        if self.approved_on is None or self.notice_days is None:
            return None
        return self.approved_on + timedelta(days=self.notice_days)


class StepKind(models.TextChoices):
    VILLAGE_SUBMIT = "village_submit", "村级上报"
    TOWNSHIP_REVIEW = "township_review", "乡镇审核"
    COUNTY_APPROVE = "county_approve", "县级审批"
    RETURN = "return", "退回"


@tracked()
class RosterStep(models.Model):
    """审核记录: one step of the review workflow, with who, when and the comment."""

    roster = models.ForeignKey(Roster, verbose_name="花名册", on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField("环节", max_length=20, choices=StepKind.choices)
    village = models.ForeignKey(
        "areas.Area", verbose_name="村（居）", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="经办人", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField("时间", auto_now_add=True)
    comment = models.CharField("意见", max_length=500, blank=True)
    superseded = models.BooleanField("已被退回作废", default=False)
    on_behalf = models.BooleanField(
        "乡镇代村上报", default=False, db_default=False, help_text="村级上报由乡镇代为办理（意见栏为原因）"
    )

    class Meta:
        verbose_name = "审核记录"
        verbose_name_plural = "审核记录"
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["roster", "village"],
                condition=Q(kind="village_submit", superseded=False),
                name="roster_step_one_village_submit",
            ),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()


class Change(models.TextChoices):
    NEW = "new", "新增"
    CONTINUING = "continuing", "继续享受"
    LEAVING = "leaving", "退出"


@tracked()
class RosterEntry(models.Model):
    """名册人员: one person's decision in a roster, with the reason codes behind it (``eligibility.REASONS``)."""

    roster = models.ForeignKey(Roster, verbose_name="花名册", on_delete=models.CASCADE, related_name="entries")
    person = models.ForeignKey(
        "registry.Person", verbose_name="享受对象", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    payee = models.ForeignKey(
        "registry.Person", verbose_name="领取人", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    village = models.ForeignKey(
        "areas.Area", verbose_name="村（居）", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    rule = models.ForeignKey(
        ProgrammeRule, verbose_name="适用规则", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    category = models.CharField("类别", max_length=50, blank=True)
    amount = models.DecimalField("应发金额（元）", max_digits=12, decimal_places=2, default=0)
    change = models.CharField("变动", max_length=12, choices=Change.choices)
    reason_codes = ArrayField(models.CharField(max_length=40), verbose_name="原因代码", default=list)
    month = models.CharField(
        "所属月份",
        max_length=8,
        blank=True,
        db_default="",
        help_text="按申领发放的项目：该笔所属的月份（补发往月时早于名册期间）；空表示名册期间",
    )

    area_scope_field = "village_id"
    objects = AreaScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "名册人员"
        verbose_name_plural = "名册人员"
        ordering = ["roster", "village_id", "id"]
        constraints = [
            # One entry per person and month in a roster (a month of its own: a back month of 育儿补贴).
            models.UniqueConstraint(fields=["roster", "person", "month"], name="roster_entry_unique_person_month"),
            models.CheckConstraint(
                condition=Q(change="leaving", amount=0) | (~Q(change="leaving") & Q(amount__gt=0)),
                name="roster_entry_amount_by_change",
            ),
        ]
        indexes = [
            models.Index(fields=["village", "roster"], name="roster_entry_village_idx"),
            models.Index(fields=["person"], name="roster_entry_person_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_change_display()}"

    @property
    def reasons(self) -> list[str]:
        from apps.subsidies.eligibility import reason_labels

        return reason_labels(self.reason_codes)


class AccountKind(models.TextChoices):
    CARD = "card", "银行卡（社保卡/一卡通）"
    PASSBOOK = "passbook", "存折"


@tracked()
class BankAccount(models.Model):
    """领取账户: the eligible person's own account (the payee must be the person the roster names)."""

    person = models.ForeignKey(
        "registry.Person", verbose_name="户主（领取人）", on_delete=models.PROTECT, related_name="bank_accounts"
    )
    village = models.ForeignKey(
        "areas.Area", verbose_name="村（居）", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    kind = models.CharField("账户类型", max_length=10, choices=AccountKind.choices)
    bank_name = models.CharField("开户银行", max_length=60)
    account_number = models.CharField("账号", max_length=25)
    is_active = models.BooleanField("在用", default=True)
    created_at = models.DateTimeField("录入时间", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="录入人", on_delete=models.SET_NULL, null=True, related_name="+"
    )

    area_scope_field = "village_id"
    objects = AreaScopedQuerySet.as_manager()
    masked_fields = {"account_number": mask_account}

    class Meta:
        verbose_name = "领取账户"
        verbose_name_plural = "领取账户"
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=Q(is_active=True), name="bank_account_one_active_per_person"
            ),
            models.CheckConstraint(condition=Q(account_number__regex=r"^\d{8,25}$"), name="bank_account_digits"),
        ]
        indexes = [models.Index(fields=["village"], name="bank_account_village_idx")]

    def __str__(self) -> str:
        return f"{self.bank_name} {self.masked_number}"

    @property
    def masked_number(self) -> str:
        return mask_account(self.account_number)


class BatchStatus(models.TextChoices):
    EXPORTED = "exported", "待银行回盘"
    RECONCILED = "reconciled", "已对账"


@tracked()
class PaymentBatch(models.Model):
    """发放批次: the payments of a roster (and earlier failed ones carried over), sent to the bank as a file."""

    roster = models.ForeignKey(Roster, verbose_name="花名册", on_delete=models.PROTECT, related_name="batches")
    township = models.ForeignKey(
        "areas.Area", verbose_name="乡镇（街道）", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    status = models.CharField("状态", max_length=12, choices=BatchStatus.choices, default=BatchStatus.EXPORTED)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="创建人", on_delete=models.PROTECT, related_name="+"
    )
    reconciled_at = models.DateTimeField("对账时间", null=True, blank=True)

    area_scope_field = "township_id"
    objects = TownshipScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "发放批次"
        verbose_name_plural = "发放批次"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["township"], name="batch_township_idx")]

    def __str__(self) -> str:
        return f"批次{self.pk}"


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "待回盘"
    PAID = "paid", "已发放"
    FAILED = "failed", "发放失败"


@tracked()
class Payment(models.Model):
    """发放明细. ``person`` is the beneficiary (享受对象), ``payee`` the person whose own account is paid.
    ``period`` is the period the money is for: the roster's, or the entry's month (育儿补贴's back months), so
    ``payment_once_per_person_period`` pays a child once per month whoever applied."""

    batch = models.ForeignKey(PaymentBatch, verbose_name="批次", on_delete=models.PROTECT, related_name="payments")
    entry = models.ForeignKey(RosterEntry, verbose_name="名册人员", on_delete=models.PROTECT, related_name="payments")
    person = models.ForeignKey(
        "registry.Person", verbose_name="享受对象", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    payee = models.ForeignKey(
        "registry.Person", verbose_name="领取人", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    programme = models.ForeignKey(Programme, verbose_name="项目", on_delete=models.PROTECT, related_name="+")
    period = models.CharField("期间", max_length=8)
    village = models.ForeignKey(
        "areas.Area", verbose_name="村（居）", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    amount = models.DecimalField("金额（元）", max_digits=12, decimal_places=2)
    account = models.ForeignKey(BankAccount, verbose_name="账户", on_delete=models.PROTECT, related_name="payments")
    status = models.CharField("状态", max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)
    bank_reason = models.CharField("银行反馈", max_length=200, blank=True)
    settled_at = models.DateTimeField("回盘时间", null=True, blank=True)
    reissue_of = models.ForeignKey(
        "self", verbose_name="补发的失败付款", on_delete=models.PROTECT, null=True, blank=True, related_name="reissues"
    )

    area_scope_field = "village_id"
    objects = AreaScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "发放明细"
        verbose_name_plural = "发放明细"
        ordering = ["batch", "id"]
        constraints = [
            # 同一享受对象同一项目同一期间只发一次: failed payments do not count (they are paid again later).
            models.UniqueConstraint(
                fields=["person", "programme", "period"],
                condition=~Q(status="failed"),
                name="payment_once_per_person_period",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=~Q(status="failed") | ~Q(bank_reason=""), name="payment_failure_has_reason"
            ),
        ]
        indexes = [
            models.Index(fields=["village", "period"], name="payment_village_period_idx"),
            models.Index(fields=["entry"], name="payment_entry_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.amount}"

    @property
    def masked_id(self) -> str:
        return mask_id_number(self.payee.id_number)


class Relationship(models.TextChoices):
    FATHER = "father", "父亲"
    MOTHER = "mother", "母亲"
    GUARDIAN = "guardian", "其他监护人"


class ApplicationStatus(models.TextChoices):
    ACTIVE = "active", "有效"
    WITHDRAWN = "withdrawn", "已撤回"
    REJECTED = "rejected", "不予受理"


@tracked()
class ChildcareApplication(models.Model):
    """育儿补贴申领: a parent or guardian applies for a child under 3 whose 户籍 is in the county; the money
    goes to the applicant's own account. Several applications for one child may stand (both parents applied);
    the child is still paid once a month (``Payment.payment_once_per_person_period``): the earliest
    application of a living applicant pays (``childcare.childcare_fill_sql``). ``village`` is the child's
    户籍 village when the application was made: the area whose clerks see and enter it."""

    programme = models.ForeignKey(Programme, verbose_name="项目", on_delete=models.PROTECT, related_name="+")
    child = models.ForeignKey(
        "registry.Person",
        verbose_name="婴幼儿",
        on_delete=models.PROTECT,
        related_name="childcare_applications",
        db_index=False,  # childcare_app_child_idx
    )
    applicant = models.ForeignKey(
        "registry.Person", verbose_name="申请人", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    relationship = models.CharField("申请人与婴儿关系", max_length=10, choices=Relationship.choices)
    guardian_basis = models.CharField(
        "监护依据", max_length=200, blank=True, help_text="其他监护人须说明监护依据（如法院判决、村委会指定）"
    )
    applied_on = models.DateField("申请日期")
    account = models.ForeignKey(
        BankAccount, verbose_name="领取账户", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    village = models.ForeignKey(
        "areas.Area", verbose_name="户籍村（居）", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    status = models.CharField(
        "状态", max_length=10, choices=ApplicationStatus.choices, default=ApplicationStatus.ACTIVE
    )
    status_reason = models.CharField("撤回或不予受理原因", max_length=200, blank=True)
    created_at = models.DateTimeField("录入时间", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="录入人", on_delete=models.SET_NULL, null=True, related_name="+"
    )

    area_scope_field = "village_id"
    objects = AreaScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "育儿补贴申领"
        verbose_name_plural = "育儿补贴申领"
        ordering = ["-applied_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "child", "applicant"],
                condition=Q(status="active"),
                name="childcare_application_once_per_applicant",
            ),
            models.CheckConstraint(condition=~Q(child=F("applicant")), name="childcare_application_not_self"),
            models.CheckConstraint(
                condition=Q(status="active") | ~Q(status_reason=""), name="childcare_application_closed_has_reason"
            ),
        ]
        indexes = [
            models.Index(fields=["village", "applied_on"], name="childcare_app_village_idx"),
            models.Index(fields=["child"], name="childcare_app_child_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_relationship_display()}申领 {self.applied_on}"


class CorrectionAction(models.TextChoices):
    ADD = "add", "增加"
    REMOVE = "remove", "删除"
    CHANGE = "change", "修改"


@tracked()
class RosterCorrection(models.Model):
    """名册更正: a change to a returned roster's entries (add, remove, change) with its reason, so that the
    return comment can be acted on and the county sees what was changed before it approves."""

    roster = models.ForeignKey(Roster, verbose_name="花名册", on_delete=models.CASCADE, related_name="corrections")
    person = models.ForeignKey(
        "registry.Person", verbose_name="享受对象", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    village = models.ForeignKey(
        "areas.Area", verbose_name="村（居）", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    action = models.CharField("更正方式", max_length=10, choices=CorrectionAction.choices)
    # The category an add or a change gives (a removal: none), so that a roster evaluated again keeps the
    # correction (``rosters_generate`` replays them).
    rule = models.ForeignKey(
        ProgrammeRule, verbose_name="更正后规则", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    before = models.CharField("更正前", max_length=200, blank=True)
    after = models.CharField("更正后", max_length=200, blank=True)
    reason = models.CharField("更正原因", max_length=500)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="经办人", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField("时间", auto_now_add=True)

    area_scope_field = "village_id"
    objects = AreaScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "名册更正"
        verbose_name_plural = "名册更正"
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["roster"], name="roster_correction_roster_idx")]

    def __str__(self) -> str:
        return self.get_action_display()


class ObjectionStatus(models.TextChoices):
    OPEN = "open", "待处理"
    UPHELD = "upheld", "异议成立"
    DISMISSED = "dismissed", "异议不成立"


@tracked()
class Objection(models.Model):
    """公示异议: an objection received during the public notice, about a listed person (``entry``) or about
    the roster as a whole; it must be decided before the roster's batch is made. An upheld objection about
    a listed person withholds that person's payment."""

    roster = models.ForeignKey(Roster, verbose_name="花名册", on_delete=models.CASCADE, related_name="objections")
    entry = models.ForeignKey(
        RosterEntry,
        verbose_name="被异议人员",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="objections",
    )
    township = models.ForeignKey(
        "areas.Area", verbose_name="乡镇", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    objector = models.CharField("异议人", max_length=50, help_text="姓名或“匿名”")
    content = models.CharField("异议内容", max_length=500)
    received_on = models.DateField("收到日期")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="登记人", on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("登记时间", auto_now_add=True)
    status = models.CharField("处理结果", max_length=10, choices=ObjectionStatus.choices, default=ObjectionStatus.OPEN)
    decision = models.CharField("核查意见", max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="处理人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField("处理时间", null=True, blank=True)

    area_scope_field = "township_id"
    objects = TownshipScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "公示异议"
        verbose_name_plural = "公示异议"
        ordering = ["received_on", "id"]
        indexes = [models.Index(fields=["roster", "status"], name="objection_roster_status_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open") | (~Q(decision="") & Q(decided_by__isnull=False)),
                name="objection_decided_with_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.get_status_display()
