"""Subsidy periods: a year ``YYYY`` or a month ``YYYYMmm`` (DESIGN §6 period codes)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from apps.core.errors import RuleViolation

_YEAR = re.compile(r"^(\d{4})$")
_MONTH = re.compile(r"^(\d{4})M(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Period:
    code: str
    start: date
    end: date

    @property
    def label(self) -> str:
        if "M" in self.code:
            return f"{self.start.year}年{self.start.month}月"
        return f"{self.start.year}年度"


def period_parse(code: str, *, kind: str) -> Period:
    """``kind`` is the programme's period length: ``year`` or ``month``."""
    code = (code or "").strip().upper()
    if kind == "year":
        m = _YEAR.match(code)
        if not m:
            raise RuleViolation("按年发放的项目，期间应写作如“2025”", field="period", code="period")
        year = int(m.group(1))
        return Period(code, date(year, 1, 1), date(year, 12, 31))
    m = _MONTH.match(code)
    if not m:
        raise RuleViolation("按月发放的项目，期间应写作如“2025M03”", field="period", code="period")
    year, month = int(m.group(1)), int(m.group(2))
    return Period(code, date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))


def period_previous(period: Period, *, kind: str) -> Period:
    if kind == "year":
        return period_parse(str(period.start.year - 1), kind=kind)
    year, month = period.start.year, period.start.month - 1
    if month == 0:
        year, month = year - 1, 12
    return period_parse(f"{year}M{month:02d}", kind=kind)
