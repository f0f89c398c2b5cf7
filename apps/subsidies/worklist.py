"""The start page's subsidy work (``apps.core.worklist``): rosters at the user's step of the review
(village submit → township review → county approval), batches waiting for the bank's return file and failed
payments whose account is still to be corrected."""

from __future__ import annotations

from django.db.models import Exists, OuterRef

from apps.core.access import CLERKS, COUNTY_ADMIN, SUBSIDY_APPROVER, SUBSIDY_REVIEWER, SUBSIDY_STAFF, VILLAGE_CLERK
from apps.core.areacodes import CodeLevel, level_of
from apps.core.worklist import WorkItem
from apps.subsidies import selectors
from apps.subsidies.models import BatchStatus, RosterEntry, RosterStatus, RosterStep, StepKind


def _level(user) -> CodeLevel | None:
    return level_of(user.area_id) if user.area_id else None


def _village_to_submit(user) -> int:
    """Draft rosters with beneficiaries in the clerk's village that the village has not submitted yet."""
    mine = RosterEntry.objects.filter(roster=OuterRef("pk"), village_id=user.area_id)
    submitted = RosterStep.objects.filter(
        roster=OuterRef("pk"), kind=StepKind.VILLAGE_SUBMIT, village_id=user.area_id, superseded=False
    )
    rosters = selectors.rosters_visible_to(user=user, status=RosterStatus.DRAFT)
    return rosters.filter(Exists(mine)).exclude(Exists(submitted)).count()


def items(user) -> list[WorkItem]:
    level = _level(user)
    out = []
    if level == CodeLevel.VILLAGE:
        out.append(
            WorkItem("subsidies.village_submit", "待本村上报的奖扶花名册", "subsidies:roster_list",
                     query={"status": RosterStatus.DRAFT}, roles=frozenset({VILLAGE_CLERK}),
                     count=lambda: _village_to_submit(user), hint="核对本村人员和领取账户后上报乡镇", order=10)
        )  # fmt: skip
    if level != CodeLevel.VILLAGE:
        out.append(
            WorkItem("subsidies.township_review", "待乡镇审核的奖扶花名册", "subsidies:roster_list",
                     query={"status": RosterStatus.SUBMITTED}, roles=frozenset({SUBSIDY_REVIEWER}),
                     count=lambda: selectors.rosters_visible_to(user=user, status=RosterStatus.SUBMITTED).count(),
                     hint="各村已上报，审核后报县级审批", order=10)
        )  # fmt: skip
    if level in (None, CodeLevel.COUNTY, CodeLevel.CITY, CodeLevel.PROVINCE):
        out.append(
            WorkItem("subsidies.county_approve", "待县级审批的奖扶花名册", "subsidies:roster_list",
                     query={"status": RosterStatus.REVIEWED}, roles=frozenset({SUBSIDY_APPROVER}),
                     count=lambda: selectors.rosters_visible_to(user=user, status=RosterStatus.REVIEWED).count(),
                     hint="乡镇已审核，审批后开始公示", order=10)
        )  # fmt: skip
    out.append(
        WorkItem("subsidies.bank_return", "待导入银行回盘的发放批次", "subsidies:batch_list",
                 roles=SUBSIDY_STAFF | {COUNTY_ADMIN},
                 count=lambda: selectors.batches_visible_to(user=user).filter(status=BatchStatus.EXPORTED).count(),
                 hint="代发文件已导出，银行回盘后导入以标记发放成功或失败", order=20)
    )  # fmt: skip
    out.append(
        WorkItem("subsidies.failed_payments", "发放失败、待更正领取账户的人员", "subsidies:batch_list",
                 roles=CLERKS | SUBSIDY_STAFF | {COUNTY_ADMIN},
                 count=lambda: selectors.payments_failed_uncorrected(user=user).values("payee_id").distinct().count(),
                 hint="打开批次查看银行反馈的失败原因，核实后为领取人登记新的领取账户", order=20)
    )  # fmt: skip
    return out
