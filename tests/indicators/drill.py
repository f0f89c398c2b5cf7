"""The check that every figure of a run lists exactly its records (issue 17), for the indicator tests and for
the fees and subsidies tests of the source indicators."""

from __future__ import annotations

from decimal import Decimal

from apps.indicators import computation
from apps.indicators.catalogue import TFR_CODE
from apps.indicators.models import IndicatorValue
from apps.indicators.selectors import figure_records


def assert_every_figure_lists_its_records(run, user, *, areas, codes=None) -> dict[str, int]:
    """For every stored value of ``run`` in ``areas`` (every indicator, or ``codes``), both sides: the listed
    records' weights sum to the stored numerator and denominator, and a side whose records each count once
    lists exactly that many records. Returns the number of records listed per indicator (to show the check
    was not vacuous)."""
    listed: dict[str, int] = {}
    values = IndicatorValue.objects.filter(run=run, area_id__in=areas).order_by("area_id", "indicator_code")
    if codes is not None:
        values = values.filter(indicator_code__in=codes)
    for v in values:
        for part in ("numerator", "denominator"):
            listing = figure_records(
                user=user, run_id=run.pk, indicator_code=v.indicator_code, area_code=v.area_id, part=part
            )
            stored = v.numerator if part == "numerator" else v.denominator
            where = f"{v.indicator_code} {part} of {v.area_id}"
            if v.indicator_code == TFR_CODE:
                assert listing.composite, where
                continue
            if listing.constant:
                assert stored == 1 and part == "denominator", where
                continue
            if v.not_applicable:
                assert stored == 0 and listing.rows is None, where
                continue
            assert listing.total == stored, f"{where}: records sum to {listing.total}, stored {stored}"
            side = computation.figure_sides(v.indicator_code)[0 if part == "numerator" else 1]
            if all(t.records != "source" and side.weight(t) == Decimal(1) for t in side.terms):
                assert listing.count == stored, f"{where}: {listing.count} records, stored {stored}"
            listed[v.indicator_code] = listed.get(v.indicator_code, 0) + listing.count
    return listed
