"""Report periods (DESIGN §6): ``YYYY`` (year), ``YYYYQn`` (quarter), ``YYYYQn-YTD`` (1 January to the end of
quarter n, the usual "1–n季度累计" report) and ``YYYYMmm`` (month)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from apps.core.errors import RuleViolation

_PERIOD_RE = re.compile(r"^(?P<year>\d{4})(?:(?:Q(?P<quarter>[1-4])(?P<ytd>-YTD)?)|(?:M(?P<month>0[1-9]|1[0-2])))?$")


@dataclass(frozen=True)
class Period:
    code: str
    start: date
    end: date

    @property
    def day_before_start(self) -> date:
        return self.start - timedelta(days=1)

    @property
    def year(self) -> int:
        return self.start.year

    @property
    def label(self) -> str:
        m = _PERIOD_RE.match(self.code)
        if m["quarter"] and m["ytd"]:
            return f"{m['year']}年1–{m['quarter']}季度累计"
        if m["quarter"]:
            return f"{m['year']}年第{m['quarter']}季度"
        if m["month"]:
            return f"{m['year']}年{int(m['month'])}月"
        return f"{m['year']}年"

    def same_period_last_year(self) -> Period:
        return _period_of(f"{self.year - 1}{self.code[4:]}")


def period_parse(code: str) -> Period:
    """The period a code names; a malformed code is a ``RuleViolation`` with a message saying what is allowed."""
    code = (code or "").strip().upper()
    m = _PERIOD_RE.match(code)
    if not m or not 1900 <= int(m["year"]) <= 2999:
        raise RuleViolation(
            "报表期应写作 2024（全年）、2024Q1（季度）、2024Q2-YTD（1至2季度累计）或 2024M03（月）",
            field="period",
            code="bad_period",
        )
    return _period_of(code)


def _period_of(code: str) -> Period:
    """A well-formed code, without the bounds a user's input is held to: the periods derived from an accepted
    one (last year's, the quarters before it) may lie just before 1900."""
    m = _PERIOD_RE.match(code)
    year = int(m["year"])
    if m["quarter"]:
        q = int(m["quarter"])
        last_month = 3 * q
        start = date(year, 1, 1) if m["ytd"] else date(year, last_month - 2, 1)
        end = date(year, last_month, calendar.monthrange(year, last_month)[1])
    elif m["month"]:
        month = int(m["month"])
        start, end = date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    else:
        start, end = date(year, 1, 1), date(year, 12, 31)
    return Period(code=code, start=start, end=end)


def quarters_up_to(period: Period, count: int) -> list[Period]:
    """The ``count`` quarters ending with the quarter in which ``period`` ends, oldest first (trend charts)."""
    year, quarter = period.end.year, (period.end.month - 1) // 3 + 1
    out = []
    for _ in range(count):
        out.append(_period_of(f"{year}Q{quarter}"))
        quarter -= 1
        if quarter == 0:
            year, quarter = year - 1, 4
    return out[::-1]


def finished_quarter_ytd(today: date) -> Period:
    """The year-to-date report of the last quarter that ended before ``today`` (the beat run on the 5th)."""
    quarter = (today.month - 1) // 3  # quarters finished this year
    if quarter == 0:
        return period_parse(f"{today.year - 1}Q4-YTD")
    return period_parse(f"{today.year}Q{quarter}-YTD")
