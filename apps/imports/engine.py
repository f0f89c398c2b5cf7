"""The import engine: stream a sheet, validate each row in Python, COPY the valid rows into a temporary
staging table, validate across rows and against the registry in SQL, then write with one upsert per table.

One transaction per import: a dry run rolls it back, an all-or-nothing import with any error writes nothing,
and a worker killed mid-import leaves nothing half-written (the job can simply be run again: every write is
an upsert on the kind's natural key, so a second run of the same file changes nothing).
"""

from __future__ import annotations

import contextlib
import logging
import operator
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pghistory
from django.db import connection, transaction
from django.utils import timezone

from apps.areas.models import Area, AreaLevel
from apps.core.errors import RuleViolation
from apps.core.scoping import NOTHING, user_scope
from apps.imports.reading import find_header, iter_rows

logger = logging.getLogger(__name__)

CHUNK_ROWS = 10_000  # rows parsed, staged (and, for some kinds, written) at a time
FIRST_ERRORS_KEPT = 200


@dataclass(frozen=True)
class Column:
    header: str  # the Chinese header of DESIGN §8
    key: str
    required: bool = True  # must the header be present? (a present optional column may still be empty)


@dataclass(frozen=True)
class RowError:
    row: int  # the row number as the spreadsheet shows it
    column: str  # the header of the offending column ("" for the whole row)
    message: str


class RowInvalid(Exception):
    def __init__(self, column: str, message: str):
        self.column = column
        self.message = message


@dataclass
class ImportContext:
    """What a kind's parser and SQL need: the user's scope, the county's villages, today."""

    user_id: int | None
    scope: tuple[str, str] | None  # code range the user may write in; None = the whole database
    villages: dict[str, str]  # village code -> name, all villages of the database
    today: date
    job_id: int | None = None
    # Row warnings a kind's ``check`` finds (plausibility rules that hold a row): reported, not rejected.
    warnings: list[RowError] = field(default_factory=list)

    def in_scope(self, code: str) -> bool:
        return self.scope is None or self.scope[0] <= code < self.scope[1]

    def check_village(self, column: str, code: str) -> str:
        if code not in self.villages:
            raise RowInvalid(column, f"区划代码“{code}”不是本县的村（居）" if code else "区划代码为空")
        if not self.in_scope(code):
            raise RowInvalid(column, f"区划代码{code}（{self.villages[code]}）不在您的管辖范围内")
        return code

    def scope_sql(self, column: str) -> tuple[str, dict]:
        """``(sql, params)``: the condition that ``column`` lies in the scope (TRUE without one)."""
        if self.scope is None:
            return "TRUE", {}
        return f"({column} >= %(scope_lo)s AND {column} < %(scope_hi)s)", {
            "scope_lo": self.scope[0],
            "scope_hi": self.scope[1],
        }


RowRange = tuple[int, int]  # first and last row number, inclusive
ALL_ROWS: RowRange = (0, 2**31 - 1)


class KindSpec:
    """One kind of sheet (DESIGN §8): its columns, a row parser and its set-based SQL.

    ``check`` and ``write`` get the range of rows to work on. A kind whose rules never look at a later row of
    the file (``writes_by_chunk``) has them called once per chunk as the chunk is staged, so that
    PostgreSQL writes one chunk while Python parses the next; the others are called once, with
    ``ALL_ROWS``, after the whole file is staged. Either way every row of the range is checked against all
    rows staged before it, and everything runs in the import's one transaction.
    """

    kind: str
    columns: tuple[Column, ...]
    stage_columns: tuple[tuple[str, str], ...]  # (name, SQL type), in the order ``parse`` returns values
    writes_by_chunk: bool = False
    # The same natural key twice in one file, found while parsing: (index of the key in ``parse``'s values,
    # column, message formatted with ``first``, the standing row). The first valid row stands.
    unique_in_file: tuple[int, str, str] | None = None
    # The registry tables a chunk-by-chunk kind grows, whose planner estimates it keeps honest as it goes
    # (``_refresh_estimates``).
    grows: tuple[str, ...] = ()

    def parse(self, cells: dict[str, Any], ctx: ImportContext) -> tuple:
        """One row's values for the staging table; raises ``RowInvalid`` on the first bad cell."""
        raise NotImplementedError

    def check(self, cursor, ctx: ImportContext, rows: RowRange = ALL_ROWS) -> list[RowError]:
        """Cross-row and registry checks; rejected rows are marked ``rejected`` in the staging table."""
        return []

    def preview(self, cursor, ctx: ImportContext) -> tuple[int, int]:
        """``(new, changed)`` among the valid rows, without writing."""
        raise NotImplementedError

    def write(self, cursor, ctx: ImportContext, rows: RowRange = ALL_ROWS) -> tuple[int, int]:
        """``(created, updated)``: the upserts, then the invariants the registry services keep."""
        raise NotImplementedError

    def warnings(self, cursor, ctx: ImportContext) -> list[RowError]:
        return []


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    header: list[str] = field(default_factory=list)
    header_row: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    error_rows: dict[int, list] = field(default_factory=dict)  # row -> original cells (for the report)
    committed: bool = False
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # seconds by phase

    def summary(self) -> dict:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": self.rejected,
        }


def build_context(*, user, job_id: int | None = None) -> ImportContext:
    # The one scoping rule (core.scoping): None for a system job or a superuser bound to no area.
    scope = user_scope(user)
    if scope == NOTHING:
        raise RuleViolation("您的账号未绑定区划，不能导入" if user.is_active else "您的账号已停用，不能导入")
    villages = dict(Area.objects.filter(level=AreaLevel.VILLAGE).values_list("code", "name"))
    return ImportContext(
        user_id=user.pk if user else None,
        scope=scope,
        villages=villages,
        today=timezone.localdate(),
        job_id=job_id,
    )


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def run_import(
    *,
    spec: KindSpec,
    path: Path,
    filename: str,
    user,
    dry_run: bool,
    valid_rows_only: bool,
    job_id: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    started = time.monotonic()
    ctx = build_context(user=user, job_id=job_id)
    result = ImportResult()
    rows: Iterator[list] = iter(iter_rows(path, filename=filename))
    head_rows: list[list] = []
    for row in rows:
        head_rows.append(row)
        if len(head_rows) >= 10:
            break
    header = find_header(
        iter(head_rows), required=[c.header for c in spec.columns if c.required], known=[c.header for c in spec.columns]
    )
    result.header_row = header.row_number
    result.header = [_cell_text(v) for v in head_rows[header.row_number - 1]]
    positions = [(c, header.columns.get(c.header)) for c in spec.columns]
    data_rows = _chain(head_rows[header.row_number :], rows)
    stage_names = [name for name, _ in spec.stage_columns]
    copy_sql = f"COPY import_stage (row_no, {', '.join(stage_names)}) FROM STDIN"
    # Writing chunk by chunk pays only when this run may write: a dry run stages, checks and previews.
    by_chunk = spec.writes_by_chunk and not dry_run
    sql_errors: list[RowError] = []
    write = False
    # Seconds by phase: the main thread waits for the reader (the file's first rows, or a slower parse) or
    # works the database; the chunk writes overlap the reader's parsing of the next chunk.
    phases = dict.fromkeys(("waiting_for_reader", "staging_and_chunk_writes", "checks", "write_or_preview"), 0.0)
    phases = {"opening_file": time.monotonic() - started, **phases}  # the sheet loaded, its header found

    # One audit context for the whole import: every row it writes names the job.
    with transaction.atomic(), pghistory.context(import_job=job_id, user=ctx.user_id):
        with connection.cursor() as cursor:
            # No JIT in the import's transaction: a kind that checks and writes the whole file at once plans
            # statements over all staged rows, above the default ``jit_above_cost``, and a server built with
            # LLVM (packaged PostgreSQL, unlike the embedded one) would compile each of them anew. The persons
            # chunks (10,000 rows) stay below that cost either way (issue 16: EXPLAIN showed no JIT there).
            cursor.execute("SET LOCAL jit = off")
            cursor.execute(
                "CREATE TEMP TABLE import_stage (row_no integer PRIMARY KEY, "
                "rejected boolean NOT NULL DEFAULT false, "
                + ", ".join(f"{name} {sql_type}" for name, sql_type in spec.stage_columns)
                + ") ON COMMIT DROP"
            )
            if by_chunk:
                # Foreign keys checked at each chunk's statements, while the next chunk is parsed, rather than
                # all together at COMMIT.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            with _ChunkReader(
                spec=spec, ctx=ctx, rows=data_rows, first_row_no=header.row_number + 1, positions=positions
            ) as chunks:
                mark = time.monotonic()
                for chunk in chunks:
                    arrived = time.monotonic()
                    phases["waiting_for_reader"] += arrived - mark
                    with cursor.copy(copy_sql) as copy:
                        copy.write(chunk.text)
                    result.rows += chunk.rows
                    result.errors += chunk.errors
                    result.error_rows.update(chunk.error_rows)
                    if by_chunk and chunk.rows:
                        if chunk.first_row == header.row_number + 1:
                            cursor.execute("ANALYZE import_stage")  # plans for the chunks to come
                        sql_errors += spec.check(cursor, ctx, (chunk.first_row, chunk.last_row))
                        # All or nothing: after the first error nothing will be kept, so stop writing.
                        if valid_rows_only or not (result.errors or sql_errors):
                            created, updated = spec.write(cursor, ctx, (chunk.first_row, chunk.last_row))
                            result.created += created
                            result.updated += updated
                            if created:
                                _refresh_estimates(cursor, spec.grows, written=result.created)
                    if progress:
                        progress(result.rows)
                    mark = time.monotonic()
                    phases["staging_and_chunk_writes"] += mark - arrived
            if not by_chunk:
                mark = time.monotonic()
                cursor.execute("ANALYZE import_stage")
                sql_errors = spec.check(cursor, ctx)
                phases["checks"] = time.monotonic() - mark
            mark = time.monotonic()
            if sql_errors:
                result.errors.extend(sql_errors)
                result.error_rows.update(_original_rows(path, filename, {e.row for e in sql_errors}))
            result.errors.sort(key=lambda e: e.row)
            result.rejected = len({e.row for e in result.errors})
            valid = result.rows - result.rejected
            write = not dry_run and (valid_rows_only or result.rejected == 0)
            if write:
                if not by_chunk:
                    result.created, result.updated = spec.write(cursor, ctx)
                result.committed = True
                result.unchanged = valid - result.created - result.updated
            elif dry_run:  # what a commit would do
                result.created, result.updated = spec.preview(cursor, ctx)
                result.unchanged = valid - result.created - result.updated
            else:  # all or nothing, with errors: the chunks written so far are rolled back
                result.created = result.updated = 0
            result.warnings = sorted(ctx.warnings + spec.warnings(cursor, ctx), key=lambda w: w.row)
            cursor.execute("DROP TABLE import_stage")
            phases["write_or_preview"] = time.monotonic() - mark
            mark = time.monotonic()
        if not write:
            transaction.set_rollback(True)
    phases["commit"] = time.monotonic() - mark
    result.seconds = round(time.monotonic() - started, 3)
    result.timings = dict(phases)
    logger.info(
        "import job %s (%s): %s rows in %.1fs; seconds by phase %s",
        job_id,
        spec.kind,
        result.rows,
        result.seconds,
        {k: round(v, 2) for k, v in result.timings.items()},
    )
    if progress:
        progress(result.rows)
    return result


def _refresh_estimates(cursor, tables: tuple[str, ...], *, written: int) -> None:
    """``ANALYZE`` the tables this import grows whose planner estimate is far below what it has written.

    The planner estimates a table's rows as its last analysed density times its current pages. A table
    analysed while it held only dead rows (a big all-or-nothing import rolled back, then autovacuum) has
    density zero: as this import fills it, every later chunk's statements plan it as one row and probe it
    with a nested loop over all of it (seen in CI: minutes for one 10,000-row chunk). ``ANALYZE`` in the
    import's transaction counts its own new rows; once the density is right the estimate follows the
    table's growth, so this runs once or twice per import, and never for a registry that is already large.
    (Its lock lasts until the import commits: a second such import of a near-empty registry waits for it.)
    """
    if not tables:
        return
    cursor.execute(
        """
        SELECT c.oid::regclass::text FROM pg_class c
        WHERE c.oid = ANY(%s::regclass[])
          AND CASE WHEN c.relpages > 0 AND c.reltuples >= 0
                   THEN c.reltuples / c.relpages * (pg_relation_size(c.oid) / current_setting('block_size')::int)
              END < %s
        """,
        [list(tables), written / 10],
    )
    stale = [name for (name,) in cursor.fetchall()]
    if stale:
        cursor.execute("ANALYZE " + ", ".join(stale))  # names from pg_class for our own constants


# COPY's text format, built in two steps: rows are joined with control characters that no cell holds, then
# a few ``str.replace`` calls per chunk escape what COPY must not see raw and turn the placeholders into COPY's
# separators and NULL marker. psycopg's per-value adaptation in ``write_row``, a Python escape per value, or
# even one ``str.translate`` per chunk (a dict lookup per character of Chinese text) costs more than all of
# a row's validation; ``replace`` scans with memchr.
_FIELD, _LINE, _NULL = "\x1e", "\x1c", "\x1d"
_COPY_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))  # backslash first
_COPY_SEPARATORS = ((_FIELD, "\t"), (_LINE, "\n"), (_NULL, "\\N"))


def _copy_line(row_no: int, values: tuple) -> str:
    """One staging row, still with placeholder separators (see ``_copy_chunk``)."""
    return f"{row_no}{_FIELD}" + _FIELD.join([_NULL if v is None else str(v) for v in values])


def _original_rows(path: Path, filename: str, wanted: set[int]) -> dict[int, list]:
    """The cells of the rows that the SQL checks rejected, as the file has them, for the error report.

    Read again rather than kept in the staging table: most imports have no such row, and staging every
    row's original cells cost the database more than the rest of the row.
    """
    found: dict[int, list] = {}
    for row_no, row in enumerate(iter_rows(path, filename=filename), start=1):
        if row_no in wanted:
            found[row_no] = list(row)
            if len(found) == len(wanted):
                break
    return found


def _copy_chunk(lines: list[str]) -> str:
    """Lines from ``_copy_line`` as COPY text."""
    if not lines:
        return ""
    text = _LINE.join(lines) + _LINE
    for char, escaped in _COPY_ESCAPES:
        if char in text:
            text = text.replace(char, escaped)
    for placeholder, separator in _COPY_SEPARATORS:
        text = text.replace(placeholder, separator)
    return text


@dataclass
class _Chunk:
    text: str  # COPY lines of the valid rows
    first_row: int
    last_row: int
    rows: int = 0  # non-blank rows read
    errors: list[RowError] = field(default_factory=list)
    error_rows: dict[int, list] = field(default_factory=dict)


class _ChunkReader:
    """Reads and parses the sheet in a thread, ``CHUNK_ROWS`` rows at a time, while the caller stages and
    writes the chunks before (PostgreSQL works while Python parses: the GIL is free while the caller waits
    on the database). At most two chunks wait in the queue, so memory stays bounded for any file size.

    A thread rather than a process: the parsed chunk is a single string handed over without pickling, and
    the database work stays on the caller's connection, inside its transaction and audit context.
    """

    _DONE = object()

    def __init__(self, *, spec: KindSpec, ctx: ImportContext, rows: Iterator[list], first_row_no: int, positions):
        self.spec, self.ctx, self.rows, self.first_row_no = spec, ctx, rows, first_row_no
        self.positions = positions  # (Column, index in the row or None)
        self.queue: queue.Queue = queue.Queue(maxsize=2)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._produce, name="import-reader", daemon=True)

    def __enter__(self) -> _ChunkReader:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        while self.thread.is_alive():  # unblock a producer waiting on a full queue
            with contextlib.suppress(queue.Empty):
                self.queue.get_nowait()
            self.thread.join(timeout=0.05)

    def __iter__(self) -> Iterator[_Chunk]:
        while True:
            item = self.queue.get()
            if item is self._DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def _put(self, item) -> bool:
        while not self.stopped.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        try:
            self._parse_all()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread, which raises it
            self._put(exc)
        else:
            self._put(self._DONE)

    def _parse_all(self) -> None:
        spec, ctx = self.spec, self.ctx
        cells_of = _cells_picker(self.positions)
        unique, first_rows = spec.unique_in_file, {}
        lines: list[str] = []
        chunk = _Chunk(text="", first_row=self.first_row_no, last_row=self.first_row_no)
        for row_no, row in enumerate(self.rows, start=self.first_row_no):
            if not any(v not in (None, "") for v in row):
                continue  # blank line
            chunk.rows += 1
            chunk.last_row = row_no
            cells = cells_of(row)
            try:
                values = spec.parse(cells, ctx)
            except RowInvalid as bad:
                chunk.errors.append(RowError(row_no, bad.column, bad.message))
                chunk.error_rows[row_no] = list(row)
            else:
                if unique is not None:
                    key = values[unique[0]]
                    first = first_rows.setdefault(key, row_no)
                    if first != row_no:
                        chunk.errors.append(RowError(row_no, unique[1], unique[2].format(first=first)))
                        chunk.error_rows[row_no] = list(row)
                        continue
                lines.append(_copy_line(row_no, values))
            if chunk.rows == CHUNK_ROWS:
                chunk.text = _copy_chunk(lines)
                if not self._put(chunk):
                    return
                lines = []
                chunk = _Chunk(text="", first_row=row_no + 1, last_row=row_no + 1)
        if chunk.rows:
            chunk.text = _copy_chunk(lines)
            self._put(chunk)


def _cells_picker(positions: list[tuple[Column, int | None]]) -> Callable[[list], dict[str, Any]]:
    """``row -> {column key: cell}`` for the kind's columns: ``None`` for a column the sheet does not have or a
    row too short to reach. One ``itemgetter`` over the row padded to the widest column, rather than a test
    per cell (a tenth of the parse of a persons row)."""
    keys = [column.key for column, _ in positions]
    width = max((i for _, i in positions if i is not None), default=-1) + 1
    pad = [None] * (width + 1)  # index ``width`` is always None: where an absent column reads
    indexes = [width if i is None else i for _, i in positions]
    pick = operator.itemgetter(*indexes) if len(indexes) > 1 else (lambda row: (row[indexes[0]],))

    def cells_of(row: list) -> dict[str, Any]:
        head = row[:width]
        return dict(zip(keys, pick([*head, *pad[len(head) :]]), strict=True))

    return cells_of


def _chain(first: list[list], rest: Iterator[list]) -> Iterator[list]:
    yield from first
    yield from rest
