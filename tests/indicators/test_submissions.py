"""报表上报: a township submits a period's snapshot, the county approves or returns it, and every change of a
record of an approved period afterwards is a late change (上报后更改) — listed per report with its author,
counted on the dashboard, and named beside the differences of 上报数与回溯数对比."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from apps.core.errors import RuleViolation
from apps.indicators import selectors
from apps.indicators.models import ReportSubmission
from apps.indicators.periods import period_parse
from apps.indicators.services import indicators_compute, report_submission_decide, report_submit
from apps.registry.models import Person
from apps.registry.services import ChildData, birth_record
from tests.conftest import COUNTY, TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A, VILLAGE_B

Q1 = period_parse("2024Q1")
API = "/api/v1/indicators/submissions/"


@pytest.fixture
def people(make_user):
    return {
        "leader_a": make_user("zhenzhang_a", TOWNSHIP_A, "county_viewer", full_name="平舒镇镇长"),
        "leader_b": make_user("zhenzhang_b", TOWNSHIP_B, "county_viewer"),
        "admin": make_user("county_admin", COUNTY, "county_admin", full_name="县统计科"),
        "clerk": make_user("clerk_late", TOWNSHIP_A, "township_clerk", full_name="补录员"),
    }


@pytest.fixture
def computed(events_scenario):
    return indicators_compute(period="2024Q1")


def _late_birth(areas, clerk):
    """A birth of 2024-02-10 in village A, entered after the report was approved (back-dated)."""
    mother = Person.objects.get(name="母四")  # lives in B; her child is born in A
    return birth_record(mother=mother, on=date(2024, 2, 10), village=areas[VILLAGE_A], by=clerk,
                        child_data=ChildData(name="补录婴儿", sex="M"), policy_status_given="in_policy",
                        override_reason="补录", confirmed=True)  # fmt: skip


# Committed transactions: the audit trail dates an event by its transaction's start (PostgreSQL's now()), so
# "after the approval" needs the approval and the later entry in transactions of their own, as in production.
@pytest.mark.django_db(transaction=True)
def test_a_back_dated_birth_after_approval_is_a_late_change_with_its_author(client, areas, people, computed):
    submission = report_submit(period="2024Q1", by=people["leader_a"])
    assert (submission.area_id, submission.run_id, submission.status) == (TOWNSHIP_A, computed.pk, "submitted")
    report_submission_decide(submission=submission, approve=True, reason="", by=people["admin"])
    late_before = selectors.late_changes(user=people["admin"], period=Q1)
    assert late_before == []

    birth = _late_birth(areas, people["clerk"])
    recomputed = indicators_compute(period="2024Q1")

    changes = selectors.late_changes(user=people["admin"], period=Q1, submission=submission)
    births = [c for c in changes if c.kind == "birth" and c.record_id == birth.pk]
    assert len(births) == 1 and births[0].user == "补录员" and births[0].action == "新建"
    assert births[0].event_date == date(2024, 2, 10) and births[0].village == VILLAGE_A
    assert ("出生日期", None, "2024-02-10") in births[0].changes
    # The child lives with the mother in village B, whose report was not approved: not a late change.
    assert not [c for c in changes if c.kind == "person" and c.record_id == birth.child_id]
    # Township B's report was never approved: the birth (in A) is not a late change of B; the leader of B
    # sees no late changes at all, the leader of A sees A's.
    assert all(c.township == TOWNSHIP_A for c in changes)
    assert selectors.late_changes_count(user=people["leader_b"], period=Q1) == 0
    assert selectors.late_changes_count(user=people["leader_a"], period=Q1) == len(changes)

    # The dashboard counts them; the submission's page lists them with the author.
    client.force_login(people["admin"])
    page = client.get(reverse("indicators:dashboard"), {"period": "2024Q1"}).content.decode()
    assert f"上报后更改 {len(changes)} 条" in page
    page = client.get(reverse("indicators:submission_detail", args=[submission.pk])).content.decode()
    assert f"出生登记#{birth.pk}" in page and "补录员" in page

    # 上报数与回溯数对比: the reported figure is the approved snapshot's, and the births difference of
    # township A names the late birth and its author; village B's population (the mother's) does not move.
    response = client.get(reverse("indicators:compare"), {"period": "2024Q1", "b": recomputed.pk})
    assert response.context["run_a"] == computed and response.context["reported"] == computed
    rows = {(d.area_code, d.indicator.code): why for d, why in response.context["rows"]}
    assert [c.record_id for c in rows[(TOWNSHIP_A, "births")] if c.kind == "birth"] == [birth.pk]
    assert rows[(TOWNSHIP_A, "births")][0].user == "补录员"
    assert (VILLAGE_B, "births") not in rows
    page = response.content.decode()
    assert f"出生登记#{birth.pk}（2024-02-10）新建：补录员" in page


def test_returning_reopens_the_submission_for_resubmission(client, people, computed):
    submission = report_submit(period="2024Q1", by=people["leader_a"])
    with pytest.raises(RuleViolation, match="退回时请填写退回原因"):
        report_submission_decide(submission=submission, approve=False, reason="  ", by=people["admin"])
    client.force_login(people["admin"])
    response = client.post(reverse("indicators:submission_decide", args=[submission.pk]),
                           {"decision": "return", "reason": "出生数与医院统计不符，请核实"})  # fmt: skip
    assert response.status_code == 302
    submission.refresh_from_db()
    assert (submission.status, submission.reason, submission.decided_by) == (
        "returned", "出生数与医院统计不符，请核实", people["admin"]
    )  # fmt: skip
    with pytest.raises(RuleViolation, match="不能再审核"):
        report_submission_decide(submission=submission, approve=True, reason="", by=people["admin"])

    # The township sees it on its start page and submits again (same row); the county can then approve it.
    client.force_login(people["leader_a"])
    assert "被退回的上报报表" in client.get("/").content.decode()
    response = client.post(reverse("indicators:submission_create"), {"period": "2024Q1"})
    assert response.status_code == 302
    submission.refresh_from_db()
    assert (submission.status, submission.reason, submission.decided_at) == ("submitted", "", None)
    assert ReportSubmission.objects.count() == 1
    with pytest.raises(RuleViolation, match="已上报，不能重复上报"):
        report_submit(period="2024Q1", by=people["leader_a"])
    page = client.get(reverse("indicators:submission_detail", args=[submission.pk])).content.decode()
    assert "出生数与医院统计不符，请核实" in page  # the returned round stays in the submission's record

    client.force_login(people["admin"])
    assert "待审核的乡镇上报报表" in client.get("/").content.decode()
    report_submission_decide(submission=submission, approve=True, reason="", by=people["admin"])
    submission.refresh_from_db()
    assert submission.status == "approved"


def test_a_township_cannot_approve_and_another_townships_submission_is_a_404(client, api_client, people, computed):
    own = report_submit(period="2024Q1", by=people["leader_a"])
    with pytest.raises(RuleViolation, match="只有县级管理员"):
        report_submission_decide(submission=own, approve=True, reason="", by=people["leader_a"])
    client.force_login(people["leader_a"])
    assert (
        client.post(reverse("indicators:submission_decide", args=[own.pk]), {"decision": "approve"}).status_code == 403
    )
    api_client.force_authenticate(people["leader_a"])
    assert api_client.post(f"{API}{own.pk}/approve/").status_code == 400

    client.force_login(people["leader_b"])
    assert client.get(reverse("indicators:submission_detail", args=[own.pk])).status_code == 404
    api_client.force_authenticate(people["leader_b"])
    assert api_client.get(f"{API}{own.pk}/").status_code == 404
    assert api_client.post(f"{API}{own.pk}/return/", {"reason": "x"}, format="json").status_code == 404
    assert api_client.get(API).json()["count"] == 0
    own.refresh_from_db()
    assert own.status == "submitted"


def test_a_period_not_yet_computed_cannot_be_submitted(client, api_client, people, events_scenario):
    client.force_login(people["leader_a"])
    response = client.post(reverse("indicators:submission_create"), {"period": "2024Q1"}, follow=True)
    assert "2024年第1季度的报表尚未计算，不能上报" in response.content.decode()
    api_client.force_authenticate(people["leader_a"])
    response = api_client.post(API, {"period": "2024Q1"}, format="json")
    assert response.status_code == 400 and "尚未计算" in str(response.json())
    assert response.json()
    assert not ReportSubmission.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_api_submits_approves_and_lists_late_changes(api_client, areas, people, computed):
    api_client.force_authenticate(people["leader_a"])
    response = api_client.post(API, {"period": "2024Q1"}, format="json")
    assert response.status_code == 201 and response.json()["status"] == "submitted"
    pk = response.json()["id"]
    api_client.force_authenticate(people["admin"])
    assert api_client.post(f"{API}{pk}/return/", {}, format="json").status_code == 400
    response = api_client.post(f"{API}{pk}/approve/")
    assert response.status_code == 200 and response.json()["decided_by"] == "县统计科"
    birth = _late_birth(areas, people["clerk"])
    changes = api_client.get(f"{API}{pk}/late-changes/").json()
    assert {(c["kind"], c["record_id"], c["user"]) for c in changes} >= {("birth", birth.pk, "补录员")}
    assert api_client.get(API, {"status": "approved"}).json()["count"] == 1
