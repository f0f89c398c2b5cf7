"""The registry's invariants, through the services (DESIGN §5)."""

from datetime import date

import pytest
from pghistory.models import Events

from apps.areas.models import Area
from apps.core.errors import RuleViolation
from apps.registry.models import Birth, BirthPolicyRule, ContraceptiveUse, Person
from apps.registry.services import (
    ChildData,
    PersonData,
    birth_policy_override,
    birth_record,
    birth_void,
    contraception_record,
    death_record,
    marriage_record,
    move_record,
    permit_issue,
    person_create,
    person_update,
)
from tests.conftest import TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A, VILLAGE_B


def _village(code=VILLAGE_A):
    return Area.objects.get(code=code)


def _birth(mother, on, sex="F", **kw):
    return birth_record(
        mother=mother,
        on=on,
        village=_village(mother.village_id),
        child_data=ChildData(f"孩{on:%Y}", sex),
        by=None,
        **kw,
    )


def _orders(mother):
    return list(Birth.objects.filter(mother=mother).order_by("date").values_list("birth_order", "policy_status"))


# --- persons ----------------------------------------------------------------------------------------


def test_person_create_normalises_and_validates_the_id(areas):
    person = person_create(
        data=PersonData(
            name="  王芳 ",
            sex="M",
            birth_date=date(1950, 3, 7),
            hukou_type="agricultural",
            village=_village(),
            id_number="１３１０２５１９５００３０７００１３",
        ),
        by=None,
    )
    assert person.id_number == "131025195003070013"
    assert person.name == "王芳"


def test_person_id_must_agree_with_birth_date_and_be_unique(make_person):
    first = make_person("甲", "F", date(1990, 1, 1))
    data = PersonData("乙", "F", date(1990, 1, 2), "agricultural", _village(), id_number=first.id_number)
    with pytest.raises(RuleViolation, match="出生日期1990-01-02与身份证号中的出生日期1990-01-01不一致"):
        person_create(data=data, by=None)
    data.birth_date = date(1990, 1, 1)
    with pytest.raises(RuleViolation, match="该身份证号已登记在另一人名下"):
        person_create(data=data, by=None)


def test_a_clerk_cannot_place_a_person_in_another_township(areas, make_user):
    clerk_b = make_user("clerk_b", TOWNSHIP_B, "township_clerk")
    data = PersonData("丙", "F", date(1990, 1, 1), "agricultural", _village(VILLAGE_A))
    with pytest.raises(RuleViolation, match="所选区划不在您的管辖范围内"):
        person_create(data=data, by=clerk_b)
    assert Person.objects.count() == 0


def test_concurrent_edits_the_second_save_is_refused(make_person):
    person = make_person("赵敏", "F", date(1990, 1, 1))
    read_by_a = Person.objects.get(pk=person.pk)
    read_by_b = Person.objects.get(pk=person.pk)

    def data(p, phone):
        return PersonData(p.name, p.sex, p.birth_date, p.hukou_type, _village(), id_number=p.id_number, phone=phone)

    person_update(person=read_by_a, version=read_by_a.version, data=data(read_by_a, "13800000001"), by=None)
    with pytest.raises(RuleViolation, match="该人员信息已被其他人修改，您的修改未保存"):
        person_update(person=read_by_b, version=read_by_b.version, data=data(read_by_b, "13800000002"), by=None)
    person.refresh_from_db()
    assert person.phone == "13800000001" and person.version == 2


# --- births: order and policy status across eras --------------------------------------------------------


def test_birth_order_follows_the_mothers_births_and_is_recomputed(make_person):
    mother = make_person("孙丽", "F", date(1985, 1, 1), hukou="agricultural")
    _birth(mother, date(2017, 3, 1))
    late = _birth(mother, date(2019, 6, 1))
    assert _orders(mother) == [(1, "in_policy"), (2, "in_policy")]

    # An earlier birth entered later re-ranks the others, and the 2019 birth becomes a third child in the
    # two-child era: out of policy.
    early = _birth(mother, date(2015, 5, 1), sex="M")
    assert _orders(mother) == [(1, "in_policy"), (2, "in_policy"), (3, "out_of_policy")]
    late.refresh_from_db()
    assert (late.birth_order, late.policy_status) == (3, "out_of_policy")

    birth_void(birth=early, by=None, reason="重复录入")
    assert _orders(mother) == [(1, "in_policy"), (2, "in_policy")]


@pytest.mark.parametrize(
    ("hukou", "first_sex", "second_on", "expected"),
    [
        ("non_agricultural", "F", date(2013, 5, 1), "out_of_policy"),  # one-child era, urban
        ("agricultural", "F", date(2013, 5, 1), "in_policy"),  # rural, first child a girl
        ("agricultural", "M", date(2013, 5, 1), "out_of_policy"),  # rural, first child a boy
        ("non_agricultural", "M", date(2016, 1, 1), "in_policy"),  # two-child policy from 2016-01-01
        ("non_agricultural", "M", date(2015, 12, 31), "out_of_policy"),  # the day before
    ],
)
def test_second_birth_policy_status_by_era_and_circumstance(make_person, hukou, first_sex, second_on, expected):
    mother = make_person("周燕", "F", date(1985, 1, 1), hukou=hukou)
    _birth(mother, date(2010, 5, 1), sex=first_sex)
    second = _birth(mother, second_on)
    assert second.birth_order == 2
    assert second.policy_status == expected
    assert second.policy_status_computed == expected


def test_third_births_before_and_after_the_three_child_policy(make_person):
    mother = make_person("吴倩", "F", date(1988, 1, 1), hukou="non_agricultural")
    _birth(mother, date(2016, 6, 1))
    _birth(mother, date(2018, 6, 1))
    assert _birth(mother, date(2021, 5, 30)).policy_status == "out_of_policy"
    mother2 = make_person("郑洁", "F", date(1988, 1, 1), hukou="non_agricultural")
    _birth(mother2, date(2016, 6, 1))
    _birth(mother2, date(2018, 6, 1))
    assert _birth(mother2, date(2021, 5, 31)).policy_status == "in_policy"
    assert _birth(mother2, date(2023, 5, 31)).policy_status == "out_of_policy"  # a fourth child


def test_a_valid_permit_makes_a_birth_in_policy(make_person, couple):
    wife, husband = couple
    wife.hukou_type = "non_agricultural"
    wife.save()
    _birth(wife, date(2010, 5, 1))
    permit = permit_issue(
        number="再审2012-001",
        kind="second_birth_approval",
        wife=wife,
        husband=husband,
        issuing_township=Area.objects.get(code=TOWNSHIP_A),
        child_order=2,
        issued_on=date(2012, 1, 10),
        valid_until=date(2014, 1, 9),
        issued_by="李主任",
        by=None,
    )
    second = _birth(wife, date(2013, 5, 1), permit=permit)
    assert (second.birth_order, second.policy_status) == (2, "in_policy")
    third = _birth(wife, date(2014, 12, 1))  # after the permit expired, and a third child anyway
    assert third.policy_status == "out_of_policy"


def test_rules_are_data_a_new_rule_changes_the_result(make_person):
    BirthPolicyRule.objects.create(
        name="试点：2014年起单独两孩", valid_from=date(2014, 1, 1), valid_to=date(2015, 12, 31), children_allowed=2
    )
    mother = make_person("冯雪", "F", date(1985, 1, 1), hukou="non_agricultural")
    _birth(mother, date(2010, 5, 1))
    assert _birth(mother, date(2014, 5, 1)).policy_status == "in_policy"


def test_policy_override_needs_a_reason_and_survives_recomputation(make_person):
    mother = make_person("陈静", "F", date(1985, 1, 1), hukou="non_agricultural")
    _birth(mother, date(2010, 5, 1))
    with pytest.raises(RuleViolation, match="如需调整请填写原因"):
        _birth(mother, date(2013, 5, 1), policy_status_given="in_policy")
    assert Birth.objects.filter(mother=mother).count() == 1  # nothing was written

    second = _birth(mother, date(2013, 5, 1), policy_status_given="in_policy", override_reason="再婚夫妻，县审批")
    assert (second.policy_status, second.policy_status_computed) == ("in_policy", "out_of_policy")
    assert second.policy_override_reason == "再婚夫妻，县审批"
    _birth(mother, date(2005, 5, 1))  # an earlier birth triggers recomputation
    second.refresh_from_db()
    assert (second.birth_order, second.policy_status) == (3, "in_policy")
    event = Events.objects.tracks(second).filter(pgh_label="update").order_by("pgh_id").first()
    assert event.pgh_context["reason"] == "再婚夫妻，县审批"

    back = birth_policy_override(birth=second, status="out_of_policy", reason="", by=None)
    assert (back.policy_status, back.policy_override_reason) == ("out_of_policy", "")


def test_a_given_birth_order_that_disagrees_is_kept_as_a_warning(make_person):
    mother = make_person("钱红", "F", date(1985, 1, 1))
    birth = _birth(mother, date(2017, 5, 1), birth_order_given=2)
    assert birth.birth_order == 1 and birth.birth_order_given == 2 and birth.has_order_warning


def test_births_before_the_mothers_birth_or_after_her_death_are_refused(make_person):
    mother = make_person("何佳", "F", date(1990, 1, 1))
    with pytest.raises(RuleViolation, match="出生日期1989-05-01早于何佳的出生日期1990-01-01"):
        _birth(mother, date(1989, 5, 1))
    death_record(person=mother, on=date(2020, 1, 1), by=None)
    with pytest.raises(RuleViolation, match="晚于何佳的死亡日期2020-01-01"):
        _birth(mother, date(2021, 1, 1))


def test_birth_links_an_existing_child(make_person):
    mother = make_person("林芳", "F", date(1985, 1, 1))
    child = make_person("林小", "M", date(2018, 2, 2))
    birth = birth_record(mother=mother, child=child, on=date(2018, 2, 2), village=_village(), by=None)
    assert birth.child == child and birth.sex == "M"
    with pytest.raises(RuleViolation, match="该婴儿已有出生登记"):
        birth_record(mother=mother, child=child, on=date(2018, 2, 2), village=_village(), by=None)


def test_a_clerk_cannot_record_a_birth_in_another_township(make_person, make_user):
    clerk_b = make_user("clerk_b", TOWNSHIP_B, "township_clerk")
    mother = make_person("杨柳", "F", date(1985, 1, 1))
    with pytest.raises(RuleViolation, match="所选区划不在您的管辖范围内"):
        birth_record(mother=mother, on=date(2018, 1, 1), village=_village(), child_data=ChildData("x", "F"), by=clerk_b)


# --- deaths, contraception, marriages ---------------------------------------------------------------


def test_death_closes_open_contraception(make_person):
    woman = make_person("韩梅", "F", date(1970, 1, 1))
    contraception_record(person=woman, method="iud", start=date(2000, 1, 1), by=None)
    death_record(person=woman, on=date(2020, 6, 1), by=None)
    use = ContraceptiveUse.objects.get(person=woman)
    assert use.end_date == date(2020, 6, 1)
    woman.refresh_from_db()
    assert woman.death_date == date(2020, 6, 1)
    with pytest.raises(RuleViolation, match="已登记死亡"):
        death_record(person=woman, on=date(2020, 6, 2), by=None)


def test_death_before_a_later_event_is_refused(make_person):
    woman = make_person("曹颖", "F", date(1970, 1, 1))
    contraception_record(person=woman, method="pill", start=date(2015, 1, 1), by=None)
    with pytest.raises(RuleViolation, match="该人员在2014-01-01之后还有避孕措施记录"):
        death_record(person=woman, on=date(2014, 1, 1), by=None)


def test_a_new_method_ends_the_open_one_and_methods_fit_the_sex(make_person, couple):
    wife, husband = couple
    contraception_record(person=wife, method="pill", start=date(2010, 1, 1), by=None)
    contraception_record(person=wife, method="iud", start=date(2012, 3, 1), by=None)
    assert list(ContraceptiveUse.objects.filter(person=wife).values_list("method", "end_date")) == [
        ("pill", date(2012, 3, 1)),
        ("iud", None),
    ]
    with pytest.raises(RuleViolation, match="“宫内节育器”只适用于女性"):
        contraception_record(person=husband, method="iud", start=date(2012, 3, 1), by=None)
    with pytest.raises(RuleViolation, match="“男性绝育”只适用于男性"):
        contraception_record(person=wife, method="male_sterilisation", start=date(2013, 3, 1), by=None)


def test_marriage_and_divorce(couple):
    wife, husband = couple
    with pytest.raises(RuleViolation, match="没有结婚登记，不能登记离婚"):
        marriage_record(wife=wife, husband=husband, kind="divorce", on=date(2010, 1, 1), by=None)
    marriage_record(wife=wife, husband=husband, kind="marriage", on=date(2008, 1, 1), by=None)
    wife.refresh_from_db()
    assert wife.marital_status == "married"
    with pytest.raises(RuleViolation, match="已登记结婚"):
        marriage_record(wife=wife, husband=husband, kind="marriage", on=date(2009, 1, 1), by=None)
    marriage_record(wife=wife, husband=husband, kind="divorce", on=date(2015, 1, 1), by=None)
    wife.refresh_from_db()
    assert wife.marital_status == "divorced"
    with pytest.raises(RuleViolation, match="男方的性别登记为女"):
        marriage_record(wife=wife, husband=wife, kind="marriage", on=date(2016, 1, 1), by=None)


# --- moves ------------------------------------------------------------------------------------------


def test_moves_keep_the_current_village_in_step(make_person):
    person = make_person("邓超", "M", date(1980, 1, 1))
    move_record(
        person=person, kind="float_out", on=date(2019, 5, 1), origin_code=VILLAGE_A, destination_code=VILLAGE_B, by=None
    )
    person.refresh_from_db()
    assert person.village_id == VILLAGE_B
    # An older move entered later does not move the person back.
    move_record(
        person=person,
        kind="move_in",
        on=date(2010, 1, 1),
        origin_code="110105000000",
        destination_code=VILLAGE_A,
        by=None,
    )
    person.refresh_from_db()
    assert person.village_id == VILLAGE_B
    # Out of the county: the current village stays the last one in the county.
    move_record(
        person=person,
        kind="move_out",
        on=date(2022, 1, 1),
        origin_code=VILLAGE_B,
        destination_code="110105000000",
        by=None,
    )
    person.refresh_from_db()
    assert person.village_id == VILLAGE_B


def test_move_refusals(make_person, make_user):
    person = make_person("邓丽", "F", date(1980, 1, 1))
    with pytest.raises(RuleViolation, match="区划代码131025999999不是本县的村"):
        move_record(person=person, kind="move_in", on=date(2019, 1, 1), origin_code="110105000000",
                    destination_code="131025999999", by=None)  # fmt: skip
    with pytest.raises(RuleViolation, match="区划代码应为12位数字"):
        move_record(person=person, kind="move_in", on=date(2019, 1, 1), origin_code="1101",
                    destination_code=VILLAGE_A, by=None)  # fmt: skip
    clerk_b = make_user("clerk_b", TOWNSHIP_B, "township_clerk")
    with pytest.raises(RuleViolation, match="所选区划不在您的管辖范围内"):
        move_record(person=person, kind="float_out", on=date(2019, 1, 1), origin_code=VILLAGE_A,
                    destination_code=VILLAGE_B, by=clerk_b)  # fmt: skip


def test_changing_a_rule_recomputes_existing_births(make_person):
    from apps.registry.services import policy_rule_save

    mother = make_person("蒋琳", "F", date(1985, 1, 1), hukou="non_agricultural")
    _birth(mother, date(2010, 5, 1))
    second = _birth(mother, date(2014, 5, 1))
    assert second.policy_status == "out_of_policy"
    policy_rule_save(
        rule=BirthPolicyRule(
            name="单独两孩", valid_from=date(2014, 1, 1), valid_to=date(2015, 12, 31), children_allowed=2
        ),
        by=None,
    )
    second.refresh_from_db()
    assert (second.policy_status, second.policy_status_computed) == ("in_policy", "in_policy")
