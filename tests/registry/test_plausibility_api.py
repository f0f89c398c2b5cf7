"""Plausibility rules through the REST API: a refusal is a 400 on the field concerned; a held entry is a 400
with code ``needs_confirmation`` until the client sends ``confirmed: true``."""

from __future__ import annotations

from datetime import date

import pytest

from apps.registry.models import Birth, ContraceptiveUse, Death, Marriage, Move
from apps.registry.services import marriage_record, move_record
from tests.conftest import TOWNSHIP_A, VILLAGE_A

OUTSIDE = "110101001001"


@pytest.fixture
def client(api_client, township_clerk):
    api_client.force_authenticate(township_clerk)
    return api_client


def _held(response, warning: str):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "needs_confirmation"
    assert warning in body["confirmed"][0]
    assert "确认录入" in body["confirmed"][0]


def test_a_birth_to_a_16_year_old_mother_needs_confirmation(client, make_person):
    mother = make_person("甲", "F", date(2000, 1, 1))
    payload = {"mother": mother.pk, "date": "2016-06-01", "village": VILLAGE_A, "child_name": "小明", "child_sex": "M"}
    _held(client.post("/api/v1/births/", payload, format="json"), "母亲生育时年龄为16岁，低于合理范围（18岁）")
    assert not Birth.objects.exists()
    _held(client.post("/api/v1/births/", {**payload, "confirmed": False}, format="json"), "16岁")
    done = client.post("/api/v1/births/", {**payload, "confirmed": True}, format="json")
    assert done.status_code == 201, done.content
    assert Birth.objects.get().mother == mother


def test_a_birth_to_an_11_year_old_mother_is_refused_even_confirmed(client, make_person):
    mother = make_person("甲", "F", date(2005, 1, 1))
    payload = {"mother": mother.pk, "date": "2016-06-01", "village": VILLAGE_A, "child_name": "小明",
               "child_sex": "M", "confirmed": True}  # fmt: skip
    response = client.post("/api/v1/births/", payload, format="json")
    assert response.status_code == 400
    assert response.json() == {"mother": ["母亲生育时年龄为11岁，低于合理范围（14岁）"]}
    assert not Birth.objects.exists()


def test_a_marriage_at_16_and_a_repeated_marriage_are_refused(client, make_person, couple):
    girl = make_person("甲", "F", date(2000, 1, 1))
    man = make_person("乙", "M", date(1990, 1, 1))
    response = client.post(
        "/api/v1/marriages/", {"wife": girl.pk, "husband": man.pk, "kind": "marriage", "date": "2016-06-01"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json() == {"wife": ["女方登记结婚时年龄为16岁，未满18周岁，不能登记结婚"]}

    wife, husband = couple
    marriage_record(wife=wife, husband=husband, kind="marriage", on=date(2010, 1, 1), by=None)
    response = client.post(
        "/api/v1/marriages/", {"wife": wife.pk, "husband": husband.pk, "kind": "marriage", "date": "2009-01-01"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json() == {"kind": ["这两人已登记结婚（2010-01-01），其间没有离婚登记，不能重复登记结婚"]}
    assert Marriage.objects.count() == 1


def test_a_move_to_a_village_code_that_does_not_exist_is_refused(client, make_person):
    person = make_person("甲", "F", date(1985, 1, 1))
    payload = {"person": person.pk, "kind": "move_out", "date": "2015-01-01", "origin_code": VILLAGE_A,
               "destination_code": "131025100999"}  # fmt: skip
    response = client.post("/api/v1/moves/", payload, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "destination_code": ["现区划代码131025100999既不是本县的村（居），也不是有效的外县区划代码"]
    }
    assert not Move.objects.exists()
    assert client.post("/api/v1/moves/", {**payload, "destination_code": OUTSIDE}, format="json").status_code == 201


def test_events_after_departure_need_confirmation(client, make_person):
    person = make_person("甲", "F", date(1960, 1, 1))
    move_record(person=person, kind="move_out", on=date(2015, 1, 1), origin_code=VILLAGE_A,
                destination_code=OUTSIDE, by=None)  # fmt: skip
    warning = "该人员已于2015-01-01迁出本县，此后的登记需核实"
    use = {"person": person.pk, "method": "iud", "start_date": "2016-01-01"}
    _held(client.post("/api/v1/contraception/", use, format="json"), warning)
    assert client.post("/api/v1/contraception/", {**use, "confirmed": True}, format="json").status_code == 201
    assert ContraceptiveUse.objects.count() == 1

    permit = {"number": "P-1", "kind": "service_certificate", "wife": person.pk, "issuing_township": TOWNSHIP_A,
              "issued_on": "2016-03-01"}  # fmt: skip
    _held(client.post("/api/v1/permits/", permit, format="json"), "女方已于2015-01-01迁出本县")
    assert client.post("/api/v1/permits/", {**permit, "confirmed": True}, format="json").status_code == 201

    death = {"person": person.pk, "date": "2020-01-01"}
    _held(client.post("/api/v1/deaths/", death, format="json"), warning)
    assert client.post("/api/v1/deaths/", {**death, "confirmed": True}, format="json").status_code == 201
    assert Death.objects.get().person == person
