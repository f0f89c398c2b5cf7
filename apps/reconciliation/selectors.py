"""Reads of the reconciliation, always area-scoped (``OutsideBirth.objects.visible_to``, the registry's
``births_visible_to``) and behind the role matrix's ``reconciliation`` part.

The capture–recapture estimate (双来源捕获-再捕获, Chandra Sekar–Deming) takes the registry and the
hospitals' 出生医学证明 as its two sources. The police list is left out of it on purpose: a newborn's 户口 is
registered on the strength of the hospital certificate (and often of the family-planning registration), so
police and the other two miss the same births, and the method needs two sources that miss births
independently. The estimator is Chapman's bias-corrected form of Lincoln–Petersen, which stays finite when
no record matches:

    N̂ = (n1+1)(n2+1)/(m+1) − 1,   Var = (n1+1)(n2+1)(n1−m)(n2−m) / ((m+1)²(m+2)),
    95 % CI = N̂ ± 1.96·√Var, its lower end no lower than the births seen by either source (n1+n2−m);

with n1 the registry's live births of the year in the township, n2 the hospital records of the year of
mothers in the township, m those of them matched to one of the n1. Completeness (登记完整率) = n1/N̂, its
interval n1/upper … n1/lower. A county (or any area above a township) is the stratified estimate: the
sum of its townships' N̂ and variances (capture rates differ between townships; pooling them would bias N̂).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet, Subquery

from apps.areas.models import Area, AreaLevel
from apps.core import access
from apps.core.areacodes import code_range
from apps.core.scoping import in_scope
from apps.reconciliation.models import LINKED, MatchStatus, OutsideBirth, Source
from apps.reconciliation.rules import candidates_sql
from apps.registry.models import Birth
from apps.registry.selectors import births_visible_to

PART = "reconciliation"
Z95 = 1.959964


def records_visible_to(*, user) -> QuerySet[OutsideBirth]:
    qs = OutsideBirth.objects.visible_to(user).select_related("mother", "village", "birth")
    return access.readable(qs, user, PART)


def record_get_visible(*, user, pk: int) -> OutsideBirth:
    """A record of the user's area (``DoesNotExist`` otherwise: the view's 404)."""
    return records_visible_to(user=user).get(pk=pk)


def _year(qs: QuerySet, year: int, field: str = "date") -> QuerySet:
    return qs.filter(**{f"{field}__gte": date(year, 1, 1), f"{field}__lte": date(year, 12, 31)})


def ambiguous_visible_to(*, user) -> QuerySet[OutsideBirth]:
    """待人工确认: records with more than one candidate birth (or whose one candidate another record claims)."""
    return records_visible_to(user=user).filter(status=MatchStatus.AMBIGUOUS)


def to_register(*, user, year: int) -> QuerySet[OutsideBirth]:
    """待补登: births in a department's list that the registry lacks (unmatched, or a clerk found none)."""
    qs = records_visible_to(user=user).filter(status__in=[MatchStatus.UNMATCHED, MatchStatus.NONE])
    return _year(qs, year).order_by("village_id", "mother_id", "date", "source")


def to_verify(*, user, year: int) -> QuerySet[Birth]:
    """待核实: the registry's live births of the year that neither the hospitals nor the police know, up to the
    last birth date the departments' lists of the user's area cover (none before any list is imported: a
    birth is not "unknown" to a list that does not reach its date)."""
    known = OutsideBirth.objects.filter(birth_id=OuterRef("pk"), status__in=LINKED)
    covered = OutsideBirth.objects.visible_to(user).order_by("-date").values("date")[:1]
    qs = births_visible_to(user=user).select_related("mother", "village").filter(~Exists(known))
    qs = qs.filter(date__lte=Subquery(covered))
    if not access.may_read(user, PART):
        return qs.none()
    return _year(qs, year).order_by("village_id", "date", "id")


@dataclass(frozen=True)
class Estimate:
    """One area's two-source estimate of the year's births (see the module docstring)."""

    code: str
    name: str
    registered: int  # n1
    hospital: int  # n2
    matched: int  # m
    estimate: float | None  # N̂ (None with no record in either source)
    variance: float | None
    low: float | None
    high: float | None

    @property
    def observed(self) -> int:
        return self.registered + self.hospital - self.matched

    @property
    def completeness(self) -> float | None:
        return self.registered / self.estimate * 100 if self.estimate else None

    @property
    def completeness_low(self) -> float | None:
        return self.registered / self.high * 100 if self.high else None

    @property
    def completeness_high(self) -> float | None:
        return self.registered / self.low * 100 if self.low else None

    @property
    def missed(self) -> float | None:
        return self.estimate - self.registered if self.estimate is not None else None


def chapman(n1: int, n2: int, m: int) -> tuple[float, float]:
    """Chapman's N̂ and its variance (Seber 1970)."""
    estimate = (n1 + 1) * (n2 + 1) / (m + 1) - 1
    variance = (n1 + 1) * (n2 + 1) * (n1 - m) * (n2 - m) / ((m + 1) ** 2 * (m + 2))
    return estimate, variance


def _interval(estimate: float, variance: float, observed: int) -> tuple[float, float]:
    half = Z95 * math.sqrt(variance)
    return max(estimate - half, observed), estimate + half


def _township_counts(*, year: int, low: str, high: str) -> dict[str, tuple[int, int, int]]:
    """township code → (n1, n2, m), one statement of three GROUP BYs on the village codes in [low, high)."""
    params = {"lo": low, "hi": high, "start": date(year, 1, 1), "end": date(year, 12, 31), "src": Source.HOSPITAL}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH n1 AS (
                SELECT left(village_id, 9) AS t, count(*) AS n FROM registry_birth
                WHERE voided_at IS NULL AND village_id >= %(lo)s AND village_id < %(hi)s
                  AND date BETWEEN %(start)s AND %(end)s GROUP BY 1
            ), n2 AS (
                SELECT left(o.village_id, 9) AS t, count(*) AS n,
                       count(*) FILTER (WHERE o.status IN ('matched', 'picked') AND b.date BETWEEN %(start)s AND %(end)s
                                        AND left(b.village_id, 9) = left(o.village_id, 9)) AS m
                FROM reconciliation_outsidebirth o LEFT JOIN registry_birth b ON b.id = o.birth_id
                WHERE o.source = %(src)s AND o.village_id >= %(lo)s AND o.village_id < %(hi)s
                  AND o.date BETWEEN %(start)s AND %(end)s GROUP BY 1
            )
            SELECT COALESCE(n1.t, n2.t) || '000', COALESCE(n1.n, 0), COALESCE(n2.n, 0), COALESCE(n2.m, 0)
            FROM n1 FULL JOIN n2 ON n1.t = n2.t
            """,
            params,
        )
        return {code: (n1, n2, m) for code, n1, n2, m in cursor.fetchall()}


def _estimate(code: str, name: str, n1: int, n2: int, m: int) -> Estimate:
    if n1 == 0 and n2 == 0:
        return Estimate(code, name, 0, 0, 0, None, None, None, None)
    estimate, variance = chapman(n1, n2, m)
    low, high = _interval(estimate, variance, n1 + n2 - m)
    return Estimate(code, name, n1, n2, m, estimate, variance, low, high)


def estimates(*, user, year: int, area: Area) -> tuple[Estimate, list[Estimate]]:
    """The area's estimate and its townships' (a township: itself alone), within the user's scope."""
    if not access.may_read(user, PART):
        return _estimate(area.code, area.name, 0, 0, 0), []
    if area.level == AreaLevel.VILLAGE or not in_scope(user, area.code):
        raise Area.DoesNotExist  # the view's 404: nothing said of an area outside the user's
    low, high = code_range(area.code)
    counts = _township_counts(year=year, low=low, high=high)
    townships = Area.objects.filter(level=AreaLevel.TOWNSHIP, code__gte=low, code__lt=high).order_by("code")
    if area.level == AreaLevel.TOWNSHIP:
        townships = [area]
    rows = [_estimate(t.code, t.name, *counts.get(t.code, (0, 0, 0))) for t in townships]
    if area.level == AreaLevel.TOWNSHIP:
        return rows[0], []
    present = [r for r in rows if r.estimate is not None]
    n1, n2, m = (sum(getattr(r, f) for r in rows) for f in ("registered", "hospital", "matched"))
    if not present:
        return _estimate(area.code, area.name, 0, 0, 0), rows
    total, variance = sum(r.estimate for r in present), sum(r.variance for r in present)
    low_end, high_end = _interval(total, variance, n1 + n2 - m)
    return Estimate(area.code, area.name, n1, n2, m, total, variance, low_end, high_end), rows


def default_area_code(*, user) -> str:
    """The area a page opens on: the user's township or county (a superuser bound to none: the county)."""
    if user.area_id:
        return user.area_id
    county = Area.objects.filter(level=AreaLevel.COUNTY).order_by("code").values_list("code", flat=True).first()
    return county or ""


def candidates_of(*, records: list[OutsideBirth]) -> dict[int, list[int]]:
    """record id → its candidate registry births (``services.CANDIDATES``, the matching's own rule)."""
    if not records:
        return {}
    sql = "SELECT id, source, mother_id, sex, date FROM reconciliation_outsidebirth WHERE id = ANY(%(ids)s)"
    found: dict[int, list[int]] = {}
    with connection.cursor() as cursor:
        query = f"SELECT oid, bid FROM ({candidates_sql(sql)}) c ORDER BY oid, bid"  # noqa: S608 - our own SQL
        cursor.execute(query, {"ids": [r.pk for r in records]})
        for oid, bid in cursor.fetchall():
            found.setdefault(oid, []).append(bid)
    return found
