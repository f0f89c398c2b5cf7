"""Reads of the indicators app: stored snapshots (STYLE: Zulip analytics). The one exception is a figure's
record list (``figure_records``), which runs the computation's own SQL for one figure and area."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import connection, transaction
from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet

from apps.accounts.models import User
from apps.areas.models import Area
from apps.core.access import may_read, may_write, readable
from apps.core.areacodes import CodeLevel, code_range, contains, level_of, township_of
from apps.core.audit import LABELS, OUTSIDE_APPLICATION
from apps.core.dated import in_force
from apps.core.scoping import NOTHING, in_scope, user_scope
from apps.indicators.catalogue import ASFR_CODES, BY_CODE, INDICATORS, TFR_CODE, Indicator
from apps.indicators.formatting import shown_reading
from apps.indicators.models import (
    AlertThreshold,
    IndicatorValue,
    ReportRun,
    ReportSubmission,
    RunStatus,
    SubmissionStatus,
)
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
    return list(in_force(AlertThreshold.objects.all(), on).order_by("indicator_code", "valid_from"))


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
    run_id: int | None = None  # the snapshot it comes from (its record list), None without a value


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
            cells.append(Cell(i.code, shown_reading(r, i), str(alert) if alert else "", r.run_id if r else None))
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


# --- submitted reports (上报) and their late changes (上报后更改) --------------------------------------


def may_submit(user: User) -> bool:
    """上报 is for the township's leader (a county viewer bound to a township) or a county admin bound to one."""
    return (
        user.is_authenticated
        and may_write(user, "indicators.submissions")
        and bool(user.area_id)
        and level_of(user.area_id) == CodeLevel.TOWNSHIP
    )


def may_decide_submissions(user: User) -> bool:
    """审核/退回 is for county admins bound to the county."""
    return user.is_authenticated and may_write(user, "indicators") and _bound_to_a_county(user)


def submissions_visible_to(*, user: User) -> QuerySet[ReportSubmission]:
    """Submissions of the user's area (a township sees its own, the county all); another township's is a 404."""
    qs = ReportSubmission.objects.visible_to(user).select_related("area", "run", "submitted_by", "decided_by")
    return readable(qs, user, "indicators.submissions").order_by("-period", "area_id")


def submission_get_visible(*, user: User, pk: int) -> ReportSubmission:
    return submissions_visible_to(user=user).get(pk=pk)


def reported_run(*, user: User, period: str) -> ReportRun | None:
    """The snapshot whose figures were reported (上报数) for ``period``: that of the user's township's approved
    submission, or, for the county, the snapshot most townships' approved submissions name."""
    runs = (
        submissions_visible_to(user=user)
        .filter(period=period, status=SubmissionStatus.APPROVED)
        .order_by()
        .values("run_id")
        .annotate(n=Count("id"), first=Min("decided_at"))
        .order_by("-n", "first")
    )
    first = runs.first()
    return ReportRun.objects.filter(pk=first["run_id"]).first() if first else None


# Which indicators a change of each kind of record can move: its own events' counts and rates, and every
# population-based figure (a birth adds a person, a death or a move takes one away or brings one).
_POPULATION = frozenset(
    {"population_end", "birth_rate", "death_rate", "natural_growth_rate", "children_0_2", "population_60plus",
     "population_65plus", "share_60plus", "share_65plus", "old_age_dependency_ratio", "child_dependency_ratio",
     "general_fertility_rate", *ASFR_CODES, TFR_CODE, "married_wra", "contraceptive_prevalence",
     "long_acting_share", "record_completeness_rate"}
)  # fmt: skip
_BIRTHS = frozenset(
    {"births", "sex_ratio_at_birth", "sex_ratio_parity2", "sex_ratio_parity3plus", "policy_compliance_rate",
     "first_birth_rate", "second_birth_rate", "multi_birth_rate", "birth_registration_timeliness"}
)  # fmt: skip
_WOMEN = frozenset({"married_wra", "contraceptive_prevalence", "long_acting_share", "record_completeness_rate"})


@dataclass(frozen=True)
class LateKind:
    """A kind of record whose changes after approval are late changes: its model, the date that places it in
    a period, and the indicators it moves."""

    label: str
    model_label: str
    date_field: str
    indicators: frozenset[str]


LATE_KINDS: dict[str, LateKind] = {
    "birth": LateKind("出生登记", "registry.Birth", "date", _BIRTHS | _POPULATION),
    "death": LateKind("死亡登记", "registry.Death", "date", _POPULATION | {"deaths"}),
    "move": LateKind("迁移流动", "registry.Move", "date", _POPULATION),
    "person": LateKind("人口", "registry.Person", "birth_date", _POPULATION),
    "marriage": LateKind("婚姻登记", "registry.Marriage", "date", _WOMEN),
    "contraception": LateKind("避孕措施", "registry.ContraceptiveUse", "start_date", _WOMEN),
}


@dataclass(frozen=True)
class LateChange:
    """One change of a record of a reported period, made after the report was approved."""

    submission_id: int
    township: str
    kind: str
    record_id: int
    village: str
    event_date: date
    at: datetime
    action: str  # 新建 / 修改 / 删除
    user: str
    changes: list[tuple[str, object, object]]  # (field label, before, after); empty for roles without persons

    @property
    def kind_label(self) -> str:
        return LATE_KINDS[self.kind].label

    def explains(self, area_code: str, indicator: str) -> bool:
        return contains(area_code, self.village) and indicator in LATE_KINDS[self.kind].indicators


def _late_kind_sql(kind: str, spec: LateKind) -> str:
    """One kind's event rows, each with its previous version (an update that moves a record out of the
    period or the township is a change of it too), joined to the approved submissions they come after."""
    model = apps.get_model(spec.model_label)
    table = model.pgh_event_models["insert"]._meta.db_table
    d = spec.date_field
    # Table and column names come from LATE_KINDS; every value is a parameter.
    return f"""
    SELECT '{kind}' AS kind, s.id AS submission_id, s.area_id AS township, e.pgh_obj_id AS record_id,
        coalesce(CASE WHEN e.village_id >= s.low AND e.village_id < s.high THEN e.village_id END, prev.village_id)
            AS village,
        CASE WHEN e.{d} BETWEEN %(start)s AND %(end)s THEN e.{d} ELSE prev.{d} END AS event_date,
        e.pgh_created_at AS at, e.pgh_label AS label, e.pgh_context_id AS context_id, e.pgh_id,
        CASE WHEN %(details)s THEN prev.data END AS before, CASE WHEN %(details)s THEN to_jsonb(e) END AS after
    FROM (SELECT * FROM {table} WHERE pgh_created_at > (SELECT min(decided_at) FROM approved)
          AND village_id >= %(low)s AND village_id < %(high)s) e
    LEFT JOIN LATERAL (
        SELECT p.village_id, p.{d}, to_jsonb(p) AS data FROM {table} p
        WHERE p.pgh_obj_id = e.pgh_obj_id AND p.pgh_id < e.pgh_id ORDER BY p.pgh_id DESC LIMIT 1
    ) prev ON true
    JOIN approved s ON e.pgh_created_at > s.decided_at AND (
        (e.village_id >= s.low AND e.village_id < s.high AND e.{d} BETWEEN %(start)s AND %(end)s)
        OR (prev.village_id >= s.low AND prev.village_id < s.high AND prev.{d} BETWEEN %(start)s AND %(end)s))
    """  # noqa: S608


_LATE_SQL = """
WITH approved AS (  -- the approved submissions of the period within the reader's area
    SELECT id, area_id, decided_at, area_id AS low, lpad((left(area_id, 9)::bigint + 1)::text, 9, '0') || '000' AS high
    FROM indicators_reportsubmission
    WHERE period = %(period)s AND status = 'approved' AND area_id >= %(township_low)s AND area_id < %(high)s
        AND (%(submission)s::bigint IS NULL OR id = %(submission)s::bigint)
), late AS ({union})
SELECT {columns}
FROM late LEFT JOIN pghistory_context c ON c.id = late.context_id
LEFT JOIN accounts_user u ON u.id = (c.metadata ->> 'user')::bigint
{tail}
"""
_LATE_COLUMNS = """late.submission_id, late.township, late.kind, late.record_id, late.village, late.event_date,
    late.at, late.label, c.id IS NOT NULL, c.metadata ->> 'user', nullif(trim(u.first_name || ' ' || u.last_name), ''),
    u.username, late.before, late.after"""
LATE_CHANGE_LIMIT = 500
_HIDDEN = {"pgh_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "pgh_context_id", "created_at", "updated_at"}


def _late_query(*, user: User, period: Period, area_code: str, submission_id: int | None, count: bool, details: bool):
    scope = user_scope(user)
    if scope == NOTHING or not may_read(user, "indicators.submissions"):
        return None
    low, high = scope or ("", "~")
    if area_code:
        if not in_scope(user, area_code):
            return None
        low, high = code_range(area_code)
    union = "\nUNION ALL\n".join(_late_kind_sql(kind, spec) for kind, spec in LATE_KINDS.items())
    columns, tail = (
        ("count(*)", "") if count else (_LATE_COLUMNS, "ORDER BY late.at DESC, late.pgh_id DESC LIMIT %(limit)s")
    )
    params = {"period": period.code, "start": period.start, "end": period.end, "low": low, "high": high,
              "township_low": township_of(low) if len(low) == 12 else low, "submission": submission_id,
              "details": details, "limit": LATE_CHANGE_LIMIT}  # fmt: skip
    return _LATE_SQL.format(union=union, columns=columns, tail=tail), params


def late_changes_count(*, user: User, period: Period, area_code: str = "") -> int:
    """上报后更改: how many changes of records of ``period`` within the user's area (``area_code``: that area)
    came after their township's report was approved. One query."""
    query = _late_query(user=user, period=period, area_code=area_code, submission_id=None, count=True, details=False)
    if query is None:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(*query)
        return cursor.fetchone()[0]


def late_changes(
    *, user: User, period: Period, area_code: str = "", submission: ReportSubmission | None = None
) -> list[LateChange]:
    """The late changes (上报后更改) of the approved reports of ``period`` within the user's area, newest first
    (at most ``LATE_CHANGE_LIMIT``): each event of the audit trail of a registry record dated in the period
    and located in the township, written after the approval, with who, when and what. One query over the
    event tables (set-based: every kind, every township at once). Field values only for roles that read
    persons, identifiers masked as on the record's own page."""
    details = may_read(user, "registry")
    query = _late_query(
        user=user, period=period, area_code=area_code, submission_id=submission.pk if submission else None,
        count=False, details=details,
    )  # fmt: skip
    if query is None:
        return []
    with connection.cursor() as cursor:
        cursor.execute(*query)
        rows = cursor.fetchall()
    out = []
    for row in rows:
        sub, township, kind, record, village, on, at, label, has_context, user_id, full, name, before, after = row
        who = (full or name or "（已删除用户）") if user_id else "系统"  # named as apps.core.audit names actors
        who = who if has_context else OUTSIDE_APPLICATION
        changes = _field_changes(apps.get_model(LATE_KINDS[kind].model_label), before, after, user) if details else []
        out.append(LateChange(sub, township, kind, record, village, on, at, LABELS.get(label, label), who, changes))
    return out


def _field_changes(model, before: dict | None, after: dict | None, user: User) -> list[tuple[str, object, object]]:
    masked = getattr(model, "masked_fields", {}) if not getattr(user, "may_see_full_ids", False) else {}
    # Django leaves jsonb of a raw cursor as text
    before, after = (json.loads(v) if isinstance(v, str) else (v or {}) for v in (before, after))

    def shown(field: str, value):
        return masked[field](value) if field in masked and value else value

    out = []
    for field in after:
        if field in _HIDDEN or before.get(field) == after.get(field):
            continue
        try:
            label = str(model._meta.get_field(field.removesuffix("_id")).verbose_name)
        except FieldDoesNotExist:
            label = field
        out.append((label, shown(field, before.get(field)), shown(field, after.get(field))))
    return out


def late_changes_by_difference(differences: list[Difference], changes: list[LateChange]) -> dict[tuple, list]:
    """上报数与回溯数对比: for each difference, the late changes that can explain it (same area, a record kind
    that moves the indicator)."""
    return {
        (d.area_code, d.indicator.code): [c for c in changes if c.explains(d.area_code, d.indicator.code)]
        for d in differences
        if d.differs
    }


# --- every figure down to its records (指标明细) ---------------------------------------------------------

FIGURE_PARTS = {"numerator": "分子", "denominator": "分母"}
RECORDS_PAGE = 100
MAX_RECORDS_PAGE = 1_000_000  # 100 million records: beyond any county; keeps OFFSET within bigint
_RECORD_SET_LABELS = {
    "birth": "出生",
    "death": "死亡",
    "resident0": "期初前一日常住",
    "resident1": "期末常住",
}


@dataclass(frozen=True)
class FigureRecord:
    records: str  # the record set (computation.RECORD_SETS)
    kind: str  # what the record is, in words
    record_id: int
    weight: Decimal  # what it adds to the figure's side (1, -1, ½, or an amount in yuan)
    village: str  # the village it was counted at (name)
    person_id: int | None
    person: str  # the name, masked when the user may not read the registry or the person lives elsewhere now
    id_number: str  # always masked (a list)
    on: date | None  # the event's date
    detail: str
    link: str  # the record's page, "" for none
    voided: bool = False  # voided or retired since the run counted it


@dataclass
class FigureRecords:
    run: ReportRun
    indicator: Indicator
    area: Area
    part: str
    reading: IndicatorReading
    kept: bool  # the run's births and deaths as it counted them (else: the registry as it is now)
    composite: bool = False  # the TFR: computed from the age-specific rates, listed there
    constant: bool = False  # a count's denominator (1): no records
    count: int = 0
    total: Decimal = Decimal(0)
    rows: list[FigureRecord] | None = None
    page: int = 1

    @property
    def stored(self) -> Decimal:
        return self.reading.numerator if self.part == "numerator" else self.reading.denominator

    @property
    def label(self) -> str:
        return self.indicator.numerator_label if self.part == "numerator" else self.indicator.denominator_label

    @property
    def agrees(self) -> bool:
        return self.composite or self.constant or self.total == self.stored

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // RECORDS_PAGE))


def figure_records(
    *, user: User, run_id: int, indicator_code: str, area_code: str, part: str, page: int = 1
) -> FigureRecords:
    """The records behind one side (``part``) of a stored figure: ``run_id``'s value of ``indicator_code`` for
    ``area_code``, from the very SQL that computed it (``computation.records_sql``). A run, area or figure the
    user may not see raises ``IndicatorValue.DoesNotExist`` (a 404). Events come from what the run kept;
    persons (population on a date) from the registry as it is now, on the period's dates. One query for the
    page and its totals, and one per kind of record on the page."""
    from apps.indicators import computation
    from apps.indicators.sources import source_get

    indicator = BY_CODE.get(indicator_code)
    run = report_runs_visible_to(user=user).filter(pk=run_id, status=RunStatus.SUCCESS).first()
    if indicator is None or part not in FIGURE_PARTS or run is None or not in_scope(user, area_code):
        raise IndicatorValue.DoesNotExist
    value = IndicatorValue.objects.filter(run=run, area_id=area_code, indicator_code=indicator_code).first()
    area = Area.objects.filter(code=area_code).first()
    if value is None or area is None:
        raise IndicatorValue.DoesNotExist
    reading = IndicatorReading(
        value.value, value.numerator, value.denominator, run.pk, run.data_as_of, value.not_applicable
    )
    result = FigureRecords(run=run, indicator=indicator, area=area, part=part, reading=reading, kept=run.records_kept)
    sides = computation.figure_sides(indicator_code)
    if sides is None:
        result.composite = True
        return result
    side = sides[0] if part == "numerator" else sides[1]
    if not side.terms:
        result.constant = True
        return result
    if value.not_applicable:
        return result
    source = source_get(indicator_code) if indicator.source else None
    if indicator.source and source is None:
        return result
    low, high = code_range(area_code)
    params = computation.run_parameters(run_id=run.pk, period_code=run.period, low=low, high=high)
    sql = computation.records_sql(side, kept=run.records_kept, source=source.records if source else None)
    page = min(max(1, page), MAX_RECORDS_PAGE)
    # One pass over the records: the page, with the count and the sum of all of them beside each row (the
    # population sets run the per-person CTE over the whole county, so it runs once, not once for the total).
    listing = (
        f"SELECT records, id, code, weight, count(*) OVER (), sum(weight) OVER ()"  # noqa: S608 - constants
        f" FROM ({sql}) x(records, id, code, weight) ORDER BY code, records, id LIMIT %(limit)s OFFSET %(offset)s"
    )
    with transaction.atomic(), connection.cursor() as cursor:  # the settings hold for this transaction only
        cursor.execute(computation.VILLAGE_SESSION_SETTINGS)
        cursor.execute(listing, params | {"limit": RECORDS_PAGE, "offset": (page - 1) * RECORDS_PAGE})
        listed = cursor.fetchall()
        if not listed and page > 1:  # past the last page: the first page's totals
            cursor.execute(listing, params | {"limit": RECORDS_PAGE, "offset": 0})
            first = cursor.fetchall()
            result.count, result.total = (first[0][4], first[0][5]) if first else (0, Decimal(0))
    if listed:
        result.count, result.total = listed[0][4], listed[0][5]
    listed = [row[:4] for row in listed]
    result.page = page
    result.rows = _record_rows(user, listed, source)
    return result


def _record_rows(user: User, listed: list[tuple], source) -> list[FigureRecord]:
    """The page's records with what a reader needs to recognise them, through the models' scoped selectors:
    a record or person outside the user's area now (moved, corrected since) is listed with its weight and
    village only; a reader whose role does not read the registry sees surnames only and no links."""
    from django.urls import reverse

    from apps.core.privacy import mask_id_number, mask_name
    from apps.registry.models import Birth, Death, Person

    ids: dict[str, list[int]] = {}
    for records, pk, _, _ in listed:
        ids.setdefault(records, []).append(pk)
    births = {b.pk: b for b in Birth.all_objects.visible_to(user).filter(pk__in=ids.get("birth", []))}
    deaths = {d.pk: d for d in Death.all_objects.visible_to(user).filter(pk__in=ids.get("death", []))}
    sourced: dict[int, tuple] = {}
    if source is not None and ids.get("source"):
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT record_id, person_id, label FROM ({source.records}) s WHERE record_id = ANY(%(ids)s)",  # noqa: S608
                {"ids": ids["source"], "start": date.min, "end": date.max},
            )
            sourced = {row[0]: row[1:] for row in cursor.fetchall()}
    person_ids = set(ids.get("resident0", [])) | set(ids.get("resident1", []))
    person_ids |= {b.child_id for b in births.values()} | {b.mother_id for b in births.values()}
    person_ids |= {d.person_id for d in deaths.values()} | {p for p, _ in sourced.values() if p}
    persons = {p.pk: p for p in Person.objects.visible_to(user).filter(pk__in=person_ids).only("name", "id_number")}
    may_see = may_read(user, "registry")

    def name(person_id) -> str:
        person = persons.get(person_id)
        if person is None:
            return "（现居辖区外）" if person_id else ""
        return person.name if may_see else mask_name(person.name)

    villages = dict(Area.objects.filter(code__in={code for _, _, code, _ in listed}).values_list("code", "name"))
    rows = []
    for records, pk, code, weight in listed:
        on, detail, link, voided, person_id = None, "", "", False, None
        kind = _RECORD_SET_LABELS.get(records, "")
        if records == "birth" and (b := births.get(pk)):
            person_id, on, voided = b.child_id, b.date, b.voided_at is not None
            detail = (
                f"第{b.birth_order}孩，{b.get_sex_display()}，{b.get_policy_status_display()}，"
                f"登记于{b.entered_on:%Y-%m-%d}"
            )
            detail += f"；母亲 {name(b.mother_id)}"
        elif records == "death" and (d := deaths.get(pk)):
            person_id, on, voided = d.person_id, d.date, d.voided_at is not None
        elif records in ("resident0", "resident1"):
            person_id = pk
        elif records == "source" and pk in sourced:
            person_id, kind = sourced[pk][0], sourced[pk][1]
            if source.link:
                link = reverse(source.link, args=[pk])
        person = persons.get(person_id)
        shown = may_see and person is not None
        if shown and not link:
            link = reverse("registry:person_detail", args=[person_id])
        rows.append(
            FigureRecord(
                records=records,
                kind=kind,
                record_id=pk,
                weight=weight,
                village=villages.get(code, code),
                person_id=person_id if shown else None,
                person=name(person_id),
                id_number=mask_id_number(person.id_number) if person else "",
                on=on,
                detail=detail,
                link=link,
                voided=voided,
            )
        )
    return rows
