"""The one bounded reader of uploaded spreadsheets (.xlsx/.xlsm/.xls/.ods and .csv): imports of every kind and
bank return files go through ``iter_rows`` / ``read_rows``; nothing else in the project opens a workbook it
was sent.

A hostile or careless file must not take a process down (DESIGN §10). calamine builds a dense grid from the
first to the last used cell, so a 5 KB sheet with a cell at XFD1048576 asks for 549,755,813,888 bytes and the
allocator aborts the process. Hence, before parsing:

- the file's size (``SPREADSHEET_MAX_BYTES``);
- for the zip formats: a readable zip, a bounded number of members, total unpacked size and compression ratio
  (zip bombs), and the first sheet's declared ``<dimension ref=...>`` (read from its first bytes only);
- for CSV: line length, columns and rows while streaming (never more than one line in memory).

and the workbook parse itself runs in a child process (``python -m apps.core.spreadsheets``) that limits its
own address space (``RLIMIT_AS``) and CPU time, checks the real extent of the sheet calamine found, and
streams the rows back in batches. Whatever the input does to calamine, the child dies alone and the
caller gets a ``RuleViolation`` with a clear message. The child parses while the caller works on the rows
before, so an import pays little: each batch arrives as one string, split in one call (a 100,000-row
persons sheet imports in the same time as with calamine in-process).
"""

from __future__ import annotations

import codecs
import csv
import json
import logging
import marshal
import os
import re
import signal
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

from apps.core.errors import RuleViolation

logger = logging.getLogger(__name__)

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}
ZIP_SUFFIXES = {".xlsx", ".xlsm", ".ods"}
CSV_SUFFIX = ".csv"
_ROOT = Path(__file__).resolve().parents[2]
_MB = 1024 * 1024
_BATCH_ROWS = 2000
_FRAME = struct.Struct("<I")


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 50 * _MB  # the file as uploaded
    max_rows: int = 1_100_000
    max_columns: int = 200
    max_unpacked_bytes: int = 1024 * _MB  # all members of an .xlsx/.ods together
    max_ratio: int = 200  # unpacked / packed size of one member (ordinary sheets: 5-20)
    max_members: int = 10_000
    max_line_chars: int = 1 * _MB  # one physical line of a CSV
    memory_bytes: int = 1536 * _MB  # address space of the parsing child
    cpu_seconds: int = 600  # CPU time of the parsing child


def limits(**overrides) -> Limits:
    """The limits from settings (``SPREADSHEET_LIMITS``, a dict of ``Limits`` fields), with ``overrides``."""
    from django.conf import settings

    configured = getattr(settings, "SPREADSHEET_LIMITS", {}) or {}
    return replace(Limits(), **{**configured, **overrides})


def _refuse(message: str, code: str) -> RuleViolation:
    return RuleViolation(message, field="file", code=code)


def _mb(size: int) -> str:
    return f"{size / _MB:.1f}".removesuffix(".0")


# --- checks before parsing ------------------------------------------------------------------------------


def check_file(path: Path, *, filename: str | None = None, bounds: Limits | None = None) -> None:
    """Refuses (``RuleViolation``) a file whose size or structure exceeds ``bounds``, without parsing it."""
    bounds = bounds or limits()
    suffix = Path(filename or path.name).suffix.lower()
    if suffix not in WORKBOOK_SUFFIXES | {CSV_SUFFIX}:
        raise _refuse("只能读取 .xlsx、.xls 或 .csv 文件", "file_type")
    try:
        size = os.path.getsize(path)
    except OSError:
        raise _refuse("文件不存在或无法打开", "missing") from None
    check_size(size, bounds=bounds)
    if suffix in ZIP_SUFFIXES:
        _check_zip(path, suffix, bounds)
    elif suffix == ".xls":
        with open(path, "rb") as raw:
            magic = raw.read(8)
        if magic != b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            raise _refuse("该文件不是有效的.xls文件（文件已损坏或扩展名不对），已拒绝读取", "corrupt")


def check_size(size: int, *, bounds: Limits | None = None) -> None:
    bounds = bounds or limits()
    if size > bounds.max_bytes:
        raise _refuse(
            f"文件大小为{size / _MB:.1f}MB，超过允许的上限（{_mb(bounds.max_bytes)}MB），已拒绝读取；请分成几个文件",
            "too_big",
        )


_SHEET_TAG = re.compile(rb"<(?:\w+:)?sheet\b[^>]*>")
_REL_ID = re.compile(rb"\s(?:\w+:)id=\"([^\"]+)\"")
_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>")
_ATTR = re.compile(rb"(\w+)=\"([^\"]*)\"")
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([^\"]*)\"")
_CELL_REF = re.compile(r"\$?([A-Za-z]{0,3})\$?(\d*)")


def _check_zip(path: Path, suffix: str, bounds: Limits) -> None:
    corrupt = f"该文件不是有效的{suffix}文件（压缩包已损坏或扩展名不对），已拒绝读取"
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise _refuse(corrupt, "corrupt") from None
    with archive:
        members = archive.infolist()
        if len(members) > bounds.max_members:
            raise _refuse(f"压缩包中有{len(members)}个文件，超过允许的上限，已拒绝读取", "too_many_members")
        unpacked = sum(m.file_size for m in members)
        if unpacked > bounds.max_unpacked_bytes:
            raise _refuse(
                f"文件解压后为{_mb(unpacked)}MB，超过允许的上限（{_mb(bounds.max_unpacked_bytes)}MB），已拒绝读取",
                "too_big_unpacked",
            )
        for member in members:
            if member.file_size > _MB and member.file_size > bounds.max_ratio * max(member.compress_size, 1):
                raise _refuse("文件的压缩比异常（疑似“压缩炸弹”），已拒绝读取", "zip_bomb")
        if suffix == ".ods":
            return  # one content.xml; its extent is checked by the parsing child
        try:
            sheet = _first_sheet_part(archive)
            if sheet is None:
                raise _refuse(corrupt, "corrupt")
            with archive.open(sheet) as stream:
                head = stream.read(64 * 1024)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error, KeyError, NotImplementedError):
            raise _refuse(corrupt, "corrupt") from None
    match = _DIMENSION.search(head)
    if match:
        rows, columns = _ref_extent(match.group(1).decode("ascii", "replace"))
        check_extent(rows, columns, bounds=bounds, declared=True)


def _first_sheet_part(archive: zipfile.ZipFile) -> str | None:
    """The member holding the workbook's first sheet (the one calamine reads), by workbook.xml and its rels."""
    names = set(archive.namelist())
    try:
        workbook = archive.open("xl/workbook.xml").read(1 * _MB)
        rels = archive.open("xl/_rels/workbook.xml.rels").read(1 * _MB)
        first = _SHEET_TAG.search(workbook)
        rel_id = _REL_ID.search(first.group(0)).group(1) if first else None
        for tag in _RELATIONSHIP.findall(rels):
            attrs = dict(_ATTR.findall(tag))
            if attrs.get(b"Id") == rel_id:
                target = attrs.get(b"Target", b"").decode("utf-8", "replace")
                part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                if part in names:
                    return part
    except (KeyError, AttributeError):
        pass
    sheets = sorted(n for n in names if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n))
    if "xl/worksheets/sheet1.xml" in sheets:
        return "xl/worksheets/sheet1.xml"
    return sheets[0] if sheets else None


def _column_number(letters: str) -> int:
    number = 0
    for char in letters.upper():
        number = number * 26 + ord(char) - 64
    return number


def _ref_extent(ref: str) -> tuple[int, int]:
    """``'A1:XFD1048576'`` -> ``(1048576, 16384)``: the last row and column the range reaches."""
    end = ref.split(":")[-1]
    match = _CELL_REF.fullmatch(end.strip())
    if not match:
        return 0, 0
    letters, digits = match.groups()
    return (int(digits) if digits else 0), (_column_number(letters) if letters else 0)


def check_extent(rows: int, columns: int, *, bounds: Limits | None = None, declared: bool = False) -> None:
    bounds = bounds or limits()
    if rows > bounds.max_rows or columns > bounds.max_columns:
        what = "文件声明的工作表范围" if declared else "工作表的实际范围"
        raise _refuse(
            f"{what}为{rows}行×{columns}列，超过允许的上限（{bounds.max_rows}行×{bounds.max_columns}列），已拒绝读取",
            "too_many_cells",
        )


# --- reading ----------------------------------------------------------------------------------------------


def iter_rows(path: Path, *, filename: str | None = None, bounds: Limits | None = None) -> Iterator[list]:
    """Rows of the first sheet as lists of Python values (str, float, int, date, datetime, bool), row 1 first:
    calamine's ``iter_rows`` yields the rows above the first used cell too, so row numbers are those Excel
    shows (columns start at the first used one)."""
    bounds = bounds or limits()
    path = Path(path)
    check_file(path, filename=filename, bounds=bounds)
    if Path(filename or path.name).suffix.lower() == CSV_SUFFIX:
        yield from _iter_csv(path, bounds)
    else:
        yield from _iter_workbook(path, bounds)


def read_rows(*, content: bytes, filename: str, bounds: Limits | None = None) -> list[list]:
    """Every row of a small uploaded file held in memory (a bank return file), read within ``bounds``."""
    bounds = bounds or limits()
    check_size(len(content), bounds=bounds)
    suffix = Path(filename).suffix.lower()
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        tmp.write(content)
        tmp.flush()
        return list(iter_rows(Path(tmp.name), filename=filename, bounds=bounds))


def csv_encoding(head: bytes) -> str:
    """UTF-8 (with or without BOM) if the start decodes as UTF-8, else GBK (GB 18030, its superset)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut at the end of the sample
            return "utf-8"
        return "gb18030"


def _iter_csv(path: Path, bounds: Limits) -> Iterator[list]:
    with open(path, "rb") as raw:
        encoding = csv_encoding(raw.read(1 << 16))
    with open(path, encoding=encoding, newline="") as text:

        def lines() -> Iterator[str]:
            number = 0
            while True:
                line = text.readline(bounds.max_line_chars + 1)
                if not line:
                    return
                number += 1
                if len(line) > bounds.max_line_chars:
                    raise _refuse(f"CSV文件第{number}行超过{bounds.max_line_chars}个字符，已拒绝读取", "line_too_long")
                yield line

        try:
            for number, row in enumerate(csv.reader(lines()), start=1):
                if number > bounds.max_rows or len(row) > bounds.max_columns:
                    check_extent(number, len(row), bounds=bounds)
                yield row
        except UnicodeDecodeError:
            raise _refuse("CSV文件编码无法识别，请另存为UTF-8或GBK编码", "encoding") from None
        except csv.Error as exc:
            raise _refuse(f"CSV文件格式有误（{exc}），已拒绝读取", "csv") from None


def _iter_workbook(path: Path, bounds: Limits) -> Iterator[list]:
    """Rows parsed by a child process confined to ``bounds.memory_bytes`` and ``bounds.cpu_seconds``."""
    command = [sys.executable, "-m", "apps.core.spreadsheets", str(path.resolve()), json.dumps(asdict(bounds))]
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen(
            command,
            cwd=_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
            close_fds=True,
            env={**os.environ, "RUST_BACKTRACE": "0"},
        )
        finished = False
        try:
            while True:
                frame = _read_frame(child.stdout)
                if frame is None:
                    break
                kind = frame[0]
                if kind == "text":
                    yield from _decode_text(frame[1], frame[2], frame[3])
                elif kind == "rows":
                    yield from _decode_rows(frame[1], frame[2])
                elif kind == "error":
                    finished = True
                    raise _refuse(frame[1], frame[2])
                else:  # "done"
                    finished = True
                    return
        finally:
            if child.poll() is None and not finished:
                child.kill()
            child.stdout.close()
            returncode = child.wait()
        errors.seek(0)
        tail = errors.read()[-2000:].decode("utf-8", "replace").strip()
    logger.warning("spreadsheet reader died (exit %s) on %s: %s", returncode, path.name, tail[:500])
    if returncode == -signal.SIGXCPU:
        raise _refuse(f"读取该文件超过{bounds.cpu_seconds}秒仍未完成，已停止读取", "too_slow")
    if returncode in (-signal.SIGABRT, -signal.SIGSEGV, -signal.SIGKILL, -signal.SIGBUS, 3) or "memory" in tail:
        raise _refuse(
            f"读取该文件所需内存超过上限（{_mb(bounds.memory_bytes)}MB），文件可能含有异常的工作表范围，已拒绝读取",
            "too_much_memory",
        )
    raise _refuse("无法读取该电子表格，文件可能已损坏", "corrupt")


def _read_frame(stream) -> tuple | None:
    head = stream.read(_FRAME.size)
    if len(head) < _FRAME.size:
        return None
    (size,) = _FRAME.unpack(head)
    body = stream.read(size)
    if len(body) < size:
        return None
    return marshal.loads(body)  # noqa: S302 - written by our own child process


# Rows travel as one string per batch, the cells joined by a separator, which the caller splits in one C call
# (loading a million strings from pickle or marshal costs several times more); the cells that are not text go
# beside it as (index, tag, plain value) and are put back here. A batch whose cells hold the separator, or
# whose rows differ in width, travels as marshal lists instead.
_SEP = "\x1f"
_PLAIN = (str, float, int, bool, type(None))
_RESTORE = {
    "d": date.fromordinal,
    "dt": datetime.fromisoformat,
    "t": time.fromisoformat,
    "td": lambda seconds: timedelta(seconds=seconds),
}


def _encode_rows(batch: list[list]) -> tuple[list[list], list[tuple]]:
    plain = _PLAIN
    fixes: list[tuple] = []
    for i, row in enumerate(batch):
        for j, value in enumerate(row):
            kind = type(value)
            if kind in plain:
                continue
            if kind is date:
                fixes.append((i, j, "d", value.toordinal()))
            elif kind is datetime:
                fixes.append((i, j, "dt", value.isoformat()))
            elif kind is time:
                fixes.append((i, j, "t", value.isoformat()))
            elif kind is timedelta:
                fixes.append((i, j, "td", value.total_seconds()))
            else:
                fixes.append((i, j, "s", str(value)))
            row[j] = None
    return batch, fixes


def _decode_rows(batch: list[list], fixes: list[tuple]) -> list[list]:
    for i, j, tag, value in fixes:
        batch[i][j] = value if tag == "s" else _RESTORE[tag](value)
    return batch


def _plain(value) -> tuple[str, object]:
    kind = type(value)
    if kind in _PLAIN:
        return "v", value
    if kind is date:
        return "d", value.toordinal()
    if kind is datetime:
        return "dt", value.isoformat()
    if kind is time:
        return "t", value.isoformat()
    if kind is timedelta:
        return "td", value.total_seconds()
    return "v", str(value)


def _encode_batch(batch: list[list]) -> tuple:
    width = len(batch[0])
    flat = [value for row in batch for value in row]
    if width and len(flat) == width * len(batch):
        fixes = []
        for index, value in enumerate(flat):
            if type(value) is not str:
                fixes.append((index, *_plain(value)))
                flat[index] = ""
        text = _SEP.join(flat)
        if text.count(_SEP) == len(flat) - 1:
            return ("text", width, text, fixes)
    return ("rows", *_encode_rows(batch))


def _decode_text(width: int, text: str, fixes: list[tuple]) -> list[list]:
    cells = text.split(_SEP)
    for index, tag, value in fixes:
        cells[index] = value if tag == "v" else _RESTORE[tag](value)
    return [cells[k : k + width] for k in range(0, len(cells), width)]


# --- the child process --------------------------------------------------------------------------------------


def _child(path: str, bounds: Limits) -> int:
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_AS, (bounds.memory_bytes, bounds.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (bounds.cpu_seconds, bounds.cpu_seconds + 5))
    out = sys.stdout.buffer

    def send(*frame) -> None:
        body = marshal.dumps(frame)
        out.write(_FRAME.pack(len(body)))
        out.write(body)

    try:
        from python_calamine import CalamineWorkbook

        try:
            sheet = CalamineWorkbook.from_path(path).get_sheet_by_index(0)
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - calamine raises its own error types for damaged files
            send("error", f"无法读取该电子表格（{exc.__class__.__name__}），文件可能已损坏", "corrupt")
            return 0
        end = sheet.end
        if end is not None:
            try:
                check_extent(end[0] + 1, end[1] + 1, bounds=bounds)
            except RuleViolation as refused:
                send("error", refused.message, refused.code)
                return 0
        batch: list = []
        for row in sheet.iter_rows():  # from row 1, empty rows above the first used cell included
            batch.append(row)
            if len(batch) == _BATCH_ROWS:
                send(*_encode_batch(batch))
                batch = []
        if batch:
            send(*_encode_batch(batch))
        send("done")
        out.flush()
    except MemoryError:
        sys.stderr.write("out of memory\n")
        return 3
    except BrokenPipeError:  # the caller stopped reading (it had the rows it wanted)
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1], Limits(**json.loads(sys.argv[2]))))
