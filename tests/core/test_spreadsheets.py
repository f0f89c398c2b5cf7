"""The one bounded spreadsheet reader (apps/core/spreadsheets.py): every hostile file (tests/hostile_sheets.py) is
refused with a clear message by ``import_sheet`` (a real process, which exits by itself and stays under 1 GB),
and what the reader hands back from an ordinary workbook is what calamine reads."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from apps.core import spreadsheets
from apps.core.errors import RuleViolation
from tests.conftest import ROOT
from tests.hostile_sheets import HOSTILE, REFUSALS, children_peak_rss_mb, far_cell_xlsx, peak_rss_mb, write_all, xlsx

# Runs a command and prints the peak memory of it and everything it started (the reader's child), in KB.
_MEASURED = (
    "import resource, subprocess, sys; code = subprocess.call(sys.argv[1:]); "
    "print('PEAK_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)"
)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict[str, Path]:
    return write_all(tmp_path_factory.mktemp("hostile"))


@pytest.mark.parametrize("name", list(HOSTILE))
def test_import_sheet_refuses_every_hostile_file_and_stays_under_1_gb(
    hostile, name, transactional_db, test_database_env
):
    done = subprocess.run(
        [sys.executable, "-c", _MEASURED, sys.executable, "manage.py", "import_sheet", "persons", str(hostile[name])],
        cwd=ROOT, env=test_database_env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    lines = done.stdout.strip().splitlines()
    peak_kb = int(lines[-1].split()[1])
    summary = json.loads(lines[-2])
    # The command ends by itself, with its own failure code (not a signal), and says why.
    assert done.returncode == 1, done.stderr[-2000:]
    assert summary["ok"] is False
    assert REFUSALS[name] in (summary.get("message") or summary["error"])
    if "status" in summary:  # a file over the size limit is refused before any job is made
        assert (summary["status"], summary["rows"], summary["created"]) == ("failed", 0, 0)
    assert peak_kb < 1024 * 1024, f"peak {peak_kb // 1024} MB"


def test_the_far_cell_kills_only_the_confined_reader(tmp_path):
    """The sheet that makes calamine ask for 549,755,813,888 bytes: the child that parses it dies alone."""
    path = tmp_path / "far.xlsx"
    path.write_bytes(far_cell_xlsx())
    with pytest.raises(RuleViolation, match="读取该文件所需内存超过上限（1536MB）") as refused:
        list(spreadsheets.iter_rows(path))
    assert refused.value.field == "file" and refused.value.code == "too_much_memory"
    assert children_peak_rss_mb() < 1024 and peak_rss_mb() < 1024
    # And this process reads the next file as before.
    path.write_bytes(xlsx('<row r="1"><c r="A1" t="inlineStr"><is><t>表头</t></is></c></row>'))
    assert list(spreadsheets.iter_rows(path)) == [["表头"]]


def test_rows_read_through_the_child_are_those_calamine_reads(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["B3"] = "标题"
    sheet.append(["身份证号", "出生日期", "登记时间", "孩次", "金额", "是否", None, "＝全角"])
    sheet.append(["110101199003071234", date(1990, 3, 7), datetime(2024, 5, 6, 7, 8, 9), 2, 960.5, True, None, "x"])
    for i in range(4500):  # more than one batch
        sheet.append([f"row{i}", date(2000, 1, 1), None, i, i / 4, False])
    path = tmp_path / "plain.xlsx"
    workbook.save(path)

    rows = list(spreadsheets.iter_rows(path))
    direct = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    assert rows == list(direct.iter_rows())
    assert rows[2][1] == "标题"  # row numbers are those Excel shows (B3 is the third row)
    assert rows[4][:6] == ["110101199003071234", date(1990, 3, 7), datetime(2024, 5, 6, 7, 8, 9), 2, 960.5, True]
    assert len(rows) == 4505


def test_csv_lines_columns_and_rows_are_bounded(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("a" * 100 + "\n" + "b" * 2000 + "\n", encoding="utf-8")
    bounds = spreadsheets.Limits(max_line_chars=1000)
    with pytest.raises(RuleViolation, match="CSV文件第2行超过1000个字符，已拒绝读取"):
        list(spreadsheets.iter_rows(path, bounds=bounds))
    path.write_text("a,b\n" + ",".join("x" * 300) + "\n", encoding="utf-8")
    with pytest.raises(RuleViolation, match=r"工作表的实际范围为2行×300列，超过允许的上限（1100000行×200列）"):
        list(spreadsheets.iter_rows(path))
    path.write_text("a\n" * 30, encoding="utf-8")
    with pytest.raises(RuleViolation, match="超过允许的上限（20行×200列）"):
        list(spreadsheets.iter_rows(path, bounds=spreadsheets.Limits(max_rows=20)))
    path.write_text("身份证号,姓名\n1,张三\n", encoding="gb18030")
    assert list(spreadsheets.iter_rows(path)) == [["身份证号", "姓名"], ["1", "张三"]]


def test_zip_bombs_and_files_of_the_wrong_kind_are_refused_before_parsing(tmp_path):
    import zipfile

    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<a/>" + b" " * (50 * 1024 * 1024))
    with pytest.raises(RuleViolation, match="压缩比异常"):
        list(spreadsheets.iter_rows(bomb))
    with pytest.raises(RuleViolation, match=r"文件解压后为50MB，超过允许的上限（10MB）"):
        spreadsheets.check_file(bomb, bounds=spreadsheets.Limits(max_unpacked_bytes=10 * 1024 * 1024))
    fake = tmp_path / "fake.xls"
    fake.write_bytes(b"<html>not a workbook</html>")
    with pytest.raises(RuleViolation, match=r"不是有效的\.xls文件"):
        list(spreadsheets.iter_rows(fake))
    with pytest.raises(RuleViolation, match="只能读取"):
        list(spreadsheets.iter_rows(fake, filename="x.exe"))
