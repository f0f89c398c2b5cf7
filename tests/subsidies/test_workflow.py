"""The review workflow: village submits, township reviews, county approves, 公示, and who may do what."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from pghistory.models import Events

from apps.core.errors import RuleViolation
from apps.subsidies.models import Roster, RosterStatus
from apps.subsidies.services import (
    bank_account_save,
    batch_create,
    roster_approve,
    roster_return,
    roster_review,
    roster_village_submit,
    rosters_generate,
)
from tests.subsidies.conftest import card_number, roster_of


@pytest.fixture
def roster(make_family, programme, users):
    family = make_family(
        surname="杨", father=date(1960, 1, 1), mother=date(1961, 1, 1), children=[("M", date(1990, 1, 1))]
    )
    for i, parent in enumerate((family.father, family.mother)):
        bank_account_save(
            person=parent, kind="card", bank_name="农村信用社", account_number=card_number(f"62231{i}"), by=None
        )
    rosters_generate(programme=programme("rural_reward"), period="2025", by=users["admin"])
    return roster_of("rural_reward", "2025")


def _walk_to_approved(roster, users) -> Roster:
    roster_village_submit(roster=roster, by=users["village"], comment="经村民代表会议评议，无异议")
    roster_review(roster=roster, by=users["reviewer"], comment="已逐户核实")
    return roster_approve(roster=roster, by=users["approver"], comment="同意")


def test_each_step_is_recorded_with_who_and_comment_and_starts_the_notice(roster, users):
    roster = _walk_to_approved(roster, users)

    assert roster.status == RosterStatus.APPROVED
    assert (roster.approved_on, roster.notice_days) == (date.today(), 7)
    assert roster.notice_ends_on == date.today() + timedelta(days=7)
    steps = [(s.get_kind_display(), s.by.username, s.comment) for s in roster.steps.order_by("id")]
    assert steps == [
        ("村级上报", "cun", "经村民代表会议评议，无异议"),
        ("乡镇审核", "shenhe", "已逐户核实"),
        ("县级审批", "shenpi", "同意"),
    ]
    # The audit trail keeps who changed the roster's status and why.
    events = Events.objects.tracks(roster).filter(pgh_label="update").order_by("pgh_id")
    assert [e.pgh_context["reason"] for e in events] == ["村级上报", "乡镇审核", "县级审批"]
    assert events.last().pgh_context["user"] == users["approver"].pk


def test_roles_and_areas_are_enforced_at_each_step(roster, users):
    with pytest.raises(RuleViolation, match="只有奖扶审核员"):
        roster_review(roster=roster, by=users["village"])
    with pytest.raises(RuleViolation, match="只有村级录入员"):
        roster_village_submit(roster=roster, by=users["reviewer"])
    roster_village_submit(roster=roster, by=users["village"])
    with pytest.raises(RuleViolation, match="“待乡镇审核”，不能上报"):
        roster_village_submit(roster=roster, by=users["village"])
    with pytest.raises(RuleViolation, match="不能审批"):
        roster_approve(roster=roster, by=users["approver"])  # not reviewed yet
    with pytest.raises(RuleViolation, match="管辖范围"):
        roster_review(roster=roster, by=users["reviewer_b"])  # another township's reviewer
    roster_review(roster=roster, by=users["reviewer"])
    with pytest.raises(RuleViolation, match="只有奖扶审批人"):
        roster_approve(roster=roster, by=users["reviewer"])
    roster.refresh_from_db()
    assert roster.status == RosterStatus.REVIEWED


def test_the_county_may_return_a_roster_with_a_comment(roster, users):
    roster_village_submit(roster=roster, by=users["village"])
    roster_review(roster=roster, by=users["reviewer"])
    with pytest.raises(RuleViolation, match="请填写意见"):
        roster_return(roster=roster, by=users["approver"], comment=" ")
    roster_return(roster=roster, by=users["approver"], comment="杨父年龄有误，请核实")
    roster.refresh_from_db()
    assert roster.status == RosterStatus.DRAFT
    # The village submits again: the earlier submission no longer counts.
    roster_village_submit(roster=roster, by=users["village"], comment="已更正")
    roster.refresh_from_db()
    assert roster.status == RosterStatus.SUBMITTED


def test_the_approver_may_not_create_the_batch_and_nobody_pays_during_the_notice(roster, users):
    roster = _walk_to_approved(roster, users)
    with pytest.raises(RuleViolation, match="公示期满后才能发放"):
        batch_create(roster=roster, by=users["payer"])
    Roster.objects.filter(pk=roster.pk).update(approved_on=date.today() - timedelta(days=7))  # a week later
    roster.refresh_from_db()

    with pytest.raises(RuleViolation, match="审批人不能生成该名册的发放批次"):
        batch_create(roster=roster, by=users["approver"])
    with pytest.raises(RuleViolation, match="没有生成发放批次的权限"):
        batch_create(roster=roster, by=users["village"])
    with pytest.raises(RuleViolation, match="管辖范围"):
        batch_create(roster=roster, by=users["reviewer_b"])

    batch = batch_create(roster=roster, by=users["approver2"])  # another approver may
    assert batch.payments.count() == 2
