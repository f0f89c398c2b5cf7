"""The registry's browser pages through the Django test client: scoping, masking, forms, the version check."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from django.utils import timezone

from apps.areas.models import Area
from apps.core.idnumbers import check_digit
from apps.registry.forms import HOUSEHOLD_NOT_IN_AREA
from apps.registry.models import Birth, ContraceptiveUse, Household, Marriage, Move, Person
from apps.registry.services import (
    PARTY_NOT_MATCHED,
    ChildData,
    PersonData,
    birth_record,
    contraception_record,
    household_create,
    move_record,
    person_create,
    person_update,
)
from tests.conftest import COUNTY, TOWNSHIP_B, VILLAGE_A, VILLAGE_B

_serial = itertools.count(1)


def id_number(born: date, sex: str) -> str:
    """A valid resident ID number of the demo county for this birth date and sex."""
    n = next(_serial)
    first17 = f"131025{born:%Y%m%d}{n % 100:02d}{(n % 5) * 2 + (1 if sex == 'M' else 0)}"
    return first17 + check_digit(first17)


def new_person(name, sex, born, village=VILLAGE_A, *, household=None, with_id=True, hukou="agricultural"):
    data = PersonData(
        name=name,
        sex=sex,
        birth_date=born,
        hukou_type=hukou,
        village=Area.objects.get(code=village),
        id_number=id_number(born, sex) if with_id else None,
        household=household,
        phone="13812345678",
    )
    return person_create(data=data, by=None)


def url(name, *args):
    from django.urls import reverse

    return reverse(f"registry:{name}", args=args)


@pytest.fixture
def world(areas, make_user, township_clerk, county_viewer):
    """Township A's clerk and a village clerk, a clerk of township B, a county viewer; in village A a mother
    (agricultural hukou) with a first child born 2012, and a man; in village B a man."""
    household = household_create(number="131025100201-0001", village=areas[VILLAGE_A], by=None)
    mother = new_person("李梅", "F", date(1988, 3, 1), household=household)
    father = new_person("王强", "M", date(1986, 6, 1), household=household)
    outsider = new_person("赵六", "M", date(1985, 1, 9), VILLAGE_B)
    first = birth_record(
        mother=mother, on=date(2012, 5, 1), village=areas[VILLAGE_A], child_data=ChildData("王大", "M"), by=None
    )
    mother.refresh_from_db()
    return {
        "township_clerk": township_clerk,
        "village_clerk": make_user("vclerk", VILLAGE_A, "village_clerk"),
        "clerk_b": make_user("clerk_b", TOWNSHIP_B, "township_clerk"),
        "viewer": county_viewer,
        "household": household,
        "mother": mother,
        "father": father,
        "outsider": outsider,
        "first_birth": first,
    }


def birth_post(**overrides):
    data = {
        "child_name": "王小二",
        "child_sex": "F",
        "child_id_number": "",
        "date": "2017-06-01",
        "village": VILLAGE_A,
        "father_id_number": "",
        "permit": "",
        "birth_order_given": "",
        "policy_status": "",
        "override_reason": "",
    }
    return {**data, **overrides}


def person_post(person: Person | None = None, **overrides):
    data = {
        "name": "孙丽",
        "id_number": "",
        "sex": "F",
        "birth_date": "1995-02-03",
        "ethnicity": "汉族",
        "hukou_type": "agricultural",
        "employment_type": "farmer",
        "village": VILLAGE_A,
        "household_number": "",
        "relation_to_head": "",
        "marital_status": "unmarried",
        "phone": "",
    }
    if person is not None:
        data.update(
            name=person.name,
            id_number=person.id_number or "",
            sex=person.sex,
            birth_date=f"{person.birth_date:%Y-%m-%d}",
            hukou_type=person.hukou_type,
            village=person.village_id,
            household_number=person.household.number if person.household else "",
            marital_status=person.marital_status,
            phone=person.phone,
            version=person.version,
        )
    return {**data, **overrides}


# --- search ----------------------------------------------------------------------------------------


def test_search_by_name_shows_masked_ids_and_links_by_pk(client, world):
    mother = world["mother"]
    client.force_login(world["township_clerk"])
    response = client.post(url("person_search"), {"q": "李"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "李梅" in page
    assert mother.masked_id_number in page and mother.id_number not in page
    assert f'href="/registry/persons/{mother.pk}/"' in page
    assert "南潘庄村委会" in page and "131025100201-0001" in page and "在世" in page


def test_search_by_id_number_or_household_number_stays_in_the_users_area(client, world):
    client.force_login(world["township_clerk"])
    by_id = client.post(url("person_search"), {"q": world["mother"].id_number}).content.decode()
    assert "李梅" in by_id and "共 1 人" in by_id
    by_household = client.post(url("person_search"), {"q": "131025100201-0001"}).content.decode()
    assert "李梅" in by_household and "王强" in by_household
    outside = client.post(url("person_search"), {"q": world["outsider"].id_number}).content.decode()
    assert "赵六" not in outside and "在您的管辖范围内没有找到" in outside
    assert "赵六" not in client.post(url("person_search"), {"q": "赵"}).content.decode()


def test_htmx_search_answers_only_the_results_table(client, world):
    client.force_login(world["village_clerk"])
    response = client.post(url("person_search"), {"q": "李梅"}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert response.templates[0].name == "registry/_person_results.html"
    assert "<html" not in page and '<nav class="navbar' not in page
    assert 'data-testid="person-row"' in page and "李梅" in page
    assert "HX-Request" in response["Vary"]


def test_search_results_are_paginated_by_50_without_the_query_in_generated_links(
    client, world, django_assert_max_num_queries
):
    for i in range(51):
        new_person(f"孙{i:02d}", "M", date(1990, 1, 1) + timedelta(days=i), with_id=i % 2 == 0)
    client.force_login(world["township_clerk"])
    with django_assert_max_num_queries(8):
        first = client.post(url("person_search"), {"q": "孙"}, HTTP_HX_REQUEST="true").content.decode()
    assert first.count('data-testid="person-row"') == 50
    assert "共 51 人" in first and "第 1 / 2 页" in first
    assert "q=" not in first  # the next page re-sends the search box's value (hx-include), not a built URL
    assert 'hx-include="#id_q"' in first
    second = client.post(url("person_search"), {"q": "孙", "page": "2"}, HTTP_HX_REQUEST="true").content.decode()
    assert second.count('data-testid="person-row"') == 1


def test_search_page_without_a_query_asks_for_one(client, world):
    client.force_login(world["viewer"])
    page = client.get(url("person_search")).content.decode()
    assert "请输入身份证号、姓名或户编号查询。" in page
    assert "新增人员" not in page


def test_anonymous_users_are_sent_to_the_login_page(client, world):
    response = client.get(url("person_detail", world["mother"].pk))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# --- person page -----------------------------------------------------------------------------------


def test_persons_and_households_outside_the_area_are_404(client, world):
    client.force_login(world["clerk_b"])
    mother, household = world["mother"], world["household"]
    for path in (
        url("person_detail", mother.pk),
        url("person_edit", mother.pk),
        url("birth_create", mother.pk),
        url("death_create", mother.pk),
        url("birth_policy_override", world["first_birth"].pk),
        url("household_detail", household.pk),
    ):
        assert client.get(path).status_code == 404, path
    assert client.get(url("person_detail", world["outsider"].pk)).status_code == 200


def test_full_id_number_and_phone_only_for_roles_that_need_them(client, world):
    mother = world["mother"]
    client.force_login(world["village_clerk"])
    page = client.get(url("person_detail", mother.pk)).content.decode()
    assert mother.id_number in page and "13812345678" in page
    assert f'href="{url("birth_create", mother.pk)}"' in page

    client.force_login(world["viewer"])
    page = client.get(url("person_detail", mother.pk)).content.decode()
    assert mother.id_number not in page and mother.masked_id_number in page
    assert "138****5678" in page and "13812345678" not in page
    assert f'href="{url("birth_create", mother.pk)}"' not in page
    assert f'href="{url("person_edit", mother.pk)}"' not in page


def test_person_page_shows_the_timeline_births_and_audit_history(client, world):
    client.force_login(world["township_clerk"])
    page = client.get(url("person_detail", world["mother"].pk)).content.decode()
    assert "出生于1988年03月01日" in page
    assert "生育第1孩 王大（男），政策内" in page
    assert '<span data-testid="birth-order">第1孩</span>' in page
    assert 'data-testid="policy-status"' in page and ">政策内</span>" in page
    assert 'data-testid="audit-history"' in page and "新建" in page


def test_roles_that_only_read_get_403_on_every_form(client, world):
    mother, first = world["mother"], world["first_birth"]
    use = contraception_record(person=mother, method="iud", start=date(2013, 1, 1), by=None)
    client.force_login(world["viewer"])
    for path in (
        url("person_create"),
        url("person_edit", mother.pk),
        url("birth_create", mother.pk),
        url("death_create", mother.pk),
        url("marriage_create", mother.pk),
        url("contraception_create", mother.pk),
        url("contraception_end", use.pk),
        url("move_create", mother.pk),
        url("birth_policy_override", first.pk),
    ):
        assert client.get(path).status_code == 403, path
        assert client.post(path, {}).status_code == 403, path
    assert Birth.objects.count() == 1


# --- births ----------------------------------------------------------------------------------------


def test_recording_a_second_child_in_2017_computes_order_and_policy(client, world):
    mother = world["mother"]
    client.force_login(world["village_clerk"])
    form = client.get(url("birth_create", mother.pk))
    assert form.context["form"]["village"].value() == VILLAGE_A  # the mother's village by default
    assert list(form.context["form"].fields["village"].queryset.values_list("code", flat=True)) == [VILLAGE_A]

    response = client.post(
        url("birth_create", mother.pk),
        birth_post(father_id_number=world["father"].id_number, father_name="王强"),
        follow=True,
    )
    assert response.redirect_chain == [(url("person_detail", mother.pk), 302)]
    page = response.content.decode()
    assert "已登记出生：王小二，第2孩，政策内" in page
    birth = Birth.objects.get(child__name="王小二")
    assert (birth.birth_order, birth.policy_status, birth.father, birth.village_id) == (
        2,
        "in_policy",
        world["father"],
        VILLAGE_A,
    )
    assert '<span data-testid="birth-order">第2孩</span>' in page


def test_a_father_elsewhere_is_linked_only_by_id_number_and_name(client, world):
    client.force_login(world["village_clerk"])
    path = url("birth_create", world["mother"].pk)
    response = client.post(path, birth_post(father_id_number=world["outsider"].id_number))
    assert response.context["form"].errors == {"father_name": ["请填写姓名（与证件上的一致）"]}
    response = client.post(path, birth_post(father_id_number=world["outsider"].id_number, father_name="赵五"))
    assert response.status_code == 200
    assert response.context["form"].errors == {"father_id_number": [PARTY_NOT_MATCHED]}
    assert "赵六" not in response.content.decode()
    assert 'data-testid="error-father_id_number"' in response.content.decode()
    assert Birth.objects.count() == 1


def test_a_mistyped_father_id_number_says_what_is_wrong(client, world):
    number = world["father"].id_number
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    client.force_login(world["village_clerk"])
    response = client.post(url("birth_create", world["mother"].pk), birth_post(father_id_number=wrong))
    assert response.context["form"].errors == {"father_id_number": ["身份证号校验位不正确，请核对是否录错"]}


def test_service_rules_are_shown_beside_the_field(client, world):
    client.force_login(world["village_clerk"])
    response = client.post(url("birth_create", world["mother"].pk), birth_post(date="1980-01-01"))
    assert response.context["form"].errors == {"date": ["出生日期1980-01-01早于李梅的出生日期1988-03-01"]}
    assert "出生日期1980-01-01早于李梅的出生日期1988-03-01" in response.content.decode()

    response = client.post(url("birth_create", world["mother"].pk), birth_post(policy_status="out_of_policy"))
    assert response.context["form"].errors == {
        "policy_status": ["填报的政策属性与按政策规则计算的结果（政策内）不一致，如需调整请填写原因"]
    }
    assert Birth.objects.count() == 1 and not Person.objects.filter(name="王小二").exists()


def test_a_village_clerk_cannot_place_a_birth_in_another_village(client, world):
    client.force_login(world["village_clerk"])
    response = client.post(url("birth_create", world["mother"].pk), birth_post(village="131025100202"))
    assert response.context["form"].errors == {"village": ["所选村（居）不在您的管辖范围内"]}


def test_a_given_birth_order_that_disagrees_is_kept_with_a_warning(client, world):
    client.force_login(world["township_clerk"])
    response = client.post(url("birth_create", world["mother"].pk), birth_post(birth_order_given="1"), follow=True)
    page = response.content.decode()
    assert "填报孩次（第1孩）与按登记记录计算的孩次（第2孩）不一致，请核对该母亲的生育记录" in page
    assert "填报为第1孩，与计算结果不一致" in page


def test_policy_override_needs_a_reason_and_is_shown(client, world):
    first = world["first_birth"]
    client.force_login(world["township_clerk"])
    path = url("birth_policy_override", first.pk)
    response = client.post(path, {"policy_status": "out_of_policy", "reason": ""})
    assert response.context["form"].errors == {"reason": ["调整政策属性必须填写原因"]}

    response = client.post(path, {"policy_status": "out_of_policy", "reason": "经乡镇核实为违法生育"}, follow=True)
    page = response.content.decode()
    assert "已将王大的政策属性调整为政策外" in page
    assert "已人工调整（按规则为政策内），原因：经乡镇核实为违法生育" in page
    first.refresh_from_db()
    assert (first.policy_status, first.policy_override_reason) == ("out_of_policy", "经乡镇核实为违法生育")


# --- persons ---------------------------------------------------------------------------------------


def test_adding_a_person_with_a_new_household(client, world):
    client.force_login(world["village_clerk"])
    number = id_number(date(1995, 2, 3), "F")
    response = client.post(
        url("person_create"),
        person_post(
            id_number=number, household_number="131025100201-0099", new_household="on", relation_to_head="户主"
        ),
        follow=True,
    )
    person = Person.objects.get(id_number=number)
    assert response.redirect_chain == [(url("person_detail", person.pk), 302)]
    assert "已新增人员：孙丽" in response.content.decode()
    assert person.household.number == "131025100201-0099" and person.household.village_id == VILLAGE_A


def test_adding_a_person_refuses_a_bad_id_number_and_an_unknown_household(client, world):
    client.force_login(world["village_clerk"])
    response = client.post(url("person_create"), person_post(id_number="13102519950203001"))
    assert response.context["form"].errors == {
        "id_number": ["身份证号只有17位，缺少最后一位（可能被Excel截断或录入时漏掉）"]
    }
    response = client.post(url("person_create"), person_post(household_number="NO-SUCH"))
    assert response.context["form"].errors == {"household_number": [HOUSEHOLD_NOT_IN_AREA.format(number="NO-SUCH")]}
    assert not Person.objects.filter(name="孙丽").exists() and not Household.objects.filter(number="NO-SUCH").exists()


def test_a_stale_edit_is_refused_and_keeps_the_input(client, world):
    mother = world["mother"]
    client.force_login(world["township_clerk"])
    form = client.get(url("person_edit", mother.pk))
    read_version = form.context["form"]["version"].value()
    assert read_version == mother.version

    # Someone else saves the person meanwhile.
    person_update(
        person=mother,
        version=mother.version,
        data=PersonData(
            name="李梅",
            sex="F",
            birth_date=mother.birth_date,
            hukou_type="agricultural",
            village=mother.village,
            id_number=mother.id_number,
            household=mother.household,
            phone="13900000000",
        ),
        by=None,
    )
    response = client.post(url("person_edit", mother.pk), person_post(mother, name="李美", version=read_version))
    page = response.content.decode()
    assert response.status_code == 200
    message = "该人员信息已被其他人修改，您的修改未保存。请刷新页面查看最新信息后重新修改。"
    assert response.context["form"].non_field_errors() == [message]
    assert message in page and 'value="李美"' in page
    mother.refresh_from_db()
    assert (mother.name, mother.phone) == ("李梅", "13900000000")


def test_an_edit_on_the_current_version_is_saved(client, world):
    mother = world["mother"]
    read_version = mother.version
    client.force_login(world["township_clerk"])
    response = client.post(url("person_edit", mother.pk), person_post(mother, name="李美"), follow=True)
    assert "已保存李美的信息" in response.content.decode()
    mother.refresh_from_db()
    assert (mother.name, mother.version) == ("李美", read_version + 1)


# --- other events ----------------------------------------------------------------------------------


def test_marriage_with_a_person_of_the_area_and_not_outside(client, world):
    mother = world["mother"]
    client.force_login(world["township_clerk"])
    path = url("marriage_create", mother.pk)
    outsider = {"other_id_number": world["outsider"].id_number, "other_name": "赵五"}  # the name does not match
    response = client.post(path, {"kind": "marriage", **outsider, "date": "2010-10-01"})
    assert response.context["form"].errors == {"other_id_number": [PARTY_NOT_MATCHED]}
    father = {"other_id_number": world["father"].id_number, "other_name": "王强"}
    response = client.post(path, {"kind": "divorce", **father, "date": "2010-10-01"})
    assert response.context["form"].errors == {"kind": ["这两人在该日期前没有结婚登记，不能登记离婚"]}
    response = client.post(path, {"kind": "marriage", **father, "date": "2010-10-01"}, follow=True)
    assert "已登记结婚：李梅与王强" in response.content.decode()
    assert Marriage.objects.get().husband == world["father"]

    # From the husband's page the other party is the wife.
    response = client.post(
        url("marriage_create", world["father"].pk),
        {"kind": "marriage", **father, "date": "2011-10-01"},
    )
    assert response.context["form"].errors == {"other_id_number": ["女方的性别登记为男"]}


def test_contraception_start_and_end(client, world):
    mother = world["mother"]
    client.force_login(world["village_clerk"])
    response = client.post(
        url("contraception_create", mother.pk),
        {"method": "iud", "start_date": "2012-09-01", "end_date": ""},
        follow=True,
    )
    assert "已登记避孕措施：宫内节育器" in response.content.decode()
    use = ContraceptiveUse.objects.get(person=mother)
    assert url("contraception_end", use.pk) in response.content.decode()

    response = client.post(url("contraception_end", use.pk), {"end_date": "2012-08-01"})
    assert response.context["form"].errors == {"end_date": ["结束日期不能早于开始日期"]}
    response = client.post(url("contraception_end", use.pk), {"end_date": "2016-03-01"}, follow=True)
    assert "已结束避孕措施：宫内节育器" in response.content.decode()
    use.refresh_from_db()
    assert use.end_date == date(2016, 3, 1)
    assert client.get(url("contraception_end", use.pk)).status_code == 404  # no longer open

    response = client.post(
        url("contraception_create", world["father"].pk), {"method": "iud", "start_date": "2013-01-01"}
    )
    assert response.context["form"].errors == {"method": ["“宫内节育器”只适用于女性"]}


def test_moves(client, world):
    mother = world["mother"]
    client.force_login(world["village_clerk"])
    path = url("move_create", mother.pk)
    assert client.get(path).context["form"]["origin"].value() == VILLAGE_A
    post = {"kind": "float_out", "date": "2020-03-01", "origin": VILLAGE_A, "destination": "outside",
            "destination_other_code": "1101"}  # fmt: skip
    response = client.post(path, post)
    assert response.context["form"].errors == {"destination_other_code": ["请填写县外地区的12位区划代码"]}
    post.update(destination_other_code="110101001001", certificate_number="婚育证明2020-17")
    response = client.post(path, post, follow=True)
    assert "已登记流出" in response.content.decode()
    move = Move.objects.get(person=mother)
    assert (move.kind, move.certificate_number, move.village_id) == ("float_out", "婚育证明2020-17", VILLAGE_A)


def test_death(client, world):
    father = world["father"]
    client.force_login(world["township_clerk"])
    path = url("death_create", father.pk)
    response = client.post(path, {"date": (timezone.localdate() + timedelta(days=1)).isoformat()})
    assert response.context["form"].errors == {"date": ["死亡日期不能晚于今天"]}
    response = client.post(path, {"date": "2021-02-03"}, follow=True)
    page = response.content.decode()
    assert "已登记王强死亡" in page and "死亡于2021年02月03日" in page
    assert f'href="{url("death_create", father.pk)}"' not in page  # no more event buttons for the dead
    response = client.post(path, {"date": "2021-02-03"})
    assert response.context["form"].non_field_errors() == ["王强已登记死亡"]


# --- household and data quality --------------------------------------------------------------------


def test_household_page_lists_its_members_in_the_area(client, world):
    client.force_login(world["village_clerk"])
    response = client.get(url("household_detail", world["household"].pk))
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('data-testid="member-row"') == 3  # mother, father, the child born into the household
    assert "王大" in page and world["mother"].masked_id_number in page and world["mother"].id_number not in page


def test_quality_lists_for_the_users_area(client, world, areas):
    young = new_person("陈小芳", "F", date(2005, 1, 1))
    birth_record(  # held by a plausibility rule (mother under 18) and confirmed by the clerk
        mother=young, on=date(2019, 1, 1), village=areas[VILLAGE_A], child_data=ChildData("陈一", "F"), by=None,
        confirmed=True,
    )  # fmt: skip
    new_person("周同名", "M", date(1970, 5, 5))
    new_person("周同名", "M", date(1970, 5, 5), with_id=False)
    old_float = timezone.localdate() - timedelta(days=500)
    move_record(
        person=world["father"], kind="float_out", on=old_float, origin_code=VILLAGE_A,
        destination_code="110101001001", by=None,
    )  # fmt: skip
    new_person("周同名", "M", date(1970, 5, 5), VILLAGE_B)  # a third twin, outside township A

    client.force_login(world["township_clerk"])
    response = client.get(url("quality"))
    page = response.content.decode()
    assert response.status_code == 200
    counts = {s["key"]: s["page"].paginator.count for s in response.context["sections"]}
    assert counts == {
        "duplicates": 2,
        "married_out": 0,
        "mother_age": 1,
        "child_before_parent": 0,
        "stale_floating": 1,
    }
    assert '<td data-testid="mother-age">14岁</td>' in page
    assert "流动人口信息超过365天未更新" in page

    response = client.get(url("quality"), {"older_than_days": "600"})
    assert {s["key"]: s["page"].paginator.count for s in response.context["sections"]}["stale_floating"] == 0
    assert "流动人口信息超过600天未更新" in response.content.decode()

    bad = client.get(url("quality"), {"older_than_days": "abc"})
    assert bad.context["older_than_days"] == 365
    assert "输入整数。（已按365天计算）" in bad.content.decode()
    paged = client.get(url("quality"), {"duplicates_page": "1"})
    assert paged.context["older_than_days"] == 365
    assert 'data-testid="error-older_than_days"' not in paged.content.decode()

    client.force_login(world["clerk_b"])
    counts = {s["key"]: s["page"].paginator.count for s in client.get(url("quality")).context["sections"]}
    assert counts["duplicates"] == 1 and counts["mother_age"] == 0


def test_county_viewer_reads_across_townships(client, world):
    assert world["viewer"].area_id == COUNTY
    client.force_login(world["viewer"])
    assert client.get(url("person_detail", world["outsider"].pk)).status_code == 200
    assert client.get(url("household_detail", world["household"].pk)).status_code == 200


def test_searches_are_posted_so_an_id_number_never_lands_in_a_url(client, world):
    client.force_login(world["township_clerk"])
    page = client.get(url("person_search")).content.decode()
    assert 'method="post"' in page and "hx-post=" in page and "hx-get=" not in page
    # A query string is ignored rather than searched: nobody can bookmark or log a search by ID number.
    ignored = client.get(url("person_search"), {"q": world["mother"].id_number}).content.decode()
    assert "李梅" not in ignored
