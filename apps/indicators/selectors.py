"""Reads of the indicators app: stored snapshots only, never the raw registry (STYLE: Zulip analytics)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from apps.accounts.models import User
from apps.areas.models import Area
from apps.core.access import may_read, may_write, readable
from apps.core.areacodes import code_range
from apps.core.scoping import NOTHING, in_scope, user_scope
from apps.indicators.catalogue import BY_CODE, INDICATORS, Indicator
from apps.indicators.formatting import shown_reading
from apps.indicators.models import AlertThreshold, IndicatorValue, ReportRun, RunStatus
from apps.indicators.periods import Period, period_parse, quarters_up_to


@dataclass(frozen=True)
class IndicatorReading:
    value: Decimal | None
    numerator: Decimal
    denominator: Decimal
    run_id: int
    data_as_of: datetime
    not_applicable: str = ""  # why the indicator does not apply to the period (shown as 不适用); "" if it does


_LATEST_SQL = """
WITH latest AS (  -- per period and area: the latest successful run holding values for it
    SELECT DISTINCT ON (r.period, v.area_id) r.period, v.area_id, r.id AS run_id, r.data_as_of
    FROM indicators_indicatorvalue v JOIN indicators_reportrun r ON r.id = v.run_id
    WHERE r.status = 'success' AND r.period = ANY(%(periods)s) {area_filter}
    ORDER BY r.period, v.area_id, r.finished_at DESC, r.id DESC
)
SELECT l.period, v.area_id, v.indicator_code, v.value, v.numerator, v.denominator, l.run_id,
    -- a run's time once, not on each of its rows (turning timestamps into datetimes is the cost of a page)
    CASE WHEN row_number() OVER (PARTITION BY l.run_id) = 1 THEN l.data_as_of END, v.not_applicable
FROM latest l JOIN indicators_indicatorvalue v ON v.run_id = l.run_id AND v.area_id = l.area_id
{indicator_filter}
"""


def indicator_values_for_periods(
    *,
    periods: Collection[str],
    area_codes: Collection[str] | None = None,
    indicator_codes: Collection[str] | None = None,
) -> dict[tuple[str, str, str], IndicatorReading]:
    """Readings keyed by ``(period, area_code, indicator_code)`` from the latest successful snapshot of each
    period that covers the area. One query, whatever the number of periods and areas."""
    params: dict = {"periods": list(periods)}
    area_filter = indicator_filter = ""
    if area_codes is not None:
        area_filter = "AND v.area_id = ANY(%(areas)s)"
        params["areas"] = list(area_codes)
    if indicator_codes is not None:
        indicator_filter = "WHERE v.indicator_code = ANY(%(indicators)s)"
        params["indicators"] = list(indicator_codes)
    sql = _LATEST_SQL.format(area_filter=area_filter, indicator_filter=indicator_filter)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    as_of = {row[6]: row[7] for row in rows if row[7] is not None}
    return {
        (period, area, code): IndicatorReading(value, numerator, denominator, run_id, as_of[run_id], na)
        for period, area, code, value, numerator, denominator, run_id, _, na in rows
    }


def indicator_values_latest(
    *,
    period: str,
    area_codes: Collection[str] | None = None,
    indicator_codes: Collection[str] | None = None,
) -> dict[tuple[str, str], IndicatorReading]:
    """Readings keyed by ``(area_code, indicator_code)`` from the latest successful snapshot (ReportRun) of
    ``period`` that covers the area (the interface scoring builds on). Not scoped: callers pass the areas
    their user may see."""
    readings = indicator_values_for_periods(periods=[period], area_codes=area_codes, indicator_codes=indicator_codes)
    return {(area, code): reading for (_, area, code), reading in readings.items()}


def report_runs_visible_to(*, user: User, period: str | None = None) -> QuerySet[ReportRun]:
    """Runs of the user's area and of areas above it (a township leader sees the county's runs, which cover
    the township) — the runs whose values the user may read in part."""
    scope = user_scope(user) if user else NOTHING
    if scope == NOTHING or not may_read(user, "indicators"):
        return ReportRun.objects.none()
    qs = ReportRun.objects.select_related("area", "requested_by")
    if scope is not None:
        low, high = scope
        qs = qs.filter(Q(area_id__in=_ancestors_and_self(user.area_id)) | Q(area_id__gte=low, area_id__lt=high))
    if period:
        qs = qs.filter(period=period)
    return qs.order_by("-created_at", "-id")


def _ancestors_and_self(code: str) -> list[str]:
    return [code[:6] + "000000", code[:9] + "000", code]


def report_run_get_visible(*, user: User, pk: int) -> ReportRun:
    return report_runs_visible_to(user=user).get(pk=pk)


def indicator_values_visible_to(*, user: User) -> QuerySet[IndicatorValue]:
    """Stored values within the user's area, from the latest successful snapshot of each period that holds
    the area (the API); older snapshots are compared on the page."""
    newer = IndicatorValue.objects.filter(
        area_id=OuterRef("area_id"),
        indicator_code=OuterRef("indicator_code"),
        run__period=OuterRef("run__period"),
        run__status=RunStatus.SUCCESS,
        run__finished_at__gt=OuterRef("run__finished_at"),
    )
    return (
        readable(IndicatorValue.objects.visible_to(user), user, "indicators")
        .filter(run__status=RunStatus.SUCCESS)
        .filter(~Exists(newer))
        .select_related("run")
    )


def periods_with_snapshots() -> list[str]:
    """Periods that have a successful snapshot, latest first (the period picker)."""
    return list(
        ReportRun.objects.filter(status=RunStatus.SUCCESS)
        .order_by("period")
        .values_list("period", flat=True)
        .distinct()
    )[::-1]


def alert_thresholds_in_force(*, on: date) -> list[AlertThreshold]:
    return list(
        AlertThreshold.objects.filter(valid_from__lte=on)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
        .order_by("indicator_code", "valid_from")
    )


@dataclass(frozen=True)
class AreaReport:
    """One period's stored values for an area and every area under it (the report and its export)."""

    period: str
    root: Area
    areas: list[Area]
    readings: dict[tuple[str, str], IndicatorReading]

    @property
    def data_as_of(self) -> datetime | None:
        reading = next((r for (area, _), r in self.readings.items() if area == self.root.code), None)
        return reading.data_as_of if reading else None

    def values_of(self, code: str) -> dict[str, IndicatorReading]:
        return {ind: r for (area, ind), r in self.readings.items() if area == code}


def area_report(*, period: str, root: Area) -> AreaReport:
    """Two queries: the areas under ``root``, their latest stored values of ``period``."""
    areas = list(Area.objects.within(root.code).order_by("code"))
    readings = indicator_values_latest(period=period, area_codes=[a.code for a in areas])
    return AreaReport(period=period, root=root, areas=areas, readings=readings)


# --- the dashboard ---------------------------------------------------------------------------------

TREND_QUARTERS = 8


def may_view_indicators(user: User) -> bool:
    """The role matrix's readers of ``indicators`` (aggregates only: county viewers, admins, assessors)."""
    return user.is_authenticated and may_read(user, "indicators")


def may_recompute(user: User) -> bool:
    """重新计算 is for county admins bound to the county (their run covers every area)."""
    return user.is_authenticated and may_write(user, "indicators") and _bound_to_a_county(user)


def _bound_to_a_county(user: User) -> bool:
    """Not a scope question: whether the user's own area is a whole county (a run is made for that area)."""
    return bool(user.area_id) and user.area_id.endswith("000000")


def period_sort_key(code: str) -> tuple:
    """Latest end first; of the periods ending on one day, the longest (the year-to-date report) first."""
    p = period_parse(code)
    return (-p.end.toordinal(), p.start.toordinal())


def periods_available() -> list[str]:
    return sorted(periods_with_snapshots(), key=period_sort_key)


@dataclass
class Card:
    indicator: Indicator
    reading: IndicatorReading | None
    last_year: IndicatorReading | None
    alert: AlertThreshold | None

    @property
    def change(self) -> Decimal | None:
        if not self.reading or not self.last_year or self.reading.value is None or self.last_year.value is None:
            return None
        return self.reading.value - self.last_year.value


@dataclass(frozen=True)
class Cell:
    """One value of the ranking table, formatted here: forty rows of ten cells are most of a page's work."""

    indicator_code: str
    text: str
    alert: str  # the threshold it breaches, or ""


@dataclass
class RankRow:
    rank: int | None
    area: Area
    cells: list[Cell]


@dataclass
class Dashboard:
    period: Period
    area: Area
    trail: list[Area]
    cards: list[Card]  # the key indicators, also ranked below
    structure_cards: list[Card]  # 人口结构与生育水平: today's work (ageing, young children, fertility)
    rows: list[RankRow]
    rank_by: Indicator
    rank_auto: bool  # chosen by the data (the user picked none)
    trend: dict[str, list]  # indicator code -> [value or None per quarter]
    trend_labels: list[str]
    has_data: bool

    @property
    def data_as_of(self) -> datetime | None:
        return next((c.reading.data_as_of for c in self.cards if c.reading), None)


def _alert_for(thresholds: list[AlertThreshold], indicator: str, level: str, value) -> AlertThreshold | None:
    for t in thresholds:
        if t.indicator_code == indicator and t.level in ("", level) and t.is_breached(value):
            return t
    return None


def ranking_indicator(*, key: list[Indicator], values) -> Indicator:
    """The ranking's indicator when the user picked none: the first of ``settings.INDICATORS_RANKING`` (then the
    other key indicators) whose values separate the areas — a column where every township has 100.00 ranks
    nothing. ``values(indicator)``: the areas' readings."""
    preferred = [BY_CODE[c] for c in settings.INDICATORS_RANKING if c in BY_CODE and BY_CODE[c].key]
    candidates = preferred + [i for i in key if i not in preferred]
    for indicator in candidates:
        distinct = {r.value for r in values(indicator) if r is not None and r.value is not None}
        if len(distinct) > 1:
            return indicator
    return candidates[0]


def dashboard_for(*, user: User, period: Period, area: Area, rank_by: str | None = None) -> Dashboard:
    """The dashboard of ``area`` (visible to ``user``, checked by the caller) from stored snapshots only: cards
    with the change from the same period last year, the children ranked with alerts, quarterly trends.
    A fixed number of queries whatever the number of areas."""
    key = [i for i in INDICATORS if i.key]
    structure = [i for i in INDICATORS if i.card]
    ranked = BY_CODE.get(rank_by or "")
    rank_auto = ranked is None or not ranked.key
    children = list(Area.objects.filter(parent_id=area.code).order_by("code"))
    trail = list(Area.objects.filter(code__in=set(_ancestors_and_self(area.code))).order_by("code"))
    trail = [a for a in trail if in_scope(user, a.code)]  # the breadcrumb starts at the user's own area
    last_year = period.same_period_last_year()
    quarters = quarters_up_to(period, TREND_QUARTERS)
    trend_codes = [i.code for i in INDICATORS if i.trend]
    # Two queries: this period for the area and its children; last year and the trend for the area alone.
    carded = [*key, *structure]
    readings = indicator_values_for_periods(
        periods=[period.code],
        area_codes=[area.code, *(c.code for c in children)],
        indicator_codes=[i.code for i in carded],
    )
    readings |= indicator_values_for_periods(
        periods=[last_year.code, *(q.code for q in quarters)],
        area_codes=[area.code],
        indicator_codes=sorted({i.code for i in carded} | set(trend_codes)),
    )
    thresholds = alert_thresholds_in_force(on=period.end)

    def reading(p: Period, code: str, indicator: str) -> IndicatorReading | None:
        return readings.get((p.code, code, indicator))

    def card(i: Indicator) -> Card:
        r = reading(period, area.code, i.code)
        alert = _alert_for(thresholds, i.code, area.level, r and r.value)
        return Card(i, r, reading(last_year, area.code, i.code), alert)

    if rank_auto:  # a not-applicable figure (出生政策符合率 after 2021) has no value and separates nothing
        ranked = ranking_indicator(key=key, values=lambda i: [reading(period, c.code, i.code) for c in children])
    rows = []
    for child in children:
        cells = []
        for i in key:
            r = reading(period, child.code, i.code)
            alert = _alert_for(thresholds, i.code, child.level, r and r.value)
            cells.append(Cell(i.code, shown_reading(r, i), str(alert) if alert else ""))
        rows.append(RankRow(None, child, cells))
    ranked_value = {row.area.code: (readings.get((period.code, row.area.code, ranked.code)) or None) for row in rows}
    rows.sort(
        key=lambda row: (
            ranked_value[row.area.code] is None or ranked_value[row.area.code].value is None,
            -(ranked_value[row.area.code].value or 0) if ranked_value[row.area.code] else 0,
            row.area.code,
        )
    )
    for n, row in enumerate(rows, 1):
        value = ranked_value[row.area.code]
        row.rank = n if value and value.value is not None else None
    trend = {
        code: [
            (float(r.value) if (r := readings.get((q.code, area.code, code))) and r.value is not None else None)
            for q in quarters
        ]
        for code in trend_codes
    }
    return Dashboard(
        period=period,
        area=area,
        trail=trail,
        cards=[card(i) for i in key],
        structure_cards=[card(i) for i in structure],
        rows=rows,
        rank_by=ranked,
        rank_auto=rank_auto,
        trend=trend,
        trend_labels=[q.label for q in quarters],
        has_data=any((period.code, area.code, i.code) in readings for i in key),
    )


# --- reported vs recomputed ------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    area_code: str
    area_name: str
    indicator: Indicator
    a: IndicatorReading | None
    b: IndicatorReading | None

    @property
    def differs(self) -> bool:
        key = lambda r: (r.value, r.numerator, r.denominator) if r else None  # noqa: E731
        return key(self.a) != key(self.b)


COMPARISON_ROW_LIMIT = 2000  # all values of a county's 400 villages, unfiltered, would be a page of 7,000 rows


_DIFF_SQL = """
SELECT coalesce(a.area_id, b.area_id), ar.name, coalesce(a.indicator_code, b.indicator_code),
    a.value, a.numerator, a.denominator, b.value, b.numerator, b.denominator
FROM (SELECT * FROM indicators_indicatorvalue WHERE run_id = %(a)s AND area_id >= %(low)s AND area_id < %(high)s
      AND (%(indicator)s = '' OR indicator_code = %(indicator)s)) a
FULL OUTER JOIN (
    SELECT * FROM indicators_indicatorvalue WHERE run_id = %(b)s AND area_id >= %(low)s AND area_id < %(high)s
      AND (%(indicator)s = '' OR indicator_code = %(indicator)s)
) b ON a.area_id = b.area_id AND a.indicator_code = b.indicator_code
JOIN areas_area ar ON ar.code = coalesce(a.area_id, b.area_id)
WHERE NOT %(only_differences)s OR a.value IS DISTINCT FROM b.value OR a.numerator IS DISTINCT FROM b.numerator
    OR a.denominator IS DISTINCT FROM b.denominator
ORDER BY 1, 3
LIMIT %(limit)s
"""


def snapshot_differences(
    *,
    user: User,
    run_a: ReportRun,
    run_b: ReportRun,
    indicator: str = "",
    area_code: str = "",
    only_differences: bool = True,
    limit: int = COMPARISON_ROW_LIMIT,
) -> list[Difference]:
    """报表数据与回溯数据: per area (within the user's area; ``area_code``: that area and those under it) and
    indicator (``indicator``: that one only), where two snapshots differ — or, ``only_differences=False``,
    every value of both side by side. At most ``limit`` rows. One query."""
    scope = user_scope(user)
    if scope == NOTHING or not may_read(user, "indicators"):
        return []
    low, high = scope or ("", "~")  # no limit: every code lies in ["", "~")
    if area_code:
        if not in_scope(user, area_code):
            return []
        low, high = code_range(area_code)
    params = {"a": run_a.pk, "b": run_b.pk, "low": low, "high": high, "indicator": indicator,
              "only_differences": only_differences, "limit": limit}  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(_DIFF_SQL, params)
        rows = cursor.fetchall()
    out = []
    for area_code, name, code, av, an, ad, bv, bn, bd in rows:
        a = IndicatorReading(av, an, ad, run_a.pk, run_a.data_as_of) if an is not None else None
        b = IndicatorReading(bv, bn, bd, run_b.pk, run_b.data_as_of) if bn is not None else None
        out.append(Difference(area_code, name, BY_CODE[code], a, b))
    return out
