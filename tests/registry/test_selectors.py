"""Residence at a date, women of childbearing age, scoped search and the data-quality lists."""

from datetime import date

from apps.areas.models import Area
from apps.registry.models import Birth, Person
from apps.registry.selectors import (
    person_residence_at,
    persons_resident_at,
    persons_visible_to,
    quality_child_before_parent,
    quality_duplicate_persons,
    quality_married_out_never_moved,
    quality_mother_age_outliers,
    quality_stale_floating,
    women_of_childbearing_age,
)
from apps.registry.services import ChildData, birth_record, death_record, marriage_record, move_record
from tests.conftest import COUNTY, TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A, VILLAGE_B

OUTSIDE = "110105000000"


def test_residence_at_a_date_across_moves(make_person):
    person = make_person("迁移人", "M", date(1980, 1, 1))
    move_record(person=person, kind="float_out", on=date(2015, 3, 1), origin_code=VILLAGE_A,
                destination_code=VILLAGE_B, by=None)  # fmt: skip
    move_record(person=person, kind="move_out", on=date(2020, 7, 1), origin_code=VILLAGE_B,
                destination_code=OUTSIDE, by=None)  # fmt: skip
    # Before the first move: its origin; on a move's day: its destination.
    assert person_residence_at(person=person, on=date(2010, 1, 1)) == VILLAGE_A
    assert person_residence_at(person=person, on=date(2015, 2, 28)) == VILLAGE_A
    assert person_residence_at(person=person, on=date(2015, 3, 1)) == VILLAGE_B
    assert person_residence_at(person=person, on=date(2020, 6, 30)) == VILLAGE_B
    assert person_residence_at(person=person, on=date(2020, 7, 1)) == OUTSIDE
    assert list(persons_resident_at(area_code=TOWNSHIP_B, on=date(2018, 1, 1))) == [person]
    assert list(persons_resident_at(area_code=TOWNSHIP_A, on=date(2018, 1, 1))) == []
    assert list(persons_resident_at(area_code=COUNTY, on=date(2021, 1, 1))) == []


def test_no_moves_means_the_current_village_and_the_dead_and_unborn_are_not_resident(make_person):
    person = make_person("常住", "F", date(2000, 5, 5))
    assert person_residence_at(person=person, on=date(2001, 1, 1)) == VILLAGE_A
    assert list(persons_resident_at(area_code=VILLAGE_A, on=date(2000, 5, 4))) == []
    assert list(persons_resident_at(area_code=VILLAGE_A, on=date(2000, 5, 5))) == [person]
    death_record(person=person, on=date(2020, 1, 1), by=None)
    assert list(persons_resident_at(area_code=VILLAGE_A, on=date(2019, 12, 31))) == [person]
    assert list(persons_resident_at(area_code=VILLAGE_A, on=date(2020, 1, 1))) == []


def test_women_of_childbearing_age_15_to_49_and_married(make_person):
    on = date(2024, 6, 30)
    turned_15 = make_person("刚满15", "F", date(2009, 6, 30))
    not_yet_15 = make_person("未满15", "F", date(2009, 7, 1))
    age_49 = make_person("四十九", "F", date(1974, 7, 1))  # turns 50 the next day
    age_50 = make_person("五十", "F", date(1974, 6, 30))
    make_person("男", "M", date(1990, 1, 1))
    assert set(women_of_childbearing_age(area_code=COUNTY, on=on)) == {turned_15, age_49}
    assert not_yet_15 not in women_of_childbearing_age(area_code=COUNTY, on=on)
    assert age_50 not in women_of_childbearing_age(area_code=COUNTY, on=on)

    husband = make_person("丈夫", "M", date(1970, 1, 1))
    marriage_record(wife=age_49, husband=husband, kind="marriage", on=date(1995, 1, 1), by=None)
    assert list(women_of_childbearing_age(area_code=COUNTY, on=on, married=True)) == [age_49]
    marriage_record(wife=age_49, husband=husband, kind="divorce", on=date(2020, 1, 1), by=None)
    assert list(women_of_childbearing_age(area_code=COUNTY, on=on, married=True)) == []
    assert list(women_of_childbearing_age(area_code=COUNTY, on=date(2019, 12, 31), married=True)) == [age_49]


def test_search_by_id_prefix_name_and_household_is_scoped(make_person, township_clerk, make_user):
    wang = make_person("王芳", "F", date(1990, 1, 1))
    make_person("王芳", "F", date(1991, 1, 1), village=VILLAGE_B)
    assert list(persons_visible_to(user=township_clerk, q="王")) == [wang]
    assert list(persons_visible_to(user=township_clerk, q=wang.id_number[:10])) == [wang]
    full_width = wang.id_number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert list(persons_visible_to(user=township_clerk, q=full_width)) == [wang]
    viewer = make_user("v", COUNTY, "county_viewer")
    assert persons_visible_to(user=viewer, q="王芳").count() == 2


def test_quality_lists(make_person, township_clerk):
    # Same name and birth date under two ID numbers.
    a = make_person("刘洋", "M", date(1990, 2, 2))
    b = make_person("刘洋", "M", date(1990, 2, 2))
    assert list(quality_duplicate_persons(user=township_clerk)) == [a, b]

    # Married to a man of another township, never moved.
    wife = make_person("外嫁女", "F", date(1990, 1, 1))
    husband = make_person("外乡男", "M", date(1988, 1, 1), village=VILLAGE_B)
    marriage = marriage_record(wife=wife, husband=husband, kind="marriage", on=date(2015, 1, 1), by=None)
    assert list(quality_married_out_never_moved(user=township_clerk)) == [marriage]
    move_record(person=wife, kind="move_out", on=date(2015, 3, 1), origin_code=VILLAGE_A,
                destination_code=VILLAGE_B, by=None)  # fmt: skip
    assert list(quality_married_out_never_moved(user=township_clerk)) == []

    # A mother aged 14 at the birth (a plausibility rule holds it; the clerk confirmed it).
    young = make_person("少女", "F", date(2000, 1, 1))
    birth = birth_record(mother=young, on=date(2014, 6, 1), village=Area.objects.get(code=VILLAGE_A),
                         child_data=ChildData("婴", "F"), by=None, confirmed=True)  # fmt: skip
    assert list(quality_mother_age_outliers(user=township_clerk)) == [birth]

    # A child recorded as born before its mother (only a bad import can do that): written directly.
    mother = make_person("母", "F", date(1990, 1, 1))
    child = make_person("子", "M", date(1985, 1, 1))
    bad = Birth.objects.create(mother=mother, child=child, date=date(1985, 1, 1), sex="M", village_id=VILLAGE_A,
                               birth_order=1, policy_status="in_policy", policy_status_computed="in_policy",
                               entered_on=date(2020, 1, 1))  # fmt: skip
    assert list(quality_child_before_parent(user=township_clerk)) == [bad]

    # Floating out since 2020 with nothing since.
    floater = make_person("流动", "M", date(1985, 1, 1))
    stale = move_record(person=floater, kind="float_out", on=date(2020, 1, 1), origin_code=VILLAGE_A,
                        destination_code=OUTSIDE, by=None)  # fmt: skip
    assert list(quality_stale_floating(user=township_clerk, older_than_days=365, today=date(2024, 1, 1))) == [stale]
    assert list(quality_stale_floating(user=township_clerk, older_than_days=365, today=date(2020, 6, 1))) == []


def test_quality_lists_are_scoped(make_person, make_user):
    make_person("刘洋", "M", date(1990, 2, 2), village=VILLAGE_B)
    make_person("刘洋", "M", date(1990, 2, 2), village=VILLAGE_B)
    clerk_a = make_user("ca", TOWNSHIP_A, "township_clerk")
    assert list(quality_duplicate_persons(user=clerk_a)) == []
    assert Person.objects.count() == 2


def test_living_county_person_is_one_rule_in_its_query_and_sql_forms(make_person):
    """A sample's checklist (the queryset form) and the draw and roster replays (the SQL form) keep to the same
    persons: the living, own county records, not a 县外人员 stub or a duplicate retired by a merge."""
    from django.db import connection

    from apps.registry.rules import LIVING_COUNTY_PERSON, living_county_person_sql

    kept = make_person(name="在册")
    dead = make_person(name="已故", born=date(1950, 1, 1))
    Person.objects.filter(pk=dead.pk).update(death_date=date(2020, 1, 1))
    stub = make_person(name="县外", with_id=False)
    Person.objects.filter(pk=stub.pk).update(is_external=True)
    retired = make_person(name="重复", born=date(1991, 1, 1))
    Person.objects.filter(pk=retired.pk).update(merged_into=kept, id_number=None)
    made = {kept.pk, dead.pk, stub.pk, retired.pk}

    by_query = set(Person.objects.filter(LIVING_COUNTY_PERSON, pk__in=made).values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT p.id FROM registry_person p WHERE p.id = ANY(%s) AND {living_county_person_sql('p')}",  # noqa: S608
            [list(made)],
        )
        by_sql = {row[0] for row in cursor.fetchall()}
    assert by_query == by_sql == {kept.pk}
