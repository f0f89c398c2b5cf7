"""API and pages: area-scoped (another township's roster is a 404), masked, bounded query counts."""

from __future__ import annotations

from datetime import date

import pytest

from apps.subsidies.selectors import subsidy_payment_by_village
from apps.subsidies.services import bank_account_save, rosters_generate
from tests.conftest import TOWNSHIP_B, VILLAGE_B
from tests.subsidies.conftest import card_number, roster_of


@pytest.fixture
def two_townships(make_family, programme, users):
    a = make_family(surname="杨", father=date(1960, 1, 1), mother=date(1961, 1, 1), children=[("M", date(1990, 1, 1))])
    for i in range(3):
        make_family(
            surname=f"何{i}", father=date(1955, 1, 1), mother=date(1956, 1, 1), children=[("F", date(1985, 1, 1))]
        )
    make_family(
        surname="吕",
        father=date(1960, 1, 1),
        mother=date(1961, 1, 1),
        children=[("M", date(1990, 1, 1))],
        village=VILLAGE_B,
    )
    bank_account_save(person=a.father, kind="card", bank_name="农村信用社", account_number=card_number(), by=None)
    rosters_generate(programme=programme("rural_reward"), period="2025", by=users["admin"])
    return a


def test_programmes_api_lists_the_fixture_programmes_with_conditions_in_chinese(api_client, users, programme):
    api_client.force_authenticate(users["village"])
    response = api_client.get("/api/v1/subsidies/programmes/")
    assert response.status_code == 200
    by_code = {p["code"]: p for p in response.json()["results"]}
    assert set(by_code) == {"rural_reward", "special_assistance", "only_child_parents", "childcare"}
    rule = by_code["childcare"]["rules"][0]
    assert (rule["amount"], rule["valid_from"], rule["conditions"]) == (
        "300.00", "2025-01-01", ["未满3周岁", "健在"],
    )  # fmt: skip
    assert [r["amount"] for r in by_code["special_assistance"]["rules"]] == ["7080.00", "5520.00"]


def test_rosters_api_is_scoped_to_the_township_and_masks_ids(
    api_client, users, two_townships, django_assert_max_num_queries
):
    mine, other = roster_of("rural_reward", "2025"), roster_of("rural_reward", "2025", TOWNSHIP_B)
    api_client.force_authenticate(users["reviewer"])
    with django_assert_max_num_queries(8):
        response = api_client.get("/api/v1/subsidies/rosters/", {"period": "2025"})
    assert [(r["township"], r["beneficiaries"], r["amount_due"]) for r in response.json()["results"]] == [
        (mine.township_id, 8, "7680.00")
    ]
    assert api_client.get(f"/api/v1/subsidies/rosters/{other.pk}/").status_code == 404
    entries = api_client.get(f"/api/v1/subsidies/rosters/{mine.pk}/entries/").json()["results"]
    father = next(e for e in entries if e["name"] == "杨父")
    assert father["id_number"] == two_townships.father.masked_id_number
    assert father["reasons"][:3] == ["农业户籍", "配偶为农业户籍（或无配偶）", "年满60周岁"]

    # Workflow through the API: a reviewer cannot review a draft; bad input is a 400, never a 500.
    response = api_client.post(f"/api/v1/subsidies/rosters/{mine.pk}/review/", {"comment": "同意"}, format="json")
    assert response.status_code == 400
    assert "不能审核" in response.json()["non_field_errors"][0]
    assert (
        api_client.post(
            f"/api/v1/subsidies/rosters/{mine.pk}/review/", {"comment": "x" * 600}, format="json"
        ).status_code
        == 400
    )
    assert api_client.get("/api/v1/subsidies/batches/").json()["count"] == 0


def test_roster_page_shows_reasons_masked_accounts_and_bounded_queries(
    client, users, two_townships, django_assert_max_num_queries
):
    roster = roster_of("rural_reward", "2025")
    client.force_login(users["village"])
    with django_assert_max_num_queries(16):
        response = client.get(f"/subsidies/rosters/{roster.pk}/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "年满60周岁" in text and "本村上报" in text
    account = card_number()
    assert account not in text and (account[:4] + "*" * 11 + account[-4:]) in text
    other = roster_of("rural_reward", "2025", TOWNSHIP_B)
    assert client.get(f"/subsidies/rosters/{other.pk}/").status_code == 404

    # The public notice masks ID numbers whoever prints it.
    notice = client.get(f"/subsidies/rosters/{roster.pk}/notice/").content.decode()
    assert two_townships.father.masked_id_number in notice and two_townships.father.id_number not in notice


def test_bank_account_form_shows_the_luhn_error_in_chinese(client, users, two_townships):
    roster = roster_of("rural_reward", "2025")
    entry = roster.entries.get(person=two_townships.mother)
    client.force_login(users["village"])
    good = card_number("62170")
    response = client.post(
        f"/subsidies/rosters/{roster.pk}/entries/{entry.pk}/account/",
        {"kind": "card", "bank_name": "建设银行", "account_number": good[:-1] + str((int(good[-1]) + 3) % 10)},
    )
    assert response.status_code == 200
    assert "银行卡号校验位不正确，请核对是否录错" in response.content.decode()
    response = client.post(
        f"/subsidies/rosters/{roster.pk}/entries/{entry.pk}/account/",
        {"kind": "card", "bank_name": "建设银行", "account_number": good},
    )
    assert response.status_code == 302
    assert two_townships.mother.bank_accounts.get(is_active=True).account_number == good


def test_payment_source_is_empty_without_approved_rosters(two_townships):
    assert subsidy_payment_by_village(start=date(2025, 1, 1), end=date(2025, 12, 31)) == []
