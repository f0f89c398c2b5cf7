"""The assessment year as a workflow: opening it (idempotent, never touching contracts), a scheme published
late (refused, or accepted with a reason shown on every result page), contracts edited in the app, bonuses
and deductions on a line, yellow cards only on final scores, ties decided by the result rules' data, the
finalise button, the demo, and the API's ranks and write actions."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from apps.core.errors import RuleViolation
from apps.scoring import selectors
from apps.scoring.demo import scoring_demo_ensure
from apps.scoring.models import (
    AdjustmentRule,
    Assessment,
    AssessmentStatus,
    ContractTarget,
    ItemScore,
    LineScore,
    ResultRules,
    Scheme,
    SchemeItem,
    SchemeStatus,
)
from apps.scoring.services import (
    ManualScore,
    TargetData,
    adjustment_claim,
    adjustment_decide,
    assessment_finalise,
    assessment_year_open,
    assessments_recompute,
    contract_save,
    item_score_manual,
    item_scores_manual,
    scheme_load,
)
from tests.conftest import TOWNSHIP_A, TOWNSHIP_B
from tests.scoring.conftest import ALL_MET, SCHEME_TEXT, TARGETS, TOWNSHIP_C, YEAR, make_snapshot

pytestmark = pytest.mark.django_db
LATE_REASON = "省里的考核办法到3月才下发，县方案随之推迟发布"


@pytest.fixture
def in_time_scheme(areas) -> Scheme:
    """The shared scheme, published on 1 December of the year before (loaded as a draft, then published)."""
    scheme = scheme_load(text=SCHEME_TEXT, effective_from=date(YEAR, 1, 1), publish=False).scheme
    Scheme.objects.filter(pk=scheme.pk).update(
        status=SchemeStatus.PUBLISHED, published_at=datetime(YEAR - 1, 12, 1, 2, tzinfo=UTC)
    )
    return Scheme.objects.get(pk=scheme.pk)


def _target(code: str, indicator: str = "birth_rate") -> Decimal:
    return ContractTarget.objects.get(contract__area_id=code, contract__year=YEAR, indicator_code=indicator).target


def _score_all_manual(assessment: Assessment, share: str, by) -> None:
    items = SchemeItem.objects.filter(scheme_id=assessment.scheme_id, method="manual")
    scores = [ManualScore(i, (i.points * Decimal(share)).quantize(Decimal("0.01")), "查阅台账") for i in items]
    item_scores_manual(assessment=assessment, scores=scores, by=by)


def _manual(assessment, code, points, by):
    item = SchemeItem.objects.get(scheme_id=assessment.scheme_id, code=code)
    return item_score_manual(assessment=assessment, item=item, points=Decimal(points), note="查阅台账", by=by)


def test_opening_is_idempotent_and_never_touches_contracts_or_scores(in_time_scheme, contracts, assessor, county_admin):
    first = assessment_year_open(year=YEAR, by=assessor)
    assert (first.created, first.existing, first.record.late_reason) == (10, 0, "")
    a = Assessment.objects.get(area_id=TOWNSHIP_A, year=YEAR)
    _manual(a, "pg.planning", "17", assessor)
    # The county admin edits a target in the app; opening again puts nothing back.
    targets = [t if t.indicator_code != "birth_rate" else TargetData("birth_rate", "at_most", Decimal("10.5"))
               for t in TARGETS]  # fmt: skip
    contract_save(area=a.area, year=YEAR, signed_on=date(YEAR, 1, 10), targets=targets, by=county_admin)
    Assessment.objects.filter(area_id=TOWNSHIP_C, year=YEAR).delete()  # a unit missing (e.g. a new township)
    scores_before = set(ItemScore.objects.values_list("assessment_id", "item_id", "points"))

    out = StringIO()
    call_command("open_assessment_year", "--year", str(YEAR), stdout=out)
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert (summary["ok"], summary["created"], summary["existing"], summary["scheme"]) == (True, 1, 9, "township-1000")
    assert _target(TOWNSHIP_A) == Decimal("10.5") and _target(TOWNSHIP_B) == Decimal("11")
    assert scores_before <= set(ItemScore.objects.values_list("assessment_id", "item_id", "points"))
    assert ItemScore.objects.get(assessment=a, item__code="pg.planning").points == Decimal("17.00")
    again = assessment_year_open(year=YEAR, by=county_admin)
    assert (again.created, again.existing) == (0, 10)
    assert Assessment.objects.filter(year=YEAR).count() == 10


def test_only_county_assessors_and_admins_open_a_year(in_time_scheme, leader_a, make_user):
    with pytest.raises(RuleViolation, match=r"^只有考核评估员或县级管理员可以开启考核年度$"):
        assessment_year_open(year=YEAR, by=leader_a)
    with pytest.raises(RuleViolation, match=r"^只有县级用户可以开启考核年度$"):
        assessment_year_open(year=YEAR, by=make_user("kaohe_a", TOWNSHIP_A, "assessor"))
    with pytest.raises(RuleViolation, match=r"^2025年没有已发布的考核方案"):
        assessment_year_open(year=YEAR - 1, by=None)
    assert not Assessment.objects.exists()


def test_a_late_scheme_is_refused_without_a_reason_and_the_reason_is_on_every_result_page(
    scheme, contracts, assessor, leader_a, client
):
    # The fixture's scheme is published today, i.e. after 1 January of the year.
    with pytest.raises(RuleViolation) as refused:
        assessment_year_open(year=YEAR, by=assessor, late_reason="  ")
    assert refused.value.message.startswith(f"考核方案「{scheme.name}」于")
    assert f"晚于{YEAR}年考核开始（{YEAR}-01-01），须填写迟发说明" in refused.value.message
    assert not Assessment.objects.exists()

    opened = assessment_year_open(year=YEAR, by=assessor, late_reason=LATE_REASON)
    assert opened.record.late_reason == LATE_REASON
    unit = Assessment.objects.get(area_id=TOWNSHIP_A, year=YEAR)
    for user in (assessor, leader_a):  # the township sees why too
        client.force_login(user)
        for url in ("/scoring/", f"/scoring/assessments/{unit.pk}/", "/scoring/year/"):
            body = client.get(url, {"year": YEAR}).content.decode()
            assert f"迟发说明：{LATE_REASON}" in body, (user, url)


def test_an_adjustment_on_a_line_counts_in_that_line_and_the_total(assessments, assessor, county_admin):
    make_snapshot(f"{YEAR}Q3-YTD", dict.fromkeys((TOWNSHIP_A, TOWNSHIP_B, TOWNSHIP_C), ALL_MET))
    assessments_recompute(year=YEAR)
    a = assessments[TOWNSHIP_A]
    pfp = SchemeItem.objects.get(scheme_id=a.scheme_id, code="pfp")
    rule = AdjustmentRule.objects.get(scheme_id=a.scheme_id, code="demo_centre_delisted")
    claim = adjustment_claim(assessment=a, rule=rule, line=pfp, cases=2, note="两个示范站被摘牌", by=assessor)
    adjustment_decide(adjustment=claim, approve=True, note="属实", by=county_admin)
    a.refresh_from_db()
    line = LineScore.objects.get(assessment=a, line=pfp)
    assert (line.score, line.adjustment) == (Decimal("118.00"), Decimal("-10.00"))  # 128 − 2 × 5
    assert (a.line_total, a.bonus_total, a.deduction_total, a.total) == (
        Decimal("218.00"), Decimal("0"), Decimal("0"), Decimal("218.00"),
    )  # fmt: skip
    ranks = {r.assessment.area_id: {ln.line.code: ln.rank for ln in r.lines} for r in
             selectors.results_for(user=assessor, year=YEAR).ranked}  # fmt: skip
    assert ranks[TOWNSHIP_A] == {"party_gov": 1, "pfp": 3} and ranks[TOWNSHIP_B]["pfp"] == 1
    with pytest.raises(RuleViolation, match=r"^计入的线不是本考核方案中的考核线$"):
        item = SchemeItem.objects.get(scheme_id=a.scheme_id, code="pfp.training")
        adjustment_claim(assessment=a, rule=rule, line=item, cases=1, note="x", by=assessor)


def test_yellow_cards_are_given_on_final_scores_only(assessments, assessor, county_admin, township_clerk):
    make_snapshot(f"{YEAR}Q3-YTD", dict.fromkeys((TOWNSHIP_A, TOWNSHIP_B, TOWNSHIP_C), ALL_MET))
    for code, share in ((TOWNSHIP_A, "0.9"), (TOWNSHIP_B, "0.8"), (TOWNSHIP_C, "0.5")):
        _score_all_manual(assessments[code], share, assessor)

    def cards():
        results = selectors.results_for(user=assessor, year=YEAR)
        return results.final, [(r.assessment.area_id, r.rank, r.grade, r.yellow_card) for r in results.ranked]

    # Bottom one rank by the example rules; C has the lowest projected total but no card yet.
    assert cards() == (False, [(TOWNSHIP_A, 1, "优秀", False), (TOWNSHIP_B, 2, "良好", False),
                               (TOWNSHIP_C, 3, "合格", False)])  # fmt: skip
    with pytest.raises(RuleViolation, match=r"^只有考核评估员或县级管理员可以定稿$"):
        assessment_finalise(assessment=assessments[TOWNSHIP_C], by=township_clerk)
    assessment_finalise(assessment=assessments[TOWNSHIP_C], by=assessor)
    assessment_finalise(assessment=assessments[TOWNSHIP_B], by=county_admin)  # the county admin finalises too
    assert [card for *_, card in cards()[1]] == [False, False, False]  # A is still provisional
    assessment_finalise(assessment=assessments[TOWNSHIP_A], by=assessor)
    assert cards() == (True, [(TOWNSHIP_A, 1, "优秀", False), (TOWNSHIP_B, 2, "良好", False),
                              (TOWNSHIP_C, 3, "合格", True)])  # fmt: skip


def test_a_tie_on_the_total_is_decided_by_the_result_rules_data(assessments, assessor):
    make_snapshot(f"{YEAR}Q3-YTD", dict.fromkeys((TOWNSHIP_A, TOWNSHIP_B, TOWNSHIP_C), ALL_MET))
    _manual(assessments[TOWNSHIP_A], "pg.planning", "10", assessor)  # 238: party line 110, pfp 128
    _manual(assessments[TOWNSHIP_B], "pfp.training", "10", assessor)  # 238: party line 100, pfp 138
    _manual(assessments[TOWNSHIP_C], "pg.planning", "5", assessor)  # 233

    def ranks():
        return [(r.assessment.area_id, r.rank) for r in selectors.results_for(user=assessor, year=YEAR).ranked]

    ResultRules.objects.filter(year=YEAR).update(tie_break=[])
    assert ranks() == [(TOWNSHIP_A, 1), (TOWNSHIP_B, 1), (TOWNSHIP_C, 3)]  # no rule: ties share a rank
    ResultRules.objects.filter(year=YEAR).update(tie_break=["pfp", "party_gov"])
    assert ranks() == [(TOWNSHIP_B, 1), (TOWNSHIP_A, 2), (TOWNSHIP_C, 3)]
    ResultRules.objects.filter(year=YEAR).update(tie_break=["pg.planning"])  # an item code works as well
    assert ranks() == [(TOWNSHIP_A, 1), (TOWNSHIP_B, 2), (TOWNSHIP_C, 3)]


def test_api_gives_ranks_per_line_and_total_on_a_three_unit_year(api_client, assessments, assessor, leader_a):
    make_snapshot(f"{YEAR}Q3-YTD", {
        TOWNSHIP_A: ALL_MET,
        TOWNSHIP_B: {**ALL_MET, "record_completeness_rate": "91"},  # 50 → 25 on the pfp line
        TOWNSHIP_C: ALL_MET,
    })  # fmt: skip
    assessments_recompute(year=YEAR)
    _manual(assessments[TOWNSHIP_C], "pg.planning", "20", assessor)
    _manual(assessments[TOWNSHIP_B], "pg.planning", "5", assessor)
    api_client.force_authenticate(assessor)
    listed = api_client.get("/api/v1/scoring/assessments/", {"year": YEAR}).json()["results"]
    got = {r["area"]: (r["total"], r["rank"], [(ln["line"], ln["score"], ln["rank"]) for ln in r["lines"]])
           for r in listed}  # fmt: skip
    assert got == {
        TOWNSHIP_C: ("248.00", 1, [("party_gov", "120.00", 1), ("pfp", "128.00", 1)]),
        TOWNSHIP_A: ("228.00", 2, [("party_gov", "100.00", 3), ("pfp", "128.00", 1)]),
        TOWNSHIP_B: ("208.00", 3, [("party_gov", "105.00", 2), ("pfp", "103.00", 3)]),
    }
    assert {r["provisional"] for r in listed} == {True} and {r["yellow_card"] for r in listed} == {False}
    detail = api_client.get(f"/api/v1/scoring/assessments/{assessments[TOWNSHIP_B].pk}/").json()
    assert (detail["rank"], detail["grade"], detail["lines"][1]["rank"]) == (3, "不合格", 3)
    # The township leader reads its own unit with its true rank.
    api_client.force_authenticate(leader_a)
    own = api_client.get("/api/v1/scoring/assessments/", {"year": YEAR}).json()["results"]
    assert [(r["area"], r["rank"]) for r in own] == [(TOWNSHIP_A, 2)]


def test_api_scores_claims_decides_and_finalises_through_the_services(
    api_client, in_time_scheme, contracts, assessor, county_admin, leader_a
):
    api_client.force_authenticate(assessor)
    opened = api_client.post("/api/v1/scoring/assessments/open/", {"year": YEAR}, format="json")
    assert opened.status_code == 200 and (opened.json()["created"], opened.json()["existing"]) == (10, 0)
    assert api_client.post("/api/v1/scoring/assessments/open/", {"year": YEAR}, format="json").json()["created"] == 0
    a = Assessment.objects.get(area_id=TOWNSHIP_A, year=YEAR)
    url = f"/api/v1/scoring/assessments/{a.pk}"
    bad = api_client.post(f"{url}/score/", {"item": "pg.planning", "points": "25", "note": "x"}, format="json")
    assert bad.status_code == 400 and bad.json() == {"points": ["「统筹决策」的得分应在0至20分之间"]}
    ok = api_client.post(f"{url}/score/", {"item": "pg.planning", "points": "18", "note": "会议纪要"}, format="json")
    assert ok.status_code == 200 and ok.json()["total"] == "18.00"
    claim = api_client.post(f"{url}/adjustments/", {"rule": "innovation", "line": "party_gov", "note": "机制创新"},
                            format="json")  # fmt: skip
    assert claim.status_code == 201 and (claim.json()["line"], claim.json()["points"]) == ("party_gov", "20.00")
    api_client.force_authenticate(county_admin)
    decided = api_client.post(f"{url}/decide/", {"adjustment": claim.json()["id"], "approve": True}, format="json")
    assert decided.status_code == 200
    party_line = decided.json()["lines"][0]
    assert (party_line["line"], party_line["score"], party_line["adjustment"]) == (
        "party_gov", "38.00", "20.00",
    )  # fmt: skip
    unfinished = api_client.post(f"{url}/finalise/", format="json")
    assert unfinished.status_code == 400
    assert unfinished.json() == {"non_field_errors": ["还有29个人工评分项目未评分，不能定稿"]}
    api_client.force_authenticate(leader_a)  # the unit never scores itself
    refused = api_client.post(f"{url}/score/", {"item": "pg.planning", "points": "20", "note": "x"}, format="json")
    assert refused.status_code == 400 and refused.json() == {"non_field_errors": ["只有考核评估员可以评分"]}


def test_county_admin_edits_a_contract_and_an_assessor_reads_it(client, in_time_scheme, contracts, assessor,
                                                                county_admin):  # fmt: skip
    client.force_login(county_admin)
    url = f"/scoring/contracts/{YEAR}/{TOWNSHIP_A}/"
    form = client.get(url)
    assert form.status_code == 200 and "出生政策符合率目标值" in form.content.decode()
    data = {"signed_on": f"{YEAR}-01-10", "note": ""}
    for t in TARGETS:
        data[f"direction_{t.indicator_code}"], data[f"target_{t.indicator_code}"] = t.direction, str(t.target)
    half = client.post(url, {**data, "target_policy_compliance_rate": ""})
    assert "「出生政策符合率」请同时填写方向和目标值，或都不填" in half.content.decode()
    assert _target(TOWNSHIP_A, "policy_compliance_rate") == Decimal("95")
    saved = client.post(url, {**data, "target_policy_compliance_rate": "96.5"}, follow=True)
    assert f"已保存{YEAR}年平舒镇的目标管理责任书" in saved.content.decode()
    assert _target(TOWNSHIP_A, "policy_compliance_rate") == Decimal("96.5")
    client.force_login(assessor)
    assert client.get(url).status_code == 403  # assessors read contracts, they do not edit them
    listing = client.get("/scoring/contracts/", {"year": YEAR}).content.decode()
    assert "出生政策符合率 ≥ 96.5%" in listing
    # Once the unit's assessment is final the contract is closed.
    a = Assessment.objects.create(area_id=TOWNSHIP_A, year=YEAR, scheme=in_time_scheme)
    Assessment.objects.filter(pk=a.pk).update(status=AssessmentStatus.FINAL, finalised_at=datetime.now(UTC))
    client.force_login(county_admin)
    closed = client.post(url, {**data, "target_policy_compliance_rate": "90"})
    assert f"{YEAR}年平舒镇的考核已定稿，不能再修改责任书" in closed.content.decode()
    assert _target(TOWNSHIP_A, "policy_compliance_rate") == Decimal("96.5")


def test_the_demo_spreads_grades_keeps_edited_contracts_and_finalises(areas, county_admin, assessor):
    scheme_load(text=SCHEME_TEXT, effective_from=date(YEAR, 1, 1))
    townships = [a for a in areas.values() if a.level == "township"]
    make_snapshot(f"{YEAR}Q3-YTD", {t.code: ALL_MET for t in townships})
    first = scoring_demo_ensure(year=YEAR, seed=1)
    assert (first["contracts_created"], first["assessments_created"], first["finalised"]) == (10, 10, 10)
    results = selectors.results_for(user=assessor, year=YEAR)
    assert results.final and len({r.grade for r in results.ranked}) == 4  # 优秀, 良好, 合格, 不合格
    assert [r.yellow_card for r in results.ranked][-1] is True
    assert results.late_notices and "演示数据" in results.late_notices[0]
    totals = [r.assessment.total for r in results.ranked]
    # Editing a target and running the demo again puts no demo value back and rescoring nothing.
    Assessment.objects.filter(area_id=TOWNSHIP_A).update(status=AssessmentStatus.OPEN)  # reopen for the edit
    contract_save(area=areas[TOWNSHIP_A], year=YEAR, signed_on=date(YEAR, 1, 15), by=county_admin,
                  targets=[TargetData("birth_rate", "at_most", Decimal("9.9"))])  # fmt: skip
    again = scoring_demo_ensure(year=YEAR, seed=1)
    assert (again["contracts_created"], again["assessments_created"], again["finalised"]) == (0, 0, 0)
    assert _target(TOWNSHIP_A) == Decimal("9.9")
    assert [r.assessment.total for r in selectors.results_for(user=assessor, year=YEAR).ranked] == totals
