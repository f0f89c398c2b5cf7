"""Across area lines: a marriage or birth joining persons of two townships (or someone from outside the county),
recorded by the clerk of one party; moves whose ends are picked by name; codes shown with their names."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse
from pghistory.models import Events

from apps.registry.models import Birth, Marriage, Move, Person
from apps.registry.selectors import persons_resident_at, persons_visible_to
from apps.registry.services import PARTY_NOT_MATCHED, PartyIdentity, party_resolve
from tests.conftest import COUNTY, TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A, VILLAGE_B
from tests.registry.conftest import make_id_number

OTHER_COUNTY = "110101001001"  # 北京市东城区
VILLAGE_B_LABEL = "旺村镇 罗村委会（131025101201）"


def url(name, *args):
    return reverse(f"registry:{name}", args=args)


@pytest.fixture
def people(make_person, make_user, township_clerk):
    wife = make_person("李梅", "F", date(1995, 3, 1), VILLAGE_A, marital_status="unmarried")
    husband = make_person("王强", "M", date(1993, 6, 1), VILLAGE_B, marital_status="unmarried", phone="13812345678")
    clerk_b = make_user("clerk_b", TOWNSHIP_B, "township_clerk")
    return {"wife": wife, "husband": husband, "clerk_a": township_clerk, "clerk_b": clerk_b}


def _person_row(person: Person) -> dict:
    row = Person.objects.filter(pk=person.pk).values().get()
    for volatile in ("marital_status", "version", "updated_at"):
        row.pop(volatile)
    return row


def test_marriage_across_two_townships_recorded_by_one_clerk(client, people):
    wife, husband = people["wife"], people["husband"]
    before = _person_row(husband)
    client.force_login(people["clerk_a"])
    response = client.post(
        url("marriage_create", wife.pk),
        {"kind": "marriage", "other_id_number": husband.id_number, "other_name": "王强", "date": "2020-05-20"},
        follow=True,
    )
    assert response.redirect_chain == [(url("person_detail", wife.pk), 302)]
    page = response.content.decode()
    assert "已登记结婚：李梅与王强" in page

    marriage = Marriage.objects.get()
    assert (marriage.wife, marriage.husband, marriage.village_id) == (wife, husband, VILLAGE_A)
    husband.refresh_from_db()
    assert husband.marital_status == "married"  # the other party changes only through the event
    assert _person_row(husband) == before  # nothing else of theirs
    wife.refresh_from_db()
    assert wife.marital_status == "married"

    # The audit trail names both areas, on the marriage and on the other party's changed status.
    (event,) = Events.objects.tracks(marriage).filter(pgh_label="insert")
    assert event.pgh_context["areas"] == [VILLAGE_A, VILLAGE_B]
    assert event.pgh_context["user"] == people["clerk_a"].pk
    status_change = Events.objects.tracks(husband).filter(pgh_label="update").latest("pgh_id")
    assert status_change.pgh_context["areas"] == [VILLAGE_A, VILLAGE_B]

    # The wife's page shows the husband masked: he lives outside the clerk's area.
    assert "结婚（对方：王*（本县其他辖区））" in page
    assert "王强" not in page.split('data-testid="timeline"')[1].split("</table>")[0]
    # The husband's own page stays out of the clerk's reach; his clerk sees the marriage with the full name.
    assert client.get(url("person_detail", husband.pk)).status_code == 404
    client.force_login(people["clerk_b"])
    page_b = client.get(url("person_detail", husband.pk)).content.decode()
    assert "结婚（对方：李*（本县其他辖区））" in page_b
    assert "已婚" in page_b


def test_a_mismatched_name_gives_the_same_message_as_an_unknown_id_number(client, people):
    wife, husband = people["wife"], people["husband"]
    client.force_login(people["clerk_a"])
    path = url("marriage_create", wife.pk)
    unknown = make_id_number(date(1990, 2, 2), "M")
    answers = []
    for number, name in ((unknown, "王强"), (husband.id_number, "王刚")):
        response = client.post(
            path, {"kind": "marriage", "other_id_number": number, "other_name": name, "date": "2020-05-20"}
        )
        assert response.status_code == 200
        answers.append(response.context["form"].errors)
        page = response.content.decode()
        assert "王强" not in page.replace('value="王强"', "")  # only what the clerk typed comes back
        assert "1993-06-01" not in page and "罗村" not in page
    assert answers[0] == answers[1] == {"other_id_number": [PARTY_NOT_MATCHED]}
    assert PARTY_NOT_MATCHED == "未能按身份证号和姓名找到该人员；如为县外人员，请勾选“县外人员”并填写户籍地"
    assert not Marriage.objects.exists()
    husband.refresh_from_db()
    assert husband.marital_status == "unmarried"


def test_the_other_partys_dates_are_not_revealed(people):
    wife, husband = people["wife"], people["husband"]
    husband_identity = PartyIdentity(id_number=husband.id_number, name="王强")
    other = party_resolve(identity=husband_identity, sex="M", village=wife.village, by=people["clerk_a"], field="h")
    assert other == husband
    from apps.core.errors import RuleViolation
    from apps.registry.services import marriage_record

    with pytest.raises(RuleViolation) as exc:
        marriage_record(wife=wife, husband=husband, kind="marriage", on=date(1993, 1, 1), by=people["clerk_a"])
    assert "王强" not in exc.value.message and "1993-06-01" not in exc.value.message


def test_a_spouse_from_outside_the_county_is_a_minimal_external_record(client, people, areas):
    wife = people["wife"]
    client.force_login(people["clerk_a"])
    path = url("marriage_create", wife.pk)
    number = make_id_number(date(1992, 8, 8), "M", region="110101")
    post = {"kind": "marriage", "other_id_number": number, "other_name": "陈东", "date": "2021-01-10"}
    response = client.post(path, post)
    assert response.context["form"].errors == {"other_id_number": [PARTY_NOT_MATCHED]}

    response = client.post(path, {**post, "other_is_external": "on", "other_hukou_place_code": "131025101201"})
    assert response.context["form"].errors == {
        "other_hukou_place_code": ["该户籍地区划代码属于本县；本县人员请不要勾选“县外人员”"]
    }
    assert not Person.objects.filter(name="陈东").exists()

    response = client.post(
        path, {**post, "other_is_external": "on", "other_hukou_place_code": OTHER_COUNTY}, follow=True
    )
    assert "已登记结婚：李梅与陈东" in response.content.decode()
    external = Person.objects.get(name="陈东")
    assert (external.is_external, external.sex, external.birth_date, external.id_number) == (
        True,
        "M",
        date(1992, 8, 8),
        number,
    )
    assert (external.hukou_place_code, external.village_id, external.marital_status) == (
        OTHER_COUNTY,
        VILLAGE_A,  # the recording party's village: in the recording clerk's area
        "married",
    )
    (event,) = Events.objects.tracks(Marriage.objects.get()).filter(pgh_label="insert")
    assert event.pgh_context["areas"] == [VILLAGE_A, OTHER_COUNTY]

    # Not county population, and not in the other township's lists.
    assert external not in persons_resident_at(area_code=COUNTY, on=date(2022, 1, 1))
    assert not persons_visible_to(user=people["clerk_b"]).filter(pk=external.pk).exists()
    assert client.get(url("person_export")).status_code == 200
    page = client.get(url("person_detail", external.pk)).content.decode()
    assert 'data-testid="person-external"' in page
    assert "110101001001（县外）" in page  # the hukou place with what it is
    wife_page = client.get(url("person_detail", wife.pk)).content.decode()
    assert "结婚（对方：陈*（县外人员））" in wife_page

    # The same person married again later is found by ID number and name, not created twice.
    again = party_resolve(
        identity=PartyIdentity(id_number=number, name="陈东", is_external=True, hukou_place_code=OTHER_COUNTY),
        sex="M",
        village=wife.village,
        by=people["clerk_a"],
        field="husband",
    )
    assert again == external and Person.objects.filter(name="陈东").count() == 1


def test_a_birth_with_a_father_in_another_township(client, people, make_person):
    wife, husband = people["wife"], people["husband"]
    client.force_login(people["clerk_a"])
    post = {
        "child_name": "王小宝",
        "child_sex": "M",
        "child_id_number": "",
        "date": "2022-04-01",
        "village": VILLAGE_A,
        "father_id_number": husband.id_number,
        "father_name": "王强",
        "permit": "",
        "birth_order_given": "",
        "policy_status": "",
        "override_reason": "",
    }
    before = _person_row(husband)
    response = client.post(url("birth_create", wife.pk), post, follow=True)
    assert "已登记出生：王小宝，第1孩" in response.content.decode()
    birth = Birth.objects.get()
    assert (birth.mother, birth.father, birth.village_id, birth.child.village_id) == (
        wife,
        husband,
        VILLAGE_A,
        VILLAGE_A,
    )
    assert _person_row(husband) == before
    (event,) = Events.objects.tracks(birth).filter(pgh_label="insert")
    assert event.pgh_context["areas"] == [VILLAGE_A, VILLAGE_B]
    page = response.content.decode()
    assert '<td data-testid="birth-other-parent">王*（本县其他辖区）</td>' in page

    # The father's clerk sees the birth on his page, the mother and the child (of township A) masked.
    client.force_login(people["clerk_b"])
    page_b = client.get(url("person_detail", husband.pk)).content.decode()
    assert "王小宝" not in page_b and "李梅" not in page_b
    assert "王**（本县其他辖区）" in page_b
    assert '<td data-testid="birth-other-parent">李*（本县其他辖区）</td>' in page_b
    client.force_login(people["clerk_a"])

    # A wrong name links nobody and says only what the other mismatch says.
    response = client.post(url("birth_create", wife.pk), {**post, "child_name": "王小二", "father_name": "王刚"})
    assert response.context["form"].errors == {"father_id_number": [PARTY_NOT_MATCHED]}
    assert Birth.objects.count() == 1


def test_move_destination_picked_by_name_and_shown_with_names(client, people):
    wife = people["wife"]
    client.force_login(people["clerk_a"])
    path = url("move_create", wife.pk)
    page = client.get(path).content.decode()
    assert f'<option value="{VILLAGE_B}">{VILLAGE_B_LABEL}</option>' in page
    assert '<option value="outside">' in page
    post = {"kind": "move_out", "date": "2021-03-01", "origin": VILLAGE_A, "destination": "131025101000"}
    response = client.post(path, post)
    assert "destination" in response.context["form"].errors  # a township is not a village of the picker
    response = client.post(path, {**post, "destination": "outside", "destination_other_code": VILLAGE_B})
    assert response.context["form"].errors == {
        "destination_other_code": ["该代码属于本县，请在列表中按名称选择村（居）"]
    }
    response = client.post(path, {**post, "destination": VILLAGE_B})
    assert response.status_code == 302
    move = Move.objects.get(person=wife)
    assert (move.origin_code, move.destination_code, move.village_id) == (VILLAGE_A, VILLAGE_B, VILLAGE_A)
    # The person now lives in township B: her page is the other clerk's.
    client.force_login(people["clerk_b"])
    page = client.get(url("person_detail", wife.pk)).content.decode()
    assert f"迁出：平舒镇 南潘庄村委会（{VILLAGE_A}） → {VILLAGE_B_LABEL}" in page


def test_stale_floating_codes_shown_with_names_on_the_quality_page(client, people):
    from apps.registry.services import move_record

    move_record(person=people["wife"], kind="float_out", on=date(2020, 1, 1), origin_code=VILLAGE_A,
                destination_code=OTHER_COUNTY, by=None)  # fmt: skip
    client.force_login(people["clerk_a"])
    page = client.get(url("quality")).content.decode()
    assert f"平舒镇 南潘庄村委会（{VILLAGE_A}）" in page
    assert f"{OTHER_COUNTY}（县外）" in page


def test_api_marriage_across_areas_and_hukou_place(api_client, people):
    wife, husband = people["wife"], people["husband"]
    api_client.force_authenticate(people["clerk_a"])
    wrong = api_client.post(
        "/api/v1/marriages/",
        {"wife": wife.pk, "husband_identity": {"id_number": husband.id_number, "name": "王刚"},
         "kind": "marriage", "date": "2020-05-20"},
        format="json",
    )  # fmt: skip
    assert wrong.status_code == 400
    assert wrong.json() == {"husband_identity": [PARTY_NOT_MATCHED]}
    response = api_client.post(
        "/api/v1/marriages/",
        {"wife": wife.pk, "husband_identity": {"id_number": husband.id_number, "name": "王强"},
         "kind": "marriage", "date": "2020-05-20"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    assert response.json()["husband"]["name"] == "王强"
    assert "*" in response.json()["husband"]["id_number"]
    husband.refresh_from_db()
    assert husband.marital_status == "married"
    both = api_client.post(
        "/api/v1/marriages/", {"wife": wife.pk, "husband": husband.pk, "kind": "divorce", "date": "2021-01-01"}
    )
    assert both.status_code == 400  # a pk outside the area is still "not found"

    created = api_client.post(
        "/api/v1/persons/",
        {"name": "周红", "sex": "F", "birth_date": "1990-01-01", "hukou_type": "agricultural", "village": VILLAGE_A,
         "hukou_place_code": "1101"},
        format="json",
    )  # fmt: skip
    assert created.json() == {"hukou_place_code": ["户籍地区划代码应为12位数字"]}
    created = api_client.post(
        "/api/v1/persons/",
        {"name": "周红", "sex": "F", "birth_date": "1990-01-01", "hukou_type": "agricultural", "village": VILLAGE_A,
         "hukou_place_code": OTHER_COUNTY},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201
    assert (created.json()["hukou_place_code"], created.json()["is_external"]) == (OTHER_COUNTY, False)


def test_persons_form_takes_the_hukou_place(client, people):
    wife = people["wife"]
    client.force_login(people["clerk_a"])
    form = client.get(url("person_edit", wife.pk)).context["form"]
    post = {k: ("" if v is None else v) for k, v in form.initial.items()}
    post["birth_date"] = "1995-03-01"
    post["hukou_place_code"] = "12345"
    response = client.post(url("person_edit", wife.pk), post)
    assert response.context["form"].errors == {"hukou_place_code": ["户籍地区划代码应为12位数字"]}
    post["hukou_place_code"] = OTHER_COUNTY
    response = client.post(url("person_edit", wife.pk), post, follow=True)
    wife.refresh_from_db()
    assert wife.hukou_place_code == OTHER_COUNTY
    assert f"{OTHER_COUNTY}（县外）" in response.content.decode()
    assert TOWNSHIP_A  # the clerk of township A kept the person in scope
