"""Scoring hand-built units: indicator items (all-or-nothing, linear), each veto effect, each adjustment kind,
the four-eyes approval, ties in the ranking and the projected score following the latest snapshot."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from apps.core.errors import RuleViolation
from apps.scoring import selectors
from apps.scoring.models import (
    Adjustment,
    AdjustmentRule,
    AdjustmentStatus,
    Assessment,
    AssessmentStatus,
    ItemScore,
    LineScore,
    SchemeItem,
)
from apps.scoring.services import (
    adjustment_claim,
    adjustment_decide,
    assessment_finalise,
    assessments_recompute,
    contract_save,
    is_own_unit,
    item_score_manual,
    may_assess,
    scheme_load,
)
from tests.conftest import TOWNSHIP_A, TOWNSHIP_B
from tests.scoring.conftest import ALL_MET, TARGETS, TINY_SCHEME, TOWNSHIP_C, YEAR, make_snapshot

pytestmark = pytest.mark.django_db


def _score(assessment: Assessment, code: str) -> ItemScore:
    return ItemScore.objects.get(assessment=assessment, item__code=code)


def _item(assessment: Assessment, code: str) -> SchemeItem:
    return SchemeItem.objects.get(scheme_id=assessment.scheme_id, code=code)


def _manual(assessment, code, points, by, note="查阅台账，符合要求"):
    return item_score_manual(assessment=assessment, item=_item(assessment, code), points=Decimal(points), note=note,
                             by=by)  # fmt: skip


def _rule(assessment, code) -> AdjustmentRule:
    return AdjustmentRule.objects.get(scheme_id=assessment.scheme_id, code=code)


def test_all_indicator_items_met_give_their_full_points(assessments):
    make_snapshot(f"{YEAR}Q2-YTD", {TOWNSHIP_A: ALL_MET})
    assessments_recompute(year=YEAR)
    a = Assessment.objects.get(area_id=TOWNSHIP_A, year=YEAR)
    assert a.line_total == Decimal("228.00") and a.total == Decimal("228.00")
    assert a.indicator_period == f"{YEAR}Q2-YTD" and not a.excluded
    lines = {ls.line.code: ls.score for ls in LineScore.objects.filter(assessment=a).select_related("line")}
    assert lines == {"party_gov": Decimal("100.00"), "pfp": Decimal("128.00")}
    basic = _score(a, "pg.basic_indicators")
    assert (basic.points, basic.met, basic.note) == (Decimal("100.00"), True, "实际99.5，目标≥95，达标")


def test_linear_items_score_between_floor_and_target(assessments):
    # 奖励费落实率 89 against ≥98 with floor 80: 20 × 9/18 = 10; 完整率 91 against ≥96, floor 86: 50 × 5/10 = 25.
    make_snapshot(f"{YEAR}Q2-YTD", {TOWNSHIP_A: {**ALL_MET, "subsidy_payment_rate": "89",
                                                  "record_completeness_rate": "91"}})  # fmt: skip
    assessments_recompute(year=YEAR)
    a = assessments[TOWNSHIP_A]
    reward = _score(a, "pfp.enforcement.only_child_reward")
    assert (reward.points, reward.met, reward.note) == (Decimal("10.00"), False, "实际89，目标≥98，未达标")
    assert _score(a, "pfp.informatisation.whole_population").points == Decimal("25.00")
    # At or below the floor: nothing; above the target: full points.
    make_snapshot(f"{YEAR}Q2-YTD", {TOWNSHIP_A: {**ALL_MET, "subsidy_payment_rate": "79.99",
                                                  "record_completeness_rate": "96.01"}})  # fmt: skip
    assessments_recompute(year=YEAR)
    assert _score(a, "pfp.enforcement.only_child_reward").points == Decimal("0.00")
    assert _score(a, "pfp.informatisation.whole_population").points == Decimal("50.00")
    a.refresh_from_db()
    assert a.total == Decimal("208.00")


def test_values_are_compared_unrounded_and_shown_to_two_decimals(assessments):
    # 94.996 rounds to 95 but misses "≥ 95": the veto applies to the true value, which is then shown.
    make_snapshot(f"{YEAR}Q2-YTD", {TOWNSHIP_A: {**ALL_MET, "policy_compliance_rate": "94.996"}})
    assessments_recompute(year=YEAR)
    a = Assessment.objects.get(pk=assessments[TOWNSHIP_A].pk)
    assert _score(a, "pg.basic_indicators").note == "实际94.996，目标≥95，未达标"
    assert a.excluded
    make_snapshot(f"{YEAR}Q2-YTD", {TOWNSHIP_A: {**ALL_MET, "birth_registration_timeliness": "66.666667"}})
    assessments_recompute(year=YEAR)
    assert _score(a, "pfp.basic_work.statistics_quality").note == "实际66.67，目标≥90，未达标"


def test_all_or_nothing_item_missed_scores_zero_and_an_at_most_target(assessments):
    # 性别比 111 against ≤ 110: not met, 0 of 10 (no veto on this item).
    make_snapshot(f"{YEAR}Q2-YTD", {TOWNSHIP_A: {**ALL_MET, "sex_ratio_at_birth": "111"}})
    assessments_recompute(year=YEAR)
    a = Assessment.objects.get(pk=assessments[TOWNSHIP_A].pk)
    sex_ratio = _score(a, "pfp.comprehensive.sex_ratio")
    assert (sex_ratio.points, sex_ratio.note) == (Decimal("0.00"), "实际111，目标≤110，未达标")
    assert a.total == Decimal("218.00") and not a.excluded


def test_veto_exclude_unit_lists_the_unit_apart_with_the_reason(assessments, assessor):
    make_snapshot(f"{YEAR}Q2-YTD", {
        TOWNSHIP_A: ALL_MET,
        TOWNSHIP_B: {**ALL_MET, "policy_compliance_rate": "90"},
        TOWNSHIP_C: ALL_MET,
    })  # fmt: skip
    assessments_recompute(year=YEAR)
    b = Assessment.objects.get(pk=assessments[TOWNSHIP_B].pk)
    assert b.excluded
    assert b.veto_reason.splitlines() == [
        "一票否决：「基本人口指标（出生政策符合率控制在下达指标内）」未完成目标（实际90，目标≥95），不参与评分排名",
        "一票否决：「出生政策符合率」未完成目标（实际90，目标≥95），不参与评分排名",
    ]
    results = selectors.results_for(user=assessor, year=YEAR)
    assert [(r.assessment.area_id, r.rank) for r in results.ranked] == [(TOWNSHIP_A, 1), (TOWNSHIP_C, 1)]
    assert [(r.assessment.area_id, r.rank, r.grade) for r in results.vetoed] == [(TOWNSHIP_B, None, "")]


def test_veto_zero_line_and_zero_item(areas, contracts, assessor):
    tiny = scheme_load(text=TINY_SCHEME, effective_from=date(YEAR, 1, 1)).scheme
    a = Assessment.objects.create(area_id=TOWNSHIP_A, year=YEAR, scheme=tiny)
    _manual(a, "a.manual", "40", assessor)
    _manual(a, "b.manual", "20", assessor)
    # 政策符合率 90 < 95 → zero_line: 甲线 is 0 although its manual item scored 40.
    # 完整率 85 against ≥96 with floor 80 would earn 30 × 5/16 = 9.38 linearly → zero_item: 0.
    make_snapshot(f"{YEAR}Q3-YTD", {TOWNSHIP_A: {"policy_compliance_rate": "90", "record_completeness_rate": "85"}})
    assessments_recompute(year=YEAR)
    a.refresh_from_db()
    lines = {
        ls.line.code: (ls.score, ls.zeroed) for ls in LineScore.objects.filter(assessment=a).select_related("line")
    }
    assert lines == {"a": (Decimal("0.00"), True), "b": (Decimal("20.00"), False)}
    assert _score(a, "b.complete").points == Decimal("0.00")
    assert _score(a, "b.complete").note == "实际85，目标≥96，未达标；一票否决，该项计0分"
    assert (a.total, a.excluded) == (Decimal("20.00"), False)
    # Targets met: the line and the item count again.
    make_snapshot(f"{YEAR}Q3-YTD", {TOWNSHIP_A: {"policy_compliance_rate": "96", "record_completeness_rate": "96.5"}})
    assessments_recompute(year=YEAR)
    a.refresh_from_db()
    assert _score(a, "b.complete").points == Decimal("30.00")
    assert a.total == Decimal("150.00")


def test_projected_score_follows_the_latest_snapshot(assessments, assessor):
    make_snapshot(f"{YEAR}Q1-YTD", {TOWNSHIP_A: {**ALL_MET, "subsidy_payment_rate": "89"}})
    assessments_recompute(year=YEAR)
    a = Assessment.objects.get(pk=assessments[TOWNSHIP_A].pk)
    assert (a.total, a.indicator_period) == (Decimal("218.00"), f"{YEAR}Q1-YTD")
    # A later snapshot of the same period replaces it...
    run = make_snapshot(f"{YEAR}Q1-YTD", {TOWNSHIP_A: {**ALL_MET, "subsidy_payment_rate": "95"}})
    assessments_recompute(year=YEAR)
    a.refresh_from_db()
    assert (a.total, a.indicator_run_id) == (Decimal("224.67"), run.pk)  # 20 × 15/18 = 16.67
    # ...and a more complete period wins over an earlier one.
    make_snapshot(f"{YEAR}Q2-YTD", {TOWNSHIP_A: {**ALL_MET, "birth_registration_timeliness": "80"}})
    assessments_recompute(year=YEAR)
    a.refresh_from_db()
    assert (a.total, a.indicator_period) == (Decimal("200.00"), f"{YEAR}Q2-YTD")


def test_indicator_item_without_data_or_target_scores_nothing_yet(assessments, areas):
    contract_save(area=areas[TOWNSHIP_A], year=YEAR, signed_on=date(YEAR, 1, 10),
                  targets=[t for t in TARGETS if t.indicator_code != "sex_ratio_at_birth"])  # fmt: skip
    make_snapshot(f"{YEAR}Q2-YTD", {TOWNSHIP_A: {**ALL_MET, "birth_registration_timeliness": None}})
    assessments_recompute(year=YEAR)
    a = assessments[TOWNSHIP_A]
    assert _score(a, "pfp.comprehensive.sex_ratio").note == "责任书未规定该指标的目标值，本项不得分"
    assert _score(a, "pfp.basic_work.statistics_quality").note == "暂无该指标的数据，本项暂不得分"
    a.refresh_from_db()
    assert a.total == Decimal("190.00") and not a.excluded


def test_manual_scores_are_bounded_noted_and_for_assessors_only(assessments, assessor, leader_a, make_user):
    a = assessments[TOWNSHIP_A]
    score = _manual(a, "pg.planning", "18.5", assessor)
    assert (score.points, score.scored_by, score.note) == (Decimal("18.50"), assessor, "查阅台账，符合要求")
    a.refresh_from_db()
    assert a.total == Decimal("18.50")
    with pytest.raises(RuleViolation, match=r"^「统筹决策」的得分应在0至20分之间$"):
        _manual(a, "pg.planning", "21", assessor)
    with pytest.raises(RuleViolation, match=r"^请填写评分说明$"):
        _manual(a, "pg.planning", "10", assessor, note="  ")
    with pytest.raises(RuleViolation, match=r"^只有考核评估员可以评分$"):
        _manual(a, "pg.planning", "10", leader_a)
    with pytest.raises(RuleViolation, match=r"^该项目不是本考核方案中的人工评分项目$"):
        _manual(a, "pg.basic_indicators", "10", assessor)
    other = make_user("kaohe_b", TOWNSHIP_B, "assessor")
    with pytest.raises(RuleViolation, match=r"^该单位不在您的管辖范围内$"):
        _manual(a, "pg.planning", "10", other)
    assert _score(a, "pg.planning").points == Decimal("18.50")


def test_an_assessor_never_scores_or_finalises_its_own_unit(assessments, assessor, make_user):
    """The bonus/deduction path already refused a unit deciding on itself; manual scores and 定稿 now follow
    the same rule (``is_own_unit``): a township-bound assessor sees its own unit but may not assess it."""
    a = assessments[TOWNSHIP_A]
    own = make_user("kaohe_a", TOWNSHIP_A, "assessor")
    with pytest.raises(RuleViolation, match=r"^考核评估员不能为本单位评分$"):
        _manual(a, "pg.planning", "10", own)
    with pytest.raises(RuleViolation, match=r"^考核评估员不能为本单位定稿$"):
        assessment_finalise(assessment=a, by=own)
    assert not may_assess(own, a) and may_assess(assessor, a)
    village = make_user("kaohe_cun", "131025100201", "assessor")  # a village of the unit is the unit too
    assert is_own_unit(own, a) and is_own_unit(village, a) and not is_own_unit(assessor, a)
    assert not is_own_unit(make_user("kaohe_b", TOWNSHIP_B, "assessor"), a)
    assert not ItemScore.objects.filter(assessment=a, source="manual").exists()
    a.refresh_from_db()
    assert a.status == AssessmentStatus.OPEN
    assert _manual(a, "pg.planning", "10", assessor).points == Decimal("10.00")  # a county assessor scores it


def test_each_adjustment_kind_and_the_doubled_unreported_birth(assessments, assessor, county_admin, leader_a):
    a = assessments[TOWNSHIP_A]
    claims = [
        adjustment_claim(assessment=a, rule=_rule(a, "innovation"), note="机制创新", by=leader_a),
        adjustment_claim(assessment=a, rule=_rule(a, "experience"), chosen_points=Decimal("7"), note="省级会议介绍经验",
                         by=leader_a),
        adjustment_claim(assessment=a, rule=_rule(a, "cross_level_petition"), chosen_points=Decimal("12.5"),
                         note="越级上访一起", by=assessor),
        # Three reported out-of-policy births, one of which the township had not reported: 2 × 5 + 1 × 10.
        adjustment_claim(assessment=a, rule=_rule(a, "reported_out_of_policy_birth"), cases=2, unreported_cases=1,
                         note="群众举报三例，经查证属实", by=assessor),
        adjustment_claim(assessment=a, rule=_rule(a, "demo_centre_delisted"), cases=1, note="摘牌一个", by=assessor),
    ]  # fmt: skip
    assert [c.points for c in claims] == [Decimal("20"), Decimal("7"), Decimal("12.5"), Decimal("20"), Decimal("5")]
    a.refresh_from_db()
    assert a.total == 0  # nothing counts before approval
    for claim in claims[:4]:
        adjustment_decide(adjustment=claim, approve=True, by=county_admin)
    adjustment_decide(adjustment=claims[4], approve=False, note="证据不足", by=county_admin)
    a.refresh_from_db()
    assert (a.bonus_total, a.deduction_total, a.total) == (Decimal("27.00"), Decimal("32.50"), Decimal("-5.50"))


@pytest.mark.parametrize(
    ("code", "kwargs", "message"),
    [
        ("experience", {"chosen_points": Decimal("6")}, "「市级以上会议介绍经验或获奖」请选择分档：5、7、10分"),
        ("cross_level_petition", {"chosen_points": Decimal("35")}, "「工作不当造成越级上访」的分值须在10至30分之间"),
        ("falsified_data", {}, "「瞒报、漏报、虚报人口和计划生育数据（每例）」按例计分，请填写例数"),
        ("falsified_data", {"unreported_cases": 1},
         "「瞒报、漏报、虚报人口和计划生育数据（每例）」不区分是否如实上报，请只填写例数"),
    ],
)  # fmt: skip
def test_claims_that_do_not_fit_their_rule_are_refused(assessments, assessor, code, kwargs, message):
    a = assessments[TOWNSHIP_A]
    with pytest.raises(RuleViolation) as exc:
        adjustment_claim(assessment=a, rule=_rule(a, code), note="事由", by=assessor, **kwargs)
    assert exc.value.message == message
    assert not Adjustment.objects.exists()


def test_a_claim_is_approved_by_a_different_user_only(assessments, assessor, second_assessor, leader_a, clerk_b):
    a = assessments[TOWNSHIP_A]
    claim = adjustment_claim(assessment=a, rule=_rule(a, "spot_check_problem"), note="抽查问题", by=assessor)
    with pytest.raises(RuleViolation, match=r"^加减分须由申报人以外的人员审核$"):
        adjustment_decide(adjustment=claim, approve=True, by=assessor)
    with pytest.raises(RuleViolation, match=r"^只有县级考核评估员或管理员可以审核加减分$"):
        adjustment_decide(adjustment=claim, approve=True, by=leader_a)
    # The unit cannot claim for another township.
    with pytest.raises(RuleViolation, match=r"^该单位不在您的管辖范围内$"):
        adjustment_claim(assessment=a, rule=_rule(a, "innovation"), note="x", by=clerk_b)
    assert Adjustment.objects.get(pk=claim.pk).status == AdjustmentStatus.CLAIMED
    adjustment_decide(adjustment=claim, approve=True, by=second_assessor)
    with pytest.raises(RuleViolation, match=r"^该申报已审核$"):
        adjustment_decide(adjustment=claim, approve=False, by=second_assessor)
    a.refresh_from_db()
    assert a.total == Decimal("-20.00")
    # The database refuses it as well, whatever the code path.
    with pytest.raises(IntegrityError), transaction.atomic():
        Adjustment.objects.filter(pk=claim.pk).update(decided_by=assessor)


def test_ties_share_a_rank_overall_and_per_line(assessments, assessor):
    make_snapshot(f"{YEAR}Q3-YTD", dict.fromkeys((TOWNSHIP_A, TOWNSHIP_B, TOWNSHIP_C), ALL_MET))
    _manual(assessments[TOWNSHIP_A], "pg.planning", "10", assessor)
    _manual(assessments[TOWNSHIP_B], "pfp.training", "10", assessor)
    _manual(assessments[TOWNSHIP_C], "pg.planning", "5", assessor)
    results = selectors.results_for(user=assessor, year=YEAR)
    overall = [(r.assessment.area_id, r.assessment.total, r.rank) for r in results.ranked]
    assert overall == [(TOWNSHIP_A, Decimal("238.00"), 1), (TOWNSHIP_B, Decimal("238.00"), 1),
                       (TOWNSHIP_C, Decimal("233.00"), 3)]  # fmt: skip
    per_line = {r.assessment.area_id: [(ln.line.code, ln.score, ln.rank) for ln in r.lines] for r in results.ranked}
    assert per_line[TOWNSHIP_A] == [("party_gov", Decimal("110.00"), 1), ("pfp", Decimal("128.00"), 2)]
    assert per_line[TOWNSHIP_B] == [("party_gov", Decimal("100.00"), 3), ("pfp", Decimal("138.00"), 1)]
    assert per_line[TOWNSHIP_C] == [("party_gov", Decimal("105.00"), 2), ("pfp", Decimal("128.00"), 2)]
    # Grade bands are data of the year (example rows: 不合格 below 600); no yellow card on projected scores.
    assert [(r.grade, r.yellow_card) for r in results.ranked] == [("不合格", False)] * 3


def test_township_leader_sees_only_its_own_unit_with_its_true_rank(assessments, assessor, leader_a):
    make_snapshot(f"{YEAR}Q3-YTD", {TOWNSHIP_A: ALL_MET, TOWNSHIP_B: ALL_MET, TOWNSHIP_C: ALL_MET})
    _manual(assessments[TOWNSHIP_B], "pg.planning", "10", assessor)
    results = selectors.results_for(user=leader_a, year=YEAR)
    assert [(r.assessment.area_id, r.rank) for r in results.ranked] == [(TOWNSHIP_A, 2)]
    with pytest.raises(Assessment.DoesNotExist):
        selectors.assessment_get_visible(user=leader_a, pk=assessments[TOWNSHIP_B].pk)


def test_results_take_a_fixed_number_of_queries(assessments, assessor, django_assert_max_num_queries):
    make_snapshot(f"{YEAR}Q3-YTD", dict.fromkeys((TOWNSHIP_A, TOWNSHIP_B, TOWNSHIP_C), ALL_MET))
    # Whatever the number of units: up to five periods tried, one read per kind of row, three upserts.
    with django_assert_max_num_queries(14):
        assessments_recompute(year=YEAR)
    with django_assert_max_num_queries(8):
        results = selectors.results_for(user=assessor, year=YEAR)
    assert len(results.ranked) == 3


def test_finalise_needs_every_manual_item_and_freezes_the_scores(assessments, assessor, county_admin):
    a = assessments[TOWNSHIP_A]
    with pytest.raises(RuleViolation, match=r"^还有30个人工评分项目未评分，不能定稿$"):
        assessment_finalise(assessment=a, by=assessor)
    for item in SchemeItem.objects.filter(scheme_id=a.scheme_id, method="manual"):
        ItemScore.objects.create(assessment=a, item=item, source="manual", points=item.points, note="满分",
                                 scored_by=assessor)  # fmt: skip
    make_snapshot(f"{YEAR}Q3-YTD", {TOWNSHIP_A: ALL_MET})
    a = assessment_finalise(assessment=a, by=assessor)
    assert (a.status, a.total) == ("final", Decimal("1000.00"))
    with pytest.raises(RuleViolation, match=r"^2026年平舒镇的考核已定稿，不能再修改$"):
        _manual(a, "pg.planning", "1", assessor)
    make_snapshot(f"{YEAR}Q3-YTD", {TOWNSHIP_A: {**ALL_MET, "policy_compliance_rate": "50"}})
    assert assessments_recompute(year=YEAR, area_codes=[TOWNSHIP_A]) == 0
    a.refresh_from_db()
    assert a.total == Decimal("1000.00") and not a.excluded


def test_a_per_case_claim_beyond_what_a_score_can_hold_is_refused_not_an_error(assessments, assessor):
    a = assessments[TOWNSHIP_A]
    with pytest.raises(RuleViolation, match=r"按所填例数计得150000分，超出可记录的分值，请核对例数$"):
        adjustment_claim(assessment=a, rule=_rule(a, "reported_out_of_policy_birth"), cases=10000,
                         unreported_cases=10000, note="多打了几个零", by=assessor)  # fmt: skip
    assert not Adjustment.objects.exists()
