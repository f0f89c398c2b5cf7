"""Plausibility rules as dated data (registry.plausibility): each seeded rule refuses an entry, or holds it until
the clerk confirms; through the services and the browser forms. The rules' dates and numbers are rows: editing
one changes the outcome."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from apps.areas.models import Area
from apps.core.audit import history_for
from apps.core.errors import RuleViolation
from apps.registry.forms import OUTSIDE_COUNTY
from apps.registry.models import Birth, ContraceptiveUse, Death, Marriage, Move, PlausibilityRule
from apps.registry.services import (
    ChildData,
    birth_record,
    contraception_record,
    death_record,
    marriage_record,
    move_record,
    permit_issue,
)
from tests.conftest import TOWNSHIP_A, VILLAGE_A

OUTSIDE = "110101001001"  # 北京市东城区: a well-formed code of another county


def _birth(mother, on, *, father=None, confirmed=False, name="小明"):
    return birth_record(
        mother=mother,
        on=on,
        village=Area.objects.get(code=VILLAGE_A),
        child_data=ChildData(name, "M"),
        father=father,
        by=None,
        confirmed=confirmed,
    )


def _refused(code: str, message: str | None = None):
    """``pytest.raises`` for a refusal by the rule ``code`` (with exactly ``message`` when given)."""

    class Check:
        def __enter__(self):
            self.ctx = pytest.raises(RuleViolation)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            handled = self.ctx.__exit__(*exc)
            assert self.info.value.code == code, self.info.value.message
            if message is not None:
                assert self.info.value.message == message
            return handled

    return Check()


def _held(fn, **kwargs):
    """The entry is held (400-like RuleViolation asking for confirmation), then goes through confirmed."""
    with pytest.raises(RuleViolation) as info:
        fn(**kwargs)
    assert info.value.code == "needs_confirmation"
    assert info.value.field == "confirmed"
    assert "我已核实，确认录入" in info.value.message
    return info.value.message, fn(**kwargs, confirmed=True)


# --- mother's age at a birth ------------------------------------------------------------------------


def test_a_birth_to_an_11_year_old_mother_is_refused(make_person):
    mother = make_person("甲", "F", date(2000, 1, 1))
    with _refused("mother_age_at_birth", "母亲生育时年龄为11岁，低于合理范围（14岁）") as info:
        _birth(mother, date(2011, 6, 1), confirmed=True)  # a confirmation does not lift a refusal
    assert info.value.field == "mother"
    assert not Birth.objects.exists()


def test_a_birth_to_a_16_year_old_mother_is_held_until_confirmed_and_the_confirmation_is_audited(make_person):
    mother = make_person("甲", "F", date(2000, 1, 1))
    message, birth = _held(lambda **kw: _birth(mother, date(2016, 6, 1), **kw))
    assert "母亲生育时年龄为16岁，低于合理范围（18岁）" in message
    assert "甲" not in message
    assert Birth.objects.get() == birth
    reasons = [e.reason for e in history_for(obj=birth, user=None)]
    assert "经办人已核实确认：母亲生育时年龄为16岁，低于合理范围（18岁）" in reasons


def test_a_birth_at_52_is_held_and_at_30_passes(make_person):
    mother = make_person("甲", "F", date(1960, 1, 1))
    message, _ = _held(lambda **kw: _birth(mother, date(2012, 6, 1), **kw))
    assert "母亲生育时年龄为52岁，高于合理范围（50岁）" in message
    young = make_person("乙", "F", date(1990, 1, 1))
    assert _birth(young, date(2020, 6, 1)).birth_order == 1


def test_editing_a_rules_number_changes_the_outcome(make_person):
    mother = make_person("甲", "F", date(2000, 1, 1))
    with _refused("mother_age_at_birth"):
        _birth(mother, date(2012, 6, 1))
    PlausibilityRule.objects.filter(code="mother_age_at_birth", action="refuse").update(parameters={"min_age": 10})
    message, _ = _held(lambda **kw: _birth(mother, date(2012, 6, 1), **kw))  # 12: now only held
    assert "母亲生育时年龄为12岁，低于合理范围（18岁）" in message


def test_a_rule_applies_only_to_events_within_its_dates(make_person):
    PlausibilityRule.objects.filter(code="mother_age_at_birth").update(valid_to=date(2020, 12, 31))
    old = make_person("甲", "F", date(2007, 1, 1))
    with _refused("mother_age_at_birth"):
        _birth(old, date(2019, 6, 1))
    young = make_person("乙", "F", date(2011, 1, 1))
    assert _birth(young, date(2024, 6, 1)).date == date(2024, 6, 1)  # no rule in force in 2024


# --- birth spacing -----------------------------------------------------------------------------------


def test_births_less_than_270_days_apart_are_held_twins_are_not(make_person):
    mother = make_person("甲", "F", date(1990, 1, 1))
    _birth(mother, date(2015, 1, 1))
    _birth(mother, date(2015, 1, 2), name="小红")  # twins either side of midnight
    message, _ = _held(lambda **kw: _birth(mother, date(2015, 6, 1), name="小刚", **kw))
    assert "与该母亲的另一次生育仅相隔150天，少于270天" in message
    assert _birth(mother, date(2016, 9, 1), name="小强").birth_order == 4  # 458 days after the last: fine
    # Births 3 days apart are not one delivery once the rule says so.
    PlausibilityRule.objects.filter(code="birth_spacing").update(parameters={"min_days": 270, "same_delivery_days": 0})
    message, _ = _held(lambda **kw: _birth(mother, date(2016, 9, 2), name="小丽", **kw))
    assert "与该母亲的另一次生育仅相隔1天，少于270天" in message


# --- marriages ---------------------------------------------------------------------------------------


def test_a_marriage_at_16_is_refused_and_below_the_legal_age_held(make_person):
    wife = make_person("甲", "F", date(2000, 1, 1))
    husband = make_person("乙", "M", date(1990, 1, 1))
    with _refused("marriage_age", "女方登记结婚时年龄为16岁，未满18周岁，不能登记结婚") as info:
        marriage_record(wife=wife, husband=husband, kind="marriage", on=date(2016, 6, 1), by=None, confirmed=True)
    assert info.value.field == "wife"
    young = make_person("丙", "M", date(1995, 1, 1))
    adult = make_person("丁", "F", date(1990, 1, 1))
    assert not Marriage.objects.exists()
    # From 18 up to the legal age (女20、男22) the entry is held until the clerk confirms it.
    message, _ = _held(
        lambda **kw: marriage_record(wife=adult, husband=young, kind="marriage", on=date(2016, 6, 1), by=None, **kw)
    )
    assert "男方登记结婚时年龄为21岁，未达到法定婚龄（22周岁）" in message
    assert Marriage.objects.get().husband == young


def test_the_legal_marriage_age_of_the_day_applies(make_person):
    """Before 1981 the 1950 law's ages (女18、男20) were in force: a woman of 19 married lawfully in 1979."""
    wife = make_person("甲", "F", date(1960, 1, 1))
    husband = make_person("乙", "M", date(1958, 1, 1))
    assert marriage_record(wife=wife, husband=husband, kind="marriage", on=date(1979, 6, 1), by=None).pk
    other = make_person("丙", "F", date(1962, 1, 1))
    other_husband = make_person("丁", "M", date(1958, 1, 1))
    message, _ = _held(
        lambda **kw: marriage_record(wife=other, husband=other_husband, kind="marriage", on=date(1981, 6, 1),
                                     by=None, **kw)
    )  # fmt: skip
    assert "女方登记结婚时年龄为19岁，未达到法定婚龄（20周岁）" in message


def test_the_same_couple_married_twice_is_refused_even_with_an_earlier_date(couple):
    wife, husband = couple
    marriage_record(wife=wife, husband=husband, kind="marriage", on=date(2010, 1, 1), by=None)
    for on in (date(2008, 1, 1), date(2012, 1, 1)):
        with _refused(
            "repeated_marriage_same_couple", "这两人已登记结婚（2010-01-01），其间没有离婚登记，不能重复登记结婚"
        ):
            marriage_record(wife=wife, husband=husband, kind="marriage", on=on, by=None)
    # After a divorce they may marry again (复婚).
    marriage_record(wife=wife, husband=husband, kind="divorce", on=date(2013, 1, 1), by=None)
    assert marriage_record(wife=wife, husband=husband, kind="marriage", on=date(2014, 1, 1), by=None).pk


def test_a_marriage_while_married_to_someone_else_is_refused_until_divorce_or_death(make_person):
    wife = make_person("甲", "F", date(1985, 1, 1))
    first = make_person("乙", "M", date(1983, 1, 1))
    second = make_person("丙", "M", date(1983, 1, 1))
    third = make_person("丁", "M", date(1983, 1, 1))
    marriage_record(wife=wife, husband=first, kind="marriage", on=date(2010, 1, 1), by=None)
    with _refused("marriage_while_married", "女方已于2010-01-01与他人登记结婚，此后未登记离婚或丧偶，不能再登记结婚"):
        marriage_record(wife=wife, husband=second, kind="marriage", on=date(2012, 1, 1), by=None)
    marriage_record(wife=wife, husband=first, kind="divorce", on=date(2011, 1, 1), by=None)
    marriage_record(wife=wife, husband=second, kind="marriage", on=date(2012, 1, 1), by=None)
    # The husband's side too: the second husband marries again while married to her ...
    other = make_person("戊", "F", date(1985, 1, 1))
    with _refused("marriage_while_married", "男方已于2012-01-01与他人登记结婚，此后未登记离婚或丧偶，不能再登记结婚"):
        marriage_record(wife=other, husband=second, kind="marriage", on=date(2014, 1, 1), by=None)
    # ... and a widow may marry again.
    death_record(person=second, on=date(2015, 1, 1), by=None)
    assert marriage_record(wife=wife, husband=third, kind="marriage", on=date(2016, 1, 1), by=None).pk


# --- events after departure or death ---------------------------------------------------------------------


def test_events_after_leaving_the_county_are_held_and_a_return_is_not(make_person):
    person = make_person("甲", "F", date(1985, 1, 1))
    move_record(person=person, kind="move_out", on=date(2015, 1, 1), origin_code=VILLAGE_A,
                destination_code=OUTSIDE, by=None)  # fmt: skip
    message, _ = _held(
        lambda **kw: contraception_record(person=person, method="iud", start=date(2016, 1, 1), by=None, **kw)
    )
    assert "该人员已于2015-01-01迁出本县，此后的登记需核实" in message
    message, _ = _held(lambda **kw: _birth(person, date(2016, 6, 1), **kw))
    assert "母亲已于2015-01-01迁出本县" in message
    message, _ = _held(
        lambda **kw: permit_issue(number="P-1", kind="service_certificate", wife=person, husband=None,
                                  issuing_township=Area.objects.get(code=TOWNSHIP_A), child_order=2,
                                  issued_on=date(2016, 8, 1), valid_until=None, issued_by="", by=None, **kw)
    )  # fmt: skip
    assert "女方已于2015-01-01迁出本县" in message
    # Coming back is no event "after departure"; afterwards nothing is held.
    move_record(person=person, kind="move_in", on=date(2017, 1, 1), origin_code=OUTSIDE,
                destination_code=VILLAGE_A, by=None)  # fmt: skip
    assert contraception_record(person=person, method="pill", start=date(2018, 1, 1), by=None).pk
    assert ContraceptiveUse.objects.count() == 2


def test_a_death_after_floating_out_is_held(make_person):
    person = make_person("甲", "M", date(1950, 1, 1))
    move_record(person=person, kind="float_out", on=date(2015, 1, 1), origin_code=VILLAGE_A,
                destination_code=OUTSIDE, by=None)  # fmt: skip
    message, death = _held(lambda **kw: death_record(person=person, on=date(2020, 1, 1), by=None, **kw))
    assert "该人员已于2015-01-01流出本县，此后的登记需核实" in message
    assert Death.objects.get() == death


def test_a_birth_long_after_the_fathers_death_is_refused(make_person):
    mother = make_person("甲", "F", date(1990, 1, 1))
    father = make_person("乙", "M", date(1988, 1, 1))
    death_record(person=father, on=date(2010, 1, 1), by=None)
    father.refresh_from_db()
    assert _birth(mother, date(2010, 6, 1), father=father).father == father  # 151 days: a posthumous child
    with _refused("event_after_death", "父亲已于2010-01-01死亡，登记的日期晚于死亡日期"):
        _birth(mother, date(2011, 6, 1), father=father, name="小红")


# --- move codes --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("destination", "message"),
    [
        ("131025100999", "现区划代码131025100999既不是本县的村（居），也不是有效的外县区划代码"),  # no such village
        ("990101001001", "现区划代码990101001001既不是本县的村（居），也不是有效的外县区划代码"),  # no province 99
    ],
)
def test_a_move_to_a_code_that_does_not_exist_is_refused(make_person, destination, message):
    person = make_person("甲", "F", date(1985, 1, 1))
    with _refused("destination_code", message) as info:
        move_record(person=person, kind="move_out", on=date(2015, 1, 1), origin_code=VILLAGE_A,
                    destination_code=destination, by=None)  # fmt: skip
    assert info.value.field == "destination_code"
    assert not Move.objects.exists()
    assert move_record(person=person, kind="move_out", on=date(2015, 1, 1), origin_code=VILLAGE_A,
                       destination_code=OUTSIDE, by=None).pk  # fmt: skip


def test_rule_parameters_are_validated_in_the_admin_form(db):
    from django.core.exceptions import ValidationError

    rule = PlausibilityRule(code="birth_spacing", action="hold", valid_from=date(2000, 1, 1), parameters={"days": 1})
    with pytest.raises(ValidationError, match="该规则没有参数days"):
        rule.full_clean()
    rule.parameters = {"min_days": -1}
    with pytest.raises(ValidationError, match="min_days应为非负整数"):
        rule.full_clean()


def test_two_rules_of_one_code_and_action_cannot_overlap(db):
    overlapping = PlausibilityRule(code="birth_spacing", action="hold", valid_from=date(2020, 1, 1))
    with pytest.raises(ValidationError, match="有效期重叠"):
        overlapping.full_clean()
    # A refusal bound beside the seeded warning bound is fine.
    beside = PlausibilityRule(code="birth_spacing", action="refuse", valid_from=date(2020, 1, 1))
    beside.full_clean()
    beside.save()
    # A new version after the old one's end is fine too.
    old = PlausibilityRule.objects.get(code="birth_spacing", action="hold")
    old.valid_to = date(2019, 12, 31)
    old.save()
    overlapping.full_clean()


# --- the browser forms ---------------------------------------------------------------------------------


def _url(name, *args):
    from django.urls import reverse

    return reverse(f"registry:{name}", args=args)


def _birth_post(**overrides):
    data = {
        "child_name": "王小二",
        "child_sex": "F",
        "child_id_number": "",
        "date": "2016-06-01",
        "village": VILLAGE_A,
        "father_id_number": "",
        "permit": "",
        "birth_order_given": "",
        "policy_status": "",
        "override_reason": "",
    }
    return {**data, **overrides}


def test_the_birth_form_shows_the_warning_and_the_checkbox_then_records_when_confirmed(
    client, make_person, township_clerk
):
    mother = make_person("甲", "F", date(2000, 1, 1))
    client.force_login(township_clerk)
    response = client.post(_url("birth_create", mother.pk), _birth_post())
    page = response.content.decode()
    assert response.status_code == 200
    assert "母亲生育时年龄为16岁，低于合理范围（18岁）" in page
    assert 'data-testid="held-warnings"' in page
    assert 'name="confirmed"' in page and "我已核实，确认录入" in page
    assert not Birth.objects.exists()

    response = client.post(_url("birth_create", mother.pk), _birth_post(confirmed="on"), follow=True)
    assert "已登记出生：王小二，第1孩" in response.content.decode()
    assert Birth.objects.get().mother == mother


def test_the_birth_form_refuses_an_11_year_old_mother_without_offering_confirmation(
    client, make_person, township_clerk
):
    mother = make_person("甲", "F", date(2005, 1, 1))
    client.force_login(township_clerk)
    response = client.post(_url("birth_create", mother.pk), _birth_post(confirmed="on"))
    assert response.context["form"].non_field_errors() == ["母亲生育时年龄为11岁，低于合理范围（14岁）"]
    assert not Birth.objects.exists()


def test_the_marriage_and_move_forms_show_refusals_beside_the_field(client, make_person, township_clerk):
    wife = make_person("甲", "F", date(2000, 1, 1))
    husband = make_person("乙", "M", date(1990, 1, 1))
    client.force_login(township_clerk)
    response = client.post(
        _url("marriage_create", husband.pk),
        {"kind": "marriage", "other_id_number": wife.id_number, "other_name": wife.name, "date": "2016-06-01"},
    )
    assert response.context["form"].errors == {
        "other_id_number": ["女方登记结婚时年龄为16岁，未满18周岁，不能登记结婚"]
    }
    response = client.post(
        _url("move_create", wife.pk),
        {"kind": "move_out", "date": "2020-01-01", "origin": VILLAGE_A, "destination": OUTSIDE_COUNTY,
         "destination_other_code": "990000000000", "certificate_number": ""},
    )  # fmt: skip
    assert response.context["form"].errors == {
        "destination": ["现区划代码990000000000既不是本县的村（居），也不是有效的外县区划代码"]
    }
    assert not Move.objects.exists() and not Marriage.objects.exists()


def test_the_death_and_contraception_forms_hold_after_departure(client, make_person, township_clerk):
    person = make_person("甲", "F", date(1960, 1, 1))
    move_record(person=person, kind="float_out", on=date(2015, 1, 1), origin_code=VILLAGE_A,
                destination_code=OUTSIDE, by=None)  # fmt: skip
    client.force_login(township_clerk)
    post = {"method": "iud", "start_date": "2016-01-01", "end_date": ""}
    response = client.post(_url("contraception_create", person.pk), post)
    assert "该人员已于2015-01-01流出本县，此后的登记需核实" in response.content.decode()
    client.post(_url("contraception_create", person.pk), {**post, "confirmed": "on"})
    assert ContraceptiveUse.objects.count() == 1
    response = client.post(_url("death_create", person.pk), {"date": "2020-01-01"})
    assert 'name="confirmed"' in response.content.decode()
    client.post(_url("death_create", person.pk), {"date": "2020-01-01", "confirmed": "on"})
    assert Death.objects.get().person == person
