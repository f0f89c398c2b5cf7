"""Reads of the registry, always through the area scope (DESIGN §4, §5)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import (
    Case,
    CharField,
    Count,
    DurationField,
    Exists,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Substr

from apps.accounts.models import User
from apps.areas.selectors import area_labels
from apps.core.access import readable
from apps.core.areacodes import code_range
from apps.core.privacy import mask_name
from apps.core.scoping import in_scope
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
    QualityFinding,
    QualityList,
    QualityRefresh,
    Sex,
)
from apps.registry.rules import residence_at_sql, wra_birth_bounds

_ID_LIKE = re.compile(r"^[0-9０-９]{6,17}[0-9Xx０-９Ｘｘ]?$")


def _visible(model, user: User) -> QuerySet:
    """The registry rows of ``model`` the user may read: within the user's area, and none at all for a role
    the role matrix does not let read the registry (``apps.core.access``)."""
    return readable(model.objects.visible_to(user), user, "registry")


def persons_visible_to(*, user: User, q: str = "", village: str = "", alive_only: bool = False) -> QuerySet[Person]:
    """人口查询: by ID number (full or leading digits), household number, or name (full or leading characters).
    A record retired by a merge (``merged_into``) is in no list or search."""
    qs = _visible(Person, user).filter(merged_into__isnull=True).select_related("village", "household")
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
    """A live (not merged-away) person of the user's area; ``Person.DoesNotExist`` otherwise."""
    qs = _visible(Person, user).filter(merged_into__isnull=True)
    return qs.select_related("village__parent", "household").get(pk=pk)


def person_merged_target(*, user: User, pk: int) -> int | None:
    """The kept record a retired record of the user's area was merged into (to redirect an old link)."""
    return _visible(Person, user).filter(pk=pk).values_list("merged_into_id", flat=True).first()


def households_visible_to(*, user: User, q: str = "") -> QuerySet[Household]:
    members = Count("members", filter=Q(members__merged_into__isnull=True))
    qs = _visible(Household, user).select_related("village").annotate(member_count=members)
    if q:
        qs = qs.filter(number__startswith=q.strip())
    return qs.order_by("number")


def household_get_visible(*, user: User, pk: int) -> Household:
    return _visible(Household, user).select_related("village__parent").get(pk=pk)


def household_members(*, household: Household) -> QuerySet[Person]:
    """Members, the head of household (户主) first, then by age."""
    head_first = Case(When(relation_to_head="户主", then=Value(0)), default=Value(1))
    return household.members.filter(merged_into__isnull=True).order_by(head_first, "birth_date", "id")


def _events(model, user: User, include_voided: bool) -> QuerySet:
    """Events in force the user may read; with ``include_voided`` also the voided ones (shown struck through,
    with the reason)."""
    manager = model.all_objects if include_voided else model.objects
    return readable(manager.visible_to(user), user, "registry")


def births_visible_to(*, user: User, include_voided: bool = False) -> QuerySet[Birth]:
    return _events(Birth, user, include_voided).select_related("mother", "father", "child", "village", "permit")


def deaths_visible_to(*, user: User, include_voided: bool = False) -> QuerySet[Death]:
    return _events(Death, user, include_voided).select_related("person", "village")


def marriages_visible_to(*, user: User, include_voided: bool = False) -> QuerySet[Marriage]:
    return _events(Marriage, user, include_voided).select_related("wife", "husband", "village")


def contraception_visible_to(*, user: User, include_voided: bool = False) -> QuerySet[ContraceptiveUse]:
    return _events(ContraceptiveUse, user, include_voided).select_related("person", "village")


def moves_visible_to(*, user: User, include_voided: bool = False) -> QuerySet[Move]:
    return _events(Move, user, include_voided).select_related("person", "village")


def permits_visible_to(*, user: User, include_voided: bool = False) -> QuerySet[BirthPermit]:
    return _events(BirthPermit, user, include_voided).select_related("wife", "husband", "issuing_township", "village")


def person_event_counts(*, person: Person) -> dict[str, int]:
    """How many live events hang on a person (the merge confirmation shows them side by side)."""
    return {
        "出生登记（本人）": Birth.objects.filter(child=person).count(),
        "生育（为母亲或父亲）": Birth.objects.filter(Q(mother=person) | Q(father=person)).count(),
        "婚姻登记": Marriage.objects.filter(Q(wife=person) | Q(husband=person)).count(),
        "迁移流动": Move.objects.filter(person=person).count(),
        "避孕措施": ContraceptiveUse.objects.filter(person=person).count(),
        "生育证件": BirthPermit.objects.filter(Q(wife=person) | Q(husband=person)).count(),
        "死亡登记": Death.objects.filter(person=person).count(),
    }


# --- timeline ---------------------------------------------------------------------------------------


@dataclass
class TimelineEvent:
    on: date
    kind: str
    text: str
    obj: object
    slug: str = ""  # the event's kind in URLs (births, marriages, …); empty for the person's own birth

    @property
    def is_voided(self) -> bool:
        return bool(getattr(self.obj, "is_voided", False))


def party_shown(*, person: Person, user: User | None) -> str:
    """Another party of an event as this user may see it: the name within the user's area; outside it the
    name masked, with where the person belongs (another township of the county, or outside it)."""
    if person.is_external:
        return f"{mask_name(person.name)}（县外人员）"
    if user is None or in_scope(user, person.village_id):
        return person.name
    return f"{mask_name(person.name)}（本县其他辖区）"


def person_timeline(*, person: Person, user: User | None = None) -> list[TimelineEvent]:
    """The person's life events in date order: birth, marriages, births given, permits, contraception, moves,
    death. Voided events are included (``is_voided``), so the page can show them struck through with the
    reason; the person was fetched through the area scope. Another party outside ``user``'s area is shown
    masked; area codes are shown with their names."""
    events = [TimelineEvent(person.birth_date, "出生", f"出生于{person.birth_date:%Y年%m月%d日}", person)]
    marriages = Marriage.all_objects.filter(Q(wife=person) | Q(husband=person)).select_related("wife", "husband")
    for m in marriages:
        spouse = party_shown(person=m.husband if m.wife_id == person.pk else m.wife, user=user)
        text = f"{m.get_kind_display()}（对方：{spouse}）"
        events.append(TimelineEvent(m.date, m.get_kind_display(), text, m, "marriages"))
    for b in Birth.all_objects.filter(Q(mother=person) | Q(father=person)).select_related("child"):
        child = party_shown(person=b.child, user=user)
        text = f"生育第{b.birth_order}孩 {child}（{b.get_sex_display()}），{b.get_policy_status_display()}"
        if b.is_voided:
            text = f"生育 {child}（{b.get_sex_display()}）"  # order and status count live births only
        events.append(TimelineEvent(b.date, "生育", text, b, "births"))
    for p in BirthPermit.all_objects.filter(wife=person):
        text = f"{p.get_kind_display()} {p.number}（准生第{p.child_order}孩）"
        events.append(TimelineEvent(p.issued_on, "生育证件", text, p, "permits"))
    for c in ContraceptiveUse.all_objects.filter(person=person):
        end = f"至{c.end_date:%Y-%m-%d}" if c.end_date else "至今"
        events.append(TimelineEvent(c.start_date, "避孕", f"{c.get_method_display()}（{end}）", c, "contraception"))
    moves = list(Move.all_objects.filter(person=person))
    labels = area_labels([code for mv in moves for code in (mv.origin_code, mv.destination_code)])
    for mv in moves:
        text = f"{mv.get_kind_display()}：{labels[mv.origin_code]} → {labels[mv.destination_code]}"
        events.append(TimelineEvent(mv.date, mv.get_kind_display(), text, mv, "moves"))
    for d in Death.all_objects.filter(person=person):
        events.append(TimelineEvent(d.date, "死亡", f"死亡于{d.date:%Y年%m月%d日}", d, "deaths"))
    order = {"出生": 0, "死亡": 9}
    return sorted(events, key=lambda e: (e.on, order.get(e.kind, 5), e.is_voided))


# --- residence and women of childbearing age ------------------------------------------------------


def _residence_expression(on: date) -> RawSQL:
    """Residence at ``on`` (DESIGN §5), by the registry's one rule (``rules.residence_at_sql``)."""
    sql = residence_at_sql(person=Person._meta.db_table, on="%s")  # aliases and constants only
    return RawSQL(sql, (on,), output_field=CharField())  # noqa: S611


def person_residence_at(*, person: Person, on: date) -> str:
    return Person.objects.filter(pk=person.pk).annotate(r=_residence_expression(on)).values_list("r", flat=True)[0]


def persons_resident_at(*, area_code: str, on: date, base: QuerySet[Person] | None = None) -> QuerySet[Person]:
    """Persons born on or before ``on``, alive on ``on``, resident in ``area_code`` (or under it) on ``on``."""
    low, high = code_range(area_code)
    qs = base if base is not None else Person.objects.all()
    return (
        qs.filter(is_external=False, merged_into__isnull=True)  # never county population
        .filter(birth_date__lte=on)
        .filter(Q(death_date__isnull=True) | Q(death_date__gt=on))
        .annotate(residence=_residence_expression(on))
        .filter(residence__gte=low, residence__lt=high)
    )


def women_of_childbearing_age(
    *, area_code: str, on: date, married: bool = False, base: QuerySet[Person] | None = None
) -> QuerySet[Person]:
    """育龄妇女: women aged 15–49 on ``on`` resident in the area; ``married``: whose latest marriage event
    on or before ``on`` is a marriage, not a divorce (DESIGN §5)."""
    oldest_birth, youngest_birth = wra_birth_bounds(on)
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
# Each list is a rule (a filter over all live records, written once) and a presentation (the related rows and
# annotations its table shows). The rule serves both the live selectors below and the stored findings the
# quality page reads (``apps.registry.quality``, refreshed set-based from these same filters).


def _duplicates_rule(qs: QuerySet[Person]) -> QuerySet[Person]:
    twin = Person.objects.filter(
        merged_into__isnull=True, name=OuterRef("name"), birth_date=OuterRef("birth_date")
    ).exclude(pk=OuterRef("pk"))
    return qs.filter(merged_into__isnull=True).filter(Exists(twin))


def _duplicates_shown(qs: QuerySet[Person], user: User) -> QuerySet[Person]:
    twin = Person.objects.filter(merged_into__isnull=True, name=OuterRef("name"), birth_date=OuterRef("birth_date"))
    mergeable = twin.exclude(pk=OuterRef("pk")).visible_to(user).filter(sex=OuterRef("sex")).order_by("id")
    return (
        qs.annotate(twin_id=Subquery(mergeable.values("pk")[:1]))
        .select_related("village")
        .order_by("name", "birth_date", "id")
    )


def _married_out_rule(qs: QuerySet[Marriage]) -> QuerySet[Marriage]:
    moved_after = Move.objects.filter(person=OuterRef("wife_id"), date__gte=OuterRef("date"))
    return (
        qs.filter(kind=MarriageKind.MARRIAGE)
        .annotate(
            wife_township=Substr("wife__village_id", 1, 9),
            husband_township=Substr("husband__village_id", 1, 9),
        )
        .exclude(wife_township=F("husband_township"))
        .filter(~Exists(moved_after))
    )


def _married_out_shown(qs: QuerySet[Marriage], user: User) -> QuerySet[Marriage]:
    return qs.select_related("wife", "husband", "village").order_by("date", "id")


# PostgreSQL compares intervals with 30-day months, so N years is N * 360 days here.
_YEARS = 360


def _mother_age_rule(qs: QuerySet[Birth]) -> QuerySet[Birth]:
    age = Func(F("date"), F("mother__birth_date"), function="age", output_field=DurationField())
    return qs.annotate(mother_age=age).filter(
        Q(mother_age__lt=timedelta(days=15 * _YEARS)) | Q(mother_age__gt=timedelta(days=50 * _YEARS))
    )


def _births_shown(qs: QuerySet[Birth], user: User) -> QuerySet[Birth]:
    return qs.select_related("mother", "father", "child", "village").order_by("date", "id")


def _child_before_parent_rule(qs: QuerySet[Birth]) -> QuerySet[Birth]:
    return qs.filter(Q(date__lte=F("mother__birth_date")) | Q(date__lte=F("father__birth_date")))


def _stale_floating_rule(qs: QuerySet[Move]) -> QuerySet[Move]:
    """Floating-population records (流入/流出) with no later move; how old is "stale" is asked when reading."""
    later = Move.objects.filter(person=OuterRef("person_id"), date__gt=OuterRef("date"))
    return qs.filter(kind__in=[MoveKind.FLOAT_IN, MoveKind.FLOAT_OUT]).filter(~Exists(later))


def _stale_floating_shown(qs: QuerySet[Move], user: User) -> QuerySet[Move]:
    return qs.select_related("person", "village").order_by("date", "id")


@dataclass(frozen=True)
class QualityRule:
    model: type
    date_field: str  # the finding's date: a person's birth date, an event's date
    rule: Callable[[QuerySet], QuerySet]  # the records on the list
    shown: Callable[[QuerySet, User], QuerySet]  # what the page's table shows of them


QUALITY_RULES: dict[str, QualityRule] = {
    QualityList.DUPLICATES: QualityRule(Person, "birth_date", _duplicates_rule, _duplicates_shown),
    QualityList.MARRIED_OUT: QualityRule(Marriage, "date", _married_out_rule, _married_out_shown),
    QualityList.MOTHER_AGE: QualityRule(Birth, "date", _mother_age_rule, _births_shown),
    QualityList.CHILD_BEFORE_PARENT: QualityRule(Birth, "date", _child_before_parent_rule, _births_shown),
    QualityList.STALE_FLOATING: QualityRule(Move, "date", _stale_floating_rule, _stale_floating_shown),
}


def _quality_live(key: str, user: User) -> QuerySet:
    spec = QUALITY_RULES[key]
    return spec.shown(spec.rule(_visible(spec.model, user)), user)


def quality_duplicate_persons(*, user: User) -> QuerySet[Person]:
    """Likely duplicates: the same name and birth date under different ID numbers (records already retired by
    a merge left out). ``twin_id``: a twin in the user's own area, which the clerk may merge with (合并)."""
    return _quality_live(QualityList.DUPLICATES, user)


def quality_married_out_never_moved(*, user: User) -> QuerySet[Marriage]:
    """Women married to a man living in another township who never moved on or after the marriage."""
    return _quality_live(QualityList.MARRIED_OUT, user)


def quality_mother_age_outliers(*, user: User) -> QuerySet[Birth]:
    """Births to mothers under 15 or over 50 on the birth date (likely a wrong date or a wrong mother)."""
    return _quality_live(QualityList.MOTHER_AGE, user)


def quality_child_before_parent(*, user: User) -> QuerySet[Birth]:
    """Children born on or before a parent's own birth date."""
    return _quality_live(QualityList.CHILD_BEFORE_PARENT, user)


def quality_stale_floating(*, user: User, older_than_days: int, today: date) -> QuerySet[Move]:
    """Floating-population records (流入/流出) with no later move for longer than ``older_than_days``."""
    return _quality_live(QualityList.STALE_FLOATING, user).filter(date__lt=today - timedelta(days=older_than_days))


def quality_findings(*, user: User, key: str, older_than_days: int, today: date) -> QuerySet:
    """One data-quality list as the quality page shows it: the records the last refresh found
    (``QualityFinding``), read through the model's own area-scoped selector."""
    spec = QUALITY_RULES[key]
    found = QualityFinding.objects.visible_to(user).filter(list_key=key)
    if key == QualityList.STALE_FLOATING:
        found = found.filter(event_date__lt=today - timedelta(days=older_than_days))
    return spec.shown(_visible(spec.model, user).filter(pk__in=found.values("object_id")), user)


def quality_refreshed() -> QualityRefresh | None:
    """The last refresh of the lists (when it ran, and the registry change counter it saw)."""
    return QualityRefresh.objects.order_by("-refreshed_at").first()
