"""Reading spreadsheets as they arrive from township offices: .xlsx/.xls (python-calamine, in the bounded reader
of ``apps.core.spreadsheets``) and .csv in UTF-8
or GBK, a title row or two above the header, headers with stray spaces and full-width brackets, and cell
values that Excel turned into serial numbers or that clerks typed as 2009.08.07, 20090807 or 2009年8月7日.

Written here rather than taken from django-import-export/tablib: those load the whole file into Python
objects first (too slow and too big for a 1,000,000-row sheet) and know nothing of these conventions.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from apps.core import spreadsheets
from apps.core.errors import RuleViolation

HEADER_SEARCH_ROWS = 10
EXCEL_EPOCH = date(1899, 12, 30)
SPREADSHEET_SUFFIXES = spreadsheets.WORKBOOK_SUFFIXES

_PAREN_SUFFIX = re.compile(r"\(.*\)$")
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def normalise_header(value: object) -> str:
    """``' 户籍性质（农业/非农业） '`` -> ``'户籍性质'``: NFKC folds full-width brackets, spaces go."""
    text = unicodedata.normalize("NFKC", str(value or ""))
    text = re.sub(r"\s+", "", text)
    return _PAREN_SUFFIX.sub("", text)


def to_text(value: object) -> str:
    if value is None:
        return ""
    if type(value) is str and value.isascii():
        return value.strip()  # nothing for NFKC to fold
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a code typed into a number cell
    return unicodedata.normalize("NFKC", str(value)).strip()


def to_date(value: object) -> date | None:
    """A cell as a date; ``None`` for an empty cell; ``ValueError`` for anything not a date."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 20000101 <= value <= 21001231 and float(value).is_integer():
            return to_date(str(int(value)))  # YYYYMMDD typed into a number cell
        if 1 <= value < 2958466:  # Excel serial day number
            return EXCEL_EPOCH + timedelta(days=int(value))
        raise ValueError(value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            year, month, day = (int(g) for g in match.groups())
            return date(year, month, day)
    raise ValueError(value)


@dataclass
class SheetHeader:
    row_number: int  # 1-based row number of the header in the file
    columns: dict[str, int]  # canonical header -> column index


def find_header(rows: Iterator[list], *, required: Iterable[str], known: Iterable[str]) -> SheetHeader:
    """The header is the first of the first ten rows that holds every required header (DESIGN §8)."""
    required = list(required)
    known = set(known) | set(required)
    best_missing: list[str] | None = None
    for index, row in enumerate(rows, start=1):
        cells = [normalise_header(v) for v in row]
        present = {name: i for i, name in reversed(list(enumerate(cells))) if name in known}
        missing = [name for name in required if name not in present]
        if not missing:
            return SheetHeader(row_number=index, columns=present)
        if best_missing is None or len(missing) < len(best_missing):
            best_missing = missing
        if index >= HEADER_SEARCH_ROWS:
            break
    raise RuleViolation(
        f"前{HEADER_SEARCH_ROWS}行中找不到表头，缺少必需的列：{'、'.join(best_missing or required)}",
        field="file",
        code="no_header",
    )


def iter_rows(path: Path, *, filename: str | None = None) -> Iterator[list]:
    """Rows of the first sheet as lists of Python values (str, float, int, date, datetime, bool), read within
    the bounds of ``apps.core.spreadsheets`` (size, dimensions, a confined parse)."""
    return spreadsheets.iter_rows(path, filename=filename)


def rows_from_text(text: str) -> Iterator[list]:
    """CSV text (tests, small pasted lists)."""
    return csv.reader(io.StringIO(text))
