"""Subsidy fixtures: hand-built families through the registry services, users of each workflow role."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from stdnum import luhn

from apps.areas.models import Area
from apps.registry.models import Person
from apps.registry.services import ChildData, PersonData, birth_record, death_record, person_create
from apps.subsidies.models import Programme, Roster, RosterEntry
from apps.subsidies.services import (
    bank_account_save,
    roster_approve,
    roster_review,
    roster_village_submit,
    rosters_generate,
)
from tests.conftest import COUNTY, TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A
from tests.registry.conftest import make_id_number


def card_number(prefix: str = "622202123456789") -> str:
    """A 19-digit bank card number with a valid Luhn check digit."""
    body = (prefix + "0" * 18)[:18]
    return body + luhn.calc_check_digit(body)


@dataclass
class Family:
    father: Person
    mother: Person
    children: list[Person]


@pytest.fixture
def make_family(areas):
    """``make_family(father=date, mother=date, children=[("F", date), ...])``: a married couple of a village
    and their births; ``out_of_policy`` marks the last birth 政策外 (with the staff's reason)."""

    def make(
        *,
        father: date,
        mother: date,
        children: list[tuple[str, date]],
        village: str = VILLAGE_A,
        hukou: str = "agricultural",
        surname: str = "王",
        out_of_policy: bool = False,
    ) -> Family:
        area = Area.objects.get(code=village)

        def person(name: str, sex: str, born: date) -> Person:
            return person_create(
                data=PersonData(
                    name=name,
                    sex=sex,
                    birth_date=born,
                    hukou_type=hukou,
                    village=area,
                    id_number=make_id_number(born, sex),
                ),
                by=None,
            )

        dad = person(f"{surname}父", "M", father)
        mum = person(f"{surname}母", "F", mother)
        kids = []
        for i, (sex, born) in enumerate(children, start=1):
            last = i == len(children)
            birth = birth_record(
                mother=mum,
                father=dad,
                on=born,
                village=area,
                child_data=ChildData(f"{surname}{'子' if sex == 'M' else '女'}{i}", sex),
                policy_status_given="out_of_policy" if (out_of_policy and last) else None,
                override_reason="超生（核实）" if (out_of_policy and last) else "",
                by=None,
            )
            kids.append(birth.child)
        return Family(dad, mum, kids)

    return make


@pytest.fixture
def kill():
    def kill(person: Person, on: date) -> None:
        death_record(person=person, on=on, by=None)

    return kill


def load_fixture_programmes() -> None:
    """The data migration's example programmes (idempotent): a transactional test before this one flushed them."""
    from django.apps import apps

    importlib.import_module("apps.subsidies.migrations.0002_fixture_programmes").load(apps, None)
    importlib.import_module("apps.subsidies.migrations.0004_childcare_by_application").forward(apps, None)
    importlib.import_module("apps.subsidies.migrations.0005_national_rural_reward_criteria").load(apps, None)


@pytest.fixture
def programme(db):
    load_fixture_programmes()
    return lambda code: Programme.objects.get(code=code)


def entries_of(programme_code: str, period: str) -> dict[str, tuple[str, str, list[str]]]:
    """``{person name: (change, amount, reason labels)}`` across the county's rosters of the period."""
    rows = RosterEntry.objects.filter(roster__programme__code=programme_code, roster__period=period).select_related(
        "person"
    )
    return {e.person.name: (e.change, str(e.amount), e.reasons) for e in rows}


def roster_of(programme_code: str, period: str, township: str = TOWNSHIP_A) -> Roster:
    return Roster.objects.get(programme__code=programme_code, period=period, township_id=township)


@pytest.fixture
def users(make_user):
    """One user of each workflow role; the approvers and the batch officer are county users."""
    return {
        "village": make_user("cun", VILLAGE_A, "village_clerk", full_name="南潘庄村录入员"),
        "reviewer": make_user("shenhe", TOWNSHIP_A, "subsidy_reviewer", full_name="平舒镇审核员"),
        "reviewer_b": make_user("shenhe_b", TOWNSHIP_B, "subsidy_reviewer"),
        "approver": make_user("shenpi", COUNTY, "subsidy_approver", full_name="县审批人"),
        "approver2": make_user("shenpi2", COUNTY, "subsidy_approver", full_name="县审批人二"),
        "payer": make_user("fafang", COUNTY, "subsidy_reviewer", full_name="县发放经办"),
        "admin": make_user("xianadmin", COUNTY, "county_admin"),
    }


def approved_roster(users, period="2025") -> Roster:
    roster = roster_of("rural_reward", period)
    roster_village_submit(roster=roster, by=users["village"])
    roster_review(roster=roster, by=users["reviewer"])
    roster_approve(roster=roster, by=users["approver"])
    Roster.objects.filter(pk=roster.pk).update(approved_on=date.today() - timedelta(days=30))  # 公示 is over
    roster.refresh_from_db()
    return roster


@pytest.fixture
def families(make_family, programme, users):
    """Two eligible couples (four beneficiaries) of village A, each parent with a card."""
    a = make_family(surname="杨", father=date(1960, 1, 1), mother=date(1961, 1, 1), children=[("M", date(1990, 1, 1))])
    b = make_family(
        surname="朱", father=date(1958, 1, 1), mother=date(1959, 1, 1),
        children=[("F", date(1985, 1, 1)), ("F", date(1987, 1, 1))],
    )  # fmt: skip
    for i, parent in enumerate((a.father, a.mother, b.father, b.mother)):
        bank_account_save(
            person=parent, kind="card", bank_name="农村信用社", account_number=card_number(f"62231{i}"), by=None
        )
    rosters_generate(programme=programme("rural_reward"), period="2025", by=users["admin"])
    return a, b
