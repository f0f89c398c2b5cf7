"""The clerk's path for corrections and voids through the pages: actions on the person page, reasons, scope,
where the clerk lands, and the 403/404/500 pages."""

from __future__ import annotations

from datetime import date

import pytest
from django.template import loader
from django.urls import reverse

from apps.registry.models import Birth, Marriage, Person
from apps.registry.services import ChildData, birth_record, marriage_record, move_record
from tests.conftest import TOWNSHIP_B, VILLAGE_A, VILLAGE_B

VILLAGE_A2 = "131025100202"


@pytest.fixture
def family(couple):
    wife, husband = couple
    marriage = marriage_record(wife=wife, husband=husband, kind="marriage", on=date(2008, 5, 1), by=None)
    first = birth_record(
        mother=wife, on=date(2009, 6, 1), village=wife.village, child_data=ChildData("王一", "M"), by=None
    )
    return wife, husband, marriage, first


def _page(client, person):
    response = client.get(reverse("registry:person_detail", args=[person.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_a_clerk_voids_a_marriage_from_the_person_page(client, township_clerk, family):
    wife, _, marriage, _ = family
    client.force_login(township_clerk)
    void_url = reverse("registry:event_void", args=["marriages", marriage.pk])
    assert f'href="{void_url}"' in _page(client, wife)

    refused = client.post(void_url, {"reason": " "})
    assert refused.status_code == 200 and 'data-testid="error-reason"' in refused.content.decode()
    assert Marriage.objects.filter(pk=marriage.pk).exists()

    response = client.post(void_url, {"reason": "重复登记"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("registry:person_detail", args=[wife.pk])
    html = response.content.decode()
    assert "已作废婚姻登记" in html
    assert 'data-testid="timeline-event-voided"' in html and "原因：重复登记" in html
    assert "未婚" in html  # her only marriage event is void
    assert "原因：重复登记" in html.split('data-testid="audit-history"')[1]
    assert f'href="{void_url}"' not in html  # a voided event offers no more actions


def test_a_clerk_corrects_a_birth_date_and_sees_the_recomputed_order(client, township_clerk, family):
    wife, _, _, first = family
    second = birth_record(
        mother=wife, on=date(2012, 6, 1), village=wife.village, child_data=ChildData("王二", "F"), by=None
    )
    client.force_login(township_clerk)
    url = reverse("registry:event_correct", args=["births", first.pk])
    form = client.get(url)
    assert form.status_code == 200
    version = form.context["form"].initial["version"]
    data = {
        "date": "2013-06-01", "sex": "M", "village": VILLAGE_A, "father_id_number": "", "permit": "",
        "entered_on": "2013-06-20", "reason": "出生日期录错", "version": version,
    }  # fmt: skip
    response = client.post(url, data, follow=True)
    assert response.redirect_chain[-1][0] == reverse("registry:person_detail", args=[wife.pk])
    assert "已更正出生登记：王一（2013-06-01出生），第2孩" in response.content.decode()
    assert Birth.objects.get(pk=second.pk).birth_order == 1

    stale = client.post(url, {**data, "date": "2013-07-01"})
    assert "该记录已被其他人修改，您的更正未保存" in stale.content.decode()
    assert Birth.objects.get(pk=first.pk).date == date(2013, 6, 1)


def test_a_move_correction_that_takes_the_person_out_of_the_clerks_village(client, make_user, make_person):
    clerk = make_user("cun", VILLAGE_A, "village_clerk")
    person = make_person("周红", "F", date(1990, 1, 1))
    move = move_record(
        person=person, kind="move_in", on=date(2020, 1, 1), origin_code="110101001001", destination_code=VILLAGE_A,
        by=None,
    )  # fmt: skip
    client.force_login(clerk)
    url = reverse("registry:event_correct", args=["moves", move.pk])
    version = client.get(url).context["form"].initial["version"]
    data = {
        "kind": "move_out", "date": "2020-01-01", "origin_code": VILLAGE_A, "destination_code": VILLAGE_A2,
        "certificate_number": "", "reason": "应为迁往新胡庄", "version": version,
    }  # fmt: skip
    response = client.post(url, data, follow=True)
    assert response.redirect_chain[-1][0] == reverse("registry:person_search")
    assert "周红现已不在您的管辖范围内" in response.content.decode()
    assert Person.objects.get(pk=person.pk).village_id == VILLAGE_A2


def test_another_townships_clerk_gets_the_chinese_404_and_a_viewer_the_403(client, make_user, county_viewer, family):
    wife, _, marriage, first = family
    client.force_login(make_user("clerk_b", TOWNSHIP_B, "township_clerk"))
    for url in (
        reverse("registry:event_void", args=["marriages", marriage.pk]),
        reverse("registry:event_correct", args=["births", first.pk]),
        reverse("registry:event_void", args=["nonsense", first.pk]),
    ):
        response = client.post(url, {"reason": "作废"})
        assert response.status_code == 404
        html = response.content.decode()
        assert "未找到该页面或记录" in html and 'href="/registry/persons/"' in html  # the site's navigation
    assert Marriage.objects.filter(pk=marriage.pk).exists()

    client.force_login(county_viewer)
    assert "作废" not in _page(client, wife).split('data-testid="timeline"')[1].split("</table>")[0]
    response = client.get(reverse("registry:event_void", args=["marriages", marriage.pk]))
    assert response.status_code == 403 and "没有权限" in response.content.decode()


def test_the_500_page_renders_without_a_request():
    html = loader.get_template("500.html").render()
    assert "系统出现错误" in html and "返回首页" in html


def test_a_voided_event_keeps_its_own_history_page(client, township_clerk, family):
    _, _, marriage, _ = family
    client.force_login(township_clerk)
    client.post(reverse("registry:event_void", args=["marriages", marriage.pk]), {"reason": "重复登记"})
    assert Marriage.all_objects.get(pk=marriage.pk).is_voided
    response = client.get(reverse("core:history", args=["registry.Marriage", marriage.pk]))
    assert response.status_code == 200
    assert "重复登记" in response.content.decode()


def test_correcting_a_birth_keeps_a_father_of_another_township_without_showing_his_number(
    client, township_clerk, make_person
):
    mother = make_person("韩梅", "F", date(1990, 1, 1))
    father = make_person("孙刚", "M", date(1988, 1, 1), village=VILLAGE_B)  # registered in township B
    birth = birth_record(
        mother=mother, on=date(2015, 6, 1), village=mother.village, child_data=ChildData("孙一", "M"),
        father=father, by=None,
    )  # fmt: skip
    client.force_login(township_clerk)
    url = reverse("registry:event_correct", args=["births", birth.pk])
    page = client.get(url)
    html = page.content.decode()
    assert father.id_number not in html and father.masked_id_number in html
    data = {
        "date": "2015-07-01", "sex": "M", "village": VILLAGE_A, "permit": "", "entered_on": "2015-07-10",
        "father_id_number": page.context["form"].initial["father_id_number"], "reason": "出生日期录错",
        "version": page.context["form"].initial["version"],
    }  # fmt: skip
    response = client.post(url, data, follow=True)
    assert response.redirect_chain, response.content.decode()
    fixed = Birth.objects.get(pk=birth.pk)
    assert (fixed.date, fixed.father_id) == (date(2015, 7, 1), father.pk)
