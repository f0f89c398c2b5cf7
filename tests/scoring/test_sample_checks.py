"""入户抽查 (issue 17): a draw per township from a secret seed, reproducible once the seed is published, findings
at the door, 统计准确率 with Wilson's interval equal to hand computation, and a deduction proposed for another
user's approval when the rate is below the policy's line."""

from __future__ import annotations

import hashlib
import math
from datetime import date
from decimal import Decimal

import pytest

from apps.areas.models import Area
from apps.core.errors import RuleViolation
from apps.registry.models import Household, Person
from apps.registry.services import PersonData, person_create
from apps.scoring.models import Adjustment, SampleCheck, SampleCheckPolicy
from apps.scoring.selectors import sample_accuracy, sample_members, sample_redraw, wilson_interval
from apps.scoring.services import (
    adjustment_decide,
    sample_check_close,
    sample_checks_draw,
    sample_finding_record,
    sample_unregistered_record,
)
from tests.conftest import TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A, VILLAGE_B
from tests.registry.conftest import make_id_number
from tests.scoring.conftest import YEAR


@pytest.fixture
def households(areas):
    """Ten households in township A (two persons each) and ten in township B."""
    made = {TOWNSHIP_A: [], TOWNSHIP_B: []}
    for township, village in ((TOWNSHIP_A, VILLAGE_A), (TOWNSHIP_B, VILLAGE_B)):
        area = Area.objects.get(code=village)
        for i in range(10):
            household = Household.objects.create(number=f"{village[-4:]}-{i:03d}", village=area, address=f"{i}号")
            for j, sex in enumerate(("M", "F")):
                born = date(1970 + i, 1 + j, 1 + i)
                person_create(
                    data=PersonData(name=f"户{i}{'男' if sex == 'M' else '女'}", sex=sex, birth_date=born,
                                    hukou_type="agricultural", village=area, id_number=make_id_number(born, sex),
                                    household=household),
                    by=None,
                )  # fmt: skip
            made[township].append(household)
    SampleCheckPolicy.objects.all().delete()  # the county's rule for these tests (dated data)
    SampleCheckPolicy.objects.create(valid_from=date(2020, 1, 1), households_per_township=4,
                                     accuracy_threshold=95, adjustment_rule_code="spot_check_problem")  # fmt: skip
    return made


def test_the_draw_is_per_township_secret_until_closed_and_reproducible_from_the_published_seed(
    households, assessor, assessments
):
    checks = {c.township_id: c for c in sample_checks_draw(year=YEAR, by=assessor)}
    assert set(checks) >= {TOWNSHIP_A, TOWNSHIP_B}
    a = checks[TOWNSHIP_A]
    drawn = list(a.households.order_by("rank").values_list("household_id", flat=True))
    assert len(drawn) == 4 and set(drawn) <= {h.pk for h in households[TOWNSHIP_A]}
    assert a.seed_shown == "" and a.seed_sha256 == hashlib.sha256(a.seed.encode()).hexdigest()
    assert sample_redraw(sample=a, seed=a.seed) == drawn  # the same rule gives the same households
    assert sample_redraw(sample=a, seed="another seed") != drawn or len(households[TOWNSHIP_A]) <= 4
    with pytest.raises(RuleViolation, match="均已抽样"):
        sample_checks_draw(year=YEAR, by=assessor)

    for person in sample_members(sample=a):
        sample_finding_record(sample=a, person=person, kind="found", by=assessor)
    closed = sample_check_close(sample=a, by=assessor)
    assert closed.seed_shown == a.seed  # published only now


def test_findings_give_the_accuracy_with_wilsons_interval_and_a_deduction_for_another_user(
    households, assessor, second_assessor, assessments, make_user
):
    a = next(c for c in sample_checks_draw(year=YEAR, by=assessor) if c.township_id == TOWNSHIP_A)
    members = list(sample_members(sample=a))
    assert len(members) == 8  # 4 households × 2 persons
    clerk = make_user("clerk_samp", TOWNSHIP_A, "township_clerk")
    with pytest.raises(RuleViolation, match="由县级考核评估员组织"):
        sample_finding_record(sample=a, person=members[0], kind="found", by=clerk)
    outsider = Person.objects.filter(household__village_id=VILLAGE_B).first()  # township B's
    with pytest.raises(RuleViolation, match="不在抽中的户内"):
        sample_finding_record(sample=a, person=outsider, kind="found", by=assessor)
    with pytest.raises(RuleViolation, match="请填写有误的项目"):
        sample_finding_record(sample=a, person=members[0], kind="wrong_field", by=assessor)

    with pytest.raises(RuleViolation, match="还有8人未录入核查结果"):
        sample_check_close(sample=a, by=assessor)
    kinds = ["found"] * 6 + ["not_found", "wrong_field"]
    for person, kind in zip(members, kinds, strict=True):
        sample_finding_record(sample=a, person=person, kind=kind, field="出生日期" if kind == "wrong_field" else "",
                              by=assessor)  # fmt: skip
    sample_unregistered_record(sample=a, household=members[0].household, kind="unregistered_person",
                               note="2025年出生的孙子未登记", by=assessor)  # fmt: skip

    accuracy = sample_accuracy(sample=a)
    # By hand: 6 of 8; Wilson's interval with z = 1.96.
    z, n, p = 1.959964, 8, 6 / 8
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert (accuracy.checked, accuracy.correct, accuracy.unregistered) == (8, 6, 1)
    assert accuracy.rate == Decimal("75.00")
    assert accuracy.low == Decimal(str(round((centre - half) * 100, 2)))
    assert accuracy.high == Decimal(str(round((centre + half) * 100, 2)))
    assert (accuracy.low, accuracy.high) == (Decimal("40.93"), Decimal("92.85"))
    assert wilson_interval(10, 10)[1] == 1.0  # never above 100 %

    closed = sample_check_close(sample=a, by=assessor)
    proposal = closed.adjustment
    assert proposal is not None and proposal.status == "claimed" and proposal.direction == "deduction"
    assert proposal.assessment == assessments[TOWNSHIP_A] and proposal.rule.code == "spot_check_problem"
    assert "统计准确率75.00%" in proposal.note and "漏登1项" in proposal.note
    with pytest.raises(RuleViolation, match="该抽查已结束"):
        sample_finding_record(sample=a, person=members[0], kind="found", by=assessor)
    with pytest.raises(RuleViolation, match="申报人以外"):
        adjustment_decide(adjustment=proposal, approve=True, by=assessor)
    adjustment_decide(adjustment=proposal, approve=True, note="经局务会研究同意", by=second_assessor)
    assert Adjustment.objects.get(pk=proposal.pk).status == "approved"


def test_a_township_never_sees_the_sample_and_another_townships_check_is_a_404(
    households, assessor, assessments, make_user, client
):
    checks = {c.township_id: c for c in sample_checks_draw(year=YEAR, by=assessor)}
    a = checks[TOWNSHIP_A]
    client.force_login(assessor)
    page = client.get(f"/scoring/sample-checks/{a.pk}/").content.decode()
    assert "抽查结束后公布" in page and a.seed not in page and a.seed_sha256 in page
    printed = client.get(f"/scoring/sample-checks/{a.pk}/print/").content.decode()
    member = sample_members(sample=a).first()
    assert member.name in printed and member.id_number not in printed and member.masked_id_number in printed
    # A hand-edited form (a person or household that is no id, or one outside the sample): a message, no record.
    for posted in ({"person": "abc", "kind": "found"}, {"person": "9" * 30, "kind": "found"},
                   {"household": "x", "kind": "unregistered_person", "note": "a"}):  # fmt: skip
        response = client.post(f"/scoring/sample-checks/{a.pk}/findings/", posted, follow=True)
        assert response.status_code == 200 and "已录入核查结果" not in response.content.decode()
    assert not a.findings.exists()
    # The township's own staff: no page of the check (they could prepare the households).
    client.force_login(make_user("clerk_a2", TOWNSHIP_A, "township_clerk"))
    assert client.get(f"/scoring/sample-checks/{a.pk}/").status_code == 403
    # Township A's own leader (a county viewer bound to the township) does not find it while it is open.
    client.force_login(make_user("leader_a", TOWNSHIP_A, "county_viewer"))
    assert client.get(f"/scoring/sample-checks/{a.pk}/").status_code == 404
    # A county-level reader bound to township B (a township leader) does not find township A's check.
    client.force_login(make_user("leader_b", TOWNSHIP_B, "county_viewer"))
    assert client.get(f"/scoring/sample-checks/{a.pk}/").status_code == 404
    assert SampleCheck.objects.count() >= 2
