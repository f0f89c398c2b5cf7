"""The start page's import work (``apps.core.worklist``): the user's own jobs of the last week that finished
since the user last looked, and dry runs waiting to be confirmed."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from apps.core.worklist import WorkItem, new_since
from apps.imports import selectors
from apps.imports.models import ImportStatus

WINDOW = timedelta(days=7)
RESULTS = "imports.results"


def items(user) -> list[WorkItem]:
    def own():
        return selectors.jobs_visible_to(user=user).filter(created_by_id=user.pk)

    def to_confirm() -> int:
        return own().filter(status=ImportStatus.VALIDATED, finished_at__gte=timezone.now() - WINDOW).count()

    def results() -> int:
        done = (ImportStatus.COMMITTED, ImportStatus.REJECTED, ImportStatus.FAILED)
        return own().filter(status__in=done, finished_at__gte=new_since(user, RESULTS, window=WINDOW)).count()

    return [
        WorkItem("imports.to_confirm", "校验完成、待确认导入的批量导入", "imports:list", count=to_confirm,
                 hint="查看校验结果，确认导入或修改后重新上传", order=40),
        WorkItem(RESULTS, "新完成或失败的批量导入", "imports:list", count=results,
                 hint="近7天内您上传的文件：查看结果，下载错误报告", order=40),
    ]  # fmt: skip
