"""Pages, export and API of scoring: scoped (a township leader sees only its own unit; others are a 404),
bad input answered with a message, never a 500."""

from decimal import Decimal
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from apps.scoring.models import Adjustment, AdjustmentRule, Assessment, Contract, ItemScore, Pairing, SchemeItem
from apps.scoring.services import adjustment_claim, assessments_recompute
from tests.conftest import TOWNSHIP_A, TOWNSHIP_B
from tests.scoring.conftest import ALL_MET, TOWNSHIP_C, YEAR, make_snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored(assessments, areas):
    make_snapshot(f"{YEAR}Q3-YTD", {
        TOWNSHIP_A: ALL_MET,
        TOWNSHIP_B: {**ALL_MET, "policy_compliance_rate": "90"},
        TOWNSHIP_C: {**ALL_MET, "subsidy_payment_rate": "89"},
    })  # fmt: skip
    Pairing.objects.create(area=areas[TOWNSHIP_A], year=YEAR, kind="leader", name="县委副书记 王明")
    Pairing.objects.create(area=areas[TOWNSHIP_A], year=YEAR, kind="department", name="县卫生健康局")
    assessments_recompute(year=YEAR)
    return assessments


def test_county_results_table_ranks_and_lists_vetoed_units_apart(
    client, scored, assessor, django_assert_max_num_queries
):
    client.force_login(assessor)
    with django_assert_max_num_queries(14):
        body = client.get("/scoring/", {"year": YEAR}).content.decode()
    ranked, vetoed = body.split("一票否决单位（不参与排名）")
    assert ranked.index("平舒镇") < ranked.index("大尚屯镇") and "旺村镇" not in ranked
    assert "县级领导：县委副书记 王明" in ranked and "县直部门：县卫生健康局" in ranked
    assert "228.00" in ranked and "218.00" in ranked
    assert (
        "旺村镇" in vetoed
        and "一票否决：「基本人口指标（出生政策符合率控制在下达指标内）」未完成目标（实际90，目标≥95）" in vetoed
    )


def test_township_leader_sees_only_its_own_unit(client, scored, leader_a):
    client.force_login(leader_a)
    body = client.get("/scoring/").content.decode()
    assert "平舒镇" in body and "大尚屯镇" not in body and "旺村镇" not in body
    own = client.get(f"/scoring/assessments/{scored[TOWNSHIP_A].pk}/")
    assert own.status_code == 200
    assert "第1名" in own.content.decode() and "县委副书记 王明" in own.content.decode()
    assert client.get(f"/scoring/assessments/{scored[TOWNSHIP_B].pk}/").status_code == 404
    assert client.get(f"/api/v1/scoring/assessments/{scored[TOWNSHIP_B].pk}/").status_code == 404
    listed = client.get("/api/v1/scoring/assessments/", {"year": YEAR}).json()
    assert [r["area"] for r in listed["results"]] == [TOWNSHIP_A]


def test_breakdown_shows_how_each_item_was_scored(client, scored, assessor):
    client.force_login(assessor)
    body = client.get(f"/scoring/assessments/{scored[TOWNSHIP_C].pk}/").content.decode()
    assert "奖励扶助资金兑现率：实际89，目标≥98，未达标" in body
    assert "出生率 ≤ 11‰；自然增长率 ≤ 6.3‰；出生政策符合率 ≥ 95%" in body
    assert f"{YEAR}Q3-YTD" in body


def test_assessor_scores_a_manual_item_with_evidence_and_bad_input_changes_nothing(client, scored, assessor, settings,
                                                                                   tmp_path):  # fmt: skip
    settings.MEDIA_ROOT = tmp_path
    a = scored[TOWNSHIP_A]
    item = SchemeItem.objects.get(scheme_id=a.scheme_id, code="pg.planning")
    client.force_login(assessor)
    url = f"/scoring/assessments/{a.pk}/items/{item.pk}/"
    bad = client.post(url, {"points": "25", "note": "x"}, follow=True)
    assert "「统筹决策」未保存：「统筹决策」的得分应在0至20分之间" in bad.content.decode()
    assert not ItemScore.objects.filter(assessment=a, item=item).exists()
    evidence = SimpleUploadedFile("会议纪要.pdf", b"%PDF-1.4 minutes", content_type="application/pdf")
    ok = client.post(url, {"points": "18", "note": "召开专题会议两次", "evidence": evidence}, follow=True)
    assert "已保存「统筹决策」的得分" in ok.content.decode()
    score = ItemScore.objects.get(assessment=a, item=item)
    assert score.points == Decimal("18.00")
    a.refresh_from_db()
    assert a.total == Decimal("246.00")
    download = client.get(f"/scoring/evidence/scores/{score.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 minutes"


def test_a_township_assessor_is_offered_no_score_of_its_own_unit_and_cannot_post_one(client, scored, make_user):
    a = scored[TOWNSHIP_A]
    item = SchemeItem.objects.get(scheme_id=a.scheme_id, code="pg.planning")
    url = f"/scoring/assessments/{a.pk}/items/{item.pk}/"
    client.force_login(make_user("kaohe_a", TOWNSHIP_A, "assessor"))
    page = client.get(f"/scoring/assessments/{a.pk}/").content.decode()
    assert url not in page
    refused = client.post(url, {"points": "18", "note": "自评"}, follow=True)
    assert "考核评估员不能为本单位评分" in refused.content.decode()
    assert not ItemScore.objects.filter(assessment=a, item=item).exists()


def test_evidence_of_another_township_is_a_404(client, scored, assessor, leader_a, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    b = scored[TOWNSHIP_B]
    adj = adjustment_claim(assessment=b, rule=AdjustmentRule.objects.get(scheme_id=b.scheme_id, code="innovation"),
                           note="创新", evidence=SimpleUploadedFile("a.txt", b"x"), by=assessor)  # fmt: skip
    client.force_login(leader_a)
    assert client.get(f"/scoring/evidence/adjustments/{adj.pk}/").status_code == 404
    assert client.post(f"/scoring/adjustments/{adj.pk}/decide/", {"decision": "approve"}).status_code == 404


def test_claim_and_approval_through_the_pages(client, scored, assessor, county_admin):
    a = scored[TOWNSHIP_A]
    rule = AdjustmentRule.objects.get(scheme_id=a.scheme_id, code="reported_out_of_policy_birth")
    client.force_login(assessor)
    client.post(f"/scoring/assessments/{a.pk}/adjustments/",
                {"rule": rule.pk, "cases": "1", "unreported_cases": "1", "note": "举报两例，一例未上报"})  # fmt: skip
    adj = Adjustment.objects.get()
    assert adj.points == Decimal("15.00")
    own = client.post(f"/scoring/adjustments/{adj.pk}/decide/", {"decision": "approve"}, follow=True)
    assert "审核未完成：加减分须由申报人以外的人员审核" in own.content.decode()
    client.force_login(county_admin)
    client.post(f"/scoring/adjustments/{adj.pk}/decide/", {"decision": "approve"})
    a.refresh_from_db()
    assert (a.deduction_total, a.total) == (Decimal("15.00"), Decimal("213.00"))


def test_malformed_requests_get_messages_not_errors(client, scored, assessor):
    client.force_login(assessor)
    a = scored[TOWNSHIP_A]
    r = client.post(f"/scoring/assessments/{a.pk}/adjustments/", {"rule": "abc", "note": ""}, follow=True)
    assert r.status_code == 200 and "申报未提交" in r.content.decode()
    assert client.get("/scoring/", {"year": "x"}).status_code == 200
    assert client.get("/api/v1/scoring/assessments/", {"year": "abc"}).status_code == 400
    assert client.get("/scoring/assessments/999999/").status_code == 404


def test_excel_export(client, scored, assessor):
    client.force_login(assessor)
    response = client.get("/scoring/export/", {"year": YEAR})
    ws = load_workbook(BytesIO(response.content)).active
    rows = list(ws.iter_rows(min_row=4, values_only=True))  # under the title lines and the header
    assert [(r[0], r[1], r[9]) for r in rows] == [(1, "平舒镇", 228), (2, "大尚屯镇", 218), ("否决", "旺村镇", 108)]
    assert rows[0][12] == "县委副书记 王明、县卫生健康局"


def test_scheme_api_and_page(client, scored, leader_a):
    client.force_login(leader_a)
    schemes = client.get("/api/v1/scoring/schemes/").json()["results"]
    assert [(s["code"], s["version"], s["total_points"]) for s in schemes] == [("township-1000", 1, "1000.00")]
    assert len(schemes[0]["items"]) == 46 and len(schemes[0]["adjustments"]) == 8
    page = client.get(f"/scoring/schemes/{schemes[0]['id']}/").content.decode()
    assert "每例5分，未如实上报的×2" in page


def test_results_pages_are_for_readers(client, scored, make_user):
    clerk = make_user("fee", TOWNSHIP_A, "fee_officer")
    client.force_login(clerk)
    assert client.get("/scoring/").status_code == 403
    assert client.get("/api/v1/scoring/assessments/").status_code == 403  # the API keeps the pages' rule
    assert client.get(f"/api/v1/scoring/assessments/{scored[TOWNSHIP_A].pk}/").status_code == 403
    assert Assessment.objects.count() == 3


def test_assessor_rescores_from_the_latest_snapshot_through_the_page(client, scored, assessor, leader_a):
    make_snapshot(f"{YEAR}Q3-YTD", {TOWNSHIP_A: {**ALL_MET, "subsidy_payment_rate": "89"}})
    client.force_login(leader_a)
    assert client.post(f"/scoring/recompute/?year={YEAR}").status_code == 403
    client.force_login(assessor)
    response = client.post(f"/scoring/recompute/?year={YEAR}", follow=True)
    assert "已按最新指标快照重新计算3个单位的得分" in response.content.decode()
    assert Assessment.objects.get(area_id=TOWNSHIP_A, year=YEAR).total == Decimal("218.00")


def test_admin_pages_of_scoring_configuration(client, scored, make_user):
    admin_user = make_user("root", "131025000000", "county_admin", is_staff=True)
    admin_user.is_superuser = True
    admin_user.save(update_fields=["is_superuser"])
    client.force_login(admin_user)
    scheme_id = scored[TOWNSHIP_A].scheme_id
    contract = Contract.objects.get(area_id=TOWNSHIP_A, year=YEAR)
    for path in ["/admin/scoring/scheme/", f"/admin/scoring/scheme/{scheme_id}/change/", "/admin/scoring/contract/",
                 f"/admin/scoring/contract/{contract.pk}/change/", "/admin/scoring/gradeband/",
                 "/admin/scoring/resultrules/", "/admin/scoring/pairing/"]:  # fmt: skip
        assert client.get(path).status_code == 200, path
