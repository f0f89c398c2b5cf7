"""Plausibility rules in imports: the rules the forms and the API apply (registry.plausibility) run over the
staged rows of every event kind; a refusal rejects the row with the rule's message, a held row is reported as
a warning and written when the clerk commits after the dry run. Messages name no person."""

from __future__ import annotations

import contextlib
import csv
import json
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command

from apps.areas.models import Area
from apps.imports.models import ImportJob
from apps.registry.models import Birth, ContraceptiveUse, Death, Marriage, Move, PlausibilityRule
from apps.registry.services import PersonData, marriage_record, move_record, person_create
from tests.conftest import TOWNSHIP_A, VILLAGE_A
from tests.registry.conftest import make_id_number

OUTSIDE = "110101001001"
BIRTHS = ["母亲身份证号", "父亲身份证号", "婴儿身份证号", "婴儿姓名", "婴儿性别", "出生日期", "出生地区划代码",
          "孩次", "政策属性", "生育服务证号", "登记日期"]  # fmt: skip


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def clerk(make_user):
    return make_user("clerk_a", TOWNSHIP_A, "township_clerk")


@pytest.fixture
def person(areas):
    def make(name: str, sex: str, born: date):
        data = PersonData(name=name, sex=sex, birth_date=born, hukou_type="agricultural",
                          village=Area.objects.get(code=VILLAGE_A), id_number=make_id_number(born, sex))  # fmt: skip
        return person_create(data=data, by=None)

    return make


def _run(kind: str, path: str, *args: str) -> tuple[dict, dict, list]:
    """import_sheet as clerk_a: (summary, {row: (column, message)} of errors, [(row, column, message)] warnings)."""
    out = StringIO()
    with contextlib.suppress(SystemExit):  # a file with errors: the summary says so
        call_command("import_sheet", kind, path, "--user", "clerk_a", *args, stdout=out)
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    job = ImportJob.objects.get(pk=summary["job"])
    errors = {e["row"]: (e["column"], e["message"]) for e in job.first_errors if not e.get("warning")}
    warnings = [(e["row"], e["column"], e["message"]) for e in job.first_errors if e.get("warning")]
    return summary, errors, warnings


def _csv(path, header: list[str], rows: list[list]) -> str:
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def _birth_row(mother, name: str, on: str, father=None) -> list:
    return [mother.id_number, father.id_number if father else "", "", name, "女", on, "", "", "", "", ""]


def test_births_an_11_year_old_mother_is_refused_a_16_year_old_held(clerk, person, tmp_path):
    girl = person("甲", "F", date(2005, 1, 1))
    teen = person("乙", "F", date(2000, 1, 1))
    adult = person("丙", "F", date(1990, 1, 1))
    path = _csv(tmp_path / "births.csv", BIRTHS, [
        _birth_row(girl, "婴一", "2016-06-01"),
        _birth_row(teen, "婴二", "2016-06-01"),
        _birth_row(adult, "婴三", "2016-06-01"),
        _birth_row(adult, "婴四", "2016-10-01"),  # 122 days after the row above
    ])  # fmt: skip
    summary, errors, warnings = _run("births", path, "--dry-run")
    assert errors == {2: ("母亲身份证号", "母亲生育时年龄为11岁，低于合理范围（14岁）")}
    assert warnings == [
        (3, "母亲身份证号", "请核实：母亲生育时年龄为16岁，低于合理范围（18岁）"),
        (4, "出生日期", "请核实：与该母亲的另一次生育仅相隔122天，少于270天（同一次分娩的多胞胎不受此限）"),
        (5, "出生日期", "请核实：与该母亲的另一次生育仅相隔122天，少于270天（同一次分娩的多胞胎不受此限）"),
    ]
    assert not any("甲" in m or "乙" in m or "丙" in m for _, _, m in warnings)
    assert not Birth.objects.exists()
    # The clerk commits the valid rows after the dry run: the held rows are written, the refused one is not.
    summary, errors, _ = _run("births", path, "--valid-rows-only")
    assert (summary["status"], summary["created"], summary["errors"]) == ("committed", 3, 1)
    assert set(Birth.objects.values_list("mother__name", flat=True)) == {"乙", "丙"}


def test_births_a_rules_number_and_dates_are_read_from_the_rows(clerk, person, tmp_path):
    girl = person("甲", "F", date(2005, 1, 1))
    path = _csv(tmp_path / "births.csv", BIRTHS, [_birth_row(girl, "婴一", "2016-06-01")])
    PlausibilityRule.objects.filter(code="mother_age_at_birth", action="refuse").update(valid_to=date(2015, 12, 31))
    _, errors, warnings = _run("births", path, "--dry-run")
    assert errors == {}
    assert warnings == [(2, "母亲身份证号", "请核实：母亲生育时年龄为11岁，低于合理范围（18岁）")]
    PlausibilityRule.objects.filter(code="mother_age_at_birth", action="hold").update(parameters={"min_age": 11})
    assert _run("births", path, "--dry-run")[1:] == ({}, [])


def test_marriages_at_16_the_same_couple_twice_and_while_married_are_refused(clerk, person, tmp_path):
    girl = person("甲", "F", date(2000, 1, 1))
    man = person("乙", "M", date(1990, 1, 1))
    wife = person("丙", "F", date(1990, 1, 1))
    husband = person("丁", "M", date(1988, 1, 1))
    other = person("戊", "M", date(1988, 1, 1))
    marriage_record(wife=wife, husband=husband, kind="marriage", on=date(2015, 1, 1), by=None)
    path = _csv(tmp_path / "marriages.csv", ["女方身份证号", "男方身份证号", "类型", "登记日期"], [
        [wife.id_number, husband.id_number, "结婚", "2015-01-01"],  # the registered marriage itself: unchanged
        [girl.id_number, man.id_number, "结婚", "2016-06-01"],
        [wife.id_number, husband.id_number, "结婚", "2013-01-01"],  # the same couple, an earlier date
        [wife.id_number, other.id_number, "结婚", "2017-01-01"],
    ])  # fmt: skip
    summary, errors, _ = _run("marriages", path)
    assert errors == {
        3: ("女方身份证号", "女方登记结婚时年龄为16岁，未满18周岁，不能登记结婚"),
        4: ("类型", "这两人已登记结婚（2015-01-01），其间没有离婚登记，不能重复登记结婚"),
        5: ("女方身份证号", "女方已于2015-01-01与他人登记结婚，此后未登记离婚或丧偶，不能再登记结婚"),
    }
    assert summary["status"] == "rejected" and Marriage.objects.count() == 1


def test_moves_to_a_code_that_does_not_exist_are_refused_and_a_second_departure_held(clerk, person, tmp_path):
    first = person("甲", "F", date(1985, 1, 1))
    second = person("乙", "F", date(1985, 1, 1))
    gone = person("丙", "M", date(1985, 1, 1))
    move_record(person=gone, kind="float_out", on=date(2015, 1, 1), origin_code=VILLAGE_A,
                destination_code=OUTSIDE, by=None)  # fmt: skip
    header = ["身份证号", "类型", "日期", "原区划代码", "现区划代码", "婚育证明号"]
    path = _csv(tmp_path / "moves.csv", header, [
        [first.id_number, "迁出", "2016-01-01", VILLAGE_A, "131025100999", ""],
        [second.id_number, "流出", "2016-01-01", VILLAGE_A, "990000000000", ""],
        [gone.id_number, "迁出", "2016-01-01", VILLAGE_A, OUTSIDE, ""],
    ])  # fmt: skip
    summary, errors, warnings = _run("moves", path, "--valid-rows-only")
    assert errors == {
        2: ("现区划代码", "现区划代码131025100999既不是本县的村（居），也不是有效的外县区划代码"),
        3: ("现区划代码", "现区划代码990000000000既不是本县的村（居），也不是有效的外县区划代码"),
    }
    assert warnings == [(4, "日期", "请核实：该人员已于2015-01-01流出本县，此后的登记需核实")]
    assert summary["created"] == 1 and Move.objects.filter(person=gone).count() == 2


def test_deaths_and_contraception_after_departure_are_held(clerk, person, tmp_path):
    woman = person("甲", "F", date(1960, 1, 1))
    move_record(person=woman, kind="move_out", on=date(2015, 1, 1), origin_code=VILLAGE_A,
                destination_code=OUTSIDE, by=None)  # fmt: skip
    path = _csv(tmp_path / "contraception.csv", ["身份证号", "措施", "开始日期", "结束日期"],
                [[woman.id_number, "宫内节育器", "2016-01-01", ""]])  # fmt: skip
    summary, errors, warnings = _run("contraception", path)
    assert (summary["status"], errors) == ("committed", {})
    assert warnings == [(2, "开始日期", "请核实：该人员已于2015-01-01迁出本县，此后的登记需核实")]
    assert ContraceptiveUse.objects.filter(person=woman).exists()
    path = _csv(tmp_path / "deaths.csv", ["身份证号", "死亡日期"], [[woman.id_number, "2020-01-01"]])
    summary, errors, warnings = _run("deaths", path)
    assert (summary["status"], errors) == ("committed", {})
    assert warnings == [(2, "死亡日期", "请核实：该人员已于2015-01-01迁出本县，此后的登记需核实")]
    assert Death.objects.get().person == woman
