"""The start page's indicator work (``apps.core.worklist``): report periods with a new snapshot since the
user last looked at the dashboard — a quarterly report to read, or a recomputation to check; submitted reports
waiting for the county's approval (county admins); the township's returned reports (to submit again)."""

from __future__ import annotations

from datetime import timedelta

from apps.core.access import COUNTY_ADMIN, COUNTY_VIEWER
from apps.core.worklist import WorkItem, new_since
from apps.indicators import selectors
from apps.indicators.models import RunStatus, SubmissionStatus

KEY = "indicators.new_reports"
WINDOW = timedelta(days=31)


def items(user) -> list[WorkItem]:
    def new_reports() -> int:
        runs = selectors.report_runs_visible_to(user=user).filter(
            status=RunStatus.SUCCESS, finished_at__gte=new_since(user, KEY, window=WINDOW)
        )
        return runs.order_by().values("period").distinct().count()

    def waiting() -> int:
        if not selectors.may_decide_submissions(user):
            return 0
        return selectors.submissions_visible_to(user=user).filter(status=SubmissionStatus.SUBMITTED).count()

    def returned() -> int:
        if not selectors.may_submit(user):
            return 0
        return selectors.submissions_visible_to(user=user).filter(status=SubmissionStatus.RETURNED).count()

    return [
        WorkItem(KEY, "新生成的统计报表", "indicators:dashboard", count=new_reports,
                 hint="查看各期指标、乡镇排名和预警；需要时对比上报数与回溯数", order=70),
        WorkItem("indicators.submissions_waiting", "待审核的乡镇上报报表", "indicators:submission_list",
                 query={"status": SubmissionStatus.SUBMITTED}, count=waiting, roles=frozenset({COUNTY_ADMIN}),
                 hint="核对乡镇上报的报表，审核通过或填写原因退回", order=65),
        WorkItem("indicators.submissions_returned", "被退回的上报报表", "indicators:submission_list",
                 query={"status": SubmissionStatus.RETURNED}, count=returned,
                 roles=frozenset({COUNTY_VIEWER, COUNTY_ADMIN}), hint="按退回原因核实后重新上报", order=66),
    ]  # fmt: skip
