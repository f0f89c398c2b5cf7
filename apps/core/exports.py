"""The one writer of every spreadsheet the application hands out (xlsx and CSV), and the log of who took
which export (DESIGN §4, §10).

A text cell that a spreadsheet would run as a formula is neutralised as OWASP recommends ("CSV injection"):
a value starting with ``= + - @``, a tab or a carriage return gets a leading single quote, and in an xlsx it
is also stored as a string cell, never a formula (openpyxl turns any str starting with "=" into a formula
unless told otherwise). Numbers (int, Decimal, float) and dates stay what they are: a negative amount is a
number, not text, and a Decimal is written exactly to the fen.

Tables stream (issue 16): ``xlsx_stream`` writes a one-sheet workbook as a generator of bytes
(``apps.core.xlsxstream``, which says why it is written here rather than taken from openpyxl or XlsxWriter:
both zip the package only once the last row is in), ``csv_lines`` a CSV as a generator of encoded lines;
``table_download`` wraps either in a ``Download`` whose ``response()`` is a ``StreamingHttpResponse``, and
``streamed_rows`` reads a queryset through a server-side cursor that really streams. The persons roster,
the subsidy rosters, the 公示 list and the bank's files go this way: the first bytes leave before the
first row is read, memory stays flat. Because nothing after the first byte can still become an error page,
the export functions check everything (role, area, filters, 用途) and write the ``ExportLog`` entry, with
the row count of a ``COUNT``, before they return the ``Download``. The small formatted reports (the
indicators' workbook, the scoring results, the import's error report) stay on ``XlsxWriter``, openpyxl's
write-only workbook, for their fills, comments and several sheets.

Every workbook reads well on paper: a sheet given a ``Heading`` starts with the report's title and a line
naming the office that made it (the user's area and ``settings.EXPORT_OFFICE_NAME``), the period and the
local time it was made; every sheet prints landscape, fitted to the page width, with its header row repeated
on each page and a footer (office, page x of y, time); sheet names are cleaned to what Excel accepts.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import coordinate_from_string
from openpyxl.worksheet.worksheet import Worksheet

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"

# What Excel, LibreOffice and Google Sheets start a formula with (OWASP, "CSV Injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

BOLD = Font(bold=True)
TITLE_FONT = Font(bold=True, size=14)
INFO_FONT = Font(size=10, color="555555")
HEADING_ROWS = 2  # the title, then office · period · time; the table's header row follows
SHEET_NAME_MAX = 31
SHEET_NAME_FORBIDDEN = re.compile(r"[\\/*?:\[\]]")

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


def sheet_name(name: str, fallback: str = "数据") -> str:
    """A name Excel accepts: none of ``\\ / * ? : [ ]``, no leading or trailing apostrophe, 1–31 characters."""
    cleaned = SHEET_NAME_FORBIDDEN.sub("_", name or "").strip().strip("'").strip()
    return cleaned[:SHEET_NAME_MAX] or fallback


def office_name(area=None) -> str:
    """编制单位: the area's name and the office configured for the deployment (``EXPORT_OFFICE_NAME``)."""
    from django.conf import settings

    office = getattr(settings, "EXPORT_OFFICE_NAME", "")
    return f"{area.name}{office}" if area is not None else office


def local_now() -> datetime:
    from django.utils import timezone

    return timezone.localtime()


@dataclass(frozen=True)
class Heading:
    """What a printed report says above its table: title, 编制单位, the period it covers, when it was made."""

    title: str
    office: str
    period: str
    made_at: datetime = field(default_factory=local_now)

    @property
    def made_at_text(self) -> str:
        from django.utils import timezone

        return timezone.localtime(self.made_at).strftime("%Y-%m-%d %H:%M")

    @property
    def info_line(self) -> str:
        return f"编制单位：{self.office}　　期间：{self.period}　　生成时间：{self.made_at_text}"


def _footer_text(text: str) -> str:
    return text.replace("&", "&&")  # "&" starts a code in a header or footer


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

    def __init__(self, sheet, *, formats: dict[int, str], heading: Heading | None = None):
        self._sheet = sheet
        self._formats = formats
        self._heading = heading
        self._table_start = 0  # rows above the table (the heading's)
        self.rows = 0
        if heading is not None:
            self.append([Styled(heading.title, font=TITLE_FONT)])
            self.append([Styled(heading.info_line, font=INFO_FONT)])
            self._table_start = self.rows

    def header(self, values: Sequence[Any], *, font: Font | None = BOLD) -> None:
        """The table's header row: repeated at the top of every printed page; the heading's title and
        information line are merged across its width."""
        row = self.rows + 1
        self._sheet.print_title_rows = f"{row}:{row}"
        if self._heading is not None and len(values) > 1:
            last = get_column_letter(len(values))
            for heading_row in range(1, self._table_start + 1):
                self._sheet.merged_cells.add(f"A{heading_row}:{last}{heading_row}")
        self.append(values, font=font)

    def append(self, values: Iterable[Any], *, font: Font | None = None) -> None:
        cells = []
        for i, item in enumerate(values):
            styled = item if isinstance(item, Styled) else Styled(item)
            cell = WriteOnlyCell(self._sheet, value=neutralise(styled.value))
            if isinstance(cell.value, str):
                cell.data_type = "s"  # a string, never a formula, whatever it says
            if i in self._formats and self.rows > self._table_start:  # the table's first row keeps its format
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
        heading: Heading | None = None,
        widths: dict[int, float] | Sequence[float] | None = None,
        freeze: str | None = None,
        text_columns: Iterable[int] = (),
        formats: dict[int, str] | None = None,
    ) -> XlsxSheet:
        """``title``: the sheet's name (cleaned: ``sheet_name``); ``heading``: the report's title lines above
        the table; ``widths``: column widths by 0-based column (a dict) or in order (a list);
        ``freeze``: the first cell that scrolls, counted within the table (its header row is row 1; the
        heading's rows are added); ``text_columns``: 0-based columns formatted as text (ID and account
        numbers); ``formats``: number formats by 0-based column, for every row of the table but its first."""
        ws = self._workbook.create_sheet(sheet_name(title))
        items = widths.items() if isinstance(widths, dict) else enumerate(widths or ())
        for col, width in items:
            ws.column_dimensions[get_column_letter(col + 1)].width = width
        offset = HEADING_ROWS if heading is not None else 0
        if freeze:
            column, row = coordinate_from_string(freeze)
            ws.freeze_panes = f"{column}{row + offset}"
        _print_setup(ws, heading)
        if heading is not None and not self._workbook.properties.title:
            self._workbook.properties.title = heading.title
            self._workbook.properties.creator = heading.office
        return XlsxSheet(ws, formats={**(formats or {}), **dict.fromkeys(text_columns, "@")}, heading=heading)

    def about(self, heading: Heading, *, title: str = "文件说明") -> None:
        """A sheet that only says what the file is: for a workbook whose data sheet must keep a fixed layout
        (a bank's import file), where no title may go above the table."""
        ws = self.sheet(title, widths=[12, 60])
        for label, value in (("标题", heading.title), ("编制单位", heading.office), ("期间", heading.period),
                             ("生成时间", heading.made_at_text)):  # fmt: skip
            ws.append([Styled(label, font=BOLD), value])
        if not self._workbook.properties.title:
            self._workbook.properties.title = heading.title
            self._workbook.properties.creator = heading.office

    def save(self, path: Path | None = None) -> bytes | Path:
        """The workbook as bytes, or written to ``path`` (and ``path`` returned)."""
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._workbook.save(path)
            return path
        out = io.BytesIO()
        self._workbook.save(out)
        return out.getvalue()


def _print_setup(ws, heading: Heading | None) -> None:
    """Landscape A4, fitted to the page width (as many pages down as it takes), centred, with a footer."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    if heading is not None:
        ws.oddFooter.left.text = _footer_text(heading.office)
        ws.oddFooter.right.text = _footer_text(f"生成时间：{heading.made_at_text}")


def _offset(freeze: str | None, rows: int) -> str | None:
    if not freeze:
        return None
    column, row = coordinate_from_string(freeze)
    return f"{column}{row + rows}"


def xlsx_stream(
    header: Sequence[str],
    rows: Iterable[Iterable[Any]],
    *,
    title: str = "数据",
    heading: Heading | None = None,
    about: Heading | None = None,
    widths: dict[int, float] | Sequence[float] | None = None,
    freeze: str | None = None,
    text_columns: Iterable[int] = (),
    formats: dict[int, str] | None = None,
) -> Iterator[bytes]:
    """A one-sheet workbook as a stream of bytes (``apps.core.xlsxstream``): the heading (if any), a bold
    header row, then the rows, read from ``rows`` only as the stream is consumed. The arguments mean what
    they mean for ``XlsxWriter.sheet``; ``about``: a heading kept on a sheet of its own, for a file whose
    table must start on the first row (a bank's import file)."""
    from apps.core.xlsxstream import SheetLayout, XlsxStream

    described = heading or about
    stream = XlsxStream(
        clean=neutralise, title=described.title if described else "", creator=described.office if described else ""
    )
    columns = len(header)
    above = HEADING_ROWS if heading is not None else 0
    items = widths.items() if isinstance(widths, dict) else enumerate(widths or ())
    layout = SheetLayout(
        sheet_name(title), widths=dict(items), freeze=_offset(freeze, above), print_title_row=above + 1,
        footer=_footer(heading),
    )  # fmt: skip
    if heading is not None and columns > 1:
        last = get_column_letter(columns)
        layout.merges = [f"A{row}:{last}{row}" for row in range(1, above + 1)]
    table = stream.row_style(columns, formats={**(formats or {}), **dict.fromkeys(text_columns, "@")})

    def sheet_rows():
        if heading is not None:
            yield [heading.title], stream.row_style(1, font="title")
            yield [heading.info_line], stream.row_style(1, font="info")
        yield list(header), stream.row_style(columns, font="bold")
        for row in rows:
            yield row if isinstance(row, list | tuple) else list(row), table

    yield from stream.sheet(layout, sheet_rows())
    if about is not None:
        bold_label = stream.row_style(2, fonts={0: "bold"})
        lines = (("标题", about.title), ("编制单位", about.office), ("期间", about.period),
                 ("生成时间", about.made_at_text))  # fmt: skip
        yield from stream.sheet(
            SheetLayout("文件说明", widths={0: 12, 1: 60}, footer=_footer(None)),
            ((line, bold_label) for line in lines),
        )
    yield from stream.close()


def _footer(heading: Heading | None) -> tuple[str, str, str]:
    """Office on the left, page x of y in the centre, the time made on the right (as ``_print_setup``)."""
    if heading is None:
        return "", "第 &P 页，共 &N 页", ""
    return _footer_text(heading.office), "第 &P 页，共 &N 页", _footer_text(f"生成时间：{heading.made_at_text}")


def xlsx_bytes(header: Sequence[str], rows: Iterable[Iterable[Any]], **sheet) -> bytes:
    """``xlsx_stream`` as one piece, for a small table (the admin's exports)."""
    return b"".join(xlsx_stream(header, rows, **sheet))


@dataclass
class Download:
    """A file on its way to the user: its chunks (produced only as they are sent), the row count the log
    recorded, the file name and the type. Everything that may refuse the export (role, area, filters, 用途)
    has been checked before a ``Download`` exists, so nothing after its first byte is a user's error."""

    chunks: Iterator[bytes]
    rows: int
    filename: str
    content_type: str

    def content(self) -> bytes:
        return b"".join(self.chunks)

    def response(self):
        """A ``StreamingHttpResponse``: the file leaves chunk by chunk, in constant memory."""
        from django.http import StreamingHttpResponse
        from django.utils.http import content_disposition_header

        response = StreamingHttpResponse(self.chunks, content_type=self.content_type)
        response["Content-Disposition"] = content_disposition_header(True, self.filename)
        return response


def streamed_rows(queryset, *, chunk_size: int = 2000) -> Iterator[Any]:
    """The rows of ``queryset`` through a server-side cursor, inside a transaction: in autocommit mode Django
    declares its cursors WITH HOLD, which PostgreSQL materialises in full before the first row comes back;
    inside a transaction rows come as the plan produces them. One connection, one statement."""
    from django.db import transaction

    with transaction.atomic():
        yield from queryset.iterator(chunk_size=chunk_size)


class _Line:
    """A file-like object that hands back what csv.writer wrote into it."""

    def write(self, text: str) -> str:
        return text


CSV_CHUNK_ROWS = 500  # lines sent together: one write per line would cost the server more than the line


def csv_lines(header: Sequence[str] | None, rows: Iterable[Iterable[Any]], *, bom: bool = True) -> Iterator[bytes]:
    """The CSV as UTF-8 encoded chunks of lines (with a BOM first, so Excel opens it as UTF-8), every cell
    neutralised. Decimals are written as they are (``960.00``), None as an empty cell."""
    writer = csv.writer(_Line())
    first = "\ufeff" if bom else ""
    if header is not None:
        first += writer.writerow([neutralise(h) for h in header])
    if first:
        yield first.encode("utf-8")
    lines: list[str] = []
    for row in rows:
        lines.append(writer.writerow(["" if v is None else neutralise(v) for v in row]))
        if len(lines) >= CSV_CHUNK_ROWS:
            yield "".join(lines).encode("utf-8")
            lines.clear()
    if lines:
        yield "".join(lines).encode("utf-8")


def csv_bytes(header: Sequence[str] | None, rows: Iterable[Iterable[Any]], *, bom: bool = True) -> bytes:
    return b"".join(csv_lines(header, rows, bom=bom))


def table_download(
    fmt: str, header: Sequence[str], rows: Iterable[Iterable[Any]], *, rows_count: int, filename: str, **sheet
) -> Download:
    """A table as a streamed CSV (``fmt="csv"``) or xlsx ``Download``; ``filename`` without its extension;
    ``sheet``: what ``xlsx_stream`` takes (ignored by the CSV)."""
    if fmt == "csv":
        return Download(csv_lines(header, rows), rows_count, f"{filename}.csv", CSV_CONTENT_TYPE)
    return Download(xlsx_stream(header, rows, **sheet), rows_count, f"{filename}.xlsx", XLSX_CONTENT_TYPE)


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
