"""Records that belong to no single app: the log of exports, and when a user last looked at a work-list item."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models


@pgtrigger.register(
    # A log that can be edited is no log: the database refuses any UPDATE or DELETE of its rows.
    pgtrigger.Protect(name="export_log_append_only", operation=pgtrigger.Update | pgtrigger.Delete)
)
class ExportLog(models.Model):
    """导出记录: who took which export (花名册, 代发文件, …), when, how many rows, whether it carried full ID
    numbers and, if so, the purpose the user stated (DESIGN §4). The numbers themselves are never logged."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="导出人",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField("导出时间", auto_now_add=True, db_index=True)
    export = models.CharField("导出内容", max_length=64)
    area_code = models.CharField("区划代码", max_length=12, blank=True)
    rows = models.PositiveIntegerField("行数")
    full_ids = models.BooleanField("含完整身份证号", default=False)
    purpose = models.CharField("用途", max_length=200, blank=True)

    class Meta:
        verbose_name = "导出记录"
        verbose_name_plural = "导出记录"
        constraints = [
            # Full numbers leave the system only with a stated purpose.
            models.CheckConstraint(
                condition=models.Q(full_ids=False) | ~models.Q(purpose=""), name="export_log_full_ids_have_purpose"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.export} · {self.at:%Y-%m-%d %H:%M}"


class WorklistSeen(models.Model):
    """When a user last opened an item of the start page's work list (``apps.core.worklist``): what came
    since is "new" to that user. Page state, not a record of the administration: kept without history."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.CASCADE, related_name="+")
    key = models.CharField("待办事项", max_length=64)
    seen_at = models.DateTimeField("查看时间")

    class Meta:
        verbose_name = "待办查看时间"
        verbose_name_plural = "待办查看时间"
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="worklist_seen_unique")]

    def __str__(self) -> str:
        return f"{self.key} · {self.seen_at:%Y-%m-%d %H:%M}"
