"""Import benchmark (issue 4, DESIGN §9): the same 100,000-row persons sheet through a plain
django-import-export ModelResource and through our importer, on the same database, in one run.

The ModelResource is what a Django developer would write for this sheet: Chinese column names, the choice
labels mapped to stored values, the village by code; it leaves out the household column (its widget would need
households that do not exist yet). Both write into an empty person table with the audit triggers on.
"""

import subprocess
import sys
import time
from pathlib import Path

import pytest
import tablib
from django.db import connection
from import_export import fields, resources, widgets

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
