"""Corrections (PATCH) and voids (POST …/void/) of every event through the API: scope, roles, reasons,
versions, the cascade, and voided events listed only on request."""

from __future__ import annotations

from datetime import date

import pytest

from apps.registry.models import Birth, ContraceptiveUse, Death, Marriage, Move, Person
from apps.registry.services import ChildData, birth_record
from tests.conftest import COUNTY, TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A, VILLAGE_B
from tests.registry.test_api import _populate

VILLAGE_A2 = "131025100202"
EVENTS = ["births", "deaths", "marriages", "contraception", "moves", "permits"]


@pytest.fixture
def world(make_person):
    return {
        "a": _populate(make_person, village=VILLAGE_A, township=TOWNSHIP_A, tag="甲"),
        "b": _populate(make_person, village=VILLAGE_B, township=TOWNSHIP_B, tag="乙"),
    }


@pytest.fixture
def as_user(api_client):
    def login(user):
        api_client.force_authenticate(user)
        return api_client

    return login


def _read(client, endpoint, pk):
    response = client.get(f"/api/v1/{endpoint}/{pk}/")
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize("endpoint", EVENTS)
def test_void_an_event_keeps_it_out_of_lists_unless_asked(as_user, world, township_clerk, endpoint):
    client = as_user(township_clerk)
    pk = world["a"].pk_of(endpoint)
    response = client.post(f"/api/v1/{endpoint}/{pk}/void/", {"reason": "重复录入"}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["void_reason"] == "重复录入" and body["voided_at"] and body["voided_by"] == township_clerk.pk

    assert client.get(f"/api/v1/{endpoint}/").json()["count"] == 0
    assert client.get(f"/api/v1/{endpoint}/{pk}/").status_code == 404
    listed = client.get(f"/api/v1/{endpoint}/?include_voided=true").json()
    assert [(row["id"], row["void_reason"]) for row in listed["results"]] == [(pk, "重复录入")]
    assert client.get(f"/api/v1/{endpoint}/{pk}/?include_voided=true").status_code == 200
    assert client.get(f"/api/v1/{endpoint}/?include_voided=maybe").status_code == 400
    # Voided once is final; there is no DELETE.
    assert client.post(f"/api/v1/{endpoint}/{pk}/void/", {"reason": "再次"}, format="json").status_code == 404
    assert client.delete(f"/api/v1/{endpoint}/{pk}/").status_code == 405


@pytest.mark.parametrize("endpoint", EVENTS)
def test_another_townships_event_is_a_404_and_stays(as_user, world, township_clerk, endpoint):
    client = as_user(township_clerk)
    pk = world["b"].pk_of(endpoint)
    void = client.post(f"/api/v1/{endpoint}/{pk}/void/", {"reason": "作废"}, format="json")
    patch = client.patch(
        f"/api/v1/{endpoint}/{pk}/", {"reason": "更正", "version": "2020-01-01T00:00:00Z"}, format="json"
    )
    assert (void.status_code, patch.status_code) == (404, 404)
    model = {"births": Birth, "deaths": Death, "marriages": Marriage, "contraception": ContraceptiveUse, "moves": Move}
    if endpoint in model:
        assert model[endpoint].objects.filter(pk=pk).exists()


@pytest.mark.parametrize("role", ["county_viewer", "fee_officer"])
def test_read_only_roles_cannot_correct_or_void(as_user, world, make_user, role):
    client = as_user(make_user(f"ro_{role}", COUNTY, role))
    a = world["a"]
    assert client.post(f"/api/v1/births/{a.birth.pk}/void/", {"reason": "x"}, format="json").status_code == 403
    assert client.patch(f"/api/v1/deaths/{a.death.pk}/", {"reason": "x"}, format="json").status_code == 403
    assert Birth.objects.filter(pk=a.birth.pk).exists()


def test_a_reason_is_required(as_user, world, township_clerk):
    client = as_user(township_clerk)
    a = world["a"]
    void = client.post(f"/api/v1/deaths/{a.death.pk}/void/", {"reason": "  "}, format="json")
    assert void.status_code == 400 and "reason" in void.json()
    version = _read(client, "deaths", a.death.pk)["updated_at"]
    patch = client.patch(f"/api/v1/deaths/{a.death.pk}/", {"date": "2020-02-01", "version": version}, format="json")
    assert patch.status_code == 400 and "reason" in patch.json()
    assert Person.objects.get(pk=a.elder.pk).death_date == date(2020, 1, 1)


def test_patch_a_birth_date_recomputes_order_and_a_stale_version_is_refused(as_user, world, township_clerk):
    client = as_user(township_clerk)
    a = world["a"]
    later = birth_record(
        mother=a.wife, on=date(2012, 3, 1), village=a.birth.village, child_data=ChildData("甲小二", "F"), by=None
    )
    read = _read(client, "births", a.birth.pk)
    response = client.patch(
        f"/api/v1/births/{a.birth.pk}/",
        {"date": "2013-06-01", "reason": "出生日期录错", "version": read["updated_at"]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["date"], response.json()["birth_order"]) == ("2013-06-01", 2)
    assert Birth.objects.get(pk=later.pk).birth_order == 1
    assert Person.objects.get(pk=a.child.pk).birth_date == date(2013, 6, 1)

    stale = client.patch(
        f"/api/v1/births/{a.birth.pk}/",
        {"sex": "F", "reason": "性别录错", "version": read["updated_at"]},
        format="json",
    )
    assert stale.status_code == 400
    assert stale.json() == {
        "non_field_errors": ["该记录已被其他人修改，您的更正未保存。请刷新页面查看最新信息后重新更正。"]
    }
    bad = client.patch(
        f"/api/v1/births/{a.birth.pk}/",
        {"date": "2999-01-01", "reason": "x", "version": response.json()["updated_at"]},
        format="json",
    )
    assert bad.status_code == 400 and bad.json() == {"date": ["出生日期不能晚于今天"]}


def test_patch_a_move_and_a_death_and_void_the_death(as_user, world, township_clerk):
    client = as_user(township_clerk)
    a = world["a"]
    move = _read(client, "moves", a.move.pk)
    response = client.patch(
        f"/api/v1/moves/{a.move.pk}/",
        {"destination_code": VILLAGE_A2, "reason": "迁入村录错", "version": move["updated_at"]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert Person.objects.get(pk=a.mover.pk).village_id == VILLAGE_A2

    death = _read(client, "deaths", a.death.pk)
    response = client.patch(
        f"/api/v1/deaths/{a.death.pk}/",
        {"date": "2019-12-01", "reason": "日期录错", "version": death["updated_at"]},
        format="json",
    )
    assert response.status_code == 200
    assert Person.objects.get(pk=a.elder.pk).death_date == date(2019, 12, 1)
    assert client.post(f"/api/v1/deaths/{a.death.pk}/void/", {"reason": "误报"}, format="json").status_code == 200
    assert Person.objects.get(pk=a.elder.pk).death_date is None


def test_malformed_corrections_are_a_400(as_user, world, township_clerk):
    client = as_user(township_clerk)
    a = world["a"]
    for payload in ({"reason": "x", "version": "yesterday"}, {"reason": "x"}, {"reason": ["x"], "version": 5}):
        assert client.patch(f"/api/v1/marriages/{a.marriage.pk}/", payload, format="json").status_code == 400
    version = _read(client, "contraception", a.use.pk)["updated_at"]
    wrong = client.patch(
        f"/api/v1/contraception/{a.use.pk}/",
        {"end_date": "2009-01-01", "reason": "x", "version": version},
        format="json",
    )
    assert wrong.status_code == 400 and wrong.json() == {"end_date": ["结束日期不能早于开始日期"]}


def test_a_patch_held_by_a_plausibility_rule_needs_confirmed(as_user, world, township_clerk):
    client = as_user(township_clerk)
    a = world["a"]
    read = _read(client, "births", a.birth.pk)
    held = client.patch(
        f"/api/v1/births/{a.birth.pk}/",
        {"date": "2000-06-01", "reason": "出生日期录错", "version": read["updated_at"]},
        format="json",
    )  # the mother, born 1985-03-01, would have been 15
    assert held.status_code == 400 and held.json()["code"] == "needs_confirmation"
    assert Birth.objects.get(pk=a.birth.pk).date == a.birth.date
    confirmed = client.patch(
        f"/api/v1/births/{a.birth.pk}/",
        {"date": "2000-06-01", "reason": "出生日期录错", "version": read["updated_at"], "confirmed": True},
        format="json",
    )
    assert confirmed.status_code == 200 and confirmed.json()["date"] == "2000-06-01"
