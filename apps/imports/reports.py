"""The error report: the rows that failed, as they were, with an error column and the bad cells marked,
ready to be corrected and uploaded again (openpyxl, write-only: memory stays flat however many rows)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill

from apps.imports.engine import ImportResult
from apps.imports.reading import normalise_header

BAD = PatternFill("solid", fgColor="FFC7CE")
BOLD = Font(bold=True)


def write_error_report(result: ImportResult, path: Path) -> Path:
    by_row: dict[int, list] = defaultdict(list)
    for error in result.errors:
        by_row[error.row].append(error)
    header_index = {normalise_header(h): i for i, h in enumerate(result.header)}

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("错误行")
    title = [WriteOnlyCell(sheet, value="原行号"), *(WriteOnlyCell(sheet, value=h) for h in result.header)]
    title.append(WriteOnlyCell(sheet, value="错误说明"))
    for cell in title:
        cell.font = BOLD
    sheet.append(title)
    for row_no in sorted(by_row):
        errors = by_row[row_no]
        original = list(result.error_rows.get(row_no, []))
        original += [None] * (len(result.header) - len(original))
        bad_columns = {header_index[e.column]: e.message for e in errors if e.column in header_index}
        cells = [WriteOnlyCell(sheet, value=row_no)]
        for i, value in enumerate(original[: len(result.header)]):
            cell = WriteOnlyCell(sheet, value=value if not isinstance(value, float) else repr(value))
            if i in bad_columns:
                cell.fill = BAD
                cell.comment = Comment(bad_columns[i], "导入校验")
            cells.append(cell)
        cells.append(WriteOnlyCell(sheet, value="；".join(f"{e.column}：{e.message}" if e.column else e.message
                                                         for e in errors)))  # fmt: skip
        sheet.append(cells)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path
