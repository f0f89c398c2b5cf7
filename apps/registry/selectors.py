"""Reads of the registry, always through the area scope (DESIGN §4, §5)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Case, Count, DurationField, Exists, F, Func, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce, Substr

from apps.accounts.models import User
from apps.core.access import readable
from apps.core.areacodes import code_range
from apps.registry.models import (
    Birth,
    BirthPermit,
    ContraceptiveUse,
    Death,
    Household,
    Marriage,
    MarriageKind,
    Move,
    MoveKind,
    Person,
    Sex,
)

_ID_LIKE = re.compile(r"^[0-9０-９]{6,17}[0-9Xx０-９Ｘｘ]?$")


def _visible(model, user: User) -> QuerySet:
    """The registry rows of ``model`` the user may read: within the user's area, and none at all for a role
    the role matrix does not let read the registry (``apps.core.access``)."""
    return readable(model.objects.visible_to(user), user, "registry")


def persons_visible_to(*, user: User, q: str = "", village: str = "", alive_only: bool = False) -> QuerySet[Person]:
    """人口查询: by ID number (full or leading digits), household number, or name (full or leading characters)."""
    qs = _visible(Person, user).select_related("village", "household")
    if village:
        qs = qs.within(village)
    if alive_only:
        qs = qs.filter(death_date__isnull=True)
    q = (q or "").strip()
    if q:
        if _ID_LIKE.match(q):
            digits = unicodedata.normalize("NFKC", q).upper()
            qs = qs.filter(Q(id_number__startswith=digits) | Q(household__number__startswith=digits))
        else:
            qs = qs.filter(Q(name__startswith=q) | Q(household__number=q))
    return qs.order_by("name", "birth_date", "id")


def person_get_visible(*, user: User, pk: int) -> Person:
    return _visible(Person, user).select_related("village__parent", "household").get(pk=pk)


def households_visible_to(*, user: User, q: str = "") -> QuerySet[Household]:
    qs = _visible(Household, user).select_related("village").annotate(member_count=Count("members"))
    if q:
        qs = qs.filter(number__startswith=q.strip())
    return qs.order_by("number")


def household_get_visible(*, user: User, pk: int) -> Household:
    return _visible(Household, user).select_related("village__parent").get(pk=pk)


def household_members(*, household: Household) -> QuerySet[Person]:
    """Members, the head of household (户主) first, then by age."""
    head_first = Case(When(relation_to_head="户主", then=Value(0)), default=Value(1))
    return household.members.order_by(head_first, "birth_date", "id")


def births_visible_to(*, user: User) -> QuerySet[Birth]:
    return _visible(Birth, user).select_related("mother", "father", "child", "village", "permit")


def deaths_visible_to(*, user: User) -> QuerySet[Death]:
    return _visible(Death, user).select_related("person", "village")


def marriages_visible_to(*, user: User) -> QuerySet[Marriage]:
    return _visible(Marriage, user).select_related("wife", "husband", "village")


def contraception_visible_to(*, user: User) -> QuerySet[ContraceptiveUse]:
    return _visible(ContraceptiveUse, user).select_related("person", "village")


def moves_visible_to(*, user: User) -> QuerySet[Move]:
    return _visible(Move, user).select_related("person", "village")


def permits_visible_to(*, user: User) -> QuerySet[BirthPermit]:
    return _visible(BirthPermit, user).select_related("wife", "husband", "issuing_township", "village")


# --- timeline ---------------------------------------------------------------------------------------


@dataclass
class TimelineEvent:
    on: date
    kind: str
    text: str
    obj: object


def person_timeline(*, person: Person) -> list[TimelineEvent]:
    """The person's life events in date order: birth, marriages, births given, contraception, moves, death."""
    events = [TimelineEvent(person.birth_date, "出生", f"出生于{person.birth_date:%Y年%m月%d日}", person)]
    for m in Marriage.objects.filter(Q(wife=person) | Q(husband=person)).select_related("wife", "husband"):
        spouse = m.husband if m.wife_id == person.pk else m.wife
        events.append(TimelineEvent(m.date, m.get_kind_display(), f"{m.get_kind_display()}（对方：{spouse.name}）", m))
    for b in Birth.objects.filter(Q(mother=person) | Q(father=person)).select_related("child"):
        events.append(
            TimelineEvent(
                b.date,
                "生育",
                f"生育第{b.birth_order}孩 {b.child.name}（{b.get_sex_display()}），{b.get_policy_status_display()}",
                b,
            )
        )
    for c in person.contraceptive_uses.all():
        end = f"至{c.end_date:%Y-%m-%d}" if c.end_date else "至今"
        events.append(TimelineEvent(c.start_date, "避孕", f"{c.get_method_display()}（{end}）", c))
    for mv in person.moves.all():
        text = f"{mv.get_kind_display()}：{mv.origin_code} → {mv.destination_code}"
        events.append(TimelineEvent(mv.date, mv.get_kind_display(), text, mv))
    if person.death_date:
        events.append(TimelineEvent(person.death_date, "死亡", f"死亡于{person.death_date:%Y年%m月%d日}", person))
    order = {"出生": 0, "死亡": 9}
    return sorted(events, key=lambda e: (e.on, order.get(e.kind, 5)))


# --- residence and women of childbearing age ------------------------------------------------------


def _residence_expression(on: date):
    """Residence at ``on`` (DESIGN §5): the destination of the latest move on or before ``on``; before the
    first move, its origin; with no moves, the current village."""
    latest = Move.objects.filter(person=OuterRef("pk"), date__lte=on).order_by("-date", "-id")
    first = Move.objects.filter(person=OuterRef("pk")).order_by("date", "id")
    return Coalesce(
        Subquery(latest.values("destination_code")[:1]),
        Subquery(first.values("origin_code")[:1]),
        F("village_id"),
    )


def person_residence_at(*, person: Person, on: date) -> str:
    return Person.objects.filter(pk=person.pk).annotate(r=_residence_expression(on)).values_list("r", flat=True)[0]


def persons_resident_at(*, area_code: str, on: date, base: QuerySet[Person] | None = None) -> QuerySet[Person]:
    """Persons born on or before ``on``, alive on ``on``, resident in ``area_code`` (or under it) on ``on``."""
    low, high = code_range(area_code)
    qs = base if base is not None else Person.objects.all()
    return (
        qs.filter(birth_date__lte=on)
        .filter(Q(death_date__isnull=True) | Q(death_date__gt=on))
        .annotate(residence=_residence_expression(on))
        .filter(residence__gte=low, residence__lt=high)
    )


def _years_before(on: date, years: int) -> date:
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February
        return on.replace(year=on.year - years, day=28)


def women_of_childbearing_age(
    *, area_code: str, on: date, married: bool = False, base: QuerySet[Person] | None = None
) -> QuerySet[Person]:
    """育龄妇女: women aged 15–49 on ``on`` resident in the area; ``married``: whose latest marriage event
    on or before ``on`` is a marriage, not a divorce (DESIGN §5)."""
    oldest_birth = _years_before(on, 50) + timedelta(days=1)  # turns 50 after ``on``
    youngest_birth = _years_before(on, 15)  # has turned 15 by ``on``
    qs = persons_resident_at(area_code=area_code, on=on, base=base).filter(
        sex=Sex.FEMALE, birth_date__gte=oldest_birth, birth_date__lte=youngest_birth
    )
    if married:
        latest = Marriage.objects.filter(wife=OuterRef("pk"), date__lte=on).order_by("-date", "-id")
        qs = qs.annotate(latest_marriage_kind=Subquery(latest.values("kind")[:1])).filter(
            latest_marriage_kind=MarriageKind.MARRIAGE
        )
    return qs


# --- data quality (the seeds' recurring complaints) -------------------------------------------------


def quality_duplicate_persons(*, user: User) -> QuerySet[Person]:
    """Likely duplicates: the same name and birth date under different ID numbers."""
    visible = _visible(Person, user)
    twin = Person.objects.filter(name=OuterRef("name"), birth_date=OuterRef("birth_date")).exclude(pk=OuterRef("pk"))
    return visible.filter(Exists(twin)).select_related("village").order_by("name", "birth_date", "id")


def quality_married_out_never_moved(*, user: User) -> QuerySet[Marriage]:
    """Women married to a man living in another township who never moved on or after the marriage."""
    moved_after = Move.objects.filter(person=OuterRef("wife_id"), date__gte=OuterRef("date"))
    return (
        _visible(Marriage, user)
        .filter(kind=MarriageKind.MARRIAGE)
        .annotate(
            wife_township=Substr("wife__village_id", 1, 9),
            husband_township=Substr("husband__village_id", 1, 9),
        )
        .exclude(wife_township=F("husband_township"))
        .filter(~Exists(moved_after))
        .select_related("wife", "husband", "village")
        .order_by("date", "id")
    )


# PostgreSQL compares intervals with 30-day months, so N years is N * 360 days here.
_YEARS = 360


def quality_mother_age_outliers(*, user: User) -> QuerySet[Birth]:
    """Births to mothers under 15 or over 50 on the birth date (likely a wrong date or a wrong mother)."""
    return (
        _visible(Birth, user)
        .annotate(mother_age=Func(F("date"), F("mother__birth_date"), function="age", output_field=DurationField()))
        .filter(Q(mother_age__lt=timedelta(days=15 * _YEARS)) | Q(mother_age__gt=timedelta(days=50 * _YEARS)))
        .select_related("mother", "child", "village")
        .order_by("date", "id")
    )


def quality_child_before_parent(*, user: User) -> QuerySet[Birth]:
    """Children born on or before a parent's own birth date."""
    return (
        _visible(Birth, user)
        .filter(Q(date__lte=F("mother__birth_date")) | Q(date__lte=F("father__birth_date")))
        .select_related("mother", "father", "child", "village")
        .order_by("date", "id")
    )


def quality_stale_floating(*, user: User, older_than_days: int, today: date) -> QuerySet[Move]:
    """Floating-population records (流入/流出) with no later move for longer than ``older_than_days``."""
    later = Move.objects.filter(person=OuterRef("person_id"), date__gt=OuterRef("date"))
    return (
        _visible(Move, user)
        .filter(kind__in=[MoveKind.FLOAT_IN, MoveKind.FLOAT_OUT], date__lt=today - timedelta(days=older_than_days))
        .filter(~Exists(later))
        .select_related("person", "village")
        .order_by("date")
    )
