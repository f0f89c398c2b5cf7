"""Persons sheets: the team's messy sample rejects exactly the rows it should, the clean one imports, and a
second import changes nothing."""

import json

import pytest
from django.core.management import call_command

from apps.registry.models import Household, Person
from tests.conftest import SHARED, VILLAGE_A

DATA = SHARED / "data"


def _run(capsys, *args):
    with pytest.raises(SystemExit) if "--expect-fail" in args else _null():
        call_command("import_sheet", *[a for a in args if a != "--expect-fail"])
    out = capsys.readouterr().out.strip().splitlines()
    return json.loads(out[-1]), out


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_messy_sample_rejects_exactly_the_expected_rows(areas, capsys, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    expected = json.loads((DATA / "persons_messy.expected.json").read_text())
    summary, _ = _run(capsys, "persons", str(DATA / "persons_messy.xlsx"), "--dry-run", "--expect-fail")
    assert summary["rows"] == len(expected)
    assert summary["errors"] == sum(not e["accept"] for e in expected)
    from apps.imports.models import ImportJob

    job = ImportJob.objects.get(pk=summary["job"])
    header_row = job.header_row
    assert header_row == 2  # a title row above the header
    rejected = {e["row"] - header_row: e for e in job.first_errors if not e.get("warning")}
    assert set(rejected) == {e["row"] for e in expected if not e["accept"]}
    messages = {row: e["message"] for row, e in rejected.items()}
    assert "Excel" in messages[201]
    assert "校验位" in messages[202]
    assert "出生日期" in messages[203] and "不一致" in messages[203]
    assert "性别与身份证号不一致" in messages[204]
    assert "131025999999" in messages[207] and "不是本县的村" in messages[207]
    assert messages[208] == "身份证号与第3行重复"
    assert messages[209] == "姓名为空"
    assert "在今天之后" in messages[214]
    assert "性别“未知”无效" in messages[215]
    assert "婚姻状况“同居”无效" in messages[216]
    assert "户籍性质“农村”无效" in messages[218]
    assert Person.objects.count() == 0  # a dry run writes nothing


def test_all_or_nothing_then_valid_rows_only(areas, capsys, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    summary, _ = _run(capsys, "persons", str(DATA / "persons_messy.xlsx"), "--expect-fail")
    assert summary["status"] == "rejected" and summary["created"] == 0
    assert Person.objects.count() == 0
    assert summary["error_report"].endswith("-errors.xlsx")

    summary, _ = _run(capsys, "persons", str(DATA / "persons_messy.xlsx"), "--valid-rows-only")
    assert summary["status"] == "committed"
    assert summary["created"] == 261 - 11 == Person.objects.count()
    upgraded = Person.objects.get(name="阎冬晓")
    assert len(upgraded.id_number) == 18 and upgraded.id_number.startswith("13102419671212")
    assert Person.objects.get(name="乔远军").name == "乔远军"  # trimmed

    again, _ = _run(capsys, "persons", str(DATA / "persons_messy.xlsx"), "--valid-rows-only")
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 250)


def test_clean_persons_import_completely_and_twice_changes_nothing(areas, capsys, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    summary, _ = _run(capsys, "persons", str(DATA / "persons_clean.xlsx"))
    assert summary["errors"] == 0 and summary["created"] == summary["rows"] == Person.objects.count()
    assert Household.objects.count() > 0
    person = Person.objects.exclude(household=None).first()
    assert person.household.village_id == person.village_id or person.household.number.startswith(person.village_id[:9])
    again, _ = _run(capsys, "persons", str(DATA / "persons_clean.xlsx"))
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, summary["rows"])


def test_the_audit_trail_of_imported_rows_names_the_job_and_the_user(areas, make_user, capsys, settings, tmp_path):
    from pghistory.models import Events

    from apps.imports.models import ImportJob

    settings.MEDIA_ROOT = tmp_path
    make_user("importer", "131025000000", "county_admin")
    summary, _ = _run(capsys, "persons", str(DATA / "persons_clean.xlsx"), "--user", "importer")
    job = ImportJob.objects.get(pk=summary["job"])
    assert job.created_by.username == "importer" and len(job.file_sha256) == 64
    person = Person.objects.order_by("id").first()
    event = Events.objects.tracks(person).get()
    assert event.pgh_label == "insert"
    assert event.pgh_context["import_job"] == job.pk
    assert event.pgh_context["user"] == job.created_by_id


def test_a_township_clerk_imports_only_into_the_own_township(areas, make_user, capsys, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    make_user("clerk", "131025100000", "township_clerk")
    summary, out = _run(capsys, "persons", str(DATA / "persons_clean.xlsx"), "--user", "clerk", "--dry-run",
                        "--expect-fail")  # fmt: skip
    assert summary["errors"] > 0
    assert any("不在您的管辖范围内" in line for line in out)
    assert summary["created"] == summary["rows"] - summary["errors"]


@pytest.mark.parametrize("chunk_rows", [1, 7])
def test_chunked_writes_give_the_same_result_as_one_chunk(areas, capsys, settings, tmp_path, monkeypatch, chunk_rows):
    """Persons are written chunk by chunk while the next chunk is parsed: a duplicate in a later chunk, an
    error after rows were written (all or nothing) and the audit context behave as with one chunk."""
    from pghistory.models import Events

    from apps.imports import engine

    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(engine, "CHUNK_ROWS", chunk_rows)
    expected = json.loads((DATA / "persons_messy.expected.json").read_text())

    summary, _ = _run(capsys, "persons", str(DATA / "persons_messy.xlsx"), "--expect-fail")
    assert (summary["status"], summary["created"], summary["errors"]) == ("rejected", 0, 11)
    assert Person.objects.count() == Household.objects.count() == 0  # the chunks written before were rolled back

    summary, _ = _run(capsys, "persons", str(DATA / "persons_messy.xlsx"), "--valid-rows-only")
    from apps.imports.models import ImportJob

    job = ImportJob.objects.get(pk=summary["job"])
    rejected = {e["row"] - job.header_row: e["message"] for e in job.first_errors if not e.get("warning")}
    assert set(rejected) == {e["row"] for e in expected if not e["accept"]}
    assert rejected[208] == "身份证号与第3行重复"
    assert summary["created"] == 250 == Person.objects.count()
    contexts = {e.pgh_context_id for e in Events.objects.references(*Person.objects.all()).filter(pgh_label="insert")}
    assert len(contexts) == 1  # one audit context names the job for every row

    again, _ = _run(capsys, "persons", str(DATA / "persons_messy.xlsx"), "--valid-rows-only")
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 250)


_PERSONS_SQL = """
INSERT INTO registry_person (id_number, name, sex, birth_date, ethnicity, hukou_type, employment_type,
    relation_to_head, marital_status, phone, village_id, version, created_at, updated_at)
SELECT '1' || lpad((%s + g)::text, 16, '0') || 'X', '测试', 'F', '1990-01-01', '', 'agricultural', '', '', '', '',
    %s, 1, now(), now()
FROM generate_series(1, %s) g
"""


def test_a_registry_analysed_while_it_held_only_dead_rows_is_estimated_anew_as_the_import_fills_it(areas):
    """A big all-or-nothing import rolled back, then autovacuum: the person table is analysed with no live row
    but thousands of pages. As the next import fills it, the planner would take it for one row and compare
    every staged number with every person (CI saw minutes for one chunk); after writing a chunk the import
    refreshes an estimate that is far below what it wrote."""
    from django.db import connection, transaction

    from apps.imports.engine import _refresh_estimates

    with connection.cursor() as cursor:
        sid = transaction.savepoint()
        cursor.execute(_PERSONS_SQL, [0, VILLAGE_A, 20_000])
        transaction.savepoint_rollback(sid)  # 20,000 dead rows
        cursor.execute("ANALYZE registry_person")
        cursor.execute("SELECT reltuples, relpages FROM pg_class WHERE relname = 'registry_person'")
        assert cursor.fetchone()[0] == 0
        cursor.execute(_PERSONS_SQL, [10**9, VILLAGE_A, 10_000])  # what the import's first chunk wrote
        assert _estimated_rows(cursor) <= 1  # the trap: the planner takes the table for (at most) one row
        _refresh_estimates(cursor, ("registry_person", "registry_household"), written=10_000)
        assert 5_000 <= _estimated_rows(cursor) <= 20_000


def _estimated_rows(cursor) -> float:
    cursor.execute("EXPLAIN (FORMAT JSON) SELECT * FROM registry_person")
    return cursor.fetchone()[0][0]["Plan"]["Plan Rows"]
