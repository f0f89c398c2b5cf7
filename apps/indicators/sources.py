"""Indicator sources from higher apps (fees, subsidies): they register a function here, the computation calls
it (apps depend downward only, so indicators never imports fees or subsidies).

``fn(*, start: date, end: date) -> list[tuple[str, Decimal, Decimal]]`` returns
``(village_code, numerator, denominator)`` rows for the villages with data, from ONE set-based query.
With no source registered for an indicator, it has no values.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

SourceFn = Callable[..., list[tuple[str, Decimal, Decimal]]]

_SOURCES: dict[str, SourceFn] = {}


def source_register(code: str, fn: SourceFn) -> None:
    """Registers (or replaces) the source of indicator ``code`` (``fee_collection_rate``, ``subsidy_payment_rate``)."""
    from apps.indicators.catalogue import BY_CODE

    if code not in BY_CODE or not BY_CODE[code].source:
        raise ValueError(f"{code} is not an indicator computed from a registered source")
    _SOURCES[code] = fn


def source_unregister(code: str) -> None:
    _SOURCES.pop(code, None)


def sources_registered() -> dict[str, SourceFn]:
    return dict(_SOURCES)


def source_rows(code: str, *, start: date, end: date) -> list[tuple[str, Decimal, Decimal]] | None:
    fn = _SOURCES.get(code)
    return None if fn is None else list(fn(start=start, end=end))
