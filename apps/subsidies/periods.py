"""Subsidy periods: a programme paid by the year takes ``YYYY``, one paid by the month ``YYYYMmm`` — the report
period codes of DESIGN §6 (``apps.indicators.periods``), restricted to the programme's period length."""

from __future__ import annotations

import re

from apps.core.errors import RuleViolation
from apps.indicators.periods import Period
from apps.indicators.periods import period_parse as report_period_parse

__all__ = ["Period", "period_parse", "period_previous"]

_CODE_FOR_KIND = {"year": re.compile(r"^\d{4}$"), "month": re.compile(r"^\d{4}M\d{2}$")}
_EXAMPLE = {"year": "按年发放的项目，期间应写作如“2025”", "month": "按月发放的项目，期间应写作如“2025M03”"}


def period_parse(code: str, *, kind: str) -> Period:
    """``kind`` is the programme's period length: ``year`` or ``month``."""
    code = (code or "").strip().upper()
    if not _CODE_FOR_KIND[kind].match(code):
        raise RuleViolation(_EXAMPLE[kind], field="period", code="period")
    try:
        return report_period_parse(code)
    except RuleViolation:
        raise RuleViolation(_EXAMPLE[kind], field="period", code="period") from None


def period_previous(period: Period, *, kind: str) -> Period:
    if kind == "year":
        return period_parse(str(period.start.year - 1), kind=kind)
    year, month = period.start.year, period.start.month - 1
    if month == 0:
        year, month = year - 1, 12
    return period_parse(f"{year}M{month:02d}", kind=kind)
