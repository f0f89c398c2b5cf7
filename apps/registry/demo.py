"""The demo county (DESIGN §8 ``seed_demo``, §9 reference county): a deterministic synthetic population on the
demo areas, with ten years of events, written with PostgreSQL COPY.

What is generated
    Households of the 400 demo villages (fixtures/areas_demo.csv, loaded if missing): couples with their
    children, elders, a few rural bachelors, and floating households (流入) from outside the county. Adult
    children marry and found households of their own in the county (sons in their village with a wife from
    another village or county; daughters into another village, or out of the county), so mothers, children and
    grandchildren are linked through birth records. Every person has a valid 18-digit ID number: GB 11643 check
    digit by ``stdnum.cn.ric`` (through ``core.idnumbers.check_digit``), birth date and sex digit agreeing with
    the person. Fertility follows the policy era of each birth date (one child, the rural second child when the
    first is a girl, two children from 2016, three from 31 May 2021) with a sex ratio at birth near 107 and a
    few births beyond what the rules in ``registry_birthpolicyrule`` allow, some covered by a permit (再生育审批).
    Deaths follow age-specific mortality; contraception starts after births and ends at menopause, divorce,
    widowhood or death; moves are marriage migration, floating out for work and back, students leaving, and
    floating households arriving and leaving. Marriages and births are kept back to each couple's wedding (birth
    order is counted over the mother's recorded births, and "married" is read from marriage records, DESIGN §5);
    deaths, divorces, permits, contraception in use and most moves fall in the ten years up to the end of last
    year plus this year so far; a move that decides where someone lives (an arrival, a marriage out of the
    county) is kept whenever it happened.

Determinism
    Everything is drawn from one ``random.Random(seed)`` in a fixed order, from the village list (by code), the
    birth-policy rules and the reference date (``as_of``, today unless given). Same N, seed and date: the same
    ID numbers, names, dates and events. Primary keys depend on the sequences' state and are not part of that.

Consistency with the services
    The generator keeps what ``services.py`` keeps: ``Person.village`` is what replaying the moves through
    ``rules.residence_sync`` gives; ``Person.death_date`` equals the ``Death`` row; contraception is closed at
    death; no event before a birth, after a death or after today. Birth order and policy status are computed
    here the way the recomputation SQL does. After the COPY the registry's own rules (``registry.rules``:
    births, residence, death, marital status) run over every row they concern, so the stored values are by
    construction what the services keep. The summary reports how many rows each rule had to change (0 when
    the generator and the rules agree).

Audit trail
    The pghistory triggers stay on: every demo row gets its ``insert`` event, like rows entered by hand or by
    import (DESIGN §4), all under one ``pghistory.context(reason="seed_demo", ...)`` so the trail says where
    the rows came from and they can be told apart from real entries. Ignoring the triggers would be faster
    but would leave 600,000 persons with no history at all. Two details keep this affordable:

    - pghistory attaches the context through transaction-local settings that its execute wrapper sets on the
      first write statement; COPY bypasses Django's execute wrappers, so a statement is run before the COPYs
      to set them (``SET LOCAL pgtrigger.ignore``, below).
    - The pgtrigger guard ``_pgtrigger_should_ignore`` reads the setting ``pgtrigger.ignore``; when it was
      never set, reading it raises an error that PL/pgSQL catches in a sub-transaction, once per row. Each
      aborted sub-transaction rescans the statement's pending after-trigger events, so a COPY of n rows costs
      O(n²) (measured: 20,000 persons 8.4 s, 600,000 persons did not finish in 20 minutes). Setting
      ``pgtrigger.ignore`` to the empty list, which ignores nothing, makes it linear (about 55 µs a person).

Speed (600,000 persons, 2 cores; see bench-results/seed_demo.json)
    Generating in Python takes about 25 s, the COPYs with their audit triggers about 40 s, the deferred foreign
    key checks (forced at the end, so a bad row fails here and not at some later commit) about 17 s. The tables
    are ANALYZEd before ``births_recompute``, which then takes about 5 s over every mother with its
    ``ANY(array)`` form, so no separate all-births variant is needed.
"""

from __future__ import annotations

import bisect
import math
import random
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pghistory
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.areas.models import Area, AreaLevel
from apps.areas.services import areas_load_csv
from apps.core import pagecache
from apps.core.errors import RuleViolation
from apps.core.idnumbers import check_digit
from apps.registry.models import BirthPolicyRule, Person
from apps.registry.rules import births_recompute, death_sync, marital_status_sync, residence_sync

DEMO_COUNTY = "131025000000"
DEMO_REGION = DEMO_COUNTY[:6]
AREAS_FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "areas_demo.csv"
COUNTY_SEAT = "131025100000"  # 平舒镇: more non-agricultural households

# Surnames in rough order of frequency in northern China; weights fall off with the rank.
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟"
    "汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
)
MALE_GIVEN = "伟强磊军洋勇杰涛明超刚建国文辉立新志海鹏飞宇浩然博俊峰东林成亮平波斌华振福德龙凯鑫毅帅晨阳"
FEMALE_GIVEN = "芳娜敏静丽艳娟秀霞桂英玉兰红梅燕雪琳欣怡涵婷佳悦萍琴莉月凤晶慧颖倩雨思彤"
# Counties (first six ID digits) people marry or float in from; the 12-digit county code is the move's other end.
OUTSIDE_REGIONS = (
    "131081", "131082", "131002", "131003", "131022", "131023", "131024", "131026", "131028", "130102",
    "130104", "130921", "130984", "120116", "120101", "110105", "370102", "371402", "410105", "411302",
    "230102", "510104", "340102", "150102",
)  # fmt: skip
FLOAT_DESTINATIONS = (
    "110105000000", "110108000000", "110115000000", "120101000000", "120116000000", "131002000000",
    "131081000000", "130102000000", "440106000000", "310115000000",
)  # fmt: skip
STUDY_DESTINATIONS = ("130102000000", "130104000000", "120104000000", "110108000000", "130602000000")

# Annual probability of dying by age (a Gompertz curve above 40, flat low rates below).
MORTALITY = tuple(
    0.006 if a == 0 else 0.0003 if a < 15 else 0.0008 if a < 40 else min(0.5, 0.00004 * math.exp(0.095 * a))
    for a in range(131)
)
# Probability that a birth is a boy, by birth order: about 105, 110 and 117 boys per 100 girls.
MALE_SHARE = (0.512, 0.524, 0.539)
TWIN_RATE = 0.012
# Age on the reference date of the wives of founding couples (their grown children found the younger households).
FOUNDING_AGES = ((22, 30), (30, 40), (40, 50), (50, 60), (60, 70), (70, 80), (80, 90), (90, 100))
FOUNDING_WEIGHTS = (5, 8, 12, 25, 26, 17, 9, 5)
PERIOD_FACTOR = {2017: 0.95, 2018: 0.85, 2019: 0.8, 2020: 0.7, 2021: 0.62, 2022: 0.56, 2023: 0.52}

TABLES = (
    # table, columns, columns holding local ids: (column index, table they point to)
    ("registry_household", ("id", "number", "address", "village_id", "created_at", "updated_at"),
     ((0, "registry_household"),)),
    ("registry_person",
     ("id", "id_number", "name", "sex", "birth_date", "ethnicity", "hukou_type", "employment_type", "household_id",
      "relation_to_head", "marital_status", "phone", "death_date", "version", "village_id", "created_at",
      "updated_at"),
     ((0, "registry_person"), (8, "registry_household"))),
    ("registry_marriage", ("id", "wife_id", "husband_id", "kind", "date", "village_id", "created_at", "updated_at"),
     ((0, "registry_marriage"), (1, "registry_person"), (2, "registry_person"))),
    ("registry_birthpermit",
     ("id", "number", "kind", "wife_id", "husband_id", "issuing_township_id", "child_order", "issued_on",
      "valid_until", "issued_by", "village_id", "created_at", "updated_at"),
     ((0, "registry_birthpermit"), (3, "registry_person"), (4, "registry_person"))),
    ("registry_birth",
     ("id", "mother_id", "father_id", "child_id", "date", "sex", "birth_order", "policy_status",
      "policy_status_computed", "policy_override_reason", "permit_id", "entered_on", "village_id", "created_at",
      "updated_at"),
     ((0, "registry_birth"), (1, "registry_person"), (2, "registry_person"), (3, "registry_person"),
      (10, "registry_birthpermit"))),
    ("registry_death", ("id", "person_id", "date", "village_id", "created_at", "updated_at"),
     ((0, "registry_death"), (1, "registry_person"))),
    ("registry_contraceptiveuse",
     ("id", "person_id", "method", "start_date", "end_date", "closed_by_death", "village_id", "created_at",
      "updated_at"),
     ((0, "registry_contraceptiveuse"), (1, "registry_person"))),
    ("registry_move",
     ("id", "person_id", "kind", "date", "origin_code", "destination_code", "certificate_number", "village_id",
      "created_at", "updated_at"),
     ((0, "registry_move"), (1, "registry_person"))),
)  # fmt: skip

YEAR = 365.2425


@dataclass(frozen=True)
class Rule:
    """A birth-policy rule as the recomputation SQL reads it (dates as ordinals)."""

    valid_from: int
    valid_to: int | None
    hukou_type: str
    condition: str
    children_allowed: int


@dataclass(frozen=True)
class Village:
    code: str
    name: str
    township: str


@dataclass(slots=True, eq=False)
class _Person:
    pk: int
    id_number: str
    name: str
    sex: str
    birth: int
    hukou: str
    village0: str  # village before any recorded move (or, for arrivals, where they arrived)
    household: int = 0
    relation: str = ""
    marital: str = "unmarried"
    death: int = 0
    native: bool = True
    ethnicity: str = "汉族"
    employment: str = ""
    phone: str = ""
    moves: list = field(default_factory=list)  # [date, kind, origin, destination, certificate], by date
    spouse: _Person | None = None
    union_end: int = 0  # divorce date

    def village_at(self, on: int, county: frozenset[str]) -> str:
        """Where ``person_sync_residence`` would have put the person after the moves up to ``on``."""
        village = self.village0
        for move in self.moves:
            if move[0] > on:
                break
            if move[3] in county:
                village = move[3]
        return village


@dataclass(slots=True)
class _Birth:
    pk: int
    mother: _Person
    father: _Person | None
    child: _Person
    date: int
    village: str
    entered_on: int
    permit: int = 0
    order: int = 0
    status: str = ""


@dataclass(slots=True)
class _Permit:
    pk: int
    number: str
    kind: str
    wife: _Person
    husband: _Person | None
    township: str
    child_order: int
    issued_on: int
    valid_until: int
    issued_by: str
    village: str


class DemoCounty:
    """Generates the demo county in memory. No database access: ``tables()`` gives the rows to COPY."""

    def __init__(self, *, persons: int, seed: int, as_of: date, villages: list[Village], rules: list[Rule]):
        if persons < 1:
            raise ValueError("persons must be positive")
        self.rng = random.Random(seed)
        self.seed = seed
        self.as_of = as_of.toordinal()
        self.window_start = date(as_of.year - 10, 1, 1).toordinal()
        self.villages = villages
        self.county = frozenset(v.code for v in villages)
        self.by_code = {v.code: v for v in villages}
        self.rules = rules
        self.remaining = persons
        self.persons: list[_Person] = []
        self.households: list[tuple[int, str, str, str]] = []  # pk, number, address, village
        self.marriages: list[tuple] = []
        self.births: list[_Birth] = []
        self.permits: list[_Permit] = []
        self.contraception: list[tuple] = []
        self._ids: set[str] = set()
        self._hh_serial: dict[str, int] = {}
        self._permit_serial: dict[tuple[str, int], int] = {}
        self._queue: deque = deque()
        self._ymd: dict[int, str] = {}
        rng = self.rng
        # Villages differ in size; the county seat is more urban.
        weights = [math.exp(rng.gauss(0, 0.35)) for _ in villages]
        self._village_cum = [sum(weights[: i + 1]) for i in range(len(weights))]
        self._surnames = "".join(s * max(1, round(40 / (i + 2) ** 0.9)) for i, s in enumerate(SURNAMES))
        self.policy_eras = (
            date(1980, 1, 1).toordinal(),
            date(2016, 1, 1).toordinal(),
            date(2021, 5, 31).toordinal(),
        )

    # --- small draws ---------------------------------------------------------------------------------

    def _pick_village(self, *, other_than: str = "") -> str:
        while True:
            r = self.rng.random() * self._village_cum[-1]
            code = self.villages[bisect.bisect_right(self._village_cum, r)].code
            if code != other_than:
                return code

    def _hukou_for(self, village: str) -> str:
        urban = 0.45 if self.by_code[village].township == COUNTY_SEAT else 0.12
        return "non_agricultural" if self.rng.random() < urban else "agricultural"

    def _date_between(self, start: int, end: int) -> int:
        return start + self.rng.randrange(end - start + 1)

    @staticmethod
    def _add_years(ordinal: int, years: int) -> int:
        d = date.fromordinal(ordinal)
        try:
            return d.replace(year=d.year + years).toordinal()
        except ValueError:  # 29 February
            return d.replace(year=d.year + years, day=28).toordinal()

    def _age(self, birth: int, on: int) -> float:
        return (on - birth) / YEAR

    def _iso(self, ordinal: int) -> str:
        return date.fromordinal(ordinal).isoformat()

    def _id_number(self, region: str, birth: int, male: bool) -> str:
        ymd = self._ymd.get(birth)
        if ymd is None:
            ymd = self._ymd[birth] = date.fromordinal(birth).strftime("%Y%m%d")
        digits = "13579" if male else "02468"
        rng = self.rng
        while True:
            first17 = f"{region}{ymd}{rng.randrange(100):02d}{rng.choice(digits)}"
            if first17 not in self._ids:
                self._ids.add(first17)
                return first17 + check_digit(first17)

    def _given_name(self, male: bool) -> str:
        pool = MALE_GIVEN if male else FEMALE_GIVEN
        rng = self.rng
        if rng.random() < 0.25:
            return rng.choice(pool)
        return rng.choice(pool) + rng.choice(pool)

    def _sample_death(self, birth: int, start: int) -> int:
        """A death date between ``start`` and ``as_of`` by annual mortality, or 0 (alive on ``as_of``)."""
        rng = self.rng
        t = max(birth, start)
        while t <= self.as_of:
            step = min(365, self.as_of - t + 1)
            q = MORTALITY[min(130, int((t - birth) / YEAR))]
            if rng.random() < q * step / 365:
                return t + rng.randrange(step)
            t += 365
        return 0

    # --- persons and households ------------------------------------------------------------------------

    def _person(
        self,
        *,
        male: bool,
        birth: int,
        village: str,
        hukou: str,
        surname: str | None = None,
        region: str = DEMO_REGION,
        native: bool = True,
        alive_from: int | None = None,
    ) -> _Person | None:
        """A new person, or None when the county already has its N persons."""
        if self.remaining <= 0:
            return None
        self.remaining -= 1
        rng = self.rng
        name = (surname or rng.choice(self._surnames)) + self._given_name(male)
        person = _Person(
            pk=len(self.persons) + 1,
            id_number=self._id_number(region, birth, male),
            name=name,
            sex="M" if male else "F",
            birth=birth,
            hukou=hukou,
            village0=village,
            native=native,
        )
        r = rng.random()
        if r < 0.02:
            person.ethnicity = "回族"
        elif r < 0.025:
            person.ethnicity = "满族"
        age = self._age(birth, self.as_of)
        if age >= 16:
            if hukou == "agricultural":
                r = rng.random()
                person.employment = "farmer" if r < 0.85 else "employee" if r < 0.95 else "urban_resident"
            else:
                person.employment = "employee" if rng.random() < 0.55 else "urban_resident"
        if 18 <= age < 80 and rng.random() < 0.7:
            person.phone = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
        person.death = self._sample_death(birth, max(self.window_start, alive_from or birth))
        self.persons.append(person)
        return person

    def _household(self, village: str, *, temporary: bool = False) -> int:
        serial = self._hh_serial.get(village, 0) + 1
        self._hh_serial[village] = serial
        pk = len(self.households) + 1
        street = self.by_code[village].name.removesuffix("委会")
        address = f"{street}{self.rng.randrange(1, 400)}号" + ("（暂住）" if temporary else "")
        self.households.append((pk, f"{village}{serial:05d}", address, village))
        return pk

    @staticmethod
    def _join(person: _Person, household: int, relation: str) -> None:
        person.household = household
        person.relation = relation

    # --- generation ----------------------------------------------------------------------------------

    def generate(self) -> DemoCounty:
        rng = self.rng
        while self.remaining > 0:
            if self._queue:
                kind, child, married = self._queue.popleft()
                if kind == "son":
                    self._son_marries(child, married)
                else:
                    self._daughter_marries(child, married)
                continue
            r = rng.random()
            if r < 0.06:
                self._floating_household()
            elif r < 0.08:
                self._bachelor()
            else:
                self._founding_family()
        self._final_pass()
        return self

    def _founding_family(self) -> None:
        """A couple whose parents are not in the registry, with their children (and maybe an elder)."""
        rng = self.rng
        village = self._pick_village()
        hukou = self._hukou_for(village)
        low, high = rng.choices(FOUNDING_AGES, weights=FOUNDING_WEIGHTS)[0]
        age = rng.uniform(low, high)
        wife_birth = self.as_of - int(age * YEAR)
        husband_birth = wife_birth - int(rng.uniform(-1, 5) * YEAR)
        married = wife_birth + int(rng.uniform(20, min(27, age - 0.5)) * YEAR)
        married = max(married, husband_birth + int(21 * YEAR))
        if married > self.as_of:
            married = self.as_of - rng.randrange(30, 300)
        # Old couples: one of them may have died before the ten years the registry covers.
        age_at_start = self._age(wife_birth, self.window_start)
        lost = age_at_start > 50 and rng.random() < min(0.6, 0.004 * (age_at_start - 50) ** 1.3)
        lost_husband = lost and rng.random() < 0.65
        household = self._household(village)
        surname = rng.choice(self._surnames)
        husband = wife = None
        if not (lost and lost_husband):
            husband = self._person(
                male=True, birth=husband_birth, village=village, hukou=hukou, surname=surname, alive_from=married
            )
            if husband is None:
                return
            self._join(husband, household, "户主")
        if not (lost and not lost_husband):
            region = DEMO_REGION if rng.random() < 0.85 else rng.choice(OUTSIDE_REGIONS)
            wife = self._person(
                male=False, birth=wife_birth, village=village, hukou=hukou, region=region, alive_from=married
            )
            if wife is None:
                if husband is not None:
                    husband.marital = "unmarried"
                return
            self._join(wife, household, "配偶" if husband else "户主")
        if husband is None or wife is None:
            (husband or wife).marital = "widowed"
        if husband and 30 <= self._age(husband_birth, self.as_of) <= 60 and rng.random() < 0.12:
            elder_birth = husband_birth - int(rng.uniform(22, 34) * YEAR)
            if self._age(elder_birth, self.window_start) < 88:
                elder = self._person(
                    male=rng.random() < 0.3, birth=elder_birth, village=village, hukou=hukou, surname=surname
                )
                if elder is not None:
                    self._join(elder, household, "父母")
                    elder.marital = "widowed"
        self._union(husband, wife, married, household, village, surname=surname, hukou=hukou)

    def _bachelor(self) -> None:
        village = self._pick_village()
        birth = self.as_of - int(self.rng.uniform(30, 66) * YEAR)
        person = self._person(male=True, birth=birth, village=village, hukou="agricultural")
        if person is not None:
            self._join(person, self._household(village), "户主")

    def _floating_household(self) -> None:
        """流入: a worker or a young couple from outside the county; a third leave again."""
        rng = self.rng
        village = self._pick_village()
        region = rng.choice(OUTSIDE_REGIONS)
        origin = region + "000000"
        hukou = "agricultural" if rng.random() < 0.8 else "non_agricultural"
        arrival = self._date_between(self.window_start - int(4 * YEAR), self.as_of - 30)
        leaves = arrival + rng.randrange(365, 2200) if rng.random() < 0.35 else 0
        if leaves > self.as_of:
            leaves = 0
        household = self._household(village, temporary=True)
        members = []
        if rng.random() < 0.4:
            male = rng.random() < 0.6
            birth = arrival - int(rng.uniform(18, 35) * YEAR)
            worker = self._person(
                male=male, birth=birth, village=village, hukou=hukou, region=region, native=False, alive_from=arrival
            )
            if worker is None:
                return
            self._join(worker, household, "户主")
            members.append(worker)
        else:
            wife_birth = arrival - int(rng.uniform(20, 36) * YEAR)
            husband_birth = wife_birth - int(rng.uniform(-1, 5) * YEAR)
            married = max(wife_birth + int(20 * YEAR), husband_birth + int(21 * YEAR), arrival - int(5 * YEAR))
            married = min(married + rng.randrange(0, 1500), arrival)
            surname = rng.choice(self._surnames)
            kwargs = {"village": village, "hukou": hukou, "native": False, "alive_from": arrival}
            husband = self._person(male=True, birth=husband_birth, surname=surname, region=region, **kwargs)
            if husband is None:
                return
            self._join(husband, household, "户主")
            members.append(husband)
            wife = self._person(male=False, birth=wife_birth, region=region, **kwargs)
            if wife is None:
                husband.marital = "unmarried"
            else:
                self._join(wife, household, "配偶")
                members.append(wife)
                children = self._union(
                    husband,
                    wife,
                    married,
                    household,
                    village,
                    surname=surname,
                    hukou=hukou,
                    region=region,
                    not_before=arrival + 60,
                    until=leaves or None,
                )
                members += children
        for person in members:
            if person.birth < arrival:
                person.moves.append([arrival, "float_in", origin, village, self._certificate(person, arrival)])
            if leaves and not (person.death and person.death < leaves) and person.birth < leaves:
                destination = origin if rng.random() < 0.6 else rng.choice(FLOAT_DESTINATIONS)
                person.moves.append([leaves, "float_out", village, destination, self._certificate(person, leaves)])

    def _certificate(self, person: _Person, on: int) -> str:
        """婚育证明号: carried by women of childbearing age who move."""
        if person.sex == "F" and 15 <= self._age(person.birth, on) < 50:
            return f"HY{date.fromordinal(on).year}{self.rng.randrange(10**6):06d}"
        return ""

    def _son_marries(self, son: _Person, married: int) -> None:
        """A son founds his own household, mostly in his village, with a wife from elsewhere."""
        rng = self.rng
        village = son.village_at(married, self.county)
        if rng.random() < 0.1:
            village = self._pick_village(other_than=village)
        from_county = rng.random() < 0.7
        origin = self._pick_village(other_than=village) if from_county else rng.choice(OUTSIDE_REGIONS) + "000000"
        wife_birth = son.birth + int(rng.uniform(-1, 4) * YEAR)
        wife_birth = min(wife_birth, married - int(20 * YEAR))
        in_window = married >= self.window_start
        wife = self._person(
            male=False,
            birth=wife_birth,
            village=origin if (in_window and from_county) else village,
            hukou=son.hukou,
            region=DEMO_REGION if from_county else origin[:6],
            alive_from=married,
        )
        if wife is None:
            return
        household = self._household(village)
        self._join(son, household, "户主")
        self._join(wife, household, "配偶")
        if in_window:
            wife.moves.append([married, "move_in", origin, village, self._certificate(wife, married)])
        if village != son.village_at(married, self.county):
            if in_window:
                son.moves.append([married, "move_in", son.village_at(married, self.county), village, ""])
            else:
                son.village0 = village
        self._union(son, wife, married, household, village, surname=son.name[0], hukou=son.hukou)

    def _daughter_marries(self, daughter: _Person, married: int) -> None:
        """A daughter marries into a household of another village of the county."""
        rng = self.rng
        home = daughter.village_at(married, self.county)
        village = self._pick_village(other_than=home)
        husband_birth = min(daughter.birth - int(rng.uniform(-1, 5) * YEAR), married - int(22 * YEAR))
        hukou = self._hukou_for(village)
        husband = self._person(male=True, birth=husband_birth, village=village, hukou=hukou, alive_from=married)
        if husband is None:
            return
        household = self._household(village)
        self._join(husband, household, "户主")
        self._join(daughter, household, "配偶")
        if married >= self.window_start:
            daughter.moves.append([married, "move_in", home, village, self._certificate(daughter, married)])
        else:
            daughter.village0 = village
        self._union(husband, daughter, married, household, village, surname=husband.name[0], hukou=hukou)

    # --- a couple's life -----------------------------------------------------------------------------

    def _union(
        self,
        husband: _Person | None,
        wife: _Person | None,
        married: int,
        household: int,
        village: str,
        *,
        surname: str,
        hukou: str,
        region: str = DEMO_REGION,
        not_before: int = 0,
        until: int | None = None,
    ) -> list[_Person]:
        """Marriage (and maybe divorce), children, permits and contraception of one couple; returns the children."""
        rng = self.rng
        union_end = 0  # divorce or the husband's death: contraception ends with the union
        if husband is not None and wife is not None:
            husband.spouse, wife.spouse = wife, husband
            husband.marital = wife.marital = "married"
            self.marriages.append([wife, husband, "marriage", married, village])
            years = (self.as_of - max(married, self.window_start)) / YEAR
            if years > 0 and rng.random() < 0.003 * years:
                divorce = self._date_between(max(married, self.window_start) + 200, self.as_of + 200)
                if divorce <= self.as_of and not any(p.death and p.death <= divorce for p in (husband, wife)):
                    self.marriages.append([wife, husband, "divorce", divorce, village])
                    husband.marital = wife.marital = "divorced"
                    husband.union_end = wife.union_end = union_end = divorce
                    wife.relation = "其他"
            if husband.death and not union_end:
                union_end = husband.death
        if wife is None:
            # A widower whose wife died long ago: children without birth records (no registered mother).
            return self._children_without_mother(husband, married, household, village, surname, hukou)
        end = min(x for x in (self.as_of, union_end, wife.death, until, self._add_years(wife.birth, 45)) if x)
        children = self._fertility(wife, husband, married, end, household, surname, hukou, region, not_before)
        self._contraception(wife, husband, married, sorted({c.birth for c in children}), union_end)
        if wife.native:
            self._children_leave(children)
        return children

    def _next_birth_probability(self, order: int, on: int, rural: bool, first_female: bool, age: float) -> float:
        one_child, two_children, three_children = self.policy_eras
        k = min(order, 4)
        if on < one_child:
            p = (0.0, 0.85, 0.65, 0.45, 0.3)[k]
        elif on < two_children:
            p = (0.5 if first_female else 0.05) if k == 1 else 0.05
            if not rural:
                p = 0.02 if k == 1 else 0.01
        elif on < three_children:
            p = (0.0, 0.5, 0.1, 0.02, 0.01)[k]
        else:
            p = (0.0, 0.32, 0.14, 0.03, 0.01)[k]
        factor = 1.0 if age < 30 else 0.7 if age < 35 else 0.35 if age < 40 else 0.1
        return p * factor * self._period_factor(on)

    def _period_factor(self, on: int) -> float:
        """Births have fallen since 2017 (later first births, fewer further ones): roughly halved by 2023."""
        year = date.fromordinal(on).year
        return 1.0 if year <= 2016 else PERIOD_FACTOR.get(year, PERIOD_FACTOR[2023])

    def _fertility(
        self,
        wife: _Person,
        husband: _Person | None,
        married: int,
        end: int,
        household: int,
        surname: str,
        hukou: str,
        region: str,
        not_before: int,
    ) -> list[_Person]:
        rng = self.rng
        children: list[_Person] = []
        if rng.random() < 0.05:
            return children
        t = max(married + rng.randrange(280, 1100), not_before)
        rural = hukou == "agricultural"
        births: list[_Birth] = []
        while t <= end:
            order = len(births)
            if not order and rng.random() >= self._period_factor(t):
                t += rng.randrange(300, 1100)
                continue
            if order and rng.random() >= self._next_birth_probability(
                order, t, rural, births[0].child.sex == "F", self._age(wife.birth, t)
            ):
                t += rng.randrange(365, 1100)
                continue
            for twin in range(2):
                male = rng.random() < MALE_SHARE[min(order, 2)]
                village = wife.village_at(t, self.county)
                child = self._person(male=male, birth=t, village=village, hukou=hukou, surname=surname, region=region)
                if child is None:
                    return children
                child.native = wife.native
                self._join(child, household, "子女")
                delay = rng.randrange(1, 31) if rng.random() < 0.85 else rng.randrange(31, 150)
                birth = _Birth(
                    pk=len(self.births) + 1,
                    mother=wife,
                    father=husband,
                    child=child,
                    date=t,
                    village=village,
                    entered_on=min(t + delay, self.as_of),
                )
                self.births.append(birth)
                births.append(birth)
                children.append(child)
                if twin or rng.random() >= TWIN_RATE:
                    break
            if t >= self.window_start:
                self._permit_for(births[-1], len(births), rural, births[0].child.sex == "F")
            t += rng.randrange(540, 2200)
        planned = husband is not None and t > self.as_of and 22 <= self._age(wife.birth, self.as_of) < 40
        if planned and rng.random() < 0.01 and not (wife.death or husband.death or wife.union_end):
            # A permit for a child not yet born.
            issued = max(self.as_of - rng.randrange(0, 300), married)
            self._permit(wife, husband, "service_certificate", len(births) + 1, issued)
        return children

    def _allowed(self, on: int, hukou: str, first_female: bool) -> int:
        allowed = None
        for rule in self.rules:
            in_force = rule.valid_from <= on and (rule.valid_to is None or on <= rule.valid_to)
            applies = rule.hukou_type in ("", hukou) and (
                rule.condition == "always" or (rule.condition == "first_child_female" and first_female)
            )
            if in_force and applies:
                allowed = max(allowed or 0, rule.children_allowed)
        return 32767 if allowed is None else allowed

    def _permit_for(self, birth: _Birth, order: int, rural: bool, first_female: bool) -> None:
        """生育服务证 for some births; 再生育审批 for some births the rules alone would not allow."""
        rng = self.rng
        wife = birth.mother
        beyond = order > self._allowed(birth.date, wife.hukou, first_female)
        if beyond and rng.random() < 0.2:
            kind = "second_birth_approval"
        elif rng.random() < 0.04:
            kind = "service_certificate"
        else:
            return
        issued = max(birth.date - rng.randrange(90, 300), wife.birth + int(18 * YEAR))
        permit = self._permit(wife, birth.father, kind, order, issued)
        birth.permit = permit.pk

    def _permit(self, wife: _Person, husband: _Person | None, kind: str, order: int, issued: int) -> _Permit:
        village = wife.village_at(issued, self.county)
        township = self.by_code[village].township
        year = date.fromordinal(issued).year
        serial = self._permit_serial.get((township, year), 0) + 1
        self._permit_serial[(township, year)] = serial
        prefix = "ZS" if kind == "second_birth_approval" else "SF"
        permit = _Permit(
            pk=len(self.permits) + 1,
            number=f"{prefix}{township[6:9]}{year}{serial:05d}",
            kind=kind,
            wife=wife,
            husband=husband,
            township=township,
            child_order=order,
            issued_on=issued,
            valid_until=self._add_years(issued, 2),
            issued_by=self.rng.choice(self._surnames) + self._given_name(self.rng.random() < 0.5),
            village=village,
        )
        self.permits.append(permit)
        return permit

    def _children_without_mother(
        self, father: _Person, married: int, household: int, village: str, surname: str, hukou: str
    ) -> list[_Person]:
        rng = self.rng
        children = []
        t = married + rng.randrange(300, 1100)
        for _ in range(rng.choice((1, 2, 2, 3, 3, 4))):
            if t > self.as_of:
                break
            child = self._person(male=rng.random() < 0.515, birth=t, village=village, hukou=hukou, surname=surname)
            if child is None:
                break
            self._join(child, household, "子女")
            children.append(child)
            t += rng.randrange(540, 1800)
        self._children_leave(children)
        return children

    def _children_leave(self, children: list[_Person]) -> None:
        """Grown children marry: sons found households, daughters marry into other villages or out of the county."""
        rng = self.rng
        for child in children:
            male = child.sex == "M"
            if rng.random() >= (0.9 if male else 0.95):
                continue
            married = child.birth + int((rng.uniform(22, 30) if male else rng.uniform(20.5, 28)) * YEAR)
            if married > self.as_of or (child.death and child.death <= married):
                continue
            if not male and rng.random() < 0.25:
                # Married out of the county: the hukou moves out, the record stays.
                destination = rng.choice(OUTSIDE_REGIONS) + "000000"
                home = child.village_at(married, self.county)
                child.moves.append([married, "move_out", home, destination, self._certificate(child, married)])
                child.marital = "married"
                continue
            self._queue.append(("son" if male else "daughter", child, married))

    def _contraception(
        self, wife: _Person, husband: _Person | None, married: int, births: list[int], union_end: int
    ) -> None:
        """Temporary methods between births, a lasting one after the last; closed at 50, divorce, widowhood, death."""
        rng = self.rng
        episodes = []
        for i, born in enumerate(births[:-1]):
            if rng.random() < 0.5:
                start, stop = born + rng.randrange(42, 300), births[i + 1] - rng.randrange(280, 420)
                if start < stop:
                    episodes.append((wife, rng.choice(("iud", "condom", "condom", "pill")), start, stop))
        if births and rng.random() < 0.9:
            last = births[-1]
            start = last + rng.randrange(42, 400)
            method = self._lasting_method(len(births), start)
            person = husband if method == "male_sterilisation" else wife
            if person is not None:
                stop = None
                if method not in ("female_sterilisation", "male_sterilisation"):
                    stop = self._add_years(wife.birth, 49) + rng.randrange(0, 1000)
                episodes.append((person, method, start, stop))
        elif not births and husband is not None and rng.random() < 0.3:
            start = married + rng.randrange(30, 400)
            episodes.append((wife, "condom", start, married + rng.randrange(400, 2500)))
        for person, method, start, stop in episodes:
            limits = [x for x in (union_end, person.death) if x]
            if stop is not None:
                limits.append(stop)
            end = min(limits) if limits else None
            if start > self.as_of or (person.death and start > person.death) or (end is not None and end < start):
                continue
            if end is not None and end > self.as_of:
                end = None
            if end is not None and end < self.window_start:
                continue  # over before the ten years the registry covers
            self.contraception.append([person, method, start, end])

    def _lasting_method(self, children: int, start: int) -> str:
        r = self.rng.random()
        if start < self.policy_eras[1]:
            table = (
                (0.45, "iud"),
                (0.80 if children >= 2 else 0.55, "female_sterilisation"),
                (0.84, "implant"),
                (0.87, "male_sterilisation"),
                (0.95, "condom"),
                (0.98, "pill"),
                (1.0, "injection"),
            )
        else:
            table = (
                (0.50, "iud"),
                (0.56 if children >= 2 else 0.52, "female_sterilisation"),
                (0.60, "implant"),
                (0.62, "male_sterilisation"),
                (0.85, "condom"),
                (0.94, "pill"),
                (0.97, "injection"),
                (1.0, "other"),
            )
        for bound, method in table:
            if r < bound:
                return method
        return "other"

    # --- after everyone exists -------------------------------------------------------------------------

    def _final_pass(self) -> None:
        """Widowhood, floating out and students leaving (these need every other move known), then birth order
        and policy status as the recomputation computes them."""
        rng = self.rng
        for person in self.persons:
            spouse = person.spouse
            survived = spouse is not None and spouse.death and (not person.death or person.death > spouse.death)
            if survived and not person.union_end:
                person.marital = "widowed"
            if not person.native:
                continue
            last_move = person.moves[-1][0] if person.moves else 0
            if person.moves and person.moves[-1][1] in ("move_out", "float_out"):
                continue
            start = max(self.window_start, self._add_years(person.birth, 18), last_move + 30)
            stop = min(self.as_of, self._add_years(person.birth, 45), person.death or self.as_of)
            if start >= stop:
                continue
            r = rng.random()
            if r < (0.15 if person.sex == "M" else 0.08):
                out = self._date_between(start, stop)
                home = person.village_at(out, self.county)
                destination = rng.choice(FLOAT_DESTINATIONS)
                person.moves.append([out, "float_out", home, destination, self._certificate(person, out)])
                if rng.random() < 0.45:
                    back = out + rng.randrange(180, 1500)
                    if back <= min(self.as_of, person.death or self.as_of):
                        person.moves.append([back, "float_in", destination, home, self._certificate(person, back)])
            elif r < 0.25 and person.marital == "unmarried" and not person.moves:
                year = date.fromordinal(person.birth).year + 18
                leaves = date(year, 9, 1).toordinal() - rng.randrange(0, 20)
                if start <= leaves <= stop:
                    home = person.village_at(leaves, self.county)
                    person.moves.append([leaves, "move_out", home, rng.choice(STUDY_DESTINATIONS), ""])
        for person in self.persons:
            if len(person.moves) > 1:
                person.moves.sort(key=lambda m: m[0])
        self._compute_birth_policy()

    def _compute_birth_policy(self) -> None:
        """孩次 = rank among the mother's births by (date, id); 政策属性 as in services._RECOMPUTE_POLICY_SQL."""
        by_mother: dict[int, list[_Birth]] = {}
        for birth in self.births:
            by_mother.setdefault(birth.mother.pk, []).append(birth)
        permits: dict[int, list[_Permit]] = {}
        for permit in self.permits:
            permits.setdefault(permit.wife.pk, []).append(permit)
        for mother_pk, births in by_mother.items():
            births.sort(key=lambda b: (b.date, b.pk))
            first_female = births[0].child.sex == "F"
            for order, birth in enumerate(births, start=1):
                birth.order = order
                covered = any(
                    p.issued_on <= birth.date <= p.valid_until and order <= p.child_order
                    for p in permits.get(mother_pk, ())
                )
                allowed = self._allowed(birth.date, birth.mother.hukou, first_female)
                birth.status = "in_policy" if covered or order <= allowed else "out_of_policy"

    # --- rows ----------------------------------------------------------------------------------------

    def tables(self, *, now: str) -> dict[str, list[tuple]]:
        """Rows per table, ids local (1, 2, ...); ``None`` is NULL. Columns as in ``TABLES``."""
        iso = self._iso
        county = self.county
        rows: dict[str, list[tuple]] = {t[0]: [] for t in TABLES}
        rows["registry_household"] = [(pk, number, address, village, now, now) for pk, number, address, village in
                                      self.households]  # fmt: skip
        persons, moves, deaths = rows["registry_person"], rows["registry_move"], rows["registry_death"]
        for p in self.persons:
            village = p.village_at(self.as_of, county)
            death = iso(p.death) if p.death else None
            persons.append((
                p.pk, p.id_number, p.name, p.sex, iso(p.birth), p.ethnicity, p.hukou, p.employment,
                p.household or None, p.relation, p.marital, p.phone, death, 1, village, now, now,
            ))  # fmt: skip
            if p.death:
                deaths.append((len(deaths) + 1, p.pk, death, p.village_at(p.death, county), now, now))
            for on, kind, origin, destination, certificate in p.moves:
                local = destination if kind in ("move_in", "float_in") else origin
                moves.append((len(moves) + 1, p.pk, kind, iso(on), origin, destination, certificate, local, now, now))
        rows["registry_marriage"] = [
            (i, wife.pk, husband.pk, kind, iso(on), village, now, now)
            for i, (wife, husband, kind, on, village) in enumerate(self.marriages, start=1)
        ]
        rows["registry_birthpermit"] = [
            (p.pk, p.number, p.kind, p.wife.pk, p.husband.pk if p.husband else None, p.township, p.child_order,
             iso(p.issued_on), iso(p.valid_until), p.issued_by, p.village, now, now)
            for p in self.permits
        ]  # fmt: skip
        rows["registry_birth"] = [
            (b.pk, b.mother.pk, b.father.pk if b.father else None, b.child.pk, iso(b.date), b.child.sex, b.order,
             b.status, b.status, "", b.permit or None, iso(b.entered_on), b.village, now, now)
            for b in self.births
        ]  # fmt: skip
        rows["registry_contraceptiveuse"] = [
            (i, person.pk, method, iso(start), iso(end) if end else None, bool(end and end == person.death),
             person.village_at(start, county), now, now)
            for i, (person, method, start, end) in enumerate(self.contraception, start=1)
        ]  # fmt: skip
        return rows


# --- writing -----------------------------------------------------------------------------------------


def _demo_villages() -> tuple[list[Village], int]:
    """The demo county's villages, loading fixtures/areas_demo.csv first if they are missing."""
    loaded = 0
    lo, hi = DEMO_COUNTY[:6], f"{int(DEMO_COUNTY[:6]) + 1}"
    villages_qs = Area.objects.filter(level=AreaLevel.VILLAGE, code__gte=lo, code__lt=hi).order_by("code")
    if not villages_qs.exists():
        loaded = areas_load_csv(text=AREAS_FIXTURE.read_text(encoding="utf-8")).created
    return [Village(a.code, a.name, a.parent_id) for a in villages_qs], loaded


def _policy_rules() -> list[Rule]:
    return [
        Rule(
            valid_from=r.valid_from.toordinal(),
            valid_to=r.valid_to.toordinal() if r.valid_to else None,
            hukou_type=r.hukou_type,
            condition=r.condition,
            children_allowed=r.children_allowed,
        )
        for r in BirthPolicyRule.objects.order_by("pk")
    ]


def _reserve_ids(cursor, table: str, count: int) -> int:
    """Takes ``count`` consecutive ids from the table's sequence (the tables are locked); returns the offset."""
    if count == 0:
        return 0
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    sequence = cursor.fetchone()[0]
    cursor.execute("SELECT nextval(%s)", [sequence])
    first = cursor.fetchone()[0]
    cursor.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
    return first - 1


def _copy(cursor, table: str, columns: tuple[str, ...], rows: list[tuple], shift: list[tuple[int, int]]) -> None:
    """COPY in text format; the generated values hold no tabs, newlines or backslashes."""
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        chunk: list[str] = []
        for row in rows:
            values = list(row)
            for index, offset in shift:
                if values[index] is not None:
                    values[index] += offset
            chunk.append("\t".join(r"\N" if v is None else str(v) for v in values))
            if len(chunk) >= 20000:
                copy.write("\n".join(chunk) + "\n")
                chunk = []
        if chunk:
            copy.write("\n".join(chunk) + "\n")


_SUMMARY_SQL = """
SELECT count(*) FILTER (WHERE policy_status = 'out_of_policy'),
       count(*) FILTER (WHERE date >= %(start)s),
       count(*) FILTER (WHERE date >= %(start)s AND sex = 'M'),
       count(*) FILTER (WHERE date >= %(start)s AND sex = 'F')
FROM registry_birth WHERE id > %(after)s
"""


# Apps above the registry add their demo rows after the registry's (subsidies: 育儿补贴申领), each a set-based
# ``fn(as_of=date) -> int`` registered from its AppConfig.ready (the registry never imports them).
DEMO_EXTENSIONS: dict[str, object] = {}


def demo_extension_register(name: str, fn) -> None:
    DEMO_EXTENSIONS[name] = fn


@transaction.atomic
def demo_seed(*, persons: int, seed: int, as_of: date | None = None, if_empty: bool = False, log=None) -> dict:
    """Writes the demo county into an empty registry and returns the summary (counts per table, seconds)."""
    started = time.perf_counter()
    today = timezone.localdate()
    as_of = as_of or today
    if persons < 1:
        raise RuleViolation("人数应为正整数", field="persons")
    if as_of > today:
        raise RuleViolation("参考日期不能晚于今天", field="as_of")
    say = log or (lambda message: None)
    timings: dict[str, float] = {}
    tables = [t[0] for t in TABLES]
    audit = pghistory.context(reason="seed_demo", persons=persons, seed=seed, as_of=as_of.isoformat())
    with audit as context, connection.cursor() as cursor:
        # No other writer while the ids are reserved and the rows go in; readers are not blocked.
        cursor.execute(f"LOCK TABLE {', '.join(tables)} IN SHARE ROW EXCLUSIVE MODE")
        existing = Person.objects.count()
        if existing:
            if if_empty:
                return {"skipped": True, "persons_existing": existing, "seconds": 0.0}
            raise RuleViolation(f"人口库中已有{existing}人，演示数据只能载入空库（已有数据时可加 --if-empty 跳过）")
        villages, areas_loaded = _demo_villages()
        say(f"生成演示县：{persons}人，随机种子{seed}，截至{as_of:%Y-%m-%d}")
        county = DemoCounty(persons=persons, seed=seed, as_of=as_of, villages=villages, rules=_policy_rules())
        county.generate()
        rows = county.tables(now=timezone.now().isoformat())
        timings["generate"] = time.perf_counter() - started

        # See the module docstring: sets pghistory's context for the COPYs and keeps the trigger guard linear.
        cursor.execute("SET LOCAL pgtrigger.ignore = '{}'")
        offsets = {table: _reserve_ids(cursor, table, len(rows[table])) for table in tables}
        for table, columns, local_ids in TABLES:
            mark = time.perf_counter()
            shift = [(index, offsets[target]) for index, target in local_ids]
            _copy(cursor, table, columns, rows[table], shift)
            timings[table] = time.perf_counter() - mark
            say(f"  {table}: {len(rows[table])}行，{timings[table]:.1f}秒")

        mark = time.perf_counter()
        for table in tables:
            # Fresh statistics. A table emptied by TRUNCATE (as the test database's flush does) keeps
            # reltuples = 0, the planner then takes it for empty and the recomputation's correlated
            # subqueries run in nested loops: a 2,000-person seed took over 15 minutes without this.
            cursor.execute(f"ANALYZE {table}")
        timings["analyze"] = time.perf_counter() - mark

        # The registry's own rules over what was copied: they must find nothing to change (the generator keeps
        # them by construction); the summary says how many rows each changed.
        mark = time.perf_counter()
        person = offsets["registry_person"]
        births_recompute(mother_ids={b.mother.pk + person for b in county.births})
        cursor.execute(
            "SELECT count(*) FROM registry_birthevent WHERE pgh_context_id = %s AND pgh_label = 'update'",
            [str(context.id)],
        )
        changed = cursor.fetchone()[0]
        moved = {p.pk + person for p in county.persons if p.moves}
        dead = {p.pk + person for p in county.persons if p.death}
        married = {m[i] + person for m in rows["registry_marriage"] for i in (1, 2)}
        rules_changed = {
            "residence": len(residence_sync(person_ids=moved)),
            "death": len(death_sync(person_ids=dead)),
            "marital_status": len(marital_status_sync(person_ids=married)),
        }
        timings["recompute"] = time.perf_counter() - mark

        mark = time.perf_counter()
        extensions = {name: fn(as_of=as_of) for name, fn in DEMO_EXTENSIONS.items()}
        timings["extensions"] = time.perf_counter() - mark
        pagecache.bump()  # written by COPY: no row signals
        mark = time.perf_counter()
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # check the foreign keys now, not at some later commit
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        timings["constraints"] = time.perf_counter() - mark

        start = date.fromordinal(county.window_start)
        cursor.execute(_SUMMARY_SQL, {"start": start, "after": offsets["registry_birth"]})
        out_of_policy, recent, boys, girls = cursor.fetchone()
    return {
        "persons": persons,
        "seed": seed,
        "as_of": as_of.isoformat(),
        "areas_loaded": areas_loaded,
        "tables": {table: len(rows[table]) for table in tables},
        "births_since": start.isoformat(),
        "births_recent": recent,
        "sex_ratio_at_birth_recent": round(boys / girls * 100, 1) if girls else None,
        "out_of_policy_births": out_of_policy,
        "recompute_changed_births": changed,
        "recompute_changed_persons": rules_changed,
        "extensions": extensions,
        "timings": {k: round(v, 2) for k, v in timings.items()},
        "seconds": round(time.perf_counter() - started, 2),
    }
