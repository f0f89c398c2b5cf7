"""Indicator snapshots (报表快照) and alert thresholds (预警阈值), DESIGN §6.

A ``ReportRun`` is one computation of one period for one area and everything under it; its
``IndicatorValue`` rows (one per area and indicator) are never changed afterwards, so a later run of the same
period is a new snapshot and "reported vs recomputed" (报表数据与回溯数据) can be compared.
"""

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q

from apps.core.scoping import AreaScopedQuerySet
from apps.indicators.catalogue import INDICATORS

INDICATOR_CHOICES = [(i.code, i.name) for i in INDICATORS]


class RunStatus(models.TextChoices):
    PENDING = "pending", "排队中"
    RUNNING = "running", "计算中"
    SUCCESS = "success", "已完成"
    FAILED = "failed", "失败"


ACTIVE_STATUSES = (RunStatus.PENDING, RunStatus.RUNNING)


class ReportRun(models.Model):
    """报表计算: one snapshot of every indicator of ``period`` for ``area`` and the areas under it."""

    period = models.CharField("报表期", max_length=12)
    area = models.ForeignKey("areas.Area", verbose_name="区划", on_delete=models.PROTECT, related_name="+")
    status = models.CharField("状态", max_length=10, choices=RunStatus.choices, default=RunStatus.PENDING)
    created_at = models.DateTimeField("提交时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    data_as_of = models.DateTimeField("数据截至", null=True, blank=True)
    progress = models.PositiveSmallIntegerField("进度（%）", default=0)
    step = models.CharField("当前步骤", max_length=100, blank=True)
    message = models.CharField("说明", max_length=300, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发起人",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Did the run keep the births and deaths it counted (CountedRecord)? Runs before issue 17 did not: their
    # event lists are recomputed from the registry as it is now.
    records_kept = models.BooleanField("保留计数明细", default=False, db_default=False)

    area_scope_field = "area_id"
    objects = AreaScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "报表计算"
        verbose_name_plural = "报表计算"
        ordering = ["-created_at", "-id"]
        constraints = [
            # One run per period at a time (a second request while one is queued or running is refused).
            models.UniqueConstraint(
                fields=["period"],
                condition=Q(status__in=["pending", "running"]),
                name="report_run_one_active_per_period",
            ),
            models.CheckConstraint(condition=Q(status__in=RunStatus.values), name="report_run_status_valid"),
            models.CheckConstraint(condition=Q(progress__lte=100), name="report_run_progress_max"),
        ]
        indexes = [models.Index(fields=["period", "status", "finished_at"], name="report_run_period_idx")]

    def __str__(self) -> str:
        return f"{self.period} {self.area_id} #{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status in (RunStatus.SUCCESS, RunStatus.FAILED)


class IndicatorValue(models.Model):
    """One indicator of one area in one snapshot. ``value`` is ``numerator / denominator × scale`` (the
    numerator for counts), unrounded; it is empty when the denominator is 0 (e.g. no female births) or when
    the indicator is not applicable to the period (``not_applicable`` says why). The total fertility rate is
    computed from its stored components (catalogue.py)."""

    run = models.ForeignKey(ReportRun, verbose_name="报表计算", on_delete=models.CASCADE, related_name="values")
    area = models.ForeignKey(
        "areas.Area", verbose_name="区划", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    indicator_code = models.CharField("指标", max_length=40, choices=INDICATOR_CHOICES)
    value = models.DecimalField("指标值", max_digits=20, decimal_places=6, null=True, blank=True)
    numerator = models.DecimalField("分子", max_digits=18, decimal_places=2)
    denominator = models.DecimalField("分母", max_digits=18, decimal_places=2)
    # Why the indicator is not applicable to the period (e.g. 出生政策符合率 after the 2021 policy change); then
    # the value is empty and the numerator and denominator 0. Empty for an applicable value.
    not_applicable = models.CharField("不适用说明", max_length=200, blank=True, default="", db_default="")

    area_scope_field = "area_id"
    objects = AreaScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "指标值"
        verbose_name_plural = "指标值"
        ordering = ["run_id", "area_id", "indicator_code"]
        constraints = [
            models.UniqueConstraint(fields=["run", "area", "indicator_code"], name="indicator_value_unique"),
        ]
        indexes = [models.Index(fields=["area", "indicator_code"], name="indicator_value_area_idx")]

    def __str__(self) -> str:
        return f"{self.area_id} {self.indicator_code} = {self.value}"


class CountedRecord(models.Model):
    """计数明细: a birth or death a run counted, at its village, with the named conditions it met
    (``computation.BIRTH_CONDITIONS``: male, in_policy, timely, …) when the run counted it — so that a past
    figure lists its events as they were counted, even after a record was corrected, voided or back-dated.
    Written by the run's own statement (``VILLAGE_SQL``), dropped with the run."""

    class Kind(models.TextChoices):
        BIRTH = "birth", "出生"
        DEATH = "death", "死亡"

    run = models.ForeignKey(
        ReportRun, verbose_name="报表计算", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    kind = models.CharField("类别", max_length=10, choices=Kind.choices)
    record_id = models.BigIntegerField("登记记录")  # registry_birth.id or registry_death.id (kept if voided later)
    area = models.ForeignKey(
        "areas.Area", verbose_name="村（居）", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    conditions = ArrayField(models.CharField(max_length=20), verbose_name="计入条件", default=list)

    area_scope_field = "area_id"
    objects = AreaScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "计数明细"
        verbose_name_plural = "计数明细"
        constraints = [models.UniqueConstraint(fields=["run", "kind", "record_id"], name="counted_record_unique")]
        indexes = [models.Index(fields=["run", "kind", "area"], name="counted_record_run_area_idx")]

    def __str__(self) -> str:
        return f"{self.run_id} {self.kind} {self.record_id}"


class Comparison(models.TextChoices):
    ABOVE = "above", "高于"
    BELOW = "below", "低于"


class AreaLevelChoice(models.TextChoices):
    ANY = "", "各级"
    COUNTY = "county", "县"
    TOWNSHIP = "township", "乡镇"
    VILLAGE = "village", "村"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class AlertThreshold(models.Model):
    """预警阈值: an indicator value above (or below) ``limit`` is highlighted, for periods ending between
    ``valid_from`` and ``valid_to`` (e.g. 出生人口性别比 above 120, 出生政策符合率 below its target)."""

    indicator_code = models.CharField("指标", max_length=40, choices=INDICATOR_CHOICES)
    comparison = models.CharField("预警条件", max_length=10, choices=Comparison.choices)
    limit = models.DecimalField("阈值", max_digits=12, decimal_places=2)
    level = models.CharField("适用级别", max_length=10, choices=AreaLevelChoice.choices, blank=True, default="")
    valid_from = models.DateField("生效日期")
    valid_to = models.DateField("失效日期", null=True, blank=True)
    note = models.CharField("依据/说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "预警阈值"
        verbose_name_plural = "预警阈值"
        ordering = ["indicator_code", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")), name="alert_threshold_dates"
            ),
            models.CheckConstraint(condition=Q(comparison__in=Comparison.values), name="alert_threshold_comparison"),
        ]

    def __str__(self) -> str:
        return f"{self.get_indicator_code_display()}{self.get_comparison_display()}{self.limit}"

    def is_breached(self, value) -> bool:
        if value is None:
            return False
        return value > self.limit if self.comparison == Comparison.ABOVE else value < self.limit


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class RegistrationDeadline(models.Model):
    """出生登记时限: a birth entered within ``days`` of the birth date counts as timely (出生登记及时率), for
    births dated between ``valid_from`` and ``valid_to``. A birth no rule covers is not counted as timely."""

    days = models.PositiveSmallIntegerField("登记时限（天）")
    valid_from = models.DateField("生效日期")
    valid_to = models.DateField("失效日期", null=True, blank=True)
    note = models.CharField("依据/说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "出生登记时限"
        verbose_name_plural = "出生登记时限"
        ordering = ["valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="registration_deadline_dates",
            ),
            models.UniqueConstraint(fields=["valid_from"], name="registration_deadline_one_per_start"),
        ]

    def __str__(self) -> str:
        return f"{self.days}天（{self.valid_from}起）"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class AssessmentEnd(models.Model):
    """指标考核截止: the last event date an indicator assesses. A report period that starts after it shows the
    indicator as 不适用 (with ``reason``), not as a rate; a period that straddles it counts only the events
    dated on or before it. 出生政策符合率 ends with the 2021 policy change: birth policy status stays computed
    for history, but births after it are no longer assessed as in or out of policy."""

    indicator_code = models.CharField("指标", max_length=40, choices=INDICATOR_CHOICES, unique=True)
    last_date = models.DateField("最后考核日期")
    reason = models.CharField("不适用说明", max_length=200)

    class Meta:
        verbose_name = "指标考核截止"
        verbose_name_plural = "指标考核截止"
        ordering = ["indicator_code"]

    def __str__(self) -> str:
        return f"{self.get_indicator_code_display()}：{self.last_date}止"


class SubmissionStatus(models.TextChoices):
    SUBMITTED = "submitted", "已上报"
    APPROVED = "approved", "已审核"
    RETURNED = "returned", "已退回"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class ReportSubmission(models.Model):
    """报表上报: a township submits its figures of ``period`` as they stand in the snapshot ``run``; the county
    approves (审核通过) or returns (退回, with a reason) it. A returned submission is submitted again on the same
    row (the audit trail keeps every round). Once approved, ``run``'s values of the township are the period's
    reported figures (上报数), and every later change of a record of the period is a late change (上报后更改)."""

    area = models.ForeignKey("areas.Area", verbose_name="乡镇", on_delete=models.PROTECT, related_name="+")
    period = models.CharField("报表期", max_length=12)
    run = models.ForeignKey(ReportRun, verbose_name="上报快照", on_delete=models.PROTECT, related_name="submissions")
    status = models.CharField(
        "状态", max_length=10, choices=SubmissionStatus.choices, default=SubmissionStatus.SUBMITTED
    )
    submitted_at = models.DateTimeField("上报时间")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上报人", on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.CharField("退回原因", max_length=300, blank=True, default="")

    area_scope_field = "area_id"
    objects = AreaScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "报表上报"
        verbose_name_plural = "报表上报"
        ordering = ["-period", "area_id"]
        constraints = [
            models.UniqueConstraint(fields=["area", "period"], name="report_submission_one_per_period"),
            models.CheckConstraint(
                condition=Q(status__in=SubmissionStatus.values), name="report_submission_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="returned") | ~Q(reason=""), name="report_submission_return_reason"
            ),
            models.CheckConstraint(
                condition=Q(status="submitted") | Q(decided_at__isnull=False),
                name="report_submission_decided_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.area_id} {self.get_status_display()}"
