"""The error report: the rows that failed, as they were, with an error column and the bad cells marked,
ready to be corrected and uploaded again (the title lines above the header are fine: an import looks for its
header in the first ten rows). Written by the one safe writer (``apps.core.exports``: a cell that
a spreadsheet would run as a formula is neutralised; write-only, so memory stays flat however many rows)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from openpyxl.styles import PatternFill

from apps.core.exports import Heading, Styled, XlsxWriter
from apps.imports.engine import ImportResult
from apps.imports.reading import normalise_header

BAD = PatternFill("solid", fgColor="FFC7CE")


def write_error_report(result: ImportResult, path: Path, *, heading: Heading | None = None) -> Path:
    by_row: dict[int, list] = defaultdict(list)
    for error in result.errors:
        by_row[error.row].append(error)
    header_index = {normalise_header(h): i for i, h in enumerate(result.header)}

    writer = XlsxWriter()
    sheet = writer.sheet("错误行", heading=heading, freeze="B2")
    sheet.header(["原行号", *result.header, "错误说明"])
    for row_no in sorted(by_row):
        errors = by_row[row_no]
        original = list(result.error_rows.get(row_no, []))
        original += [None] * (len(result.header) - len(original))
        bad_columns = {header_index[e.column]: e.message for e in errors if e.column in header_index}
        cells: list = [row_no]
        for i, value in enumerate(original[: len(result.header)]):
            value = value if not isinstance(value, float) else repr(value)
            if i in bad_columns:
                value = Styled(value, fill=BAD, comment=bad_columns[i], comment_author="导入校验")
            cells.append(value)
        cells.append("；".join(f"{e.column}：{e.message}" if e.column else e.message for e in errors))
        sheet.append(cells)
    return writer.save(path)
