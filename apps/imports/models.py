"""Import jobs (导入任务): one uploaded spreadsheet, its validation result and what it wrote."""

from django.conf import settings
from django.db import models

from apps.core.scoping import AreaScopedQuerySet


class ImportKind(models.TextChoices):
    PERSONS = "persons", "人口信息"
    BIRTHS = "births", "出生登记"
    DEATHS = "deaths", "死亡登记"
    MARRIAGES = "marriages", "婚姻登记"
    CONTRACEPTION = "contraception", "避孕措施"
    MOVES = "moves", "迁移流动"
    CHILDCARE_APPLICATIONS = "childcare_applications", "育儿补贴申领"
    HOSPITAL_BIRTHS = "hospital_births", "出生医学证明"
    POLICE_BIRTHS = "police_births", "公安新生儿户籍登记"


class ImportMode(models.TextChoices):
    ALL_OR_NOTHING = "all_or_nothing", "全部正确才导入（有任何错误则不导入）"
    VALID_ROWS = "valid_rows", "只导入正确的行"


class ImportStatus(models.TextChoices):
    PENDING = "pending", "排队中"
    RUNNING = "running", "处理中"
    VALIDATED = "validated", "已校验（未导入）"
    COMMITTED = "committed", "已导入"
    REJECTED = "rejected", "有错误，未导入"
    FAILED = "failed", "处理失败"


class ImportJob(models.Model):
    """导入任务. ``area`` is the uploader's area: every row must lie within it."""

    kind = models.CharField("类型", max_length=30, choices=ImportKind.choices)
    mode = models.CharField("导入方式", max_length=20, choices=ImportMode.choices, default=ImportMode.ALL_OR_NOTHING)
    dry_run = models.BooleanField("仅校验", default=True)
    status = models.CharField("状态", max_length=20, choices=ImportStatus.choices, default=ImportStatus.PENDING)
    file = models.FileField("文件", upload_to="imports/%Y/%m/")
    file_name = models.CharField("原文件名", max_length=200)
    file_sha256 = models.CharField("文件SHA-256", max_length=64, db_index=True)
    area = models.ForeignKey(
        "areas.Area", verbose_name="导入单位区划", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="导入人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    header_row = models.PositiveIntegerField("表头所在行", null=True, blank=True)
    rows = models.PositiveIntegerField("数据行数", default=0)
    created = models.PositiveIntegerField("新增", default=0)
    updated = models.PositiveIntegerField("修改", default=0)
    unchanged = models.PositiveIntegerField("未变", default=0)
    rejected = models.PositiveIntegerField("错误行", default=0)
    warnings = models.PositiveIntegerField("提示", default=0)
    first_errors = models.JSONField("前若干条错误", default=list, blank=True)
    message = models.TextField("说明", blank=True)
    error_report = models.FileField("错误报告", upload_to="imports/errors/%Y/%m/", null=True, blank=True)
    seconds = models.FloatField("耗时（秒）", null=True, blank=True)
    # Runs started; a job whose worker keeps dying stops after ``services.MAX_ATTEMPTS`` (a poison file).
    attempts = models.PositiveSmallIntegerField("运行次数", default=0)

    area_scope_field = "area_id"
    objects = AreaScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "导入任务"
        verbose_name_plural = "导入任务"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} {self.file_name}"

    @property
    def is_finished(self) -> bool:
        return self.status in {
            ImportStatus.VALIDATED,
            ImportStatus.COMMITTED,
            ImportStatus.REJECTED,
            ImportStatus.FAILED,
        }
