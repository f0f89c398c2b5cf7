"""A workbook (.xlsx) written as a stream of bytes: the first bytes leave before the first row is read, and
memory stays flat however many rows follow (issue 16: the county-wide persons export).

Why written here and not taken from a library:

- openpyxl's write-only mode keeps memory flat, but writes the sheet to a temporary file and zips the whole
  package in ``save()``: nothing can be sent before the last row is written (21 s for the 600,000-person
  county). XlsxWriter's ``constant_memory`` mode does the same (temporary files, zipped at the end).
- Streaming zip libraries (``stream-zip``, ``zipstream-ng``) only solve the zip half; the sheet XML would
  still be ours. Python's own ``zipfile`` writes a member to a stream that cannot seek (CRC and sizes go in
  a data descriptor after the member, the layout Java's ``ZipOutputStream`` gives Apache POI's SXSSF files,
  which Excel and WPS open), so no new dependency is needed for the zip.
- What is left is a small, fixed part of SpreadsheetML: one ``<row>`` per row with inline strings (no shared
  string table, which would have to be held in memory until the end), and the package parts around it
  (content types, relationships, workbook, styles, properties). The styles and the workbook are written
  after the sheets, so a style or a sheet can be added while rows stream.

Nothing of the formatted report is lost against openpyxl's write-only sheets: the title and office lines
(merged across the table), bold headers, column widths, frozen panes, text columns (``@``) and number
formats, exact Decimals, dates as dates, landscape A4 fitted to the page width, the header row repeated on
every printed page (``_xlnm.Print_Titles``), the footer. Only per-cell decoration (fills, comments,
alignment) is not offered; the small reports that use them stay on ``XlsxWriter`` (openpyxl).

Every text goes through the ``clean`` it is given (``apps.core.exports.neutralise``) and is written as an
inline string: no cell of this writer can ever be a formula. ZIP64 is not used (Excel opens it badly); a
sheet stays far below its 2 GiB limit because a sheet holds at most 1,048,576 rows.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from math import isfinite
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from openpyxl.utils import get_column_letter

MAX_ROWS = 1_048_576  # of one Excel sheet
FLUSH_ROWS = 500  # rows written to the zip member at a time
COMPRESS_LEVEL = 1  # deflate: a third of the size of the plain XML at a fraction of level 6's CPU
_EPOCH = datetime(1899, 12, 30)
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

# Fonts by name: what the report's lines use (apps.core.exports: BOLD, TITLE_FONT, INFO_FONT).
FONTS = {
    "normal": '<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>',
    "bold": '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>',
    "title": '<font><b/><sz val="14"/><name val="Calibri"/><family val="2"/></font>',
    "info": '<font><sz val="10"/><color rgb="FF555555"/><name val="Calibri"/><family val="2"/></font>',
}
_FONT_IDS = {name: i for i, name in enumerate(FONTS)}
_BUILTIN_FORMATS = {"General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "@": 49}
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"


class _Sink:
    """What the zip writes to: collected until the stream takes it (a stream cannot seek, so ``zipfile``
    writes each member's sizes after it)."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        out = b"".join(self._chunks)
        self._chunks.clear()
        return out


class _Styles:
    """The cell formats in use (font × number format), numbered as they are first asked for."""

    def __init__(self) -> None:
        self._formats: dict[str, int] = {}
        self._xfs: dict[tuple[int, int], int] = {(0, 0): 0}

    def index(self, *, font: str = "normal", number_format: str | None = None) -> int:
        fmt = _BUILTIN_FORMATS.get(number_format or "General")
        if fmt is None:
            fmt = self._formats.setdefault(number_format, 164 + len(self._formats))
        return self._xfs.setdefault((_FONT_IDS[font], fmt), len(self._xfs))

    def xml(self) -> str:
        formats = "".join(f"<numFmt numFmtId={quoteattr(str(i))} formatCode={quoteattr(code)}/>"
                          for code, i in self._formats.items())  # fmt: skip
        xfs = "".join(
            f'<xf numFmtId="{fmt}" fontId="{font}" fillId="0" borderId="0" xfId="0"'
            + (' applyNumberFormat="1"' if fmt else "")
            + (' applyFont="1"' if font else "")
            + "/>"
            for (font, fmt) in self._xfs
        )
        return (
            f'{_HEAD}<styleSheet xmlns="{_MAIN}">'
            + (f'<numFmts count="{len(self._formats)}">{formats}</numFmts>' if self._formats else "")
            + f'<fonts count="{len(FONTS)}">{"".join(FONTS.values())}</fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            f'<cellXfs count="{len(self._xfs)}">{xfs}</cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>"
        )


@dataclass
class SheetLayout:
    """What a sheet says before and after its rows. ``widths``: by 0-based column; ``freeze``: the first
    cell that scrolls (in the sheet's own rows); ``print_title_row``: the 1-based row repeated on every
    printed page; ``merges``: ranges such as ``A1:N1``; ``footer``: left, centre, right (``&`` codes kept)."""

    title: str
    widths: dict[int, float] = field(default_factory=dict)
    freeze: str | None = None
    print_title_row: int | None = None
    merges: list[str] = field(default_factory=list)
    footer: tuple[str, str, str] = ("", "", "")


def _serial(value: date | datetime) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            from django.utils import timezone

            value = timezone.localtime(value).replace(tzinfo=None)
        delta = value - _EPOCH
        return repr(delta.days + delta.seconds / 86400 + delta.microseconds / 86_400_000_000)
    return str((value - _EPOCH.date()).days)


class XlsxStream:
    """Writes sheets one after the other; ``rows`` of a sheet are plain values; ``clean`` neutralises text.

    ``styles`` of ``sheet``: one style index per column (``_Styles.index``) for the table's rows; a row
    can carry its own styles (the heading, the header). Use as an iterator of byte chunks."""

    def __init__(self, *, clean: Callable[[str], str], title: str = "", creator: str = "") -> None:
        self._sink = _Sink()
        self._zip = zipfile.ZipFile(self._sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL)
        self.styles = _Styles()
        self._sheets: list[SheetLayout] = []
        self._title = title
        self._creator = creator
        self._texts = _Texts(clean)

    def row_style(
        self,
        columns: int,
        *,
        font: str = "normal",
        fonts: dict[int, str] | None = None,
        formats: dict[int, str] | None = None,
    ) -> RowStyle:
        """The cells' styles of a row of ``columns`` values: ``font`` for all (``fonts`` by 0-based column),
        ``formats`` by 0-based column (a column's format applies to its dates too; otherwise dates get
        ``DATE_FORMAT``)."""
        formats, fonts = formats or {}, fonts or {}
        index = self.styles.index

        def attrs(default: str | None) -> tuple[str, ...]:
            return tuple(
                _attr(index(font=fonts.get(i, font), number_format=formats.get(i, default))) for i in range(columns)
            )

        return RowStyle(attrs(None), attrs(DATE_FORMAT), attrs(DATETIME_FORMAT))

    def sheet(self, layout: SheetLayout, rows: Iterable[tuple[Sequence[Any], RowStyle]]) -> Iterator[bytes]:
        """Streams one sheet. ``rows``: (values, style) pairs; a row longer than its style is cut to it."""
        self._sheets.append(layout)
        number = len(self._sheets)
        info = zipfile.ZipInfo(f"xl/worksheets/sheet{number}.xml", date_time=datetime.now().timetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        with self._zip.open(info, "w") as member:
            member.write(_sheet_start(layout).encode())
            yield self._sink.take()
            letters: list[str] = []
            buffer: list[str] = []
            for r, (values, style) in enumerate(rows, start=1):
                if r > MAX_ROWS:
                    raise ValueError("a sheet holds at most 1,048,576 rows")
                while len(letters) < len(style.plain):
                    letters.append(get_column_letter(len(letters) + 1))
                buffer.append(_row_xml(r, values[: len(style.plain)], style, letters, self._texts))
                if len(buffer) >= FLUSH_ROWS:
                    member.write("".join(buffer).encode())
                    buffer.clear()
                    chunk = self._sink.take()
                    if chunk:
                        yield chunk
            buffer.append(_sheet_end(layout))
            member.write("".join(buffer).encode())
        yield self._sink.take()

    def close(self) -> Iterator[bytes]:
        """The package parts that name the sheets and the styles, then the zip's central directory."""
        sheets = self._sheets or [SheetLayout("数据")]
        if not self._sheets:
            yield from self.sheet(sheets[0], [])
        n = len(sheets)
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, n + 1)
        )
        parts = {
            "[Content_Types].xml": f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/docProps/core.xml" '
            'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            '<Override PartName="/docProps/app.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
            f"{overrides}</Types>",
            "_rels/.rels": f'{_HEAD}<Relationships xmlns="{_PKG_REL}">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/'
            'metadata/core-properties" Target="docProps/core.xml"/>'
            f'<Relationship Id="rId3" Type="{_REL}/extended-properties" Target="docProps/app.xml"/>'
            "</Relationships>",
            "docProps/core.xml": _core_xml(self._title, self._creator),
            "docProps/app.xml": f'{_HEAD}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
            'extended-properties"><Application>Microsoft Excel</Application></Properties>',
            "xl/workbook.xml": _workbook_xml(sheets),
            "xl/_rels/workbook.xml.rels": f'{_HEAD}<Relationships xmlns="{_PKG_REL}">'
            + "".join(
                f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                for i in range(1, n + 1)
            )
            + f'<Relationship Id="rId{n + 1}" Type="{_REL}/styles" Target="styles.xml"/></Relationships>',
            "xl/styles.xml": self.styles.xml(),
        }
        for name, xml in parts.items():
            info = zipfile.ZipInfo(name, date_time=datetime.now().timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            with self._zip.open(info, "w") as member:
                member.write(xml.encode())
        self._zip.close()
        yield self._sink.take()


@dataclass(frozen=True)
class RowStyle:
    """The ``s`` attribute of each column's cells: one for plain values, one for dates, one for datetimes
    (a date needs a date format to show as a date)."""

    plain: tuple[str, ...]
    dates: tuple[str, ...]
    datetimes: tuple[str, ...]


def _attr(style: int) -> str:
    return f' s="{style}"' if style else ""


class _Texts(dict):
    """Text as it goes into a cell: cleaned (``clean``: the neutralising of formulas), then XML-escaped.
    Columns repeat their words (sex, village, ethnicity), so the results are remembered, up to ``SIZE``
    texts: memory stays bounded, and a column of unique values (names, numbers) costs no more than before."""

    SIZE = 20_000

    def __init__(self, clean: Callable[[str], str]) -> None:
        super().__init__()
        self._clean = clean

    def __missing__(self, value: str) -> str:
        text = escape(self._clean(value))
        if len(self) < self.SIZE:
            self[value] = text
        return text


def _row_xml(r: int, values: Sequence[Any], style: RowStyle, letters: list[str], texts: _Texts) -> str:
    """One ``<row>``; the hot loop of a large export, so types are dispatched by identity first."""
    cells = []
    for i, value in enumerate(values):
        kind = type(value)
        if kind is str:
            if value:
                cells.append(f'<c r="{letters[i]}{r}"{style.plain[i]} t="inlineStr"><is><t xml:space="preserve">'
                             f"{texts[value]}</t></is></c>")  # fmt: skip
        elif value is None:
            continue
        elif kind is bool:
            cells.append(f'<c r="{letters[i]}{r}"{style.plain[i]} t="b"><v>{int(value)}</v></c>')
        elif (
            kind is int
            or (kind is Decimal and value.is_finite())
            or (kind is float and isfinite(value))
            or (isinstance(value, int))
        ):
            number = format(value, "f") if kind is Decimal else repr(value) if kind is float else int(value)
            cells.append(f'<c r="{letters[i]}{r}"{style.plain[i]}><v>{number}</v></c>')
        elif isinstance(value, datetime):
            cells.append(f'<c r="{letters[i]}{r}"{style.datetimes[i]}><v>{_serial(value)}</v></c>')
        elif isinstance(value, date):
            cells.append(f'<c r="{letters[i]}{r}"{style.dates[i]}><v>{_serial(value)}</v></c>')
        else:  # a time, a non-finite number, anything else: its text
            text = texts[value.isoformat() if isinstance(value, time) else str(value)]
            cells.append(f'<c r="{letters[i]}{r}"{style.plain[i]} t="inlineStr"><is><t xml:space="preserve">'
                         f"{text}</t></is></c>")  # fmt: skip
    return f'<row r="{r}">{"".join(cells)}</row>'


def _pane(freeze: str) -> str:
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    column, row = coordinate_from_string(freeze)
    x, y = column_index_from_string(column) - 1, row - 1
    if not x and not y:
        return ""
    pane = "bottomRight" if x and y else ("bottomLeft" if y else "topRight")
    split = (f' xSplit="{x}"' if x else "") + (f' ySplit="{y}"' if y else "")
    return (
        f'<pane{split} topLeftCell="{freeze}" activePane="{pane}" state="frozen"/>'
        f'<selection pane="{pane}" activeCell="{freeze}" sqref="{freeze}"/>'
    )


def _sheet_start(layout: SheetLayout) -> str:
    cols = "".join(
        f'<col min="{c + 1}" max="{c + 1}" width="{w}" customWidth="1"/>' for c, w in sorted(layout.widths.items())
    )
    return (
        f'{_HEAD}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">'
        '<sheetPr><outlinePr summaryBelow="1" summaryRight="1"/><pageSetUpPr fitToPage="1"/></sheetPr>'
        f'<sheetViews><sheetView workbookViewId="0">{_pane(layout.freeze) if layout.freeze else ""}'
        "</sheetView></sheetViews>"
        '<sheetFormatPr defaultRowHeight="15"/>' + (f"<cols>{cols}</cols>" if cols else "") + "<sheetData>"
    )


def _sheet_end(layout: SheetLayout) -> str:
    merges = "".join(f'<mergeCell ref="{m}"/>' for m in layout.merges)
    left, centre, right = layout.footer
    footer = "".join(f"&{code}{text}" for code, text in (("L", left), ("C", centre), ("R", right)) if text)
    return (
        "</sheetData>"
        + (f'<mergeCells count="{len(layout.merges)}">{merges}</mergeCells>' if merges else "")
        + '<printOptions horizontalCentered="1"/>'
        '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/>'
        '<pageSetup orientation="landscape" paperSize="9" fitToHeight="0" fitToWidth="1"/>'
        + (f"<headerFooter><oddFooter>{escape(footer)}</oddFooter></headerFooter>" if footer else "")
        + "</worksheet>"
    )


def _workbook_xml(sheets: list[SheetLayout]) -> str:
    entries = "".join(
        f"<sheet name={quoteattr(s.title)} sheetId={quoteattr(str(i))} r:id={quoteattr(f'rId{i}')}/>"
        for i, s in enumerate(sheets, start=1)
    )
    names = "".join(
        f'<definedName name="_xlnm.Print_Titles" localSheetId="{i}">'
        f"{escape(_quoted(s.title))}!${s.print_title_row}:${s.print_title_row}</definedName>"
        for i, s in enumerate(sheets)
        if s.print_title_row
    )
    return (
        f'{_HEAD}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
        '<bookViews><workbookView activeTab="0"/></bookViews>'
        f"<sheets>{entries}</sheets>" + (f"<definedNames>{names}</definedNames>" if names else "") + "</workbook>"
    )


def _quoted(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def _core_xml(title: str, creator: str) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f'{_HEAD}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
        'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{escape(title)}</dc:title><dc:creator>{escape(creator)}</dc:creator>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>'
        "</cp:coreProperties>"
    )
