"""Corrections and voids of every registry event, and their cascades through the registry rules (DESIGN §5)."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied

from apps.areas.models import Area
from apps.core.audit import history_for
from apps.core.errors import RuleViolation
from apps.registry.models import Birth, ContraceptiveUse, Death, Marriage, Move, Person
from apps.registry.rules import marital_status_sync
from apps.registry.selectors import person_residence_at
from apps.registry.services import (
    ChildData,
    birth_correct,
    birth_record,
    birth_void,
    contraception_correct,
    contraception_record,
    contraception_void,
    death_correct,
    death_record,
    death_void,
    marriage_correct,
    marriage_record,
    marriage_void,
    move_correct,
    move_record,
    move_void,
    permit_correct,
    permit_issue,
    permit_void,
)
from tests.conftest import TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A

VILLAGE_A2 = "131025100202"  # 新胡庄村委会, also under township A
OUTSIDE = "110101001001"  # a village code of another county


def _village(code=VILLAGE_A):
    return Area.objects.get(code=code)


def _birth(mother, on, sex="F", name=None, **kw):
    return birth_record(
        mother=mother, on=on, village=_village(mother.village_id), child_data=ChildData(name or f"孩{on:%Y}", sex),
        by=None, **kw,
    )  # fmt: skip


def _orders(mother):
    return list(Birth.objects.filter(mother=mother).order_by("date").values_list("birth_order", "policy_status"))


def _fix_birth(birth, *, reason="出生日期录入错误", by=None, version=None, **changes):
    values = {
        "on": birth.date,
        "sex": birth.sex,
        "village": birth.village,
        "father": birth.father,
        "permit": birth.permit,
        "entered_on": birth.entered_on,
    }
    values.update(changes)
    return birth_correct(birth=birth, version=version, reason=reason, by=by, **values)


@pytest.fixture
def clerk_a(make_user):
    return make_user("clerk_a", TOWNSHIP_A, "township_clerk")


@pytest.fixture
def clerk_b(make_user):
    return make_user("clerk_b", TOWNSHIP_B, "township_clerk")


# --- births -----------------------------------------------------------------------------------------


def test_void_a_first_birth_moves_the_later_births_up_and_recomputes_their_policy(make_person, clerk_a):
    mother = make_person("吴倩", "F", date(1988, 1, 1), hukou="non_agricultural")
    first = _birth(mother, date(2016, 6, 1))
    _birth(mother, date(2018, 6, 1))
    _birth(mother, date(2020, 6, 1))
    assert _orders(mother) == [(1, "in_policy"), (2, "in_policy"), (3, "out_of_policy")]

    voided = birth_void(birth=first, reason="重复录入，该孩子实为他人所生", by=clerk_a)

    assert _orders(mother) == [(1, "in_policy"), (2, "in_policy")]
    assert voided.is_voided and voided.voided_by == clerk_a and voided.void_reason == "重复录入，该孩子实为他人所生"
    assert Birth.all_objects.filter(mother=mother).count() == 3  # kept, never deleted
    assert Person.objects.filter(pk=first.child_id).exists()  # the child's record stays
    entry = history_for(obj=voided, user=clerk_a)[0]
    assert entry.reason == "重复录入，该孩子实为他人所生" and entry.user == str(clerk_a)
    assert ("作废原因", "", "重复录入，该孩子实为他人所生") in entry.changes


def test_correct_a_wrong_birth_date_recomputes_order_policy_and_the_childs_birth_date(make_person, clerk_a):
    mother = make_person("周燕", "F", date(1985, 1, 1), hukou="non_agricultural")
    wrong = _birth(mother, date(2014, 5, 1), name="王小二")  # really born 2017-05-01
    _birth(mother, date(2015, 3, 1), name="王小一")
    assert _orders(mother) == [(1, "in_policy"), (2, "out_of_policy")]

    fixed = _fix_birth(wrong, on=date(2017, 5, 1), entered_on=date(2017, 5, 20), by=clerk_a, version=wrong.updated_at)

    assert _orders(mother) == [(1, "in_policy"), (2, "in_policy")]
    assert (fixed.date, fixed.birth_order, fixed.policy_status) == (date(2017, 5, 1), 2, "in_policy")
    child = Person.objects.get(pk=wrong.child_id)
    assert child.birth_date == date(2017, 5, 1) and child.version == 2
    assert history_for(obj=fixed, user=clerk_a)[0].reason == "出生日期录入错误"
    assert history_for(obj=child, user=clerk_a)[0].reason == "出生日期录入错误"


def test_a_stale_birth_correction_is_refused(make_person):
    mother = make_person("赵敏", "F", date(1985, 1, 1))
    birth = _birth(mother, date(2014, 5, 1))
    read = Birth.objects.get(pk=birth.pk)
    _fix_birth(birth, on=date(2014, 6, 1), version=read.updated_at)
    with pytest.raises(RuleViolation, match="该记录已被其他人修改，您的更正未保存") as exc:
        _fix_birth(read, on=date(2014, 7, 1), version=read.updated_at)
    assert exc.value.code == "stale_version"
    assert Birth.objects.get(pk=birth.pk).date == date(2014, 6, 1)


def test_a_birth_correction_keeps_the_date_rules(make_person):
    mother = make_person("孙丽", "F", date(1985, 1, 1))
    birth = _birth(mother, date(2014, 5, 1))
    with pytest.raises(RuleViolation, match="出生日期1984-05-01早于孙丽的出生日期1985-01-01"):
        _fix_birth(birth, on=date(1984, 5, 1), entered_on=date(2014, 5, 2))
    with pytest.raises(RuleViolation, match="出生日期不能晚于今天"):
        _fix_birth(birth, on=date(2999, 1, 1))
    with pytest.raises(RuleViolation, match="登记日期不能早于出生日期"):
        _fix_birth(birth, entered_on=date(2014, 4, 1))
    assert Birth.objects.get(pk=birth.pk).date == date(2014, 5, 1)


def test_a_voided_birth_no_longer_blocks_entering_the_childs_right_birth(make_person):
    mother = make_person("钱红", "F", date(1985, 1, 1))
    other = make_person("钱绿", "F", date(1986, 1, 1))
    wrong = _birth(mother, date(2014, 5, 1))  # entered for the wrong mother
    child = Person.objects.get(pk=wrong.child_id)
    birth_void(birth=wrong, reason="母亲录错", by=None)
    right = birth_record(mother=other, on=date(2014, 5, 1), village=_village(), child=child, by=None)
    assert right.birth_order == 1 and Birth.objects.filter(child=child).get() == right
    with pytest.raises(RuleViolation, match="该记录已作废"):
        birth_void(birth=wrong, reason="再次作废", by=None)


# --- permits ----------------------------------------------------------------------------------------


def test_void_or_correct_a_permit_recomputes_the_wifes_births(make_person, areas):
    mother = make_person("冯芳", "F", date(1985, 1, 1), hukou="non_agricultural")
    _birth(mother, date(2010, 5, 1))
    permit = permit_issue(
        number="PS-2012-001", kind="second_birth_approval", wife=mother, husband=None,
        issuing_township=areas[TOWNSHIP_A], child_order=2, issued_on=date(2012, 1, 1), valid_until=None,
        issued_by="", by=None,
    )  # fmt: skip
    second = _birth(mother, date(2013, 5, 1))
    assert (second.birth_order, second.policy_status) == (2, "in_policy")

    permit_correct(
        permit=permit, number="PS-2012-001", kind="second_birth_approval", child_order=2,
        issued_on=date(2013, 6, 1), valid_until=None, reason="发证日期录错", by=None,
    )  # fmt: skip
    assert Birth.objects.get(pk=second.pk).policy_status == "out_of_policy"  # issued after the birth
    permit_correct(
        permit=permit, number="PS-2012-001", kind="second_birth_approval", child_order=2,
        issued_on=date(2012, 1, 1), valid_until=None, reason="恢复正确的发证日期", by=None,
    )  # fmt: skip
    assert Birth.objects.get(pk=second.pk).policy_status == "in_policy"

    permit_void(permit=permit, reason="证件系伪造", by=None)
    assert Birth.objects.get(pk=second.pk).policy_status == "out_of_policy"


# --- marriages --------------------------------------------------------------------------------------


def test_void_a_marriage_to_the_wrong_husband_makes_him_unmarried_again(make_person, clerk_a):
    wife = make_person("李梅", "F", date(1985, 3, 1))
    right = make_person("王强", "M", date(1983, 6, 1))
    wrong = make_person("王刚", "M", date(1983, 7, 1))
    marriage_record(wife=wife, husband=right, kind="marriage", on=date(2010, 5, 1), by=None)
    # The same wedding imported again against the husband's brother (an import once let this through).
    mistake = Marriage.objects.create(
        wife=wife, husband=wrong, kind="marriage", date=date(2010, 5, 1), village=wife.village
    )
    marital_status_sync(person_ids=[wife.pk, wrong.pk])
    assert Person.objects.get(pk=wrong.pk).marital_status == "married"

    marriage_void(marriage=mistake, reason="男方录错", by=clerk_a)

    assert Person.objects.get(pk=wrong.pk).marital_status == "unmarried"
    assert Person.objects.get(pk=wife.pk).marital_status == "married"
    assert history_for(obj=Person.objects.get(pk=wrong.pk), user=clerk_a)[0].reason == "男方录错"


def test_void_a_duplicate_marriage_of_one_couple(couple):
    wife, husband = couple
    first = marriage_record(wife=wife, husband=husband, kind="marriage", on=date(2010, 5, 1), by=None)
    duplicate = Marriage.objects.create(
        wife=wife, husband=husband, kind="marriage", date=date(2010, 5, 8), village=wife.village
    )
    marriage_void(marriage=duplicate, reason="重复登记", by=None)
    assert Person.objects.get(pk=wife.pk).marital_status == "married"
    marriage_void(marriage=first, reason="婚姻登记无效", by=None)
    assert Person.objects.get(pk=wife.pk).marital_status == "unmarried"
    assert Person.objects.get(pk=husband.pk).marital_status == "unmarried"


def test_correct_a_marriage_and_refuse_a_broken_sequence(couple):
    wife, husband = couple
    married = marriage_record(wife=wife, husband=husband, kind="marriage", on=date(2010, 5, 1), by=None)
    divorce = marriage_record(wife=wife, husband=husband, kind="divorce", on=date(2015, 5, 1), by=None)
    assert Person.objects.get(pk=wife.pk).marital_status == "divorced"
    with pytest.raises(RuleViolation, match="这两人在离婚登记之前没有结婚登记"):
        marriage_correct(marriage=divorce, kind="divorce", on=date(2009, 1, 1), reason="日期录错", by=None)
    with pytest.raises(RuleViolation, match="请先更正或作废离婚登记"):
        marriage_void(marriage=married, reason="无效", by=None)
    marriage_void(marriage=divorce, reason="离婚登记录错", by=None)
    assert Person.objects.get(pk=wife.pk).marital_status == "married"
    marriage_correct(marriage=married, kind="marriage", on=date(2011, 5, 1), reason="日期录错", by=None)
    assert Marriage.objects.get(pk=married.pk).date == date(2011, 5, 1)
    with pytest.raises(RuleViolation, match="登记日期不能晚于今天"):
        marriage_correct(marriage=married, kind="marriage", on=date(2999, 1, 1), reason="x", by=None)


# --- moves ------------------------------------------------------------------------------------------


def test_correct_a_move_date_changes_the_residence_at_a_date(make_person, clerk_a):
    person = make_person("陈静", "F", date(1990, 1, 1))
    move = move_record(
        person=person, kind="move_in", on=date(2020, 6, 1), origin_code=VILLAGE_A, destination_code=VILLAGE_A2,
        by=clerk_a,
    )  # fmt: skip
    assert person_residence_at(person=person, on=date(2020, 3, 1)) == VILLAGE_A

    move_correct(
        move=move, version=move.updated_at, kind="move_in", on=date(2020, 1, 1), origin_code=VILLAGE_A,
        destination_code=VILLAGE_A2, reason="迁入日期录错", by=clerk_a,
    )  # fmt: skip

    assert person_residence_at(person=person, on=date(2020, 3, 1)) == VILLAGE_A2
    assert person_residence_at(person=person, on=date(2019, 12, 31)) == VILLAGE_A
    assert history_for(obj=Move.objects.get(pk=move.pk), user=clerk_a)[0].reason == "迁入日期录错"


def test_void_a_wrong_move_then_enter_the_right_one(make_person):
    person = make_person("陈红", "F", date(1990, 1, 1))
    wrong = move_record(
        person=person, kind="move_in", on=date(2021, 3, 1), origin_code=OUTSIDE, destination_code=VILLAGE_A2, by=None
    )
    assert Person.objects.get(pk=person.pk).village_id == VILLAGE_A2
    move_void(move=wrong, reason="迁入村录错", by=None)
    right = move_record(
        person=person, kind="move_in", on=date(2021, 3, 1), origin_code=OUTSIDE, destination_code=VILLAGE_A, by=None
    )
    assert right.pk != wrong.pk
    assert Person.objects.get(pk=person.pk).village_id == VILLAGE_A
    assert list(Move.objects.filter(person=person).values_list("destination_code", flat=True)) == [VILLAGE_A]
    assert Move.all_objects.filter(person=person).count() == 2


def test_void_the_only_move_from_outside_returns_the_person_to_where_they_were(make_person):
    person = make_person("陈紫", "F", date(1990, 1, 1))
    assert person.village_id == VILLAGE_A
    wrong = move_record(
        person=person, kind="move_in", on=date(2021, 3, 1), origin_code=OUTSIDE, destination_code=VILLAGE_A2, by=None
    )
    assert Person.objects.get(pk=person.pk).village_id == VILLAGE_A2
    move_void(move=wrong, reason="并无此次迁入", by=None)
    assert Person.objects.get(pk=person.pk).village_id == VILLAGE_A  # as before the wrong entry


def test_void_a_move_between_county_villages_returns_the_person(make_person):
    person = make_person("陈蓝", "F", date(1990, 1, 1))
    wrong = move_record(
        person=person, kind="move_in", on=date(2021, 3, 1), origin_code=VILLAGE_A, destination_code=VILLAGE_A2, by=None
    )
    move_void(move=wrong, reason="并未迁移", by=None)
    assert Person.objects.get(pk=person.pk).village_id == VILLAGE_A


# --- deaths and contraception -----------------------------------------------------------------------


def test_void_a_death_reopens_only_the_contraception_it_closed(couple, clerk_a):
    wife, husband = couple
    marriage_record(wife=wife, husband=husband, kind="marriage", on=date(2008, 1, 1), by=None)
    ended = contraception_record(person=wife, method="pill", start=date(2010, 1, 1), end=date(2012, 1, 1), by=None)
    in_use = contraception_record(person=wife, method="iud", start=date(2015, 1, 1), by=None)
    death = death_record(person=wife, on=date(2020, 5, 1), by=clerk_a)
    assert ContraceptiveUse.objects.get(pk=in_use.pk).end_date == date(2020, 5, 1)
    assert Person.objects.get(pk=husband.pk).marital_status == "widowed"

    death_void(death=death, reason="误报死亡，本人健在", by=clerk_a)

    wife.refresh_from_db()
    assert wife.death_date is None and not wife.is_dead
    assert ContraceptiveUse.objects.get(pk=in_use.pk).end_date is None  # closed by the death: in use again
    assert ContraceptiveUse.objects.get(pk=ended.pk).end_date == date(2012, 1, 1)  # ended by itself: stays
    assert Person.objects.get(pk=husband.pk).marital_status == "married"
    assert Death.all_objects.get(pk=death.pk).void_reason == "误报死亡，本人健在"
    # The right death can be entered again.
    death_record(person=wife, on=date(2021, 5, 1), by=clerk_a)
    assert Person.objects.get(pk=wife.pk).death_date == date(2021, 5, 1)


def test_correct_a_death_date_moves_what_the_death_closed(make_person):
    person = make_person("何兰", "F", date(1960, 1, 1))
    use = contraception_record(person=person, method="iud", start=date(2000, 1, 1), by=None)
    death = death_record(person=person, on=date(2020, 5, 1), by=None)
    death_correct(death=death, version=death.updated_at, on=date(2019, 5, 1), reason="死亡日期录错", by=None)
    assert Person.objects.get(pk=person.pk).death_date == date(2019, 5, 1)
    assert ContraceptiveUse.objects.get(pk=use.pk).end_date == date(2019, 5, 1)
    with pytest.raises(RuleViolation, match="该人员在1999-05-01之后还有避孕措施记录"):
        death_correct(death=death, on=date(1999, 5, 1), reason="x", by=None)


def test_contraception_corrections_keep_the_date_rules(make_person):
    person = make_person("林芳", "F", date(1990, 1, 1))
    use = contraception_record(person=person, method="iud", start=date(2015, 1, 1), by=None)
    with pytest.raises(RuleViolation, match="结束日期不能早于开始日期"):
        contraception_correct(use=use, method="iud", start=date(2015, 1, 1), end=date(2014, 1, 1), reason="x", by=None)
    with pytest.raises(RuleViolation, match="开始日期1989-01-01早于林芳的出生日期"):
        contraception_correct(use=use, method="iud", start=date(1989, 1, 1), end=None, reason="x", by=None)
    with pytest.raises(RuleViolation, match="只适用于男性"):
        contraception_correct(
            use=use, method="male_sterilisation", start=date(2015, 1, 1), end=None, reason="x", by=None
        )
    fixed = contraception_correct(
        use=use, version=use.updated_at, method="implant", start=date(2016, 1, 1), end=None, reason="措施录错", by=None
    )
    assert (fixed.method, fixed.start_date) == ("implant", date(2016, 1, 1))
    contraception_void(use=fixed, reason="重复录入", by=None)
    assert not ContraceptiveUse.objects.filter(person=person).exists()


# --- who may, and why ---------------------------------------------------------------------------------


def test_a_clerk_of_another_township_cannot_correct_or_void(make_person, clerk_b, county_viewer):
    mother = make_person("郑洁", "F", date(1985, 1, 1))
    birth = _birth(mother, date(2014, 5, 1))
    with pytest.raises(RuleViolation, match="该记录不在您的管辖范围内"):
        birth_void(birth=birth, reason="作废", by=clerk_b)
    with pytest.raises(RuleViolation, match="该记录不在您的管辖范围内"):
        _fix_birth(birth, on=date(2014, 6, 1), by=clerk_b)
    with pytest.raises(PermissionDenied):
        birth_void(birth=birth, reason="作废", by=county_viewer)
    assert Birth.objects.get(pk=birth.pk).date == date(2014, 5, 1)


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reason_is_required(make_person, reason):
    person = make_person("黄英", "F", date(1990, 1, 1))
    use = contraception_record(person=person, method="iud", start=date(2015, 1, 1), by=None)
    with pytest.raises(RuleViolation, match="作废避孕措施必须填写原因") as exc:
        contraception_void(use=use, reason=reason, by=None)
    assert exc.value.field == "reason"
    with pytest.raises(RuleViolation, match="更正避孕措施必须填写原因"):
        contraception_correct(use=use, method="iud", start=date(2015, 1, 1), end=None, reason=reason, by=None)
    assert ContraceptiveUse.objects.filter(pk=use.pk).exists()


# --- corrections keep the plausibility rules --------------------------------------------------------


def test_a_correction_is_refused_or_held_by_the_same_plausibility_rules(make_person, clerk_a):
    mother = make_person("赵敏", "F", date(1990, 1, 1))
    birth = _birth(mother, date(2012, 5, 1))
    with pytest.raises(RuleViolation) as refused:  # the mother would have been 12
        _fix_birth(birth, on=date(2002, 6, 1), by=clerk_a)
    assert refused.value.code != "needs_confirmation" and "12岁" in refused.value.message
    with pytest.raises(RuleViolation) as held:  # 15: held until the clerk confirms
        _fix_birth(birth, on=date(2005, 6, 1), by=clerk_a)
    assert held.value.code == "needs_confirmation"
    assert Birth.objects.get(pk=birth.pk).date == date(2012, 5, 1)  # nothing changed

    fixed = birth_correct(
        birth=birth, version=None, on=date(2005, 6, 1), sex=birth.sex, village=birth.village, father=None,
        permit=None, entered_on=birth.entered_on, reason="出生日期录错", by=clerk_a, confirmed=True,
    )  # fmt: skip
    assert fixed.date == date(2005, 6, 1)
    reason = history_for(obj=fixed, user=clerk_a)[0].reason
    assert reason.startswith("出生日期录错") and "15岁" in reason  # the confirmed warning is in the audit trail
