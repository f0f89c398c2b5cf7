"""Imports stay in the importing user's area, for every kind (issue 12): a township clerk's row that touches
a person of another township is rejected, in a dry run and in both ways of committing, and nothing outside
changes; the messages and the error report name nothing of that person and read exactly as for an ID number
registered nowhere. Each kind's cascade goes through the registry's rules (``registry.rules``) and counts
live events only: a voided event (kept, with its reason) changes nothing.
"""

from __future__ import annotations

import contextlib
import csv
import json
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from openpyxl import load_workbook

from apps.areas.models import Area
from apps.core.idnumbers import check_digit
from apps.imports.models import ImportJob
from apps.registry.models import (
    Birth,
    ContraceptiveUse,
    Death,
    Household,
    Marriage,
    Move,
    Person,
)
from tests.conftest import TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A, VILLAGE_B

VILLAGE_A2 = "131025100202"  # 新胡庄村委会, also under A
VILLAGE_A3 = "131025100203"
NOT_IN_SCOPE = "在您的管辖范围内没有该身份证号的人员"
NUMBER_NOT_USABLE = "该身份证号不能由您的单位登记或修改"


def _number(born: date, *, male: bool, seq: int) -> str:
    first17 = f"131025{born:%Y%m%d}{seq:02d}{'1' if male else '2'}"
    return first17 + check_digit(first17)


def _person(name: str, village: str, born: date, *, male: bool, seq: int, **extra) -> Person:
    return Person.objects.create(
        id_number=_number(born, male=male, seq=seq),
        name=name,
        sex="M" if male else "F",
        birth_date=born,
        hukou_type="agricultural",
        village_id=village,
        marital_status="unmarried",
        **extra,
    )


def _birth(mother: Person, child: Person, **extra) -> Birth:
    return Birth.objects.create(
        mother=mother,
        child=child,
        date=child.birth_date,
        sex=child.sex,
        village_id=mother.village_id,
        birth_order=1,
        policy_status="in_policy",
        policy_status_computed="in_policy",
        entered_on=child.birth_date,
        **extra,
    )


def _void(event) -> None:
    type(event).all_objects.filter(pk=event.pk).update(voided_at=timezone.now(), void_reason="录入错误")


@pytest.fixture
def world(areas, make_user, settings, tmp_path):
    """Township A (the clerk's) and township B, a few persons in each; B's have unusual names that no message
    may ever show."""
    settings.MEDIA_ROOT = tmp_path / "media"
    make_user("clerk_a", TOWNSHIP_A, "township_clerk")
    w = {
        "wife": _person("甲妻", VILLAGE_A, date(1990, 1, 1), male=False, seq=11),
        "husband": _person("甲夫", VILLAGE_A, date(1988, 2, 2), male=True, seq=12),
        "b_woman": _person("乙秘女", VILLAGE_B, date(1991, 3, 3), male=False, seq=21),
        "b_man": _person("乙秘男", VILLAGE_B, date(1989, 4, 4), male=True, seq=22),
        "b_child": _person("乙秘童", VILLAGE_B, date(2020, 5, 5), male=False, seq=23),
    }
    # A retired duplicate record in A (merged into the wife): its number may not be used either.
    w["retired"] = _person("甲妻旧档", VILLAGE_A, date(1990, 1, 2), male=False, seq=13, merged_into=w["wife"])
    ContraceptiveUse.objects.create(
        person=w["b_woman"], method="iud", start_date=date(2015, 1, 1), village_id=VILLAGE_B
    )
    _birth(w["b_woman"], w["b_child"])
    return w


def _csv(path, header: list[str], rows: list[list]) -> str:
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def _import(kind: str, path: str, *flags: str) -> tuple[dict, str]:
    """import_sheet as clerk_a: its JSON summary and everything it printed."""
    out = StringIO()
    with contextlib.suppress(SystemExit):  # a file with errors: the command exits non-zero after its summary
        call_command("import_sheet", kind, path, "--user", "clerk_a", *flags, stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1]), out.getvalue()


def _registry() -> dict[str, list[dict]]:
    """Every row of the registry, voided events included."""
    return {
        "persons": list(Person.objects.order_by("pk").values()),
        "households": list(Household.objects.order_by("pk").values()),
        **{
            model.__name__: list(model.all_objects.order_by("pk").values())
            for model in (Birth, Marriage, Death, Move, ContraceptiveUse)
        },
    }


def _report_texts(path: str) -> tuple[list[list], list[str]]:
    """The error report's rows (values) and the texts the clerk reads as explanation: the 错误说明 column and
    the comments on the marked cells."""
    sheet = load_workbook(path).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()][2:]  # from the header, under the title lines
    explanations = [row[-1] for row in rows[1:]]
    explanations += [c.comment.text for row in sheet.iter_rows() for c in row if c.comment]
    return rows, [str(e) for e in explanations]


# Per kind: the header, rows touching township B (or, for comparison, a number registered nowhere) and the
# (column, message) each must get. ``w`` is the world above; ``unknown_f`` / ``unknown_m`` are valid numbers
# nobody holds.
def _case(kind: str, w: dict, unknown_f: str, unknown_m: str):
    if kind == "persons":
        header = ["身份证号", "姓名", "性别", "出生日期", "户籍性质", "现住址区划代码"]
        rows = [
            # Would rename B's woman and move her into A.
            [w["b_woman"].id_number, "改名", "女", "1991-03-03", "农业", VILLAGE_A],
            # Another reason a number cannot be used: it is held by a retired duplicate record.
            [w["retired"].id_number, "新名", "女", "1990-01-02", "农业", VILLAGE_A],
        ]
        expected = {2: ("身份证号", NUMBER_NOT_USABLE), 3: ("身份证号", NUMBER_NOT_USABLE)}
    elif kind == "births":
        header = ["母亲身份证号", "父亲身份证号", "婴儿身份证号", "婴儿姓名", "婴儿性别", "出生日期"]
        rows = [
            [w["b_woman"].id_number, "", "", "新生", "男", "2024-06-01"],
            [unknown_f, "", "", "新生", "男", "2024-06-01"],
            [w["wife"].id_number, w["b_man"].id_number, "", "新生", "男", "2024-06-01"],
            # B's child, linked to A's mother: the child would change mother (and B's woman lose a birth).
            [w["wife"].id_number, "", w["b_child"].id_number, "新生", "女", "2020-05-05"],
        ]
        expected = {
            2: ("母亲身份证号", NOT_IN_SCOPE),
            3: ("母亲身份证号", NOT_IN_SCOPE),
            4: ("父亲身份证号", NOT_IN_SCOPE),
            5: ("婴儿身份证号", NUMBER_NOT_USABLE),
        }
    elif kind == "deaths":
        header = ["身份证号", "死亡日期"]
        rows = [[w["b_woman"].id_number, "2024-03-01"], [unknown_f, "2024-03-01"]]
        expected = {2: ("身份证号", NOT_IN_SCOPE), 3: ("身份证号", NOT_IN_SCOPE)}
    elif kind == "marriages":
        header = ["女方身份证号", "男方身份证号", "类型", "登记日期"]
        rows = [
            [w["wife"].id_number, w["b_man"].id_number, "结婚", "2024-05-01"],
            [w["b_woman"].id_number, w["husband"].id_number, "结婚", "2024-05-01"],
            [w["wife"].id_number, unknown_m, "结婚", "2024-05-01"],
        ]
        expected = {
            2: ("男方身份证号", NOT_IN_SCOPE),
            3: ("女方身份证号", NOT_IN_SCOPE),
            4: ("男方身份证号", NOT_IN_SCOPE),
        }
    elif kind == "contraception":
        header = ["身份证号", "措施", "开始日期", "结束日期"]
        rows = [
            [w["b_woman"].id_number, "避孕套", "2024-01-01", ""],  # would end B's open IUD
            [unknown_f, "避孕套", "2024-01-01", ""],
        ]
        expected = {2: ("身份证号", NOT_IN_SCOPE), 3: ("身份证号", NOT_IN_SCOPE)}
    else:
        header = ["身份证号", "类型", "日期", "原区划代码", "现区划代码"]
        rows = [
            [w["b_man"].id_number, "迁入", "2025-01-10", VILLAGE_B, VILLAGE_A],  # would move him into A
            [w["b_woman"].id_number, "流出", "2025-01-10", VILLAGE_A, "110105001001"],
            [unknown_m, "迁入", "2025-01-10", VILLAGE_B, VILLAGE_A],
        ]
        expected = {2: ("身份证号", NOT_IN_SCOPE), 3: ("身份证号", NOT_IN_SCOPE), 4: ("身份证号", NOT_IN_SCOPE)}
    return header, rows, expected


KINDS = ("persons", "births", "deaths", "marriages", "contraception", "moves")
MODES = {"dry run": ("--dry-run",), "all or nothing": (), "valid rows only": ("--valid-rows-only",)}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", KINDS)
def test_rows_touching_another_township_are_rejected_and_change_nothing(world, tmp_path, kind, mode):
    unknown_f = _number(date(1992, 7, 7), male=False, seq=99)
    unknown_m = _number(date(1987, 8, 8), male=True, seq=99)
    header, rows, expected = _case(kind, world, unknown_f, unknown_m)
    before = _registry()

    summary, printed = _import(kind, _csv(tmp_path / f"{kind}.csv", header, rows), *MODES[mode])

    assert (summary["rows"], summary["errors"], summary["created"], summary["updated"]) == (len(rows), len(rows), 0, 0)
    job = ImportJob.objects.get(pk=summary["job"])
    assert {e["row"]: (e["column"], e["message"]) for e in job.first_errors} == expected
    assert _registry() == before  # not a version, a status, a village, a date or an event changed anywhere

    # Nothing the clerk reads names, places or identifies a person of township B.
    report_rows, explanations = _report_texts(summary["error_report"])
    outsiders = [world[k] for k in ("b_woman", "b_man", "b_child", "retired")]
    b_places = [a.name for a in Area.objects.filter(code__startswith=TOWNSHIP_B[:9])]
    said = [job.message, printed, *explanations, *(e["message"] for e in job.first_errors)]
    for text in said:
        for person in outsiders:
            assert person.name not in text and person.id_number not in text
        assert not any(place in text for place in b_places)
    cells = [str(v) for row in report_rows for v in row if v is not None]
    assert not any(person.name in cell for person in outsiders for cell in cells)
    # The report gives back each refused row exactly as the clerk typed it (ID numbers included, to be
    # corrected and uploaded again), and nothing more.
    assert {int(r[0]): [v or "" for v in r[1:-1]] for r in report_rows[1:]} == dict(enumerate(rows, start=2))


def test_an_in_area_row_is_written_beside_a_refused_one(world, tmp_path):
    """Valid rows only: the row of township A is imported, the one touching township B is not."""
    w = world
    path = _csv(
        tmp_path / "marriages.csv",
        ["女方身份证号", "男方身份证号", "类型", "登记日期"],
        [
            [w["wife"].id_number, w["husband"].id_number, "结婚", "2015-05-01"],
            [w["b_woman"].id_number, w["husband"].id_number, "结婚", "2016-05-01"],
        ],
    )
    summary, _ = _import("marriages", path, "--valid-rows-only")
    assert (summary["status"], summary["created"], summary["errors"]) == ("committed", 1, 1)
    statuses = dict(Person.objects.values_list("name", "marital_status"))
    assert (statuses["甲妻"], statuses["甲夫"], statuses["乙秘女"]) == ("married", "married", "unmarried")
    assert Person.objects.get(pk=w["b_woman"].pk).version == 1


def test_a_births_row_may_not_reach_a_child_who_moved_away_or_another_townships_birth(world, tmp_path):
    w = world
    # The wife's child, since moved to township B; and a child living in A whose birth was recorded in B to
    # B's woman.
    moved = _person("甲童", VILLAGE_B, date(2016, 6, 6), male=True, seq=14)
    _birth(w["wife"], moved)
    a_child = _person("甲寄童", VILLAGE_A, date(2021, 9, 9), male=False, seq=15)
    _birth(w["b_woman"], a_child)
    before = _registry()
    path = _csv(
        tmp_path / "births.csv",
        ["母亲身份证号", "婴儿身份证号", "婴儿姓名", "婴儿性别", "出生日期"],
        [
            [w["wife"].id_number, "", "甲童", "男", "2016-06-06"],
            [w["wife"].id_number, a_child.id_number, "甲寄童", "女", "2021-09-09"],
        ],
    )
    for flags in (("--dry-run",), (), ("--valid-rows-only",)):
        summary, _ = _import("births", path, *flags)
        job = ImportJob.objects.get(pk=summary["job"])
        assert {e["row"]: (e["column"], e["message"]) for e in job.first_errors} == {
            2: ("婴儿姓名", "该婴儿的记录不能由您的单位修改"),
            3: ("婴儿身份证号", "该婴儿的出生已由您管辖范围以外的单位登记，不能由本单位修改"),
        }
        assert _registry() == before


# --- the cascades go through registry.rules and ignore voided events -------------------------------------


def test_a_marriage_import_marries_both_spouses_and_ignores_voided_events(world, tmp_path):
    w = world
    wife, husband = w["wife"], w["husband"]
    # The same marriage entered and voided, and a divorce after it entered by mistake and voided.
    wrong = Marriage.objects.create(
        wife=wife, husband=husband, kind="marriage", date=date(2015, 5, 1), village_id=VILLAGE_A
    )
    divorce = Marriage.objects.create(
        wife=wife, husband=husband, kind="divorce", date=date(2020, 1, 1), village_id=VILLAGE_A
    )
    _void(wrong)
    _void(divorce)
    path = _csv(
        tmp_path / "marriages.csv",
        ["女方身份证号", "男方身份证号", "类型", "登记日期"],
        [[wife.id_number, husband.id_number, "结婚", "2015-05-01"]],
    )
    summary, _ = _import("marriages", path, "--dry-run")
    assert (summary["status"], summary["created"], summary["errors"]) == ("validated", 1, 0)
    summary, _ = _import("marriages", path)
    assert (summary["status"], summary["created"], summary["errors"]) == ("committed", 1, 0)
    wife.refresh_from_db()
    husband.refresh_from_db()
    assert (wife.marital_status, husband.marital_status) == ("married", "married")
    assert Marriage.objects.filter(wife=wife).count() == 1 and Marriage.all_objects.filter(wife=wife).count() == 3
    # A second marriage of the married couple is refused (the live one counts) ...
    again = _csv(
        tmp_path / "again.csv",
        ["女方身份证号", "男方身份证号", "类型", "登记日期"],
        [[wife.id_number, husband.id_number, "结婚", "2018-01-01"]],
    )
    summary, _ = _import("marriages", again)
    job = ImportJob.objects.get(pk=summary["job"])
    assert job.first_errors == [
        {"row": 2, "column": "类型", "message": "这两人已登记结婚（2015-05-01），其间没有离婚登记，不能重复登记结婚"}
    ]


def test_a_death_import_closes_contraception_by_death_and_widows_the_spouse(world, tmp_path):
    w = world
    wife, husband = w["wife"], w["husband"]
    Marriage.objects.create(wife=wife, husband=husband, kind="marriage", date=date(2012, 5, 1), village_id=VILLAGE_A)
    Person.objects.filter(pk__in=[wife.pk, husband.pk]).update(marital_status="married")
    use = ContraceptiveUse.objects.create(person=wife, method="iud", start_date=date(2015, 1, 1), village_id=VILLAGE_A)
    # A wrong death voided, and a birth after the death date voided: neither counts.
    _void(Death.objects.create(person=wife, date=date(2023, 1, 1), village_id=VILLAGE_A))
    child = _person("甲误童", VILLAGE_A, date(2024, 6, 1), male=True, seq=16)
    _void(_birth(wife, child))
    path = _csv(tmp_path / "deaths.csv", ["身份证号", "死亡日期"], [[wife.id_number, "2024-03-01"]])
    summary, _ = _import("deaths", path, "--dry-run")
    assert (summary["status"], summary["created"], summary["updated"], summary["errors"]) == ("validated", 1, 0, 0)
    summary, _ = _import("deaths", path)
    assert (summary["status"], summary["created"], summary["errors"]) == ("committed", 1, 0)
    wife.refresh_from_db()
    husband.refresh_from_db()
    use.refresh_from_db()
    assert wife.death_date == date(2024, 3, 1) == Death.objects.get(person=wife).date
    assert (use.end_date, use.closed_by_death) == (date(2024, 3, 1), True)
    assert husband.marital_status == "widowed"


def test_a_moves_import_sets_the_current_village_and_ignores_voided_moves(world, tmp_path):
    w = world
    wife = w["wife"]
    # A later move voided, and a voided move with the very key of the row, recorded in township B.
    _void(Move.objects.create(person=wife, kind="move_in", date=date(2025, 6, 1), origin_code=VILLAGE_A2,
                              destination_code=VILLAGE_A3, village_id=VILLAGE_A3))  # fmt: skip
    _void(Move.objects.create(person=wife, kind="move_in", date=date(2025, 1, 10), origin_code=VILLAGE_A,
                              destination_code=VILLAGE_B, village_id=VILLAGE_B))  # fmt: skip
    path = _csv(
        tmp_path / "moves.csv",
        ["身份证号", "类型", "日期", "原区划代码", "现区划代码"],
        [[wife.id_number, "迁入", "2025-01-10", VILLAGE_A, VILLAGE_A2]],
    )
    summary, _ = _import("moves", path)
    assert (summary["status"], summary["created"], summary["errors"]) == ("committed", 1, 0)
    wife.refresh_from_db()
    assert (wife.village_id, wife.version) == (VILLAGE_A2, 2)
    assert Move.objects.get(person=wife).village_id == VILLAGE_A2


def test_a_contraception_import_is_closed_by_death_and_ignores_voided_uses(world, tmp_path):
    w = world
    wife = w["wife"]
    Death.objects.create(person=wife, date=date(2024, 3, 1), village_id=VILLAGE_A)
    Person.objects.filter(pk=wife.pk).update(death_date=date(2024, 3, 1))
    # A later method entered by mistake and voided: it does not end the imported one.
    _void(
        ContraceptiveUse.objects.create(person=wife, method="pill", start_date=date(2023, 1, 1), village_id=VILLAGE_A)
    )
    path = _csv(
        tmp_path / "contraception.csv",
        ["身份证号", "措施", "开始日期", "结束日期"],
        [[wife.id_number, "避孕套", "2020-01-01", ""]],
    )
    summary, _ = _import("contraception", path)
    assert (summary["status"], summary["created"], summary["errors"]) == ("committed", 1, 0)
    use = ContraceptiveUse.objects.get(person=wife)
    assert (use.method, use.end_date, use.closed_by_death) == ("condom", date(2024, 3, 1), True)


def test_a_births_import_ranks_among_live_births_only(world, tmp_path):
    w = world
    wife = w["wife"]
    first = _person("甲误长", VILLAGE_A, date(2018, 3, 3), male=True, seq=17)
    _void(_birth(wife, first))  # the only earlier birth, voided
    path = _csv(
        tmp_path / "births.csv",
        ["母亲身份证号", "婴儿姓名", "婴儿性别", "出生日期", "孩次"],
        [[wife.id_number, "甲新童", "女", "2021-04-04", "1"]],
    )
    summary, _ = _import("births", path)
    assert (summary["status"], summary["created"], summary["errors"]) == ("committed", 1, 0)
    birth = Birth.objects.get(mother=wife)
    assert (birth.child.name, birth.birth_order, birth.policy_status) == ("甲新童", 1, "in_policy")
    assert ImportJob.objects.get(pk=summary["job"]).first_errors == []  # no warning: 孩次 1 is right


def test_a_persons_import_updates_an_own_person_and_creates_a_new_one(world, tmp_path):
    """The refusal above is about the number's holder, not about updates as such."""
    w = world
    new = _number(date(1999, 9, 9), male=True, seq=31)
    path = _csv(
        tmp_path / "persons.csv",
        ["身份证号", "姓名", "性别", "出生日期", "户籍性质", "现住址区划代码"],
        [
            [w["wife"].id_number, "甲妻", "女", "1990-01-01", "农业", VILLAGE_A2],
            [new, "甲新人", "男", "1999-09-09", "农业", VILLAGE_A],
        ],
    )
    summary, _ = _import("persons", path)
    assert (summary["status"], summary["created"], summary["updated"], summary["errors"]) == ("committed", 1, 1, 0)
    assert Person.objects.get(pk=w["wife"].pk).village_id == VILLAGE_A2
    assert Person.objects.get(id_number=new).village_id == VILLAGE_A


def test_a_retired_record_is_not_revived_by_an_import_without_an_area(world, tmp_path):
    """Even an import acting as nobody (a system job: no area limit) does not write to a record retired by a
    merge; the row gets the same words as above."""
    path = _csv(
        tmp_path / "persons.csv",
        ["身份证号", "姓名", "性别", "出生日期", "户籍性质", "现住址区划代码"],
        [[world["retired"].id_number, "新名", "女", "1990-01-02", "农业", VILLAGE_A]],
    )
    out = StringIO()
    with contextlib.suppress(SystemExit):
        call_command("import_sheet", "persons", path, stdout=out)
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    job = ImportJob.objects.get(pk=summary["job"])
    assert job.first_errors == [{"row": 2, "column": "身份证号", "message": NUMBER_NOT_USABLE}]
    assert Person.objects.get(pk=world["retired"].pk).name == "甲妻旧档"
