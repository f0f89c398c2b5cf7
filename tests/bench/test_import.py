"""Import benchmarks (issue 4 and issue 16, DESIGN §9), on the server the run is configured with
(DATABASE_URL set: that server; unset: the embedded one of ``make bench``).

1. The same 100,000-row persons sheet through a plain django-import-export ModelResource and through our
   importer, on the same database, in one run.
2. ``import_sheet persons`` against the machine's floor measured in the same run: reading the same file with
   python-calamine and COPYing its rows into a bare table with a unique index on the ID number and an index
   on the village. Ours into an empty registry, then the re-import of the unchanged file.

The ModelResource is what a Django developer would write for this sheet: Chinese column names, the choice
labels mapped to stored values, the village by code; it leaves out the household column (its widget would need
households that do not exist yet). Both write into an empty person table with the audit triggers on.
"""

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pghistory
import pytest
import tablib
from django.core.management import call_command
from django.db import connection, transaction
from import_export import fields, resources, widgets
from python_calamine import CalamineWorkbook

from apps.areas.models import Area
from apps.areas.services import areas_load_csv
from apps.imports.engine import run_import
from apps.imports.kinds import spec_for
from apps.registry.models import EmploymentType, HukouType, MaritalStatus, Person, Sex
from tests.conftest import AREAS_CSV, SHARED

ROWS = 100_000


TEXT = widgets.CharWidget(allow_blank=True)  # empty cells are "" (the columns are NOT NULL)


class LabelWidget(widgets.Widget):
    def __init__(self, choices):
        super().__init__()
        self.mapping = {label: value for value, label in choices}

    def clean(self, value, row=None, **kwargs):
        return self.mapping.get(value, "") if value else ""


class PersonResource(resources.ModelResource):
    id_number = fields.Field(attribute="id_number", column_name="身份证号")
    name = fields.Field(attribute="name", column_name="姓名")
    sex = fields.Field(attribute="sex", column_name="性别", widget=LabelWidget(Sex.choices))
    birth_date = fields.Field(attribute="birth_date", column_name="出生日期", widget=widgets.DateWidget())
    ethnicity = fields.Field(attribute="ethnicity", column_name="民族", widget=TEXT)
    hukou_type = fields.Field(attribute="hukou_type", column_name="户籍性质", widget=LabelWidget(HukouType.choices))
    village = fields.Field(
        attribute="village", column_name="现住址区划代码", widget=widgets.ForeignKeyWidget(Area, field="code")
    )
    relation_to_head = fields.Field(attribute="relation_to_head", column_name="与户主关系", widget=TEXT)
    marital_status = fields.Field(
        attribute="marital_status", column_name="婚姻状况", widget=LabelWidget(MaritalStatus.choices)
    )
    phone = fields.Field(attribute="phone", column_name="联系电话", widget=TEXT)
    employment_type = fields.Field(
        attribute="employment_type", column_name="就业类型", widget=LabelWidget(EmploymentType.choices)
    )

    class Meta:
        model = Person
        import_id_fields = ("id_number",)
        fields = ("id_number", "name", "sex", "birth_date", "ethnicity", "hukou_type", "village",
                  "relation_to_head", "marital_status", "phone", "employment_type")  # fmt: skip
        skip_unchanged = True


@pytest.fixture(scope="module")
def sheet(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sheets")
    subprocess.run(
        [sys.executable, str(SHARED / "tools" / "make_sheets.py"), str(out), "--persons", str(ROWS), "--seed", "11"],
        check=True,
        capture_output=True,
    )
    return out / "persons_clean.xlsx"


def _empty_registry():
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE registry_person, registry_household, registry_personevent, registry_householdevent "
                       "RESTART IDENTITY CASCADE")  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_import_throughput_against_django_import_export(sheet, bench_record):
    areas_load_csv(text=AREAS_CSV.read_text(encoding="utf-8"))

    _empty_registry()
    started = time.monotonic()
    dataset = tablib.Dataset().load(sheet.read_bytes(), format="xlsx")
    result = PersonResource().import_data(dataset, dry_run=False, raise_errors=False)
    baseline_seconds = time.monotonic() - started
    baseline_rows = Person.objects.count()
    assert not result.has_errors(), result.row_errors()[:3]

    _empty_registry()
    started = time.monotonic()
    ours = run_import(
        spec=spec_for("persons"), path=sheet, filename=sheet.name, user=None, dry_run=False, valid_rows_only=True
    )
    our_seconds = time.monotonic() - started
    assert ours.committed and ours.created == Person.objects.count() == ROWS - ours.rejected

    again = run_import(
        spec=spec_for("persons"), path=sheet, filename=sheet.name, user=None, dry_run=False, valid_rows_only=True
    )
    assert (again.created, again.updated) == (0, 0)

    baseline_rate = ROWS / baseline_seconds
    our_rate = ROWS / our_seconds
    bench_record(
        "import_persons_100k",
        rows=ROWS,
        django_import_export={
            "seconds": round(baseline_seconds, 1),
            "rows_per_s": round(baseline_rate),
            "persons_written": baseline_rows,
        },
        ours={
            "seconds": round(our_seconds, 2),
            "rows_per_s": round(our_rate),
            "created": ours.created,
            "rejected": ours.rejected,
            "phases_s": {k: round(v, 2) for k, v in ours.timings.items()},
        },
        ours_reimport_unchanged={"seconds": round(again.seconds, 2), "rows_per_s": round(ROWS / again.seconds)},
        ratio=round(our_rate / baseline_rate, 1),
    )


FLOOR_COLUMNS = len(spec_for("persons").columns)  # a sheet may leave out the optional ones (None)


def _floor_seconds(path: Path) -> float:
    """Read the sheet with python-calamine and COPY its rows into a bare table with a unique index on the ID
    number and an index on the village, in one transaction: what any importer of this file must pay."""
    columns = [f"c{i} text" for i in range(FLOOR_COLUMNS)]
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_floor")
        cursor.execute(f"CREATE TABLE bench_floor ({', '.join(columns)})")
        cursor.execute("CREATE UNIQUE INDEX ON bench_floor (c0)")  # 身份证号
        cursor.execute("CREATE INDEX ON bench_floor (c6)")  # 现住址区划代码
    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).iter_rows()
        next(rows)  # the header
        with cursor.copy(f"COPY bench_floor ({', '.join(f'c{i}' for i in range(FLOOR_COLUMNS))}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([None if v == "" else v for v in row] + [None] * (FLOOR_COLUMNS - len(row)))
    seconds = time.monotonic() - started
    with connection.cursor() as cursor:
        copied = cursor.execute("SELECT count(*) FROM bench_floor").fetchone()[0]
        cursor.execute("DROP TABLE bench_floor")
    assert copied == ROWS
    return seconds


def _read_seconds(path: Path) -> float:
    """The floor's reading alone: python-calamine's rows of the sheet, nothing written."""
    started = time.monotonic()
    rows = sum(1 for _ in CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).iter_rows())
    assert rows == ROWS + 1
    return time.monotonic() - started


def _registry_write_seconds() -> float:
    """What the registry's schema alone costs for the rows just imported: the same persons and households
    written again by one ``INSERT … SELECT`` each, into the real tables with their indexes, foreign keys and
    audit triggers, with nothing read, parsed or checked. Any importer that keeps the schema pays this."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE keep_h AS SELECT * FROM registry_household")
        cursor.execute("CREATE TEMP TABLE keep_p AS SELECT * FROM registry_person")
    _empty_registry()
    started = time.monotonic()
    with transaction.atomic(), pghistory.context(bench="registry_write"), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # as the import: checked at each statement
        cursor.execute("INSERT INTO registry_household SELECT * FROM keep_h")
        cursor.execute("INSERT INTO registry_person SELECT * FROM keep_p")
    seconds = time.monotonic() - started
    with connection.cursor() as cursor:
        assert cursor.execute("SELECT count(*) FROM registry_personevent").fetchone()[0] == ROWS  # audited
        cursor.execute("DROP TABLE keep_h, keep_p")
    return seconds


def _import_sheet_seconds(path: Path) -> tuple[float, dict]:
    """Wall time of ``manage.py import_sheet persons`` (in this process: the interpreter's start-up aside)."""
    out = io.StringIO()
    started = time.monotonic()
    call_command("import_sheet", "persons", str(path), stdout=out)
    seconds = time.monotonic() - started
    return seconds, json.loads(out.getvalue().strip().splitlines()[-1])


@pytest.mark.django_db(transaction=True)
def test_import_against_read_copy_floor(sheet, bench_record, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    areas_load_csv(text=AREAS_CSV.read_text(encoding="utf-8"))
    floor = _floor_seconds(sheet)

    _empty_registry()
    first, summary = _import_sheet_seconds(sheet)
    assert summary["status"] == "committed" and summary["created"] == ROWS == Person.objects.count()
    with connection.cursor() as cursor:  # the audit triggers were on: one event per person written
        events = cursor.execute("SELECT count(*) FROM registry_personevent").fetchone()[0]
    assert events == ROWS

    again, summary = _import_sheet_seconds(sheet)
    assert (summary["created"], summary["updated"], summary["unchanged"]) == (0, 0, ROWS)
    read = _read_seconds(sheet)
    registry_write = _registry_write_seconds()

    with connection.cursor() as cursor:
        version = cursor.execute("SHOW server_version").fetchone()[0]
    # The embedded server (scripts/devservices.py) listens on a socket in the project's .data directory.
    # (The embedded URL names its socket directory in the query string, so ask the connection, not the settings.)
    connection.ensure_connection()
    host, port = connection.connection.info.host, connection.connection.info.port
    server = "embedded" if host.startswith("/") and ".data" in host else f"{host}:{port}"
    bench_record(
        f"import_persons_floor_{'embedded' if server == 'embedded' else 'configured'}",
        rows=ROWS,
        server={"server": server, "version": version},
        floor={"seconds": round(floor, 2), "rows_per_s": round(ROWS / floor)},
        ours={"seconds": round(first, 2), "rows_per_s": round(ROWS / first), "share_of_floor": round(floor / first, 2)},
        ours_reimport_unchanged={
            "seconds": round(again, 2),
            "rows_per_s": round(ROWS / again),
            "share_of_floor": round(floor / again, 2),
        },
        # Where the first import's time goes beyond the floor: the floor's reading alone, and the registry's
        # own writes (persons and households with their indexes, foreign keys and audit triggers, one INSERT
        # each, nothing checked). Read plus those writes, one after the other, is what an importer pays that
        # keeps the schema but overlaps nothing.
        read_seconds=round(read, 2),
        registry_write_seconds=round(registry_write, 2),
        ours_share_of_read_plus_registry_write=round((read + registry_write) / first, 2),
    )
