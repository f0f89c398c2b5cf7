"""The one writer of every spreadsheet the application hands out (xlsx and CSV), and the log of who took
which export (DESIGN §4, §10).

A text cell that a spreadsheet would run as a formula is neutralised as OWASP recommends ("CSV injection"):
a value starting with ``= + - @``, a tab or a carriage return gets a leading single quote, and in an xlsx it
is also stored as a string cell, never a formula (openpyxl turns any str starting with "=" into a formula
unless told otherwise). Numbers (int, Decimal, float) and dates stay what they are: a negative amount is a
number, not text, and a Decimal is written exactly to the fen.

Both writers stream: the xlsx workbook is openpyxl's write-only mode (rows go to a temporary file as they
are appended, memory stays flat), and the CSV is a generator of encoded lines that a
``StreamingHttpResponse`` can send as it goes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"

# What Excel, LibreOffice and Google Sheets start a formula with (OWASP, "CSV Injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

BOLD = Font(bold=True)

# Full ID numbers leave the system only with a purpose of at least this many characters (用途).
PURPOSE_MIN_LENGTH = 5
BANK_PURPOSE = "银行代发"


def neutralise(value: Any) -> Any:
    """The value as it may go into a cell: a str that a spreadsheet would run gets a leading ``'``;
    characters that are illegal in xlsx (control characters) become U+FFFD instead of failing the export.
    Anything that is not a str (numbers, dates, None) is returned unchanged."""
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    if value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


@dataclass
class Styled:
    """A value with its formatting, for the few cells that need more than a value."""

    value: Any
    font: Font | None = None
    fill: PatternFill | None = None
    comment: str | None = None
    comment_author: str = "系统"
    number_format: str | None = None
    alignment: Alignment | None = None


class XlsxSheet:
    """One sheet of an ``XlsxWriter``. ``append`` takes plain values or ``Styled`` ones."""

    def __init__(self, sheet, *, formats: dict[int, str]):
        self._sheet = sheet
        self._formats = formats
        self.rows = 0

    def append(self, values: Iterable[Any], *, font: Font | None = None) -> None:
        cells = []
        for i, item in enumerate(values):
            styled = item if isinstance(item, Styled) else Styled(item)
            cell = WriteOnlyCell(self._sheet, value=neutralise(styled.value))
            if isinstance(cell.value, str):
                cell.data_type = "s"  # a string, never a formula, whatever it says
            if i in self._formats and self.rows:  # the header row keeps the general format
                cell.number_format = self._formats[i]
            if styled.number_format:
                cell.number_format = styled.number_format
            if styled.font or font:
                cell.font = styled.font or font
            if styled.fill:
                cell.fill = styled.fill
            if styled.alignment:
                cell.alignment = styled.alignment
            if styled.comment:
                cell.comment = Comment(neutralise(styled.comment), styled.comment_author)
            cells.append(cell)
        self._sheet.append(cells)
        self.rows += 1

    def extend(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.append(row)


class XlsxWriter:
    """A write-only workbook whose every cell goes through ``neutralise``.

    ``sheet(title, widths=..., freeze=...)`` must be given its column widths and frozen cell before the
    first row (a write-only sheet writes its layout first)."""

    def __init__(self) -> None:
        self._workbook = Workbook(write_only=True)

    def sheet(
        self,
        title: str,
        *,
        widths: dict[int, float] | Sequence[float] | None = None,
        freeze: str | None = None,
        text_columns: Iterable[int] = (),
        formats: dict[int, str] | None = None,
    ) -> XlsxSheet:
        """``widths``: column widths by 0-based column (a dict) or in order (a list); ``text_columns``:
        0-based columns formatted as text (ID and account numbers); ``formats``: number formats by 0-based
        column, for every row but the first."""
        ws = self._workbook.create_sheet(title[:31])
        items = widths.items() if isinstance(widths, dict) else enumerate(widths or ())
        for col, width in items:
            ws.column_dimensions[get_column_letter(col + 1)].width = width
        if freeze:
            ws.freeze_panes = freeze
        return XlsxSheet(ws, formats={**(formats or {}), **dict.fromkeys(text_columns, "@")})

    def save(self, path: Path | None = None) -> bytes | Path:
        """The workbook as bytes, or written to ``path`` (and ``path`` returned)."""
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._workbook.save(path)
            return path
        out = io.BytesIO()
        self._workbook.save(out)
        return out.getvalue()


def xlsx_bytes(header: Sequence[str], rows: Iterable[Iterable[Any]], *, title: str = "Sheet1", **sheet) -> bytes:
    """A one-sheet workbook: a bold header row, then the rows."""
    writer = XlsxWriter()
    ws = writer.sheet(title, **sheet)
    ws.append(header, font=BOLD)
    ws.extend(rows)
    return writer.save()


class _Line:
    """A file-like object that hands back what csv.writer wrote into it."""

    def write(self, text: str) -> str:
        return text


def csv_lines(header: Sequence[str] | None, rows: Iterable[Iterable[Any]], *, bom: bool = True) -> Iterator[bytes]:
    """The CSV as UTF-8 encoded lines (with a BOM first, so Excel opens it as UTF-8), every cell neutralised.
    Decimals are written as they are (``960.00``), None as an empty cell."""
    writer = csv.writer(_Line())
    if bom:
        yield "\ufeff".encode()
    if header is not None:
        yield writer.writerow([neutralise(h) for h in header]).encode("utf-8")
    for row in rows:
        yield writer.writerow(["" if v is None else neutralise(v) for v in row]).encode("utf-8")


def csv_bytes(header: Sequence[str] | None, rows: Iterable[Iterable[Any]], *, bom: bool = True) -> bytes:
    return b"".join(csv_lines(header, rows, bom=bom))


def csv_response(header: Sequence[str], rows: Iterable[Iterable[Any]], *, filename: str):
    """A streamed CSV download (a ``StreamingHttpResponse``): rows are read and sent one by one."""
    from django.http import StreamingHttpResponse

    response = StreamingHttpResponse(csv_lines(header, rows), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- the log of exports -----------------------------------------------------------------------------------


def export_log_record(*, by, export: str, rows: int, full_ids: bool, purpose: str = "", area_code: str = "") -> Any:
    """Records who took which export, when, how many rows, and — when it carried full ID numbers — the
    purpose they stated. Never the numbers themselves."""
    from apps.core.errors import RuleViolation
    from apps.core.models import ExportLog

    if full_ids and len(purpose.strip()) < PURPOSE_MIN_LENGTH and purpose.strip() != BANK_PURPOSE:
        raise RuleViolation(f"导出完整身份证号须说明用途（至少{PURPOSE_MIN_LENGTH}个字）", field="purpose")

    return ExportLog.objects.create(
        user=by if getattr(by, "pk", None) else None,
        export=export,
        rows=rows,
        full_ids=full_ids,
        purpose=purpose.strip(),
        area_code=area_code or "",
    )
