"""Hostile spreadsheets, built by hand in the tests (issue 13): the bomb sheet whose dimension claims A1:XFD1048576,
a sheet with one far cell (what makes calamine ask for 549,755,813,888 bytes), a corrupt zip, a file over 50 MB,
and a sheet of a million empty rows. Each is fed to every spreadsheet entry (import_sheet, the /imports/ page
through a real worker, the bank return upload)."""

from __future__ import annotations

import io
import os
import resource
import zipfile
from pathlib import Path

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="xl/workbook.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="worksheets/sheet1.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/></Relationships>'
)
HEADER = ["身份证号", "姓名", "性别"]
LIMIT_BYTES = 50 * 1024 * 1024


def _cell(ref: str, value: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


def xlsx(sheet_data: str, *, dimension: str | None = None) -> bytes:
    """A minimal .xlsx whose first sheet holds ``sheet_data`` (``<row>`` elements)."""
    head = f'<dimension ref="{dimension}"/>' if dimension else ""
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"{head}<sheetData>{sheet_data}</sheetData></worksheet>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    return out.getvalue()


def header_row() -> str:
    return '<row r="1">' + "".join(_cell(f"{c}1", h) for c, h in zip("ABC", HEADER, strict=True)) + "</row>"


def bomb_xlsx() -> bytes:
    """The issue's 5 KB sheet: its dimension claims A1:XFD1048576, and a cell sits at XFD1048576."""
    return xlsx(header_row() + f'<row r="1048576">{_cell("XFD1048576", "x")}</row>', dimension="A1:XFD1048576")


def far_cell_xlsx() -> bytes:
    """The same far cell with an honest-looking dimension: only a confined parse can refuse it."""
    return xlsx(header_row() + f'<row r="1048576">{_cell("XFD1048576", "x")}</row>', dimension="A1:C1")


def corrupt_zip() -> bytes:
    """A real .xlsx cut in half: no central directory."""
    whole = xlsx(header_row())
    return whole[: len(whole) // 2]


def over_50mb_csv() -> bytes:
    """A CSV of 51 MB, over the 50 MB limit (padded rows)."""
    line = ("1" * 18 + ",某某,男," + "x" * 200 + "\n").encode()
    header = (",".join(HEADER) + "\n").encode("utf-8")
    return header + line * ((LIMIT_BYTES + 1024 * 1024) // len(line) + 1)


def million_empty_rows_xlsx() -> bytes:
    """A million rows of empty, styled cells (what formatting whole columns leaves) and nothing else."""
    rows = "".join(f'<row r="{i}"><c r="A{i}" s="0"/></row>' for i in range(1, 1_000_001))
    return xlsx(rows, dimension="A1:A1000000")


HOSTILE = {
    "bomb.xlsx": bomb_xlsx,
    "far_cell.xlsx": far_cell_xlsx,
    "corrupt.xlsx": corrupt_zip,
    "over_50mb.csv": over_50mb_csv,
    "million_empty_rows.xlsx": million_empty_rows_xlsx,
}
# What the user is told, by file (a fragment of the message).
REFUSALS = {
    "bomb.xlsx": "文件声明的工作表范围为1048576行×16384列，超过允许的上限（1100000行×200列），已拒绝读取",
    "far_cell.xlsx": "读取该文件所需内存超过上限",
    "corrupt.xlsx": "压缩包已损坏",
    "over_50mb.csv": "文件大小为51.0MB，超过允许的上限（50MB），已拒绝读取",
    "million_empty_rows.xlsx": "找不到表头",
}


def write_all(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, build in HOSTILE.items():
        path = folder / name
        if not path.exists():
            path.write_bytes(build())
        paths[name] = path
    return paths


def peak_rss_mb(pid: int | None = None) -> float:
    """The peak resident memory (VmHWM) of a live process, in MB."""
    status = Path(f"/proc/{pid or os.getpid()}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def children_peak_rss_mb() -> float:
    """The largest peak resident memory of any finished child of this process (and their children), in MB."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
