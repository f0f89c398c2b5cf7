import json
import subprocess
import sys

import pytest
from django.core.management import call_command

from apps.areas.models import Area, AreaLevel
from apps.areas.services import areas_load_csv
from apps.core.errors import RuleViolation
from tests.conftest import AREAS_CSV, ROOT

HEADER = "code,name,level,parent\n"


def test_demo_county_loads_with_every_level(areas):
    assert Area.objects.filter(level=AreaLevel.COUNTY).count() == 1
    assert Area.objects.filter(level=AreaLevel.TOWNSHIP).count() == 10
    assert Area.objects.filter(level=AreaLevel.VILLAGE).count() == 400
    village = Area.objects.get(code="131025100201")
    assert village.name == "南潘庄村委会"
    assert village.parent.parent.name == "大城县"


def test_loading_the_same_file_again_changes_nothing(areas):
    result = areas_load_csv(text=AREAS_CSV.read_text(encoding="utf-8"))
    assert (result.rows, result.created, result.updated, result.unchanged) == (411, 0, 0, 411)


def test_a_renamed_village_is_updated(areas):
    text = AREAS_CSV.read_text(encoding="utf-8").replace("南潘庄村委会", "南潘庄村")
    result = areas_load_csv(text=text)
    assert (result.created, result.updated) == (0, 1)
    assert Area.objects.get(code="131025100201").name == "南潘庄村"


COUNTY_ROW = "131025000000,大城县,county,\n"
TOWNSHIP_ROW = "131025100000,平舒镇,township,131025000000\n"


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        ("13102510020,短码村,village,131025100000", "第4行：区划代码“13102510020”不是12位数字"),
        ("131025100299,错级村,township,131025000000", "第4行：区划代码131025100299与级别“乡镇（街道）”不符"),
        ("131025100299,孤村,village,131025109000", "第4行：上级区划131025109000不存在"),
        ("131025101299,错挂村,village,131025100000", "第4行：上级区划131025100000不是131025101299的直接上级"),
        ("131025100000,平舒镇二,township,131025000000", "第4行：区划代码131025100000与第3行重复"),
        ("131025100299,怪村,hamlet,131025100000", "第4行：级别“hamlet”无效"),
    ],
)
def test_a_bad_row_is_reported_by_line_and_nothing_is_written(db, bad_row, message):
    text = HEADER + COUNTY_ROW + TOWNSHIP_ROW + bad_row + "\n"
    with pytest.raises(RuleViolation) as exc:
        areas_load_csv(text=text)
    assert message in exc.value.message
    assert Area.objects.count() == 0


def test_comment_lines_do_not_shift_line_numbers(db):
    text = "# title\n" + HEADER + COUNTY_ROW + "# note\n" + "131025100299,孤村,village,131025109000\n"
    with pytest.raises(RuleViolation, match="第5行：上级区划131025109000不存在"):
        areas_load_csv(text=text)


def test_a_file_without_the_columns_is_refused(db):
    with pytest.raises(RuleViolation, match="区划文件缺少列：level、parent"):
        areas_load_csv(text="code,name\n131025000000,大城县\n")


def test_load_areas_command_prints_a_json_summary(db, capsys):
    call_command("load_areas", str(AREAS_CSV))
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary == {
        "ok": True,
        "rows": 411,
        "created": 411,
        "updated": 0,
        "unchanged": 0,
        "errors": 0,
        "error_messages": [],
    }


def test_load_areas_command_exits_non_zero_on_a_bad_file(tmp_path, test_database_env):
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "12345,坏码,county,\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "manage.py", "load_areas", str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=test_database_env,
    )
    assert proc.returncode == 1
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["ok"] is False
    assert "第2行：区划代码“12345”不是12位数字" in summary["error"]
