"""The registry's REST API (DESIGN §8): area scope, masking, filters, writes through the services, errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from apps.areas.models import Area
from apps.registry.models import Birth, ContraceptiveUse, Person
from apps.registry.services import (
    ChildData,
    birth_record,
    contraception_record,
    death_record,
    household_create,
    marriage_record,
    move_record,
    permit_issue,
)
from tests.conftest import COUNTY, TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A, VILLAGE_B
from tests.registry.conftest import make_id_number

STALE = "该人员信息已被其他人修改，您的修改未保存。请刷新页面查看最新信息后重新修改。"
READ_ONLY = "您的角色只能查询，不能录入或修改人口信息"
PERSON_NOT_FOUND = "未找到该人员，或不在您的管辖范围内"
OUTSIDE_COUNTY = "110101001001"  # 北京市东城区: the far end of a move into the county


@dataclass
class Township:
    """One township's worth of registry data, every kind of record once, all entered through the services."""

    household: object
    wife: Person
    husband: Person
    child: Person
    elder: Person
    mover: Person
    marriage: object
    permit: object
    birth: Birth
    use: ContraceptiveUse
    death: object
    move: object

    def pk_of(self, endpoint: str) -> int:
        return {
            "persons": self.wife.pk,
            "households": self.household.pk,
            "births": self.birth.pk,
            "deaths": self.death.pk,
            "marriages": self.marriage.pk,
            "contraception": self.use.pk,
            "moves": self.move.pk,
            "permits": self.permit.pk,
        }[endpoint]


def _populate(make_person, *, village: str, township: str, tag: str) -> Township:
    area = Area.objects.get(code=village)
    household = household_create(number=f"{tag}-0001", village=area, by=None)
    wife = make_person(f"{tag}李梅", "F", date(1985, 3, 1), village=village, household=household, phone="13812345678")
    husband = make_person(f"{tag}王强", "M", date(1983, 6, 1), village=village, household=household)
    marriage = marriage_record(wife=wife, husband=husband, kind="marriage", on=date(2008, 5, 1), by=None)
    permit = permit_issue(
        number=f"{tag}-P-1",
        kind="service_certificate",
        wife=wife,
        husband=husband,
        issuing_township=Area.objects.get(code=township),
        child_order=1,
        issued_on=date(2009, 1, 1),
        valid_until=None,
        issued_by="",
        by=None,
    )
    birth = birth_record(
        mother=wife,
        on=date(2010, 6, 1),
        village=area,
        child_data=ChildData(f"{tag}小明", "M"),
        father=husband,
        permit=permit,
        by=None,
    )
    use = contraception_record(person=wife, method="iud", start=date(2010, 9, 1), by=None)
    elder = make_person(f"{tag}赵老汉", "M", date(1940, 2, 2), village=village)
    death = death_record(person=elder, on=date(2020, 1, 1), by=None)
    mover = make_person(f"{tag}孙燕", "F", date(1990, 7, 7), village=village)
    move = move_record(
        person=mover,
        kind="move_in",
        on=date(2015, 1, 1),
        origin_code=OUTSIDE_COUNTY,
        destination_code=village,
        by=None,
    )
    return Township(household, wife, husband, birth.child, elder, mover, marriage, permit, birth, use, death, move)


@pytest.fixture
def world(make_person):
    """Township A (平舒镇) and township B, each with five persons and one record of every kind."""
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


ENDPOINTS = ["persons", "households", "births", "deaths", "marriages", "contraception", "moves", "permits"]
PER_TOWNSHIP = {"persons": 5, "households": 1}


# --- scope ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_lists_hold_only_the_users_area(as_user, world, township_clerk, county_viewer, endpoint):
    own = PER_TOWNSHIP.get(endpoint, 1)
    response = as_user(township_clerk).get(f"/api/v1/{endpoint}/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == own
    assert all(row["village"] == VILLAGE_A for row in body["results"])

    county = as_user(county_viewer).get(f"/api/v1/{endpoint}/").json()
    assert county["count"] == 2 * own


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_record_in_another_township_is_a_404(as_user, world, township_clerk, county_viewer, endpoint):
    client = as_user(township_clerk)
    assert client.get(f"/api/v1/{endpoint}/{world['a'].pk_of(endpoint)}/").status_code == 200
    assert client.get(f"/api/v1/{endpoint}/{world['b'].pk_of(endpoint)}/").status_code == 404
    assert client.get(f"/api/v1/{endpoint}/99999999/").status_code == 404
    assert client.get(f"/api/v1/{endpoint}/99999999999999999999999/").status_code == 404
    assert client.get(f"/api/v1/{endpoint}/abc/").status_code == 404
    assert as_user(county_viewer).get(f"/api/v1/{endpoint}/{world['b'].pk_of(endpoint)}/").status_code == 200


def test_writes_on_a_record_in_another_township_are_a_404(as_user, world, township_clerk):
    client = as_user(township_clerk)
    b = world["b"]
    patch = client.patch(f"/api/v1/persons/{b.wife.pk}/", {"name": "改名", "version": b.wife.version}, format="json")
    assert patch.status_code == 404
    override = client.post(
        f"/api/v1/births/{b.birth.pk}/override-policy/",
        {"policy_status": "out_of_policy", "reason": "核查"},
        format="json",
    )
    assert override.status_code == 404
    end = client.post(f"/api/v1/contraception/{b.use.pk}/end/", {"end_date": "2012-01-01"}, format="json")
    assert end.status_code == 404
    b.wife.refresh_from_db()
    assert b.wife.name == "乙李梅"
    assert ContraceptiveUse.objects.get(pk=b.use.pk).end_date is None


def test_a_person_outside_the_area_named_in_a_payload_reads_as_not_found(as_user, world, township_clerk):
    client = as_user(township_clerk)
    outside = client.post("/api/v1/deaths/", {"person": world["b"].husband.pk, "date": "2021-01-01"}, format="json")
    assert outside.status_code == 400
    assert outside.json() == {"person": [PERSON_NOT_FOUND]}
    missing = client.post("/api/v1/deaths/", {"person": 99999999, "date": "2021-01-01"}, format="json")
    assert missing.json() == outside.json()  # the same answer: nothing leaks about the other township
    marriage = client.post(
        "/api/v1/marriages/",
        {"wife": world["a"].mover.pk, "husband": world["b"].husband.pk, "kind": "marriage", "date": "2020-01-01"},
        format="json",
    )
    assert marriage.json() == {"husband": ["未找到男方，或不在您的管辖范围内"]}
    assert Person.objects.get(pk=world["b"].husband.pk).death_date is None


def test_anonymous_requests_are_refused(api_client, world):
    assert api_client.get("/api/v1/persons/").status_code in (401, 403)
    assert api_client.post("/api/v1/persons/", {}, format="json").status_code in (401, 403)


# --- masking ----------------------------------------------------------------------------------------


def test_lists_mask_ids_and_phones_for_every_role(as_user, world, township_clerk):
    wife = world["a"].wife
    rows = as_user(township_clerk).get("/api/v1/persons/", {"q": wife.name}).json()["results"]
    assert len(rows) == 1
    assert rows[0]["id_number"] == wife.id_number[:6] + "********" + wife.id_number[-4:]
    assert rows[0]["phone"] == "138****5678"


def test_a_clerk_sees_the_full_numbers_on_a_detail_a_viewer_does_not(as_user, world, township_clerk, county_viewer):
    wife = world["a"].wife
    clerk = as_user(township_clerk).get(f"/api/v1/persons/{wife.pk}/").json()
    assert clerk["id_number"] == wife.id_number
    assert clerk["phone"] == "13812345678"
    assert clerk["sex_display"] == "女"
    assert clerk["hukou_type_display"] == "农业"
    assert clerk["marital_status_display"] == "已婚"
    assert clerk["village_name"] == "南潘庄村委会"
    assert clerk["household"] == {"id": world["a"].household.pk, "number": "甲-0001"}

    viewer = as_user(county_viewer).get(f"/api/v1/persons/{wife.pk}/").json()
    assert viewer["id_number"] == wife.id_number[:6] + "********" + wife.id_number[-4:]
    assert viewer["phone"] == "138****5678"


def test_related_persons_are_small_and_masked_even_on_a_detail(as_user, world, township_clerk):
    a = world["a"]
    birth = as_user(township_clerk).get(f"/api/v1/births/{a.birth.pk}/").json()
    assert birth["mother"] == {
        "id": a.wife.pk,
        "name": "甲李梅",
        "id_number": a.wife.id_number[:6] + "********" + a.wife.id_number[-4:],
    }
    assert birth["child"]["name"] == "甲小明"
    assert birth["child"]["id_number"] is None  # the child has no ID number yet
    assert birth["birth_order"] == 1
    assert birth["sex_display"] == "男"
    assert birth["policy_status"] == "in_policy"
    assert birth["policy_status_display"] == "政策内"
    assert birth["permit"] == {
        "id": a.permit.pk,
        "number": "甲-P-1",
        "kind": "service_certificate",
        "kind_display": "生育服务证",
        "child_order": 1,
    }


def test_event_labels(as_user, world, county_viewer):
    client = as_user(county_viewer)
    a = world["a"]
    use = client.get(f"/api/v1/contraception/{a.use.pk}/").json()
    assert (use["method_display"], use["long_acting"], use["in_use"]) == ("宫内节育器", True, True)
    move = client.get(f"/api/v1/moves/{a.move.pk}/").json()
    assert (move["kind_display"], move["origin_code"], move["destination_code"]) == ("迁入", OUTSIDE_COUNTY, VILLAGE_A)
    marriage = client.get(f"/api/v1/marriages/{a.marriage.pk}/").json()
    assert (marriage["kind_display"], marriage["wife"]["name"], marriage["husband"]["name"]) == (
        "结婚",
        "甲李梅",
        "甲王强",
    )
    death = client.get(f"/api/v1/deaths/{a.death.pk}/").json()
    assert (death["date"], death["person"]["name"]) == ("2020-01-01", "甲赵老汉")
    permit = client.get(f"/api/v1/permits/{a.permit.pk}/").json()
    assert (permit["issuing_township"], permit["issuing_township_name"]) == (TOWNSHIP_A, "平舒镇")
    household = client.get(f"/api/v1/households/{a.household.pk}/").json()
    assert household["member_count"] == 3
    assert sorted(m["name"] for m in household["members"]) == ["甲小明", "甲李梅", "甲王强"]


# --- filters ----------------------------------------------------------------------------------------


def _names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted(row["name"] for row in response.json()["results"])


def test_person_filters(as_user, world, county_viewer):
    client = as_user(county_viewer)
    url = "/api/v1/persons/"
    assert len(_names(client.get(url, {"village": VILLAGE_A}))) == 5
    assert len(_names(client.get(url, {"village": TOWNSHIP_B}))) == 5  # a township includes its villages
    assert len(_names(client.get(url, {"village": COUNTY}))) == 10
    assert _names(client.get(url, {"village": TOWNSHIP_A, "sex": "F"})) == ["甲孙燕", "甲李梅"]
    assert _names(client.get(url, {"village": VILLAGE_A, "born_before": "1983-06-01"})) == ["甲王强", "甲赵老汉"]
    assert _names(client.get(url, {"village": VILLAGE_A, "born_after": "2000-01-01"})) == ["甲小明"]
    assert _names(client.get(url, {"alive": "false"})) == ["乙赵老汉", "甲赵老汉"]
    assert len(_names(client.get(url, {"alive": "true"}))) == 8
    assert _names(client.get(url, {"hukou_type": "non_agricultural"})) == []
    assert _names(client.get(url, {"household": world["b"].household.pk})) == ["乙小明", "乙李梅", "乙王强"]

    wife = world["a"].wife
    assert _names(client.get(url, {"q": "甲李"})) == ["甲李梅"]
    assert "甲李梅" in _names(client.get(url, {"q": wife.id_number[:14]}))
    assert _names(client.get(url, {"q": "乙-0001"})) == ["乙小明", "乙李梅", "乙王强"]
    # A full ID number never goes into a URL: GET refuses it, POST /persons/search/ takes it.
    refused = client.get(url, {"q": wife.id_number})
    assert refused.status_code == 400
    assert "完整的身份证号不能放在网址中" in refused.json()["q"][0]
    full_width = wife.id_number.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    found = client.post(f"{url}search/", {"q": full_width}, format="json")
    assert found.status_code == 200
    assert [p["name"] for p in found.json()["results"]] == ["甲李梅"]
    assert found.json()["results"][0]["id_number"] == wife.id_number[:6] + "********" + wife.id_number[-4:]
    assert client.post(f"{url}search/", {}, format="json").status_code == 400


def test_event_filters(as_user, world, county_viewer):
    client = as_user(county_viewer)
    a = world["a"]

    def count(endpoint, **params):
        response = client.get(f"/api/v1/{endpoint}/", params)
        assert response.status_code == 200, response.content
        return response.json()["count"]

    assert count("births", village=TOWNSHIP_A) == 1
    assert count("births", policy_status="in_policy") == 2
    assert count("births", policy_status="out_of_policy") == 0
    assert count("births", birth_order=1) == 2
    assert count("births", birth_order=2) == 0
    assert count("births", date_after="2010-06-01", date_before="2010-06-01") == 2
    assert count("births", date_after="2010-06-02") == 0
    assert count("births", person=a.child.pk) == 1
    assert count("births", person=a.husband.pk) == 1
    assert count("births", mother=a.husband.pk) == 0
    assert count("deaths", date_before="2019-12-31") == 0
    assert count("deaths", person=a.elder.pk) == 1
    assert count("marriages", person=a.husband.pk, kind="marriage") == 1
    assert count("marriages", kind="divorce") == 0
    assert count("contraception", method="iud", in_use="true") == 2
    assert count("contraception", in_use="false") == 0
    assert count("contraception", started_after="2011-01-01") == 0
    assert count("moves", kind="move_in", person=a.mover.pk) == 1
    assert count("moves", kind="float_out") == 0
    assert count("permits", person=a.husband.pk, issued_before="2009-01-01") == 1
    assert count("households", number="甲-") == 1


def test_ordering(as_user, world, county_viewer):
    client = as_user(county_viewer)
    rows = client.get("/api/v1/persons/", {"village": VILLAGE_A, "ordering": "-birth_date"}).json()["results"]
    assert [r["name"] for r in rows] == ["甲小明", "甲孙燕", "甲李梅", "甲王强", "甲赵老汉"]
    assert client.get("/api/v1/persons/", {"ordering": "no_such_field"}).status_code == 200


@pytest.mark.parametrize(
    ("endpoint", "params", "field"),
    [
        ("persons", {"village": "13102"}, "village"),
        ("persons", {"village": "13102510020X"}, "village"),
        ("persons", {"sex": "X"}, "sex"),
        ("persons", {"alive": "maybe"}, "alive"),
        ("persons", {"born_after": "2020-13-01"}, "born_after"),
        ("persons", {"household": "abc"}, "household"),
        ("births", {"birth_order": "first"}, "birth_order"),
        ("births", {"policy_status": "legal"}, "policy_status"),
        ("births", {"date_before": "yesterday"}, "date_before"),
        ("births", {"person": "1.5"}, "person"),
        ("deaths", {"person": "99999999999999999999999"}, "person"),
        ("marriages", {"kind": "engagement"}, "kind"),
        ("contraception", {"in_use": "yes"}, "in_use"),
        ("moves", {"village": "x" * 500}, "village"),
        ("permits", {"issued_after": "2020/01/01x"}, "issued_after"),
    ],
)
def test_bad_filter_values_are_a_400_with_a_message(as_user, world, county_viewer, endpoint, params, field):
    response = as_user(county_viewer).get(f"/api/v1/{endpoint}/", params)
    assert response.status_code == 400
    body = response.json()
    assert list(body) == [field]
    assert body[field][0]  # a message, not an empty list


def test_a_bad_area_code_says_what_is_wrong(as_user, world, county_viewer):
    response = as_user(county_viewer).get("/api/v1/births/", {"village": "13102"})
    assert response.json() == {"village": ["区划代码应为12位数字"]}


# --- query counts -----------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_lists_and_details_do_not_query_per_row(
    as_user, world, make_person, county_viewer, django_assert_max_num_queries, endpoint
):
    _populate(make_person, village="131025100202", township=TOWNSHIP_A, tag="丙")  # more rows of each kind
    client = as_user(county_viewer)
    with django_assert_max_num_queries(2):  # the count and the page
        response = client.get(f"/api/v1/{endpoint}/")
    assert response.json()["count"] == 3 * PER_TOWNSHIP.get(endpoint, 1)
    with django_assert_max_num_queries(2):  # the record (and a household's members)
        assert client.get(f"/api/v1/{endpoint}/{world['a'].pk_of(endpoint)}/").status_code == 200


# --- writes -----------------------------------------------------------------------------------------


def _person_payload(**overrides) -> dict:
    payload = {
        "name": "周婷",
        "sex": "F",
        "birth_date": "1992-04-05",
        "hukou_type": "non_agricultural",
        "village": VILLAGE_A,
        "id_number": make_id_number(date(1992, 4, 5), "F"),
        "phone": "13900001111",
    }
    return {**payload, **overrides}


def test_create_a_person(as_user, world, township_clerk):
    payload = _person_payload(household=world["a"].household.pk, marital_status="unmarried")
    response = as_user(township_clerk).post("/api/v1/persons/", payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    person = Person.objects.get(pk=body["id"])
    assert (person.name, person.village_id, person.household_id) == ("周婷", VILLAGE_A, world["a"].household.pk)
    assert person.created_by == township_clerk
    assert body["id_number"] == payload["id_number"]  # a clerk's answer to a write is a single record: in full
    assert body["hukou_type_display"] == "非农业"
    assert body["version"] == 1


def test_create_a_person_reports_the_services_rules_beside_the_field(as_user, world, township_clerk):
    client = as_user(township_clerk)
    wrong_date = client.post("/api/v1/persons/", _person_payload(birth_date="1992-04-06"), format="json")
    assert wrong_date.status_code == 400
    assert wrong_date.json() == {"birth_date": ["出生日期1992-04-06与身份证号中的出生日期1992-04-05不一致"]}
    someone_elses = client.post("/api/v1/persons/", _person_payload(id_number=world["a"].wife.id_number), format="json")
    assert someone_elses.json() == {"birth_date": ["出生日期1992-04-05与身份证号中的出生日期1985-03-01不一致"]}
    dup = client.post(
        "/api/v1/persons/",
        _person_payload(id_number=world["b"].wife.id_number, birth_date="1985-03-01"),
        format="json",
    )
    assert dup.json() == {"id_number": ["该身份证号已登记在另一人名下"]}
    excel = client.post("/api/v1/persons/", _person_payload(id_number="1.30102E+17"), format="json")
    assert excel.json()["id_number"][0].startswith("身份证号被Excel转换成了科学计数法")
    other_village = client.post("/api/v1/persons/", _person_payload(village=VILLAGE_B), format="json")
    assert other_village.json() == {"village": ["未找到该村（居），或不在您的管辖范围内"]}
    township = client.post("/api/v1/persons/", _person_payload(village=TOWNSHIP_A), format="json")
    assert township.json() == {"village": ["现住址应选择到村（居）"]}
    assert not Person.objects.filter(name="周婷").exists()


def test_a_village_clerk_writes_only_in_own_village(as_user, world, make_user):
    clerk = make_user("clerk_v", VILLAGE_A, "village_clerk")
    client = as_user(clerk)
    assert client.post("/api/v1/persons/", _person_payload(), format="json").status_code == 201
    elsewhere = client.post("/api/v1/persons/", _person_payload(village="131025100202"), format="json")
    assert elsewhere.json() == {"village": ["未找到该村（居），或不在您的管辖范围内"]}


def test_patch_a_person_with_the_version_then_a_stale_version_is_refused(as_user, world, township_clerk):
    client = as_user(township_clerk)
    wife = world["a"].wife
    read = client.get(f"/api/v1/persons/{wife.pk}/").json()

    first = client.patch(
        f"/api/v1/persons/{wife.pk}/", {"phone": "13700002222", "version": read["version"]}, format="json"
    )
    assert first.status_code == 200, first.content
    assert first.json()["phone"] == "13700002222"
    assert first.json()["version"] == read["version"] + 1
    assert first.json()["name"] == "甲李梅"  # fields not sent are kept

    second = client.patch(f"/api/v1/persons/{wife.pk}/", {"name": "李美", "version": read["version"]}, format="json")
    assert second.status_code == 400
    assert second.json() == {"non_field_errors": [STALE]}
    wife.refresh_from_db()
    assert (wife.name, wife.phone) == ("甲李梅", "13700002222")

    no_version = client.patch(f"/api/v1/persons/{wife.pk}/", {"name": "李美"}, format="json")
    assert no_version.status_code == 400
    assert no_version.json() == {"version": ["该字段是必填项。"]}
    assert client.put(f"/api/v1/persons/{wife.pk}/", read, format="json").status_code == 405


def test_create_a_birth_computes_order_and_policy_status_like_the_service(as_user, make_person, township_clerk):
    mother = make_person("吴静", "F", date(1984, 8, 8), hukou="non_agricultural")
    client = as_user(township_clerk)

    def post(on: str, **extra):
        payload = {"mother": mother.pk, "date": on, "village": VILLAGE_A, "child_name": f"吴{on}", "child_sex": "F"}
        return client.post("/api/v1/births/", {**payload, **extra}, format="json")

    first = post("2012-03-01")
    assert first.status_code == 201, first.content
    assert (first.json()["birth_order"], first.json()["policy_status_display"]) == (1, "政策内")

    # 2014: the one-child rule for non-agricultural hukou, no permit: out of policy.
    second = post("2014-05-01", birth_order=1)
    body = second.json()
    assert (body["birth_order"], body["policy_status"], body["policy_status_display"]) == (2, "out_of_policy", "政策外")
    assert (body["birth_order_given"], body["has_order_warning"]) == (1, True)
    assert body["child"]["name"] == "吴2014-05-01"
    assert Person.objects.get(pk=body["child"]["id"]).household_id == mother.household_id

    # An earlier birth entered later re-ranks the mother's births (and their policy status) as the service does.
    earlier = post("2011-01-01")
    assert (earlier.json()["birth_order"], earlier.json()["policy_status"]) == (1, "in_policy")
    listed = client.get("/api/v1/births/", {"mother": mother.pk, "ordering": "date"}).json()["results"]
    assert [(b["date"], b["birth_order"], b["policy_status"]) for b in listed] == [
        ("2011-01-01", 1, "in_policy"),
        ("2012-03-01", 2, "out_of_policy"),
        ("2014-05-01", 3, "out_of_policy"),
    ]
    assert list(Birth.objects.filter(mother=mother).order_by("date").values_list("birth_order", flat=True)) == [1, 2, 3]


def test_birth_policy_given_and_overridden(as_user, make_person, township_clerk):
    mother = make_person("郑红", "F", date(1984, 8, 8), hukou="non_agricultural")
    client = as_user(township_clerk)
    base = {"mother": mother.pk, "village": VILLAGE_A, "child_name": "郑一", "child_sex": "M"}
    assert client.post("/api/v1/births/", {**base, "date": "2010-01-01"}, format="json").status_code == 201

    disagree = client.post(
        "/api/v1/births/",
        {**base, "child_name": "郑二", "date": "2013-01-01", "policy_status": "in_policy"},
        format="json",
    )
    assert disagree.status_code == 400
    assert disagree.json() == {
        "policy_status": ["填报的政策属性与按政策规则计算的结果（政策外）不一致，如需调整请填写原因"]
    }
    assert Birth.objects.filter(mother=mother).count() == 1  # nothing half-written

    second = client.post("/api/v1/births/", {**base, "child_name": "郑二", "date": "2013-01-01"}, format="json").json()
    url = f"/api/v1/births/{second['id']}/override-policy/"
    no_reason = client.post(url, {"policy_status": "in_policy"}, format="json")
    assert no_reason.json() == {"reason": ["调整政策属性必须填写原因"]}
    done = client.post(url, {"policy_status": "in_policy", "reason": "经县卫健局复核属再婚夫妻"}, format="json")
    assert done.status_code == 200
    body = done.json()
    assert (body["policy_status"], body["policy_status_computed"], body["policy_override_reason"]) == (
        "in_policy",
        "out_of_policy",
        "经县卫健局复核属再婚夫妻",
    )
    assert body["policy_status_computed_display"] == "政策外"
    assert client.get("/api/v1/births/", {"overridden": "true"}).json()["count"] == 1


def test_birth_child_errors_name_the_payloads_fields(as_user, make_person, township_clerk):
    mother = make_person("冯雪", "F", date(1988, 1, 1))
    client = as_user(township_clerk)
    base = {"mother": mother.pk, "date": "2020-02-02", "village": VILLAGE_A, "child_sex": "F"}
    number = make_id_number(date(2020, 2, 2), "F")
    wrong_check = number[:17] + ("0" if number[17] != "0" else "1")
    bad_id = client.post(
        "/api/v1/births/", {**base, "child_name": "冯一", "child_id_number": wrong_check}, format="json"
    )
    assert bad_id.status_code == 400
    assert bad_id.json() == {"child_id_number": ["身份证号校验位不正确，请核对是否录错"]}
    no_name = client.post("/api/v1/births/", {**base, "child_name": ""}, format="json")
    assert no_name.json() == {"child_name": ["姓名不能为空"]}
    no_sex = client.post("/api/v1/births/", {**base, "child_name": "冯一", "child_sex": ""}, format="json")
    assert no_sex.json() == {"child_sex": ["请选择婴儿性别（或用 child 指定已登记的人员）"]}
    father_is_mother = client.post(
        "/api/v1/births/", {**base, "child_name": "冯一", "father": mother.pk}, format="json"
    )
    assert father_is_mother.json() == {"father": ["父亲的性别登记为女"]}
    assert not Birth.objects.exists()


def test_events_through_the_api(as_user, world, township_clerk):
    client = as_user(township_clerk)
    a = world["a"]

    divorce = client.post(
        "/api/v1/marriages/",
        {"wife": a.wife.pk, "husband": a.husband.pk, "kind": "divorce", "date": "2021-03-03"},
        format="json",
    )
    assert divorce.status_code == 201, divorce.content
    assert divorce.json()["kind_display"] == "离婚"
    assert Person.objects.get(pk=a.wife.pk).marital_status == "divorced"

    pill = client.post(
        "/api/v1/contraception/", {"person": a.wife.pk, "method": "pill", "start_date": "2021-04-01"}, format="json"
    )
    assert pill.status_code == 201
    assert ContraceptiveUse.objects.get(pk=a.use.pk).end_date == date(2021, 4, 1)  # the IUD ends that day
    end_url = f"/api/v1/contraception/{pill.json()['id']}/end/"
    too_early = client.post(end_url, {"end_date": "2021-03-01"}, format="json")
    assert too_early.json() == {"end_date": ["结束日期不能早于开始日期"]}
    ended = client.post(end_url, {"end_date": "2021-06-30"}, format="json")
    assert (ended.status_code, ended.json()["end_date"], ended.json()["in_use"]) == (200, "2021-06-30", False)

    male_iud = client.post(
        "/api/v1/contraception/", {"person": a.husband.pk, "method": "iud", "start_date": "2021-04-01"}, format="json"
    )
    assert male_iud.json() == {"method": ["“宫内节育器”只适用于女性"]}

    move = client.post(
        "/api/v1/moves/",
        {
            "person": a.mover.pk,
            "kind": "move_in",
            "date": "2022-01-01",
            "origin_code": VILLAGE_A,
            "destination_code": "131025100202",
        },
        format="json",
    )
    assert move.status_code == 201, move.content
    assert Person.objects.get(pk=a.mover.pk).village_id == "131025100202"  # residence follows the move
    move_to_b = client.post(
        "/api/v1/moves/",
        {"person": a.husband.pk, "kind": "move_in", "date": "2022-01-01", "origin_code": VILLAGE_A,
         "destination_code": VILLAGE_B},
        format="json",
    )  # fmt: skip
    assert move_to_b.json() == {"destination_code": ["所选区划不在您的管辖范围内"]}

    before_birth = client.post("/api/v1/deaths/", {"person": a.child.pk, "date": "2009-01-01"}, format="json")
    assert before_birth.json() == {"date": ["死亡日期2009-01-01早于甲小明的出生日期2010-06-01"]}
    death = client.post("/api/v1/deaths/", {"person": a.husband.pk, "date": "2023-01-01"}, format="json")
    assert death.status_code == 201
    assert death.json()["person"]["name"] == "甲王强"
    again = client.post("/api/v1/deaths/", {"person": a.husband.pk, "date": "2023-01-02"}, format="json")
    assert again.json() == {"person": ["甲王强已登记死亡"]}

    household = client.post("/api/v1/households/", {"number": "甲-0002", "village": VILLAGE_A}, format="json")
    assert household.status_code == 201
    assert (household.json()["member_count"], household.json()["members"]) == (0, [])
    duplicate = client.post("/api/v1/households/", {"number": "甲-0002", "village": VILLAGE_A}, format="json")
    assert duplicate.json() == {"number": ["户编号甲-0002已存在"]}


def test_issuing_a_permit_recomputes_the_wifes_births(as_user, make_person, township_clerk):
    client = as_user(township_clerk)
    mother = make_person("陈静", "F", date(1984, 8, 8), hukou="non_agricultural")
    base = {"mother": mother.pk, "village": VILLAGE_A, "child_sex": "F"}
    client.post("/api/v1/births/", {**base, "child_name": "陈一", "date": "2010-01-01"}, format="json")
    second = client.post("/api/v1/births/", {**base, "child_name": "陈二", "date": "2013-01-01"}, format="json").json()
    assert second["policy_status"] == "out_of_policy"

    permit = client.post(
        "/api/v1/permits/",
        {
            "number": "平舒-2012-001",
            "kind": "second_birth_approval",
            "wife": mother.pk,
            "issuing_township": TOWNSHIP_A,
            "child_order": 2,
            "issued_on": "2012-06-01",
        },
        format="json",
    )
    assert permit.status_code == 201, permit.content
    assert permit.json()["kind_display"] == "再生育审批"
    assert client.get(f"/api/v1/births/{second['id']}/").json()["policy_status"] == "in_policy"
    village = client.post(
        "/api/v1/permits/",
        {"number": "x-1", "kind": "service_certificate", "wife": mother.pk, "issuing_township": VILLAGE_A,
         "issued_on": "2012-06-01"},
        format="json",
    )  # fmt: skip
    assert village.json() == {"issuing_township": ["发证单位应为乡镇（街道）"]}


# --- roles ------------------------------------------------------------------------------------------


def test_a_role_that_does_not_read_the_registry_gets_a_403_on_every_operation(as_user, world, make_user):
    """Assessors score townships by indicators and never read a person (the role matrix, apps.core.access)."""
    client = as_user(make_user("ro_assessor", COUNTY, "assessor"))
    a = world["a"]
    assert client.get("/api/v1/persons/").status_code == 403
    assert client.get(f"/api/v1/persons/{a.wife.pk}/").status_code == 403
    assert client.get(f"/api/v1/persons/{10**9}/").status_code == 403  # the same answer: nothing revealed
    assert client.post("/api/v1/persons/", _person_payload(), format="json").status_code == 403


@pytest.mark.parametrize("role", ["county_viewer", "fee_officer", "subsidy_reviewer"])
def test_read_only_roles_get_a_403_on_every_write(as_user, world, make_user, role):
    client = as_user(make_user(f"ro_{role}", COUNTY, role))
    a = world["a"]
    assert client.get("/api/v1/persons/").status_code == 200
    writes = [
        client.post("/api/v1/persons/", _person_payload(), format="json"),
        client.patch(f"/api/v1/persons/{a.wife.pk}/", {"name": "改", "version": 1}, format="json"),
        client.post("/api/v1/households/", {"number": "ro-1", "village": VILLAGE_A}, format="json"),
        client.post("/api/v1/deaths/", {"person": a.husband.pk, "date": "2023-01-01"}, format="json"),
        client.post(f"/api/v1/births/{a.birth.pk}/override-policy/", {"policy_status": "out_of_policy"}),
        client.post(f"/api/v1/contraception/{a.use.pk}/end/", {"end_date": "2021-01-01"}, format="json"),
    ]
    assert [w.status_code for w in writes] == [403] * len(writes)
    assert writes[0].json() == {"detail": READ_ONLY}
    assert not Person.objects.filter(name="周婷").exists()


def test_a_county_admin_may_write_anywhere_in_the_county(as_user, world, make_user):
    admin = make_user("admin", COUNTY, "county_admin")
    response = as_user(admin).post("/api/v1/persons/", _person_payload(village=VILLAGE_B), format="json")
    assert response.status_code == 201


# --- malformed input --------------------------------------------------------------------------------


def test_malformed_json_and_wrong_types_are_a_400(as_user, world, township_clerk):
    client = as_user(township_clerk)
    wife = world["a"].wife
    version = Person.objects.get(pk=wife.pk).version
    broken = client.generic("POST", "/api/v1/persons/", '{"name": "周婷", ', content_type="application/json")
    assert broken.status_code == 400
    assert client.post("/api/v1/persons/", [1, 2], format="json").status_code == 400
    assert client.post("/api/v1/persons/", "just a string", format="json").status_code == 400

    wrong = {
        "birth_date": ["yesterday", 19920405, None],
        "sex": ["female", 1],
        "village": ["131025100201000", "", None, ["x"]],
        "household": ["abc", 1.5, True, -1, 10**30],
    }
    for field, values in wrong.items():
        for value in values:
            response = client.post("/api/v1/persons/", _person_payload(**{field: value}), format="json")
            assert response.status_code == 400, (field, value, response.content)
            assert field in response.json(), (field, value)

    for value in ["abc", 1.5, True, None, 10**30, {"id": wife.pk}]:
        response = client.post("/api/v1/deaths/", {"person": value, "date": "2023-01-01"}, format="json")
        assert response.status_code == 400, (value, response.content)
    assert client.post("/api/v1/deaths/", {"person": wife.pk, "date": "2023-02-30"}, format="json").status_code == 400
    assert client.post("/api/v1/births/", {}, format="json").json()["mother"] == ["该字段是必填项。"]
    for bad_version in ["x", 0, 2**40, None]:
        patch = client.patch(f"/api/v1/persons/{wife.pk}/", {"version": bad_version}, format="json")
        assert patch.status_code == 400, (bad_version, patch.content)
    move = client.post(
        "/api/v1/moves/",
        {"person": wife.pk, "kind": "move_in", "date": "2022-01-01", "origin_code": "1", "destination_code": VILLAGE_A},
        format="json",
    )
    assert move.json() == {"origin_code": ["区划代码应为12位数字"]}
    wife.refresh_from_db()
    assert wife.death_date is None and wife.version == version


# --- schema -----------------------------------------------------------------------------------------


def test_the_openapi_schema_documents_the_registry(client, county_viewer):
    client.force_login(county_viewer)
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    for endpoint in ENDPOINTS:
        assert f"/api/v1/{endpoint}/" in paths
        assert f"/api/v1/{endpoint}/{{id}}/" in paths
    assert "post" in paths["/api/v1/births/{id}/override-policy/"]
    assert "post" in paths["/api/v1/contraception/{id}/end/"]
    assert "patch" in paths["/api/v1/persons/{id}/"]
    assert "put" not in paths["/api/v1/persons/{id}/"]
    alive = next(p for p in paths["/api/v1/persons/"]["get"]["parameters"] if p["name"] == "alive")
    assert alive["schema"]["type"] == "boolean"
