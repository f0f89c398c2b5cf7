"""Duplicate persons merged (合并重复人员): every event moves to the kept record, the consequences recompute,
the other record is retired and drops out of lists, searches and counts; only within the clerk's area."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse
from pghistory.models import Events

from apps.core.errors import RuleViolation
from apps.registry.models import Birth, BirthPermit, ContraceptiveUse, Marriage, Move, Person
from apps.registry.selectors import persons_resident_at, persons_visible_to, quality_duplicate_persons
from apps.registry.services import (
    ChildData,
    birth_record,
    contraception_record,
    death_record,
    marriage_record,
    move_record,
    permit_issue,
    persons_merge,
)
from tests.conftest import COUNTY, TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A, VILLAGE_B


def url(name, *args):
    return reverse(f"registry:{name}", args=args)


@pytest.fixture
def twins(make_person, township_clerk, areas):
    """One woman entered twice (two ID numbers, same name and birth date), each record with some events."""
    keep = make_person("李梅", "F", date(1988, 3, 1), VILLAGE_A, phone="")
    retire = make_person("李梅", "F", date(1988, 3, 1), VILLAGE_A, phone="13812345678")
    husband = make_person("王强", "M", date(1986, 6, 1), VILLAGE_A)
    grandma = make_person("赵兰", "F", date(1960, 1, 1), VILLAGE_A)
    village = areas[VILLAGE_A]
    # The later child on the kept record, the earlier one (and everything else) on the duplicate.
    later = birth_record(mother=keep, on=date(2016, 5, 1), village=village, by=None,
                         child_data=ChildData(name="王二", sex="M"))  # fmt: skip
    earlier = birth_record(mother=retire, on=date(2012, 2, 1), village=village, by=None, father=husband,
                           child_data=ChildData(name="王大", sex="F"))  # fmt: skip
    own = birth_record(mother=grandma, on=date(1988, 3, 1), village=village, by=None, child=retire)
    marriage = marriage_record(wife=retire, husband=husband, kind="marriage", on=date(2011, 1, 1), by=None)
    use = contraception_record(person=retire, method="iud", start=date(2016, 9, 1), by=None)
    permit = permit_issue(number="PS-2011-1", kind="service_certificate", wife=retire, husband=husband,
                          issuing_township=areas[TOWNSHIP_A], child_order=1, issued_on=date(2011, 6, 1),
                          valid_until=None, issued_by="", by=None)  # fmt: skip
    move = move_record(person=retire, kind="move_in", on=date(2011, 2, 1), origin_code="110101001001",
                       destination_code=VILLAGE_A, by=None)  # fmt: skip
    return {
        "keep": keep, "retire": retire, "husband": husband, "later": later, "earlier": earlier, "own": own,
        "marriage": marriage, "use": use, "permit": permit, "move": move, "clerk": township_clerk,
    }  # fmt: skip


def test_merge_moves_every_event_recomputes_and_retires_the_other_record(twins):
    keep, retire = twins["keep"], twins["retire"]
    assert (twins["later"].birth_order, twins["earlier"].birth_order) == (1, 1)
    assert keep.marital_status == ""
    retired_number = retire.id_number

    kept = persons_merge(keep=keep, retire=retire, id_number_from="retire", reason="同一人重复录入", by=twins["clerk"])

    assert kept.pk == keep.pk
    assert kept.id_number == retired_number  # the ID number chosen
    assert kept.phone == "13812345678"  # a blank filled from the other record
    assert kept.marital_status == "married"  # through marital_status_sync
    births = {b.child.name: b for b in Birth.objects.filter(mother=kept).select_related("child")}
    assert (births["王大"].birth_order, births["王二"].birth_order) == (1, 2)  # recomputed across both records
    assert Birth.objects.get(pk=twins["own"].pk).child == kept
    assert Marriage.objects.get(pk=twins["marriage"].pk).wife == kept
    assert ContraceptiveUse.objects.get(pk=twins["use"].pk).person == kept
    assert BirthPermit.objects.get(pk=twins["permit"].pk).wife == kept
    assert Move.objects.get(pk=twins["move"].pk).person == kept
    for model, field in ((Birth, "mother"), (Birth, "child"), (Marriage, "wife"), (Move, "person")):
        assert not model.all_objects.filter(**{field: retire}).exists()

    retire.refresh_from_db()
    assert (retire.merged_into_id, retire.id_number) == (kept.pk, None)
    clerk = twins["clerk"]
    assert list(persons_visible_to(user=clerk, q="李梅")) == [kept]
    assert not persons_visible_to(user=clerk).filter(pk=retire.pk).exists()
    assert list(quality_duplicate_persons(user=clerk)) == []
    assert retire not in persons_resident_at(area_code=COUNTY, on=date(2020, 1, 1))
    assert kept in persons_resident_at(area_code=COUNTY, on=date(2020, 1, 1))

    event = Events.objects.tracks(retire).filter(pgh_label="update").latest("pgh_id")
    assert event.pgh_context["reason"] == "同一人重复录入"
    assert event.pgh_context["user"] == clerk.pk
    assert event.pgh_diff["merged_into_id"] == [None, kept.pk]


def test_a_death_on_the_duplicate_becomes_the_kept_persons(make_person, township_clerk):
    keep = make_person("张伯", "M", date(1940, 1, 1), VILLAGE_A)
    retire = make_person("张伯", "M", date(1940, 1, 1), VILLAGE_A)
    death_record(person=retire, on=date(2020, 1, 1), by=None)
    kept = persons_merge(keep=keep, retire=retire, id_number_from="keep", reason="重复", by=township_clerk)
    assert kept.death_date == date(2020, 1, 1)
    retire.refresh_from_db()
    assert retire.death_date is None and retire.merged_into_id == kept.pk


def test_merge_refuses_conflicts_across_areas_and_without_reason(make_person, make_user, township_clerk):
    keep = make_person("刘芳", "F", date(1990, 1, 1), VILLAGE_A)
    there = make_person("刘芳", "F", date(1990, 1, 1), VILLAGE_B)
    man = make_person("刘芳", "M", date(1990, 1, 1), VILLAGE_A)
    with pytest.raises(RuleViolation) as exc:
        persons_merge(keep=keep, retire=there, id_number_from="keep", reason="重复", by=township_clerk)
    assert (exc.value.code, exc.value.message) == ("out_of_scope", "两条记录都须在您的管辖范围内")
    with pytest.raises(RuleViolation) as exc:
        persons_merge(keep=keep, retire=man, id_number_from="keep", reason="  ", by=township_clerk)
    assert exc.value.message == "合并重复人员必须填写原因"
    with pytest.raises(RuleViolation) as exc:
        persons_merge(keep=keep, retire=man, id_number_from="keep", reason="重复", by=township_clerk)
    assert exc.value.message == "两条记录的性别不同，不是同一人"

    # Both records born (a live birth each, as the child): one must be voided first.
    mother = make_person("刘母", "F", date(1965, 1, 1), VILLAGE_A)
    twin = make_person("刘芳", "F", date(1990, 1, 1), VILLAGE_A)
    for child in (keep, twin):
        birth_record(mother=mother, on=date(1990, 1, 1), village=keep.village, by=None, child=child)
    with pytest.raises(RuleViolation) as exc:
        persons_merge(keep=keep, retire=twin, id_number_from="keep", reason="重复", by=township_clerk)
    assert exc.value.message == "两条记录都有出生登记（本人为婴儿），请先作废重复的一条再合并"
    assert Person.objects.filter(merged_into__isnull=False).count() == 0
    clerk_b = make_user("clerk_b", TOWNSHIP_B, "township_clerk")
    assert not persons_visible_to(user=clerk_b).filter(pk=keep.pk).exists()


def test_merge_from_the_quality_list(client, twins):
    keep, retire = twins["keep"], twins["retire"]
    client.force_login(twins["clerk"])
    page = client.get(url("quality")).content.decode()
    assert 'data-testid="merge-link"' in page
    path = url("person_merge", keep.pk, retire.pk)
    assert path in page or url("person_merge", retire.pk, keep.pk) in page

    confirm = client.get(path)
    assert confirm.status_code == 200
    text = confirm.content.decode()
    assert keep.id_number in text and retire.id_number in text  # a township clerk works with full ID numbers
    assert "138****5678" not in text and "13812345678" in text

    response = client.post(path, {"keep": str(keep.pk), "id_number_record": str(keep.pk), "reason": ""})
    assert list(response.context["form"].errors) == ["reason"]
    assert Person.objects.get(pk=retire.pk).merged_into_id is None

    response = client.post(
        path, {"keep": str(keep.pk), "id_number_record": str(keep.pk), "reason": "同一人重复录入"}, follow=True
    )
    assert response.redirect_chain == [(url("person_detail", keep.pk), 302)]
    assert "已合并重复人员：保留李梅的记录，另一条记录已注销" in response.content.decode()
    page = client.get(url("quality")).content.decode()
    assert 'data-testid="count-duplicates">0<' in page
    # An old link to the retired record leads to the kept one.
    assert client.get(url("person_detail", retire.pk)).url == url("person_detail", keep.pk)


def test_merge_page_is_only_for_records_in_the_area(client, make_person, township_clerk, county_viewer):
    here = make_person("孙丽", "F", date(1991, 1, 1), VILLAGE_A)
    there = make_person("孙丽", "F", date(1991, 1, 1), VILLAGE_B)
    client.force_login(township_clerk)
    page = client.get(url("quality")).content.decode()
    assert 'data-testid="merge-link"' not in page
    assert client.get(url("person_merge", here.pk, there.pk)).status_code == 404
    assert client.post(url("person_merge", here.pk, there.pk), {"reason": "x"}).status_code == 404
    client.force_login(county_viewer)
    assert client.get(url("person_merge", here.pk, there.pk)).status_code == 403


def test_api_merge(api_client, twins, make_person):
    keep, retire = twins["keep"], twins["retire"]
    api_client.force_authenticate(twins["clerk"])
    path = f"/api/v1/persons/{keep.pk}/merge/"
    missing = api_client.post(path, {"retire": retire.pk, "id_number_from": "keep"}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()
    other_area = make_person("李梅", "F", date(1988, 3, 1), VILLAGE_B)
    outside = api_client.post(path, {"retire": other_area.pk, "reason": "重复"}, format="json")
    assert outside.status_code == 400
    assert outside.json() == {"retire": ["未找到要注销的重复记录，或不在您的管辖范围内"]}

    response = api_client.post(path, {"retire": retire.pk, "id_number_from": "keep", "reason": "重复"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["id"] == keep.pk
    assert response.json()["marital_status"] == "married"
    assert api_client.get(f"/api/v1/persons/{retire.pk}/").status_code == 404
    assert [p["id"] for p in api_client.get("/api/v1/persons/", {"q": "李梅"}).json()["results"]] == [keep.pk]
    again = api_client.post(path, {"retire": retire.pk, "reason": "重复"}, format="json")
    assert again.status_code == 400  # a retired record is no longer found
