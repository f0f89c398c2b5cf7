"""Reads of the indicators app: stored snapshots only, never the raw registry (STYLE: Zulip analytics)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Q, QuerySet

from apps.accounts.models import User
from apps.core.areacodes import code_range
from apps.indicators.models import AlertThreshold, IndicatorValue, ReportRun, RunStatus


@dataclass(frozen=True)
class IndicatorReading:
    value: Decimal | None
    numerator: Decimal
    denominator: Decimal
    run_id: int
    data_as_of: datetime


_LATEST_SQL = """
WITH latest AS (  -- per period and area: the latest successful run holding values for it
    SELECT DISTINCT ON (r.period, v.area_id) r.period, v.area_id, r.id AS run_id, r.data_as_of
    FROM indicators_indicatorvalue v JOIN indicators_reportrun r ON r.id = v.run_id
    WHERE r.status = 'success' AND r.period = ANY(%(periods)s) {area_filter}
    ORDER BY r.period, v.area_id, r.finished_at DESC, r.id DESC
)
SELECT l.period, v.area_id, v.indicator_code, v.value, v.numerator, v.denominator, l.run_id, l.data_as_of
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
        return {
            (period, area, code): IndicatorReading(value, numerator, denominator, run_id, as_of)
            for period, area, code, value, numerator, denominator, run_id, as_of in cursor.fetchall()
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
    if not user or not user.is_authenticated or not user.is_active:
        return ReportRun.objects.none()
    qs = ReportRun.objects.select_related("area", "requested_by")
    if user.area_id:
        low, high = code_range(user.area_id)
        qs = qs.filter(Q(area_id__in=_ancestors_and_self(user.area_id)) | Q(area_id__gte=low, area_id__lt=high))
    elif not user.is_superuser:
        return ReportRun.objects.none()
    if period:
        qs = qs.filter(period=period)
    return qs.order_by("-created_at", "-id")


def _ancestors_and_self(code: str) -> list[str]:
    return [code[:6] + "000000", code[:9] + "000", code]


def report_run_get_visible(*, user: User, pk: int) -> ReportRun:
    return report_runs_visible_to(user=user).get(pk=pk)


def indicator_values_visible_to(*, user: User) -> QuerySet[IndicatorValue]:
    """Stored values of successful runs within the user's area (the API)."""
    return IndicatorValue.objects.visible_to(user).filter(run__status=RunStatus.SUCCESS).select_related("run")


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
