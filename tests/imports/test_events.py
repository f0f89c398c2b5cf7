"""Event sheets (births, deaths, marriages, contraception, moves): the team's clean samples import completely on
top of the persons sample and a second import changes nothing; the registry then holds what a clerk would
check; bad rows are rejected with exact messages.

The six samples are imported once for the module (a few seconds) inside a transaction that is rolled back at
the end; each test runs in a savepoint within it, so its own imports vanish after it.
"""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from python_calamine import CalamineWorkbook

from apps.accounts.services import user_create
from apps.areas.models import Area
from apps.areas.services import areas_load_csv
from apps.core.idnumbers import check_digit
from apps.imports.kinds.persons import MARITAL
from apps.imports.models import ImportJob
from apps.registry.models import Birth, ContraceptiveUse, Death, Marriage, Move, Person
from tests.conftest import AREAS_CSV, PASSWORD, SHARED, TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A

DATA = SHARED / "data"
ORDER = ("persons", "marriages", "births", "contraception", "deaths", "moves")
# For an ID number registered nowhere and for one registered outside the clerk's area alike.
NOT_IN_SCOPE = "在您的管辖范围内没有该身份证号的人员"


def _sheet(kind: str) -> list[list]:
    """The data rows of a clean sample (its header is row 1, so data row i is spreadsheet row i + 1)."""
    return CalamineWorkbook.from_path(str(DATA / f"{kind}_clean.xlsx")).get_sheet_by_index(0).to_python()[1:]


def _expected_rejections(kind: str) -> dict[int, tuple[str, str]]:
    """The rows of the "clean" samples that the registry rules refuse: make_sheets.py dates some marriages
    after today (wife's birth + 20-28 years, wives born up to 2000) and draws deaths and moves independently
    (one woman floats out after her death). Computed from the files, so the test holds as the days pass."""
    today = date.today()
    if kind == "marriages":
        return {
            i: ("登记日期", f"登记日期{r[3]:%Y-%m-%d}晚于今天")
            for i, r in enumerate(_sheet(kind), start=2)
            if r[3] > today
        }
    if kind == "moves":
        died = dict(_sheet("deaths"))
        names = {r[0]: r[1] for r in _sheet("persons")}
        return {
            i: ("日期", f"日期{r[2]:%Y-%m-%d}晚于{names[r[0]]}的死亡日期{died[r[0]]:%Y-%m-%d}")
            for i, r in enumerate(_sheet(kind), start=2)
            if r[0] in died and r[2] > died[r[0]]
        }
    return {}


def _run(*args, fail: bool = False) -> dict:
    """Runs import_sheet and returns its JSON summary (the command exits non-zero when a file has errors)."""
    from io import StringIO

    out = StringIO()
    if fail:
        with pytest.raises(SystemExit):
            call_command("import_sheet", *args, stdout=out)
    else:
        try:
            call_command("import_sheet", *args, stdout=out)
        except SystemExit:
            pytest.fail(f"import_sheet {' '.join(args)} failed:\n{out.getvalue()}")
    return json.loads(out.getvalue().strip().splitlines()[-1])


def _errors(summary: dict) -> dict[int, tuple[str, str]]:
    """Rejected rows of a job: spreadsheet row number -> (column, message)."""
    job = ImportJob.objects.get(pk=summary["job"])
    return {e["row"]: (e["column"], e["message"]) for e in job.first_errors if not e.get("warning")}


def _warnings(summary: dict) -> list[tuple[int, str, str]]:
    job = ImportJob.objects.get(pk=summary["job"])
    return [(e["row"], e["column"], e["message"]) for e in job.first_errors if e.get("warning")]


def _csv(path, header: list[str], rows: list[list]) -> str:
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def _unknown_id(born: date, *, male: bool) -> str:
    """A valid ID number nobody in the samples has (region 131025, sequence 99)."""
    first17 = f"131025{born:%Y%m%d}99{'1' if male else '2'}"
    return first17 + check_digit(first17)


@pytest.fixture(scope="module")
def county(django_db_setup, django_db_blocker, tmp_path_factory):
    """The six clean samples imported in dependency order, twice; yields {kind: (first, second)} summaries."""
    media = tmp_path_factory.mktemp("media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media), transaction.atomic():
        areas_load_csv(text=AREAS_CSV.read_text(encoding="utf-8"))
        for username, township in (("clerk_a", TOWNSHIP_A), ("clerk_b", TOWNSHIP_B)):
            user_create(
                username=username,
                password=PASSWORD,
                area=Area.objects.get(code=township),
                roles=["township_clerk"],
            )
        summaries = {}
        for kind in ORDER:
            path = str(DATA / f"{kind}_clean.xlsx")
            extra = ("--valid-rows-only",) if _expected_rejections(kind) else ()
            first = _run(kind, path, *extra)
            second = _run(kind, path, *extra)
            summaries[kind] = (first, second)
        yield summaries
        transaction.set_rollback(True)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path


# --- the clean samples ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ORDER)
def test_clean_sample_imports_completely_and_twice_changes_nothing(county, db, kind):
    first, second = county[kind]
    rejected = _expected_rejections(kind)
    assert first["status"] == "committed"
    assert _errors(first) == rejected
    assert first["errors"] == len(rejected)
    assert first["created"] == first["rows"] - len(rejected) > 0
    assert (second["created"], second["updated"], second["errors"]) == (0, 0, len(rejected))
    assert second["unchanged"] == first["rows"] - len(rejected)


@pytest.mark.parametrize("kind", ORDER)
def test_a_dry_run_of_an_imported_sample_predicts_no_change(county, db, kind):
    rejected = _expected_rejections(kind)
    summary = _run(kind, str(DATA / f"{kind}_clean.xlsx"), "--dry-run", fail=bool(rejected))
    assert summary["status"] == "validated"
    # The persons sheet still has the moved persons in their old villages, and the spouses widowed by the
    # deaths sheet still married: importing it again would change them back, and the dry run says so.
    changed = 0
    if kind == "persons":
        sheet = {r[0]: (r[6], MARITAL[r[9]]) for r in _sheet("persons")}
        registry = Person.objects.filter(id_number__in=sheet).values_list("id_number", "village_id", "marital_status")
        changed = sum(sheet[number] != (village, status) for number, village, status in registry)
        assert changed == Move.objects.count() + Person.objects.filter(marital_status="widowed").count()
    assert (summary["created"], summary["updated"], summary["errors"]) == (0, changed, len(rejected))
    assert summary["unchanged"] == summary["rows"] - len(rejected) - changed


def test_clean_sample_counts_in_the_registry(county, db):
    def valid(kind):
        return county[kind][0]["rows"] - len(_expected_rejections(kind))

    assert Marriage.objects.count() == valid("marriages")
    assert Birth.objects.count() == valid("births") == 2077
    # One child of the births sheet is not in the persons sheet (make_sheets cuts the last household): the
    # birth created it.
    assert Person.objects.count() == county["persons"][0]["rows"] + 1 == 5001
    assert ContraceptiveUse.objects.count() == valid("contraception") == 826
    assert Death.objects.count() == valid("deaths") == 25
    assert Move.objects.count() == valid("moves") == 60


def test_a_mothers_births_are_ranked_and_judged_by_the_policy_of_their_day(county, db):
    orders = {}
    for birth in Birth.objects.order_by("mother_id", "date", "id"):
        orders.setdefault(birth.mother_id, []).append(birth.birth_order)
    assert all(found == list(range(1, len(found) + 1)) for found in orders.values())
    assert max(len(found) for found in orders.values()) == 3
    # A rural mother's second child under the one-child rules of 1984-2015: in policy only when the first
    # child is a girl (migration 0002's rules).
    seconds = Birth.objects.filter(
        birth_order=2, date__range=(date(1984, 1, 1), date(2015, 12, 31)), mother__hukou_type="agricultural"
    )
    assert seconds.count() > 20
    for birth in seconds.order_by("date")[:20]:
        first = Birth.objects.get(mother_id=birth.mother_id, birth_order=1)
        assert birth.policy_status == ("in_policy" if first.sex == "F" else "out_of_policy")
    # Any third child after the three-child policy (2021-05-31) is in policy.
    assert not Birth.objects.filter(birth_order=3, date__gte=date(2021, 5, 31), policy_status="out_of_policy").exists()


def test_the_child_missing_from_the_persons_sheet_is_created_like_the_birth_form_does(county, db):
    births_children = {r[2] for r in _sheet("births")}
    (number,) = births_children - {r[0] for r in _sheet("persons")}
    child = Person.objects.get(id_number=number)
    birth = Birth.objects.select_related("mother").get(child=child)
    mother = birth.mother
    assert (child.hukou_type, child.village_id, child.household_id) == (
        mother.hukou_type,
        mother.village_id,
        mother.household_id,
    )
    assert (child.relation_to_head, child.marital_status) == ("子女", "unmarried")
    assert (child.birth_date, child.sex) == (birth.date, birth.sex)


def test_a_death_sets_the_date_and_closes_the_open_contraception(county, db):
    deaths = dict(_sheet("deaths"))
    methods = {r[0]: r for r in _sheet("contraception")}
    closed = [number for number in deaths if number in methods and not methods[number][3]]
    assert closed  # open in the contraception sheet, closed by the death
    for number in closed:
        person = Person.objects.get(id_number=number)
        assert person.death_date == person.deaths.get().date == deaths[number]
        assert [(u.end_date, u.closed_by_death) for u in person.contraceptive_uses.all()] == [(deaths[number], True)]
    assert not ContraceptiveUse.objects.filter(person__death_date__isnull=False, end_date__isnull=True).exists()


def test_a_moved_person_lives_at_the_destination(county, db):
    rejected = {r for r, _ in _expected_rejections("moves").items()}
    for i, (number, kind, on, origin, destination, certificate) in enumerate(_sheet("moves"), start=2):
        person = Person.objects.get(id_number=number)
        if i in rejected:
            assert not person.moves.exists() and person.village_id == origin
            continue
        move = person.moves.get()
        assert (kind, move.date, move.certificate_number) == ("流出", on, certificate)
        assert move.village_id == origin  # 流出 is located at its county-side end, the origin
        assert person.village_id == destination


def test_marriages_keep_the_marital_status(county, db):
    for wife, husband, _, on in _sheet("marriages")[:50]:
        if on > date.today():
            continue
        marriage = Marriage.objects.select_related("wife", "husband").get(
            wife__id_number=wife, husband__id_number=husband
        )
        assert (marriage.kind, marriage.date) == ("marriage", on)
        assert marriage.wife.marital_status == marriage.husband.marital_status == "married"


# --- bad rows ------------------------------------------------------------------------------------------
# Each sheet is imported by clerk_b (township B): first all-or-nothing (every bad row reported, nothing
# written), then the valid rows only, then once more (nothing changes).

B = TOWNSHIP_B[:9]
A = TOWNSHIP_A[:9]


def _in(township: str):
    return Person.objects.filter(village__code__startswith=township, death_date__isnull=True).order_by("id")


def _day(d: date) -> str:
    return d.isoformat()


def _import_as_clerk_b(kind: str, path: str, rows: int, expected: dict[int, tuple[str, str]]) -> dict:
    before = Person.objects.count(), Birth.objects.count(), Marriage.objects.count(), Move.objects.count()
    summary = _run(kind, path, "--user", "clerk_b", fail=True)
    assert (summary["status"], summary["rows"], summary["errors"]) == ("rejected", rows, len(expected))
    assert _errors(summary) == expected
    after = Person.objects.count(), Birth.objects.count(), Marriage.objects.count(), Move.objects.count()
    assert after == before  # all or nothing: nothing written
    summary = _run(kind, path, "--user", "clerk_b", "--valid-rows-only")
    assert (summary["status"], summary["created"], summary["updated"]) == ("committed", rows - len(expected), 0)
    again = _run(kind, path, "--user", "clerk_b", "--valid-rows-only")
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, rows - len(expected))
    return summary


def _out_of_scope_village() -> str:
    return f"区划代码{VILLAGE_A}（{Area.objects.get(code=VILLAGE_A).name}）不在您的管辖范围内"


def test_births_bad_rows(county, db, tmp_path):
    from django.db.models import Count

    # A mother whose birth of 2024-03-01 meets no plausibility rule (registry.plausibility): of an age to give
    # birth, never moved away, no birth in the 270 days before.
    mother = (
        _in(B)
        .filter(sex="F", birth_date__range=(date(1980, 1, 1), date(1995, 1, 1)), moves__isnull=True)
        .annotate(n=Count("births_given"))
        .filter(n__in=[1, 2])
        .exclude(births_given__date__gte=date(2023, 6, 1))
        .first()
    )
    husband = Marriage.objects.get(wife=mother).husband
    man = _in(B).filter(sex="M").first()
    outsider = _in(A).filter(sex="F", birth_date__lt=date(1995, 1, 1)).first()
    unknown = _unknown_id(date(1990, 1, 1), male=False)
    born = date(2024, 3, 1)
    rows = [
        [mother.id_number, husband.id_number, "", "测试婴", "男", _day(born), "", "1", "政策外", "", ""],
        [unknown, "", "", "甲", "女", _day(born), "", "", "", "", ""],
        [man.id_number, "", "", "乙", "女", _day(born), "", "", "", "", ""],
        [mother.id_number, "", "", "丙", "女", _day(mother.birth_date - timedelta(days=1)), "", "", "", "", ""],
        [mother.id_number, "", "", "测试婴", "男", _day(born), "", "", "", "", ""],
        [outsider.id_number, "", "", "丁", "女", _day(born), "", "", "", "", ""],
        [mother.id_number, "", "", "戊", "女", _day(born), VILLAGE_A, "", "", "", ""],
        [mother.id_number, "", "", "己", "女", _day(born), "", "", "", "", _day(born - timedelta(days=1))],
    ]
    path = _csv(
        tmp_path / "births.csv",
        ["母亲身份证号", "父亲身份证号", "婴儿身份证号", "婴儿姓名", "婴儿性别", "出生日期", "出生地区划代码",
         "孩次", "政策属性", "生育服务证号", "登记日期"],
        rows,
    )  # fmt: skip
    expected = {
        3: ("母亲身份证号", NOT_IN_SCOPE),
        4: ("母亲身份证号", f"母亲{man.name}的性别登记为男"),
        5: (
            "出生日期",
            f"出生日期{mother.birth_date - timedelta(days=1):%Y-%m-%d}早于母亲{mother.name}的出生日期"
            f"{mother.birth_date:%Y-%m-%d}",
        ),
        6: ("婴儿姓名", "与第2行重复（母亲、出生日期和婴儿姓名都相同）"),
        7: ("母亲身份证号", NOT_IN_SCOPE),  # the same words as for a number registered nowhere
        8: ("出生地区划代码", _out_of_scope_village()),
        9: ("登记日期", "登记日期不能早于出生日期"),
    }
    summary = _import_as_clerk_b("births", path, len(rows), expected)
    # The error report shows each refused row as the file has it, also those refused by the SQL checks.
    report = CalamineWorkbook.from_path(summary["error_report"]).get_sheet_by_index(0).to_python()
    assert {int(r[0]): r[1:-1] for r in report[3:]} == {row: rows[row - 2] for row in expected}
    order = mother.n + 1
    assert _warnings(summary) == [
        (2, "孩次", f"填报的孩次为1，按该母亲已登记的生育计算为{order}，已按计算结果登记"),
        (2, "政策属性", "填报的政策属性为政策外，按生育政策规则计算为政策内，已按计算结果登记"),
    ]
    birth = Birth.objects.select_related("child").get(mother=mother, date=born)
    assert (birth.birth_order, birth.birth_order_given, birth.policy_status) == (order, 1, "in_policy")
    assert (birth.father, birth.village_id, birth.entered_on) == (husband, mother.village_id, date.today())
    assert (birth.child.name, birth.child.id_number, birth.child.village_id) == ("测试婴", None, mother.village_id)


def test_a_birth_links_a_registered_child_and_keeps_its_key(county, db, tmp_path):
    birth = Birth.objects.select_related("mother", "child").filter(village__code__startswith=B).first()
    header = ["母亲身份证号", "婴儿身份证号", "婴儿姓名", "婴儿性别", "出生日期", "出生地区划代码", "登记日期"]
    sex = "男" if birth.sex == "M" else "女"
    row = [birth.mother.id_number, birth.child.id_number, birth.child.name, sex, _day(birth.date), "", ""]
    summary = _run("births", _csv(tmp_path / "same.csv", header, [row]), "--user", "clerk_b")
    assert (summary["created"], summary["updated"], summary["unchanged"]) == (0, 0, 1)
    wrong = [*row[:3], "女" if birth.sex == "M" else "男", *row[4:]]
    summary = _run("births", _csv(tmp_path / "wrong.csv", header, [wrong]), "--user", "clerk_b", fail=True)
    assert _errors(summary) == {2: ("婴儿性别", "性别与身份证号不一致（身份证号第17位表示" + sex + "）")}
    # A dry run says what a commit would do, warnings included, and writes nothing.
    twin = [birth.mother.id_number, "", "双胞胎", sex, _day(birth.date), "", "", "9"]
    path = _csv(tmp_path / "twin.csv", [*header, "孩次"], [twin])
    summary = _run("births", path, "--user", "clerk_b", "--dry-run")
    assert (summary["status"], summary["created"], summary["updated"]) == ("validated", 1, 0)
    order = Birth.objects.filter(mother=birth.mother, date__lte=birth.date).count() + 1
    assert _warnings(summary) == [(2, "孩次", f"填报的孩次为9，按该母亲已登记的生育计算为{order}，已按计算结果登记")]
    assert not Person.objects.filter(name="双胞胎").exists()
    later = [*row[:6], _day(birth.entered_on + timedelta(days=1))]
    summary = _run("births", _csv(tmp_path / "later.csv", header, [later]), "--user", "clerk_b")
    assert (summary["created"], summary["updated"]) == (0, 1)
    assert Birth.objects.get(pk=birth.pk).entered_on == birth.entered_on + timedelta(days=1)


def test_deaths_bad_rows(county, db, tmp_path):
    person = (
        _in(B)
        .filter(sex="F", contraceptive_uses__id__isnull=False, contraceptive_uses__end_date__isnull=True, moves=None)
        .first()
    )
    young = _in(B).exclude(pk=person.pk).filter(sex="M").first()
    mother = _in(B).filter(births_given__isnull=False).exclude(pk=person.pk).first()
    first_child = mother.births_given.order_by("date").first()
    outsider = _in(A).first()
    unknown = _unknown_id(date(1950, 5, 5), male=True)
    died = date.today() - timedelta(days=1)
    rows = [
        [person.id_number, _day(died)],
        [unknown, _day(died)],
        [young.id_number, _day(young.birth_date - timedelta(days=1))],
        [person.id_number, _day(died - timedelta(days=1))],
        [outsider.id_number, _day(died)],
        [mother.id_number, _day(first_child.date - timedelta(days=1))],
    ]
    path = _csv(tmp_path / "deaths.csv", ["身份证号", "死亡日期"], rows)
    before = young.birth_date - timedelta(days=1)
    expected = {
        3: ("身份证号", NOT_IN_SCOPE),
        4: ("死亡日期", f"死亡日期{before:%Y-%m-%d}早于{young.name}的出生日期{young.birth_date:%Y-%m-%d}"),
        5: ("身份证号", "身份证号与第2行重复"),
        6: ("身份证号", NOT_IN_SCOPE),
        7: (
            "死亡日期",
            f"该人员在{first_child.date - timedelta(days=1):%Y-%m-%d}之后还有出生登记记录，请核对死亡日期",
        ),
    }
    _import_as_clerk_b("deaths", path, len(rows), expected)
    person.refresh_from_db()
    death = person.deaths.get()
    assert (person.death_date, death.date, death.village_id) == (died, died, person.village_id)
    assert not person.contraceptive_uses.filter(end_date__isnull=True).exists()
    assert person.contraceptive_uses.order_by("start_date").last().end_date == died


def test_marriages_bad_rows(county, db, tmp_path):
    adults = _in(B).filter(marital_status="unmarried", birth_date__lt=date(2000, 1, 1))
    wife = adults.filter(sex="F").first()
    husband, other = adults.filter(sex="M")[:2]
    man = _in(B).filter(sex="M").exclude(pk__in=[husband.pk, other.pk]).first()
    outsider = _in(A).filter(sex="F", birth_date__lt=date(2000, 1, 1)).first()
    unknown = _unknown_id(date(1995, 2, 3), male=False)
    early = wife.birth_date - timedelta(days=1)
    rows = [
        [wife.id_number, husband.id_number, "结婚", "2025-05-01"],
        [unknown, husband.id_number, "结婚", "2025-05-01"],
        [man.id_number, husband.id_number, "结婚", "2025-05-01"],
        [wife.id_number, husband.id_number, "结婚", _day(early)],
        [wife.id_number, husband.id_number, "结婚", "2025-05-01"],
        [outsider.id_number, husband.id_number, "结婚", "2025-05-01"],
        [wife.id_number, other.id_number, "离婚", "2025-06-01"],
        [wife.id_number, husband.id_number, "离婚", "2025-08-01"],
        [wife.id_number, husband.id_number, "同居", "2025-08-01"],
    ]
    path = _csv(tmp_path / "marriages.csv", ["女方身份证号", "男方身份证号", "类型", "登记日期"], rows)
    expected = {
        3: ("女方身份证号", NOT_IN_SCOPE),
        4: ("女方身份证号", f"女方{man.name}的性别登记为男"),
        5: ("登记日期", f"登记日期{early:%Y-%m-%d}早于女方{wife.name}的出生日期{wife.birth_date:%Y-%m-%d}"),
        6: ("女方身份证号", "与第2行重复（女方、男方、类型和登记日期都相同）"),
        7: ("女方身份证号", NOT_IN_SCOPE),
        8: ("类型", "这两人在该日期前没有结婚登记，不能登记离婚"),
        10: ("类型", "类型“同居”无效，应为结婚、离婚"),
    }
    _import_as_clerk_b("marriages", path, len(rows), expected)
    wife.refresh_from_db()
    husband.refresh_from_db()
    other.refresh_from_db()
    assert (wife.marital_status, husband.marital_status, other.marital_status) == ("divorced", "divorced", "unmarried")
    assert list(Marriage.objects.filter(wife=wife).values_list("kind", "village_id")) == [
        ("marriage", wife.village_id),
        ("divorce", wife.village_id),
    ]


def test_contraception_bad_rows(county, db, tmp_path):
    open_use = (
        ContraceptiveUse.objects.select_related("person")
        .filter(person__village__code__startswith=B, person__death_date__isnull=True, end_date__isnull=True)
        .first()
    )
    woman = open_use.person
    man = _in(B).filter(sex="M").first()
    outsider = _in(A).filter(sex="F").first()
    unknown = _unknown_id(date(1985, 7, 7), male=False)
    start = open_use.start_date + timedelta(days=100)
    early = woman.birth_date - timedelta(days=1)
    rows = [
        [woman.id_number, "避孕套", _day(start), ""],
        [unknown, "避孕套", _day(start), ""],
        [man.id_number, "宫内节育器", _day(start), ""],
        [woman.id_number, "男性绝育", _day(start), ""],
        [woman.id_number, "口服避孕药", _day(early), ""],
        [woman.id_number, "避孕套", _day(start), "2020-01-01" if start > date(2020, 1, 1) else ""],
        [outsider.id_number, "避孕套", _day(start), ""],
        [woman.id_number, "注射", _day(start), _day(start - timedelta(days=1))],
    ]
    path = _csv(tmp_path / "contraception.csv", ["身份证号", "措施", "开始日期", "结束日期"], rows)
    expected = {
        3: ("身份证号", NOT_IN_SCOPE),
        4: ("措施", "“宫内节育器”只适用于女性"),
        5: ("措施", "“男性绝育”只适用于男性"),
        6: ("开始日期", f"开始日期{early:%Y-%m-%d}早于{woman.name}的出生日期{woman.birth_date:%Y-%m-%d}"),
        7: ("身份证号", "与第2行重复（身份证号、措施和开始日期都相同）"),
        8: ("身份证号", NOT_IN_SCOPE),
        9: ("结束日期", "结束日期不能早于开始日期"),
    }
    if start > date(2020, 1, 1):
        expected[7] = ("结束日期", "结束日期不能早于开始日期")
    _import_as_clerk_b("contraception", path, len(rows), expected)
    uses = list(woman.contraceptive_uses.order_by("start_date").values_list("method", "start_date", "end_date"))
    assert uses == [(open_use.method, open_use.start_date, start), ("condom", start, None)]


def test_moves_bad_rows(county, db, tmp_path):
    leaving, arriving = _in(B).filter(moves=None)[:2]
    destination = Area.objects.filter(code__startswith=B, level="village").exclude(code=arriving.village_id).first()
    unknown = _unknown_id(date(1980, 8, 8), male=True)
    early = leaving.birth_date - timedelta(days=1)
    on = "2026-01-10"
    rows = [
        [leaving.id_number, "迁出", on, leaving.village_id, "110105001001", "HY000001"],
        [arriving.id_number, "流入", on, "120101001001", destination.code, ""],
        [unknown, "流入", on, "120101001001", destination.code, ""],
        [leaving.id_number, "流出", _day(early), leaving.village_id, "110105001001", ""],
        [leaving.id_number, "迁出", on, leaving.village_id, "110105001002", ""],
        [arriving.id_number, "迁入", on, "120101001001", VILLAGE_A, ""],
        [arriving.id_number, "迁出", on, "110105001001", "120101001001", ""],
        [arriving.id_number, "流出", on, destination.code, destination.code, ""],
    ]
    path = _csv(tmp_path / "moves.csv", ["身份证号", "类型", "日期", "原区划代码", "现区划代码", "婚育证明号"], rows)
    expected = {
        4: ("身份证号", NOT_IN_SCOPE),
        5: ("日期", f"日期{early:%Y-%m-%d}早于{leaving.name}的出生日期{leaving.birth_date:%Y-%m-%d}"),
        6: ("身份证号", "与第2行重复（身份证号、类型和日期都相同）"),
        7: ("现区划代码", _out_of_scope_village()),
        8: ("原区划代码", "区划代码“110105001001”不是本县的村（居）"),
        9: ("现区划代码", "原区划代码与现区划代码相同"),
    }
    _import_as_clerk_b("moves", path, len(rows), expected)
    leaving_village = leaving.village_id
    leaving.refresh_from_db()
    arriving.refresh_from_db()
    assert leaving.village_id == leaving_village  # moved out of the county: the last county village stays
    assert leaving.moves.get().village_id == leaving_village
    assert arriving.village_id == destination.code
    assert arriving.moves.get().village_id == destination.code
