"""A county admin imports the team's messy persons sheet in a real browser: the dry run (run by a real Celery
worker on the test database) shows the rejected rows with Chinese messages, the error report downloads with
those rows, and confirming "只导入正确的行" imports the other 250."""

import json

import openpyxl
import pytest
from playwright.sync_api import expect

from apps.accounts.services import user_create
from apps.areas.models import Area
from apps.areas.services import areas_load_csv
from apps.imports.models import ImportJob
from apps.registry.models import Person
from tests.conftest import AREAS_CSV, COUNTY, PASSWORD, SHARED

MESSY = SHARED / "data" / "persons_messy.xlsx"
EXPECTED = json.loads((SHARED / "data" / "persons_messy.expected.json").read_text())
HEADER_ROW = 2  # the sheet has a title row above its header
WORKER_TIMEOUT = 60_000


@pytest.fixture
def county_admin(transactional_db, celery_worker, shared_media):
    areas_load_csv(text=AREAS_CSV.read_text(encoding="utf-8"))
    return user_create(
        username="xian_admin", password=PASSWORD, area=Area.objects.get(code=COUNTY), roles=["county_admin"],
        full_name="县管理员",
    )  # fmt: skip


def test_admin_uploads_the_messy_sheet_reads_the_errors_downloads_the_report_and_imports_the_valid_rows(
    page, county_admin, tmp_path
):
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill("xian_admin")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("link", name="批量导入").click()
    expect(page.get_by_test_id("jobs-empty")).to_be_visible()
    page.get_by_role("link", name="上传文件").click()

    expect(page.get_by_label("导入类型")).to_have_value("persons")
    expect(page.get_by_label("全部正确才导入（有任何错误则不导入）")).to_be_checked()
    page.get_by_label("文件").set_input_files(str(MESSY))
    page.get_by_role("button", name="上传并试导入").click()

    # The dry run: the progress part polls until the worker has finished, then shows the result.
    expect(page.get_by_test_id("job-title")).to_have_text("试导入：人口信息 · persons_messy.xlsx")
    expect(page.get_by_test_id("job-status")).to_have_text("已校验（未导入）", timeout=WORKER_TIMEOUT)
    expect(page.get_by_test_id("count-rows")).to_have_text("261")
    expect(page.get_by_test_id("count-created")).to_have_text("250")
    expect(page.get_by_test_id("count-rejected")).to_have_text("11")
    rejected = sorted(e["row"] + HEADER_ROW for e in EXPECTED if not e["accept"])
    errors = page.get_by_test_id("error-row")
    expect(errors).to_have_count(11)
    expect(errors.locator("td:first-child")).to_have_text([str(r) for r in rejected])
    excel_row = errors.filter(has=page.locator("td:first-child", has_text="203"))
    expect(excel_row).to_contain_text("身份证号")
    expect(excel_row).to_contain_text("身份证号被Excel")
    expect(errors.filter(has_text="身份证号与第3行重复")).to_have_count(1)
    assert Person.objects.count() == 0

    # The error report: the failed rows as they were, with an error column.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载错误报告").click()
    report = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(report)
    assert report.suffix == ".xlsx"
    rows = list(openpyxl.load_workbook(report).active.iter_rows(values_only=True))[2:]  # under the title lines
    assert rows[0][0] == "原行号" and rows[0][-1] == "错误说明"
    assert [r[0] for r in rows[1:]] == rejected
    by_row = {r[0]: r for r in rows[1:]}
    assert "身份证号被Excel" in by_row[203][-1]

    # All-or-nothing would import nothing: choose the valid rows and confirm.
    page.get_by_label("只导入正确的行").check()
    page.get_by_role("button", name="确认导入").click()
    expect(page.get_by_test_id("job-title")).to_have_text("导入：人口信息 · persons_messy.xlsx")
    expect(page.get_by_test_id("job-status")).to_have_text("已导入", timeout=WORKER_TIMEOUT)
    expect(page.get_by_test_id("job-message")).to_have_text("已导入：新增250行，修改0行，未变0行")
    expect(page.get_by_test_id("count-created")).to_have_text("250")
    expect(page.get_by_test_id("count-rejected")).to_have_text("11")
    assert Person.objects.count() == 250

    # Both jobs are listed, newest first.
    page.get_by_role("link", name="批量导入").first.click()
    jobs = page.get_by_test_id("job-row")
    expect(jobs).to_have_count(2)
    expect(jobs.first).to_contain_text("正式导入")
    expect(jobs.last).to_contain_text("试导入")
    assert ImportJob.objects.filter(dry_run=False, status="committed").count() == 1
