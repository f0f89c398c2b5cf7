"""fees/cases and fees/payments (DESIGN §8): scope, writes through the services, 400/403/404 never 500."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.fees.models import FeeCase, Payment
from tests.conftest import TOWNSHIP_B

D = Decimal


@pytest.fixture
def officer_api(api_client, fee_officer):
    api_client.force_authenticate(fee_officer)
    return api_client


def _open_and_decide(api, birth) -> dict:
    # a paper case of 2013 entered now: its own date is before the fee's end
    response = api.post("/api/v1/fees/cases/", {"birth": birth.pk, "opened_on": "2013-01-05"}, format="json")
    assert response.status_code == 201, response.json()
    case = response.json()
    assert (case["state"], case["range_min"], case["range_max"]) == ("draft", "13000.00", "24243.00")
    assert case["mother"]["id_number"].count("*") == 8  # masked in the API
    decision = {
        "decision_number": "平抚决1号",
        "decided_on": "2013-01-10",
        "amount": "13000.00",
        "due_on": "2013-02-10",
    }
    response = api.post(f"/api/v1/fees/cases/{case['id']}/decide/", decision, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def test_the_workflow_through_the_api(officer_api, make_birth):
    case = _open_and_decide(officer_api, make_birth())
    assert (case["state"], case["decided_amount"]) == ("decided", "13000.00")
    plan = officer_api.post(
        f"/api/v1/fees/cases/{case['id']}/instalments/",
        {"application_received_on": "2013-01-20", "application_number": "申1", "approval_number": "批1",
         "months": 2, "first_due_on": "2013-02-28"},
        format="json",
    )  # fmt: skip
    assert plan.status_code == 201
    assert [d["amount"] for d in plan.json()["dues"]] == ["6500.00", "6500.00"]
    for receipt in ("No.1", "No.2"):
        paid = officer_api.post(
            "/api/v1/fees/payments/",
            {"case": case["id"], "receipt_number": receipt, "amount": "6500.00", "paid_on": "2013-02-28",
             "method": "cash"},
            format="json",
        )  # fmt: skip
        assert paid.status_code == 201, paid.json()
    assert officer_api.get(f"/api/v1/fees/cases/{case['id']}/").json()["state"] == "paid"
    listed = officer_api.get("/api/v1/fees/payments/", {"case": case["id"]}).json()
    assert [(p["receipt_number"], p["amount"]) for p in listed["results"]] == [("No.1", "6500.00"), ("No.2", "6500.00")]


def test_rule_violations_are_400_with_the_message(officer_api, make_birth):
    case = _open_and_decide(officer_api, make_birth())
    response = officer_api.post(
        "/api/v1/fees/payments/",
        {"case": case["id"], "receipt_number": "No.1", "amount": "13000.01", "paid_on": "2013-01-15", "method": "cash"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"amount": ["缴款金额13,000.01元超过尚欠金额13,000.00元，不能超额收款"]}
    for bad in ({"amount": "abc"}, {"amount": "1.001"}, {"paid_on": "yesterday"}, {"method": "gold"}, {"case": "x"}):
        payload = {"case": case["id"], "receipt_number": "No.9", "amount": "1.00", "paid_on": "2013-01-15",
                   "method": "cash", **bad}  # fmt: skip
        assert officer_api.post("/api/v1/fees/payments/", payload, format="json").status_code == 400
    assert officer_api.post("/api/v1/fees/cases/", {"birth": 10**20}, format="json").status_code == 400
    assert Payment.objects.count() == 0


def test_another_township_sees_nothing(officer_api, make_birth, fee_officer_b, api_client):
    case = _open_and_decide(officer_api, make_birth())
    api_client.force_authenticate(fee_officer_b)
    assert api_client.get(f"/api/v1/fees/cases/{case['id']}/").status_code == 404
    assert api_client.get("/api/v1/fees/cases/").json()["count"] == 0
    payload = {
        "case": case["id"],
        "receipt_number": "No.1",
        "amount": "1.00",
        "paid_on": "2013-01-15",
        "method": "cash",
    }
    response = api_client.post("/api/v1/fees/payments/", payload, format="json")
    assert response.status_code == 400 and response.json() == {"case": ["未找到该案件，或不在您的管辖范围内"]}


def test_after_the_end_the_api_opens_decides_and_collects_nothing(officer_api, make_birth):
    birth = make_birth()
    response = officer_api.post("/api/v1/fees/cases/", {"birth": birth.pk}, format="json")  # opened today
    assert response.status_code == 400
    assert "社会抚养费已于2021年7月20日停止征收" in response.json()["birth"][0]
    response = officer_api.post("/api/v1/fees/cases/", {"birth": birth.pk, "opened_on": "2021-07-21"}, format="json")
    assert response.status_code == 400 and "立案日期（2021年7月21日）在停征之后" in response.json()["opened_on"][0]
    assert FeeCase.objects.count() == 0
    case = officer_api.post("/api/v1/fees/cases/", {"birth": birth.pk, "opened_on": "2021-07-20"}, format="json")
    assert case.status_code == 201
    decision = {
        "decision_number": "平抚决2号",
        "decided_on": "2021-08-01",
        "amount": "13000.00",
        "due_on": "2021-09-01",
    }
    response = officer_api.post(f"/api/v1/fees/cases/{case.json()['id']}/decide/", decision, format="json")
    assert response.status_code == 400 and "决定日期（2021年8月1日）在停征之后" in response.json()["decided_on"][0]
    decision.update(decided_on="2021-07-20", due_on="2021-08-20")
    response = officer_api.post(f"/api/v1/fees/cases/{case.json()['id']}/decide/", decision, format="json")
    assert response.status_code == 200
    payment = {"case": case.json()["id"], "receipt_number": "No.1", "amount": "100.00", "paid_on": "2021-07-21",
               "method": "cash"}  # fmt: skip
    response = officer_api.post("/api/v1/fees/payments/", payment, format="json")
    assert response.status_code == 400 and "缴款日期（2021年7月21日）在停征之后" in response.json()["paid_on"][0]
    assert Payment.objects.count() == 0


@pytest.mark.usefixtures("fee_in_force")  # a transfer is dated today
def test_transfer_through_the_api_and_roles_refused(officer_api, make_birth, make_user, api_client):
    case = _open_and_decide(officer_api, make_birth())
    response = officer_api.post(
        f"/api/v1/fees/cases/{case['id']}/transfer/",
        {"to_township": TOWNSHIP_B, "reason": "户籍在旺村镇"},
        format="json",
    )
    assert response.status_code == 201 and response.json()["share_percent"] == "10.00"
    assert FeeCase.objects.get(pk=case["id"]).home_township_id == TOWNSHIP_B
    leader = make_user("leader", "131025000000", "county_viewer")
    api_client.force_authenticate(leader)
    response = api_client.post(f"/api/v1/fees/cases/{case['id']}/withdraw/", {"reason": "x"}, format="json")
    assert response.status_code == 403
