"""Indicator sources from higher apps (fees, subsidies): they register their records here, the computation
counts them (apps depend downward only, so indicators never imports fees or subsidies).

A source is the SQL of its records, one row per record, over the period ``%(start)s`` .. ``%(end)s``:
``record_id``, ``code`` (the village), ``num`` and ``den`` (what the record adds to the numerator and the
denominator, in yuan), ``person_id`` (the person the record is about, or NULL) and ``label`` (a few words that
say what the record is). The report sums them per village (``computation.source_sql``) and the figure's record
list shows them (``selectors.figure_records``): one definition for both. ``link`` names the URL of a record's
page (``reverse(link, args=[record_id])``), "" for none. With no source registered for an indicator, it has
no values.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    records: str
    link: str = ""


_SOURCES: dict[str, Source] = {}


def source_register(code: str, records: str, *, link: str = "") -> None:
    """Registers (or replaces) the source of indicator ``code`` (``fee_collection_rate``, ``subsidy_payment_rate``)."""
    from apps.indicators.catalogue import BY_CODE

    if code not in BY_CODE or not BY_CODE[code].source:
        raise ValueError(f"{code} is not an indicator computed from a registered source")
    _SOURCES[code] = Source(records, link)


def source_unregister(code: str) -> None:
    _SOURCES.pop(code, None)


def sources_registered() -> dict[str, Source]:
    return dict(_SOURCES)


def source_get(code: str) -> Source | None:
    return _SOURCES.get(code)
