"""Registry fixtures: persons made through the services, with valid ID numbers."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from apps.areas.models import Area
from apps.core.idnumbers import check_digit
from apps.registry.services import PersonData, person_create
from tests.conftest import VILLAGE_A

_seq = itertools.count(1)


def make_id_number(born: date, sex: str, region: str = "131025") -> str:
    n = next(_seq) % 100
    sex_digit = (n % 5) * 2 + (1 if sex == "M" else 0)
    first17 = f"{region}{born:%Y%m%d}{n:02d}{sex_digit}"
    return first17 + check_digit(first17)


@pytest.fixture
def make_person(areas):
    def make(
        name: str = "张三",
        sex: str = "F",
        born: date = date(1990, 1, 1),
        village: str = VILLAGE_A,
        hukou: str = "agricultural",
        with_id: bool = True,
        **extra,
    ):
        data = PersonData(
            name=name,
            sex=sex,
            birth_date=born,
            hukou_type=hukou,
            village=Area.objects.get(code=village),
            id_number=make_id_number(born, sex) if with_id else None,
            **extra,
        )
        return person_create(data=data, by=None)

    return make


@pytest.fixture
def couple(make_person):
    wife = make_person("李梅", "F", date(1985, 3, 1))
    husband = make_person("王强", "M", date(1983, 6, 1))
    return wife, husband
