"""Hand-built registry datasets whose indicators are computed by hand in the tests' comments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from apps.areas.models import Area
from apps.registry.models import Person
from apps.registry.services import (
    ChildData,
    birth_record,
    contraception_record,
    death_record,
    household_create,
    marriage_record,
    move_record,
)
from tests.conftest import VILLAGE_A, VILLAGE_B
from tests.registry.conftest import couple, make_person  # noqa: F401

VILLAGE_A2 = "131025100202"  # 新胡庄村委会, also under township A
OUTSIDE = "130100000000"  # a code outside the county


@dataclass
class Scenario:
    persons: dict[str, Person]


def _birth(areas, mother, on, village, sex, *, entered, status=None, name="婴儿"):
    return birth_record(
        mother=mother,
        on=on,
        village=areas[village],
        by=None,
        child_data=ChildData(name=name, sex=sex),
        entered_on=entered,
        policy_status_given=status,
        override_reason="乡镇核实" if status else "",
    )


@pytest.fixture
def events_scenario(areas, make_person) -> Scenario:  # noqa: F811
    """Births, deaths and moves around 2024Q1 (2024-01-01 .. 2024-03-31; day before: 2023-12-31).

    Residents (born long before, unless noted) and where they live on 2023-12-31 (d0) and 2024-03-31 (d1):

    | who | village | d0 | d1 |
    |---|---|---|---|
    | m1, m2, m6 (mothers) | A | A | A |
    | c1 (m1's, 2020-03-01) | A | A | A |
    | c2 (m1's, 2024-01-01), c3 (m2's, 2024-02-29), c6 (m6's, 2024-03-15) | A | – | A |
    | dead_a1 (died 2024-03-31) | A | A | – |
    | dead_a3 (died 2023-12-31) | A | – | – |
    | mover_out (A → outside the county 2024-01-15) | A | A | – |
    | mover_after (A → B on 2024-04-01) | A | A | A |
    | mover_in (B → A on 2024-02-10) | | B | A |
    | m3, c31 (2018), c32 (2021) | A2 | A2 | A2 |
    | c33 (m3's, 2024-03-31) | A2 | – | A2 |
    | m4, m5, dead_b2 (died 2024-04-01) | B | B | B |
    | c5 (m5's, 2023-12-31) | B | B | B |
    | c4 (m4's, 2024-04-01) | B | – | – |
    | floater (from outside into B on 2024-03-31) | | – | B |

    Population: A 7 → 9, A2 3 → 4, B 5 → 5.
    Births dated in 2024Q1, at the birth's village: A: c2 (boy, 2nd child, entered after 30 days: timely),
    c3 (girl, 1st, entered after 31 days: late); A2: c33 (boy, 3rd, out of policy, timely); B: c6 (girl, 1st,
    born in B although her mother lives in A, timely). Outside: c5 (2023-12-31), c4 (2024-04-01), c1.
    Deaths dated in 2024Q1: A: dead_a1.
    """
    p = {}
    p["m1"] = make_person("母一", "F", date(1990, 1, 1), VILLAGE_A)
    p["m2"] = make_person("母二", "F", date(1992, 6, 15), VILLAGE_A)
    p["m6"] = make_person("母六", "F", date(1994, 1, 1), VILLAGE_A)
    p["m3"] = make_person("母三", "F", date(1985, 1, 1), VILLAGE_A2)
    p["m4"] = make_person("母四", "F", date(1993, 1, 1), VILLAGE_B)
    p["m5"] = make_person("母五", "F", date(1991, 1, 1), VILLAGE_B)
    p["dead_a1"] = make_person("故一", "M", date(1950, 1, 1), VILLAGE_A)
    p["dead_a3"] = make_person("故三", "M", date(1940, 1, 1), VILLAGE_A)
    p["dead_b2"] = make_person("故二", "M", date(1945, 1, 1), VILLAGE_B)
    p["mover_out"] = make_person("迁出者", "M", date(1980, 1, 1), VILLAGE_A)
    p["mover_after"] = make_person("后迁者", "M", date(1981, 1, 1), VILLAGE_A)
    p["mover_in"] = make_person("迁入者", "M", date(1982, 1, 1), VILLAGE_B)
    p["floater"] = make_person("流入者", "M", date(1983, 1, 1), VILLAGE_B)

    _birth(areas, p["m1"], date(2020, 3, 1), VILLAGE_A, "F", entered=date(2020, 3, 5), status="in_policy")
    _birth(areas, p["m1"], date(2024, 1, 1), VILLAGE_A, "M", entered=date(2024, 1, 31), status="in_policy")
    _birth(areas, p["m2"], date(2024, 2, 29), VILLAGE_A, "F", entered=date(2024, 3, 31), status="in_policy")
    _birth(areas, p["m6"], date(2024, 3, 15), VILLAGE_B, "F", entered=date(2024, 3, 15), status="in_policy")
    _birth(areas, p["m3"], date(2018, 1, 1), VILLAGE_A2, "M", entered=date(2018, 1, 2), status="in_policy")
    _birth(areas, p["m3"], date(2021, 1, 1), VILLAGE_A2, "M", entered=date(2021, 1, 2), status="in_policy")
    _birth(areas, p["m3"], date(2024, 3, 31), VILLAGE_A2, "M", entered=date(2024, 4, 5), status="out_of_policy")
    _birth(areas, p["m5"], date(2023, 12, 31), VILLAGE_B, "F", entered=date(2024, 1, 2), status="in_policy")
    _birth(areas, p["m4"], date(2024, 4, 1), VILLAGE_B, "M", entered=date(2024, 4, 2), status="in_policy")

    death_record(person=p["dead_a1"], on=date(2024, 3, 31), by=None)
    death_record(person=p["dead_a3"], on=date(2023, 12, 31), by=None)
    death_record(person=p["dead_b2"], on=date(2024, 4, 1), by=None)

    move_record(person=p["mover_out"], kind="move_out", on=date(2024, 1, 15), origin_code=VILLAGE_A,
                destination_code=OUTSIDE, by=None)  # fmt: skip
    move_record(person=p["mover_after"], kind="move_out", on=date(2024, 4, 1), origin_code=VILLAGE_A,
                destination_code=VILLAGE_B, by=None)  # fmt: skip
    move_record(person=p["mover_in"], kind="move_in", on=date(2024, 2, 10), origin_code=VILLAGE_B,
                destination_code=VILLAGE_A, by=None)  # fmt: skip
    move_record(person=p["floater"], kind="float_in", on=date(2024, 3, 31), origin_code=OUTSIDE,
                destination_code=VILLAGE_B, by=None)  # fmt: skip
    return Scenario(persons=p)


@pytest.fixture
def women_scenario(areas, make_person) -> Scenario:  # noqa: F811
    """Married women of childbearing age and record completeness in village A on 2024-02-29 (period 2024M02).

    | woman | born | married | method on 2024-02-29 | counted |
    |---|---|---|---|---|
    | w1 | 1974-03-01 (49) | 2000 | IUD since 2010 | user, long-acting |
    | w2 | 1974-02-28 (50 on 2024-02-28) | 2000 | pill | not of childbearing age |
    | w3 | 1990 | 2015, divorced 2023-06-01 | – | not married |
    | w4 | 1990 | 2015 | husband sterilised 2020 | user, long-acting |
    | w5 | 1992 | 2016 | pill 2023-01-01 .. 2024-02-29 (ended that day) | not a user |
    | w6 | 1995 | on 2024-02-29 | condom from 2024-02-29 | user |
    | w7 | 1993 | 2018 | – | not a user |
    | w8 | 1980 | 2005 | IUD; moved out of the county 2024-02-01 | not resident |
    | w9 | 1985 | 2010 | IUD; died 2024-02-15 | not alive |

    married_wra = 5 (w1, w4, w5, w6, w7); users 3 (w1, w4, w6); long-acting 2 (w1, w4).
    Completeness: residents of A on 2024-02-29 are w1–w7 and the nine husbands (all complete: valid ID,
    household, ...), plus no_household, no_id and bad_checksum: 16 complete of 19.
    """
    household = household_create(number="131025100201-001", village=areas[VILLAGE_A], by=None)
    p = {}

    def person(key, sex, born, **extra):
        extra.setdefault("household", household)
        p[key] = make_person(key, sex, born, VILLAGE_A, **extra)
        return p[key]

    spec = [
        ("w1", date(1974, 3, 1), date(2000, 1, 1)),
        ("w2", date(1974, 2, 28), date(2000, 1, 1)),
        ("w3", date(1990, 1, 1), date(2015, 1, 1)),
        ("w4", date(1990, 1, 1), date(2015, 1, 1)),
        ("w5", date(1992, 1, 1), date(2016, 1, 1)),
        ("w6", date(1995, 1, 1), date(2024, 2, 29)),
        ("w7", date(1993, 1, 1), date(2018, 1, 1)),
        ("w8", date(1980, 1, 1), date(2005, 1, 1)),
        ("w9", date(1985, 1, 1), date(2010, 1, 1)),
    ]
    for key, born, married in spec:
        wife = person(key, "F", born)
        husband = person("h" + key[1:], "M", date(born.year - 2, 1, 1))
        marriage_record(wife=wife, husband=husband, kind="marriage", on=married, by=None)
    marriage_record(wife=p["w3"], husband=p["h3"], kind="divorce", on=date(2023, 6, 1), by=None)
    contraception_record(person=p["w1"], method="iud", start=date(2010, 1, 1), by=None)
    contraception_record(person=p["w2"], method="pill", start=date(2020, 1, 1), by=None)
    contraception_record(person=p["h4"], method="male_sterilisation", start=date(2020, 1, 1), by=None)
    contraception_record(person=p["w5"], method="pill", start=date(2023, 1, 1), end=date(2024, 2, 29), by=None)
    contraception_record(person=p["w6"], method="condom", start=date(2024, 2, 29), by=None)
    contraception_record(person=p["w8"], method="iud", start=date(2010, 1, 1), by=None)
    contraception_record(person=p["w9"], method="iud", start=date(2012, 1, 1), by=None)
    move_record(person=p["w8"], kind="move_out", on=date(2024, 2, 1), origin_code=VILLAGE_A, destination_code=OUTSIDE,
                by=None)  # fmt: skip
    death_record(person=p["w9"], on=date(2024, 2, 15), by=None)
    person("no_household", "M", date(1970, 1, 1), household=None)
    person("no_id", "M", date(1971, 1, 1), with_id=False)
    bad = person("bad_checksum", "M", date(1972, 1, 1))
    wrong = bad.id_number[:17] + ("0" if bad.id_number[17] != "0" else "1")
    Person.objects.filter(pk=bad.pk).update(id_number=wrong)  # as an old import could have left it
    return Scenario(persons=p)


def area(code: str) -> Area:
    return Area.objects.get(code=code)
