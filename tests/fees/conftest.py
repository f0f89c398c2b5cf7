"""Fee fixtures: out-of-policy births made through the registry services, and users of each fee role."""

from __future__ import annotations

import importlib
from datetime import date, timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from apps.areas.models import Area
from apps.fees.models import FeeEnd
from apps.fees.services import fee_case_open
from apps.registry.services import ChildData, PersonData, birth_record, person_create
from tests.conftest import COUNTY, TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A
from tests.registry.conftest import make_id_number


def load_policy_data() -> None:
    """The birth-policy rules and the example fee standard and parameters of the data migrations, again: a
    transactional test (racing payments, the browser tests) empties every table when it ends, migration data
    included. Idempotent."""
    for module in (
        "apps.registry.migrations.0002_birth_policy_rules",
        "apps.fees.migrations.0002_example_standard_and_policy",
        "apps.fees.migrations.0004_fee_end_and_legal_basis_data",
    ):
        importlib.import_module(module).load(apps, None)


@pytest.fixture
def policy_data(db) -> None:
    load_policy_data()


@pytest.fixture
def fee_in_force(policy_data) -> None:
    """The years when the fee was levied: the end not reached yet (moved past today), so that what is dated
    today (opening through the pages, a transfer, an enforcement referral) is before it."""
    FeeEnd.objects.update(ends_on=timezone.localdate() + timedelta(days=365))


def open_case(birth, by, on: date | None = None):
    """A case entered from the paper record of its time: opened on ``on`` (the birth date by default), long
    before the fee's end."""
    return fee_case_open(birth=birth, by=by, opened_on=on or birth.date)


@pytest.fixture
def fee_officer(make_user):
    return make_user("fee_a", TOWNSHIP_A, "fee_officer", full_name="平舒镇征收员")


@pytest.fixture
def fee_officer_b(make_user):
    return make_user("fee_b", TOWNSHIP_B, "fee_officer")


@pytest.fixture
def county_admin(make_user):
    return make_user("county_admin", COUNTY, "county_admin")


@pytest.fixture
def make_birth(areas, policy_data):
    """A mother whose first child (a boy) was born in 2008 and whose later child, born ``on``, is therefore
    out of policy under the one-child rules (a rural couple may have a second only after a girl)."""

    def make(
        *,
        on: date = date(2012, 5, 10),
        hukou: str = "agricultural",
        employment: str = "",
        village: str = VILLAGE_A,
        name: str = "刘秀英",
        first_on: date = date(2008, 3, 1),
        extra_children: tuple[date, ...] = (),
    ):
        area = Area.objects.get(code=village)
        born = date(1985, 4, 12)
        mother = person_create(
            data=PersonData(
                name=name,
                sex="F",
                birth_date=born,
                hukou_type=hukou,
                village=area,
                id_number=make_id_number(born, "F"),
                employment_type=employment,
            ),
            by=None,
        )
        birth_record(mother=mother, on=first_on, village=area, child_data=ChildData("长子", "M"), by=None)
        for i, day in enumerate(extra_children):
            birth_record(mother=mother, on=day, village=area, child_data=ChildData(f"子{i}", "M"), by=None)
        return birth_record(mother=mother, on=on, village=area, child_data=ChildData("张二", "M"), by=None)

    return make
