"""The start page's indicator work (``apps.core.worklist``): report periods with a new snapshot since the
user last looked at the dashboard — a quarterly report to read, or a recomputation to check."""

from __future__ import annotations

from datetime import timedelta

from apps.core.worklist import WorkItem, new_since
from apps.indicators import selectors
from apps.indicators.models import RunStatus

KEY = "indicators.new_reports"
WINDOW = timedelta(days=31)


def items(user) -> list[WorkItem]:
    def new_reports() -> int:
        runs = selectors.report_runs_visible_to(user=user).filter(
            status=RunStatus.SUCCESS, finished_at__gte=new_since(user, KEY, window=WINDOW)
        )
        return runs.order_by().values("period").distinct().count()

    return [
        WorkItem(KEY, "新生成的统计报表", "indicators:dashboard", count=new_reports,
                 hint="查看各期指标、乡镇排名和预警；需要时对比上报数与回溯数", order=70),
    ]  # fmt: skip
