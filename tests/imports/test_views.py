"""The import pages through the Django test client: who may import, uploads and their Chinese messages, the job
page in each state, the error report, confirming a dry run, scoping (404) — plus the read-only API and admin.

Jobs queued by a page are run here by calling the service the Celery task calls (the task itself, in a real
worker, is tested in test_tasks.py); the queued callbacks are captured, not sent.
"""

from __future__ import annotations

import io
import itertools
import json
import re
from datetime import date, timedelta

import openpyxl
import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.core.idnumbers import check_digit
from apps.imports import services
from apps.imports.models import ImportJob, ImportMode, ImportStatus
from apps.registry.models import Person
from tests.conftest import COUNTY, SHARED, TOWNSHIP_B, VILLAGE_A, VILLAGE_B

DATA = SHARED / "data"
MESSY = DATA / "persons_messy.xlsx"
HEADER = "身份证号,姓名,性别,出生日期,户籍性质,现住址区划代码"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_serial = itertools.count(1)


def url(name, *args):
    return reverse(f"imports:{name}", args=args)


def id_number(born: date, sex: str) -> str:
    n = next(_serial)
    first17 = f"131025{born:%Y%m%d}{n % 100:02d}{(n % 5) * 2 + (1 if sex == 'M' else 0)}"
    return first17 + check_digit(first17)


def person_row(name: str, village: str = VILLAGE_A, born: date = date(1980, 1, 2)) -> str:
    return f"{id_number(born, 'M')},{name},男,{born:%Y-%m-%d},农业,{village}"


def csv_file(*rows: str, name: str = "人口.csv", header: str = HEADER) -> SimpleUploadedFile:
    text = "\n".join([header, *rows]) + "\n"
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def messy_upload() -> SimpleUploadedFile:
    return SimpleUploadedFile(MESSY.name, MESSY.read_bytes(), content_type=XLSX)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def people(areas, make_user, township_clerk, county_viewer):
    admin = make_user("xian_admin", COUNTY, "county_admin", full_name="县管理员")
    clerk_b = make_user("clerk_b", TOWNSHIP_B, "township_clerk", full_name="王村镇录入员")
    village_clerk = make_user("cun", VILLAGE_A, "village_clerk")
    return {"admin": admin, "clerk_a": township_clerk, "clerk_b": clerk_b, "viewer": county_viewer,
            "village_clerk": village_clerk}  # fmt: skip


def task_sends(callbacks) -> list:
    """The queued callbacks that send a Celery task (not the page cache's version bumps)."""
    return [c for c in callbacks if c.__module__ != "apps.core.pagecache"]


def upload(client, django_capture_on_commit_callbacks, *, file, kind="persons", mode=ImportMode.ALL_OR_NOTHING):
    """POSTs the upload form; returns the response and the callbacks queued on commit (not run)."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url("create"), {"kind": kind, "mode": mode, "file": file})
    return response, task_sends(callbacks)


def run(job_or_pk) -> ImportJob:
    """What the worker does for a queued job."""
    pk = getattr(job_or_pk, "pk", job_or_pk)
    return services.import_job_run_queued(job_id=pk)


@pytest.fixture
def messy_dry_run(client, people, media, django_capture_on_commit_callbacks):
    """The county admin's dry run of the team's messy persons sheet, finished."""
    client.force_login(people["admin"])
    response, _ = upload(client, django_capture_on_commit_callbacks, file=messy_upload())
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == url("detail", job.pk)
    return run(job)


# --- who may import --------------------------------------------------------------------------------


def test_only_county_admins_and_township_clerks_may_open_the_import_pages(client, people, media):
    job = services.import_job_create(
        kind="persons", fileobj=csv_file(person_row("甲")), file_name="a.csv", user=people["admin"],
        mode=ImportMode.ALL_OR_NOTHING, dry_run=True,
    )  # fmt: skip
    for role in ("viewer", "village_clerk"):
        client.force_login(people[role])
        for path in (url("list"), url("create"), url("detail", job.pk), url("progress", job.pk)):
            assert client.get(path).status_code == 403, (role, path)
        assert client.post(url("create"), {"kind": "persons", "file": csv_file(person_row("乙"))}).status_code == 403
        assert client.get(url("error_report", job.pk)).status_code == 403
    assert ImportJob.objects.count() == 1
    # The navigation offers the entry only to the roles that import.
    assert "批量导入" not in client.get("/").content.decode()
    client.force_login(people["clerk_a"])
    assert client.get(url("list")).status_code == 200
    assert 'href="/imports/"' in client.get("/").content.decode()


def test_anonymous_users_are_sent_to_the_login_page(client, people):
    response = client.get(url("list"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# --- upload ----------------------------------------------------------------------------------------


def test_upload_page_offers_the_kinds_modes_and_columns(client, people):
    client.force_login(people["clerk_a"])
    page = client.get(url("create")).content.decode()
    assert '<option value="persons" selected>人口信息</option>' in page
    assert "全部正确才导入（有任何错误则不导入）" in page and "只导入正确的行" in page
    assert re.search(r'<input type="radio" name="mode" value="all_or_nothing"[^>]* checked>', page)
    assert 'accept=".xlsx,.xls,.csv"' in page
    assert "身份证号*、姓名*、性别*、出生日期*、民族、户籍性质*" in page


def test_upload_validation_messages_are_chinese_and_nothing_is_created(
    client, people, media, django_capture_on_commit_callbacks
):
    client.force_login(people["clerk_a"])
    cases = [
        ({"kind": "persons", "mode": "all_or_nothing"}, "file", "请选择要上传的文件"),
        ({"kind": "persons", "mode": "all_or_nothing", "file": SimpleUploadedFile("空.csv", b"")}, "file",
         "上传的文件是空的"),
        ({"kind": "persons", "mode": "all_or_nothing", "file": SimpleUploadedFile("人口.txt", b"abc")}, "file",
         "只能导入 .xlsx、.xls 或 .csv 文件"),
        ({"kind": "pets", "mode": "all_or_nothing", "file": csv_file(person_row("甲"))}, "kind",
         "选择一个有效的选项"),
        ({"kind": "persons", "mode": "maybe", "file": csv_file(person_row("甲"))}, "mode", "选择一个有效的选项"),
    ]  # fmt: skip
    for data, field, message in cases:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = client.post(url("create"), data)
        assert response.status_code == 200
        errors = response.context["form"].errors
        assert list(errors) == [field], data
        assert errors[field][0].startswith(message), errors
        assert f'data-testid="error-{field}">{message}' in response.content.decode()
        assert task_sends(callbacks) == []
    assert ImportJob.objects.count() == 0


def test_upload_starts_a_dry_run_and_queues_it_after_commit(client, people, media, django_capture_on_commit_callbacks):
    client.force_login(people["clerk_a"])
    response, callbacks = upload(
        client, django_capture_on_commit_callbacks, file=csv_file(person_row("张三")), mode=ImportMode.VALID_ROWS
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == url("detail", job.pk)
    assert (job.kind, job.mode, job.dry_run, job.status) == ("persons", "valid_rows", True, "pending")
    assert (job.created_by, job.area_id, job.file_name) == (people["clerk_a"], "131025100000", "人口.csv")
    assert len(callbacks) == 1  # the Celery task, sent once the job row is committed

    page = client.get(response["Location"]).content.decode()
    assert "已上传“人口.csv”，正在试导入（只校验，不写入）" in page
    assert "试导入：人口信息 · 人口.csv" in page
    assert "排队等待处理…" in page
    assert f'hx-get="{url("progress", job.pk)}" hx-trigger="every 1s"' in page
    assert Person.objects.count() == 0


# --- the job page in each state ----------------------------------------------------------------------


def test_running_job_shows_the_rows_read_and_keeps_polling(client, people, media):
    client.force_login(people["admin"])
    job = services.import_job_create(
        kind="persons", fileobj=csv_file(person_row("甲")), file_name="大表.csv", user=people["admin"],
        mode=ImportMode.ALL_OR_NOTHING, dry_run=True,
    )  # fmt: skip
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING)
    page = client.get(url("progress", job.pk)).content.decode()
    assert "正在读取文件…" in page and "aria-valuenow" not in page
    cache.set(services.progress_key(job.pk), 5000)
    cache.set(services.progress_total_key(job.pk), 20000)
    try:
        response = client.get(url("progress", job.pk))
    finally:
        cache.delete_many([services.progress_key(job.pk), services.progress_total_key(job.pk)])
    page = response.content.decode()
    assert response.templates[0].name == "imports/_job_status.html" and "<html" not in page
    assert "已读取 5000 行，共约 20000 行" in page
    assert 'aria-valuenow="25"' in page and "width: 25%" in page
    assert 'hx-trigger="every 1s"' in page
    assert "重新运行" not in page  # not stalled
    response = client.post(url("commit", job.pk), {"mode": ImportMode.VALID_ROWS})
    assert response.status_code == 400
    assert 'data-testid="commit-error">只有校验完成的试导入才能确认导入' in response.content.decode()


def test_finished_dry_run_shows_counts_errors_warnings_and_stops_polling(client, people, messy_dry_run):
    job = messy_dry_run
    assert (job.status, job.rows, job.created, job.rejected) == ("validated", 261, 250, 11)
    response = client.get(url("progress", job.pk))
    page = response.content.decode()
    assert "hx-trigger" not in page  # finished: the browser stops polling
    page = client.get(url("detail", job.pk)).content.decode()
    assert 'data-testid="job-status">已校验（未导入）</span>' in page
    assert "试导入结果（只校验，没有写入任何数据）" in page
    counts = {key: _testid_text(page, f"count-{key}") for key in ("rows", "created", "updated", "unchanged",
                                                                    "rejected")}  # fmt: skip
    assert counts == {"rows": "261", "created": "250", "updated": "0", "unchanged": "0", "rejected": "11"}
    assert page.count('data-testid="error-row"') == 11
    assert '<td class="text-end">203</td><td>身份证号</td><td>身份证号被Excel' in page
    assert "<td>身份证号与第3行重复</td>" in page
    assert "<td>姓名为空</td>" in page
    assert f'href="{url("error_report", job.pk)}"' in page
    assert "下载错误报告" in page
    # Confirming: the rows with errors are stated, and the user chooses the mode.
    assert "校验发现 11 行错误" in page and "导入其余 250 行" in page
    assert f'action="{url("commit", job.pk)}"' in page
    assert "确认导入" in page
    assert Person.objects.count() == 0
    warnings = [e for e in job.first_errors if e.get("warning")]
    assert page.count('data-testid="warning-row"') == len(warnings)


def test_a_clean_dry_run_offers_to_import_all_rows(client, people, media, django_capture_on_commit_callbacks):
    client.force_login(people["clerk_a"])
    upload(client, django_capture_on_commit_callbacks, file=csv_file(person_row("甲"), person_row("乙")))
    job = run(ImportJob.objects.get())
    page = client.get(url("detail", job.pk)).content.decode()
    assert job.message == "校验完成，尚未导入"
    assert "全部 2 行校验通过。" in page
    assert '<input type="hidden" name="mode" value="all_or_nothing">' in page
    assert "下载错误报告" not in page and 'data-testid="error-row"' not in page
    assert client.get(url("error_report", job.pk)).status_code == 404


def test_a_file_without_the_headers_fails_with_its_message(client, people, media, django_capture_on_commit_callbacks):
    client.force_login(people["clerk_a"])
    upload(client, django_capture_on_commit_callbacks, file=csv_file("1,2,3", header="编号,名字,备注"))
    job = run(ImportJob.objects.get())
    assert job.status == "failed"
    page = client.get(url("detail", job.pk)).content.decode()
    assert 'data-testid="job-status">处理失败</span>' in page
    assert "前10行中找不到表头，缺少必需的列：身份证号、姓名、性别、出生日期、户籍性质、现住址区划代码" in page
    assert "确认导入" not in page and 'data-testid="count-rows"' not in page


def test_a_stalled_job_can_be_queued_again(client, people, media, django_capture_on_commit_callbacks):
    client.force_login(people["clerk_a"])
    upload(client, django_capture_on_commit_callbacks, file=csv_file(person_row("甲")))
    job = ImportJob.objects.get()
    assert "重新运行" not in client.get(url("detail", job.pk)).content.decode()
    ImportJob.objects.filter(pk=job.pk).update(created_at=job.created_at - timedelta(minutes=10))
    assert "重新运行" in client.get(url("detail", job.pk)).content.decode()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url("requeue", job.pk), follow=True)
    assert len(task_sends(callbacks)) == 1 and "已重新排队运行" in response.content.decode()
    run(job)
    response = client.post(url("requeue", job.pk), follow=True)
    assert "该导入任务已经完成，不需要重新运行" in response.content.decode()


# --- error report ------------------------------------------------------------------------------------


def test_error_report_is_the_xlsx_of_the_failed_rows_with_an_error_column(client, messy_dry_run):
    job = messy_dry_run
    response = client.get(url("error_report", job.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"].startswith("attachment;")
    assert f"{job.pk}.xlsx" in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == f"人口信息导入错误报告：{job.file_name}" and rows[1][0].startswith("编制单位：")
    rows = rows[2:]  # the header and the failed rows, under the title lines
    assert rows[0][0] == "原行号" and rows[0][1] == "身份证号" and rows[0][-1] == "错误说明"
    expected = json.loads((DATA / "persons_messy.expected.json").read_text())
    assert sorted(r[0] for r in rows[1:]) == sorted(e["row"] + 2 for e in expected if not e["accept"])
    by_row = {r[0]: r for r in rows[1:]}
    assert by_row[203][-1].startswith("身份证号：身份证号被Excel")
    assert by_row[211][-1] == "姓名：姓名为空"
    # The report is never reachable as a media file.
    assert job.error_report.url not in client.get(url("detail", job.pk)).content.decode()


# --- confirming a dry run ------------------------------------------------------------------------------


def test_confirming_all_or_nothing_with_errors_is_refused_beside_the_mode(client, messy_dry_run):
    job = messy_dry_run
    response = client.post(url("commit", job.pk), {"mode": ImportMode.ALL_OR_NOTHING})
    assert response.status_code == 400
    page = response.content.decode()
    assert ('data-testid="error-mode">校验发现11行错误，按“全部正确才导入”的方式不会导入任何数据；'
            "请改正后重新上传，或选择“只导入正确的行”") in page  # fmt: skip
    assert ImportJob.objects.count() == 1


def test_confirming_valid_rows_creates_the_real_import_of_the_same_file(
    client, people, messy_dry_run, django_capture_on_commit_callbacks
):
    dry = messy_dry_run
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url("commit", dry.pk), {"mode": ImportMode.VALID_ROWS})
    real = ImportJob.objects.exclude(pk=dry.pk).get()
    assert response.status_code == 302 and response["Location"] == url("detail", real.pk)
    assert len(task_sends(callbacks)) == 1
    assert (real.kind, real.mode, real.dry_run, real.status) == ("persons", "valid_rows", False, "pending")
    assert (real.file_sha256, real.file_name, real.created_by) == (dry.file_sha256, dry.file_name, people["admin"])
    assert real.file.name != dry.file.name and real.file.read() == MESSY.read_bytes()

    real = run(real)
    assert (real.status, real.created, real.rejected) == ("committed", 250, 11)
    assert Person.objects.count() == 250
    page = client.get(url("detail", real.pk)).content.decode()
    assert 'data-testid="job-status">已导入</span>' in page
    assert "已导入：新增250行，修改0行，未变0行" in page
    assert _testid_text(page, "count-created") == "250" and _testid_text(page, "count-rejected") == "11"
    assert "确认导入" not in page  # a real import is not confirmed again
    again = client.post(url("commit", real.pk), {"mode": ImportMode.VALID_ROWS})
    assert again.status_code == 400 and "只有校验完成的试导入才能确认导入" in again.content.decode()


def test_a_dry_run_with_no_valid_row_cannot_be_confirmed(client, people, media, django_capture_on_commit_callbacks):
    client.force_login(people["admin"])
    upload(client, django_capture_on_commit_callbacks, file=csv_file(person_row("甲", village="131025999999")))
    job = run(ImportJob.objects.get())
    assert (job.status, job.rejected) == ("validated", 1)
    page = client.get(url("detail", job.pk)).content.decode()
    assert "确认导入" not in page
    response = client.post(url("commit", job.pk), {"mode": ImportMode.VALID_ROWS})
    assert 'data-testid="commit-error">没有正确的行可以导入；请改正错误后重新上传' in response.content.decode()
    assert ImportJob.objects.count() == 1


# --- scoping and the list --------------------------------------------------------------------------------


def test_jobs_outside_the_users_area_are_404(client, people, media, django_capture_on_commit_callbacks):
    client.force_login(people["clerk_a"])
    upload(client, django_capture_on_commit_callbacks, file=csv_file(person_row("甲", village="131025999999")))
    job_a = run(ImportJob.objects.get())
    client.force_login(people["admin"])
    upload(client, django_capture_on_commit_callbacks, file=csv_file(person_row("乙", village=VILLAGE_B)))
    county_job = run(ImportJob.objects.exclude(pk=job_a.pk).get())

    client.force_login(people["clerk_b"])
    for job in (job_a, county_job):
        for name in ("detail", "progress", "error_report"):
            assert client.get(url(name, job.pk)).status_code == 404, (name, job)
        for name in ("commit", "requeue"):
            assert client.post(url(name, job.pk), {"mode": "valid_rows"}).status_code == 404, (name, job)
    assert ImportJob.objects.count() == 2
    assert "jobs-empty" in client.get(url("list")).content.decode()

    # The county admin sees the township's job; the township clerk not the county's.
    client.force_login(people["admin"])
    assert client.get(url("detail", job_a.pk)).status_code == 200
    client.force_login(people["clerk_a"])
    assert client.get(url("detail", county_job.pk)).status_code == 404
    assert client.get(url("error_report", job_a.pk)).status_code == 200


def test_list_shows_visible_jobs_newest_first_paginated(
    client, people, media, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    client.force_login(people["clerk_a"])
    upload(client, django_capture_on_commit_callbacks, file=csv_file(person_row("甲"), name="第一.csv"))
    run(ImportJob.objects.get())
    for i in range(50):
        upload(client, django_capture_on_commit_callbacks, file=csv_file(person_row(f"乙{i}"), name=f"表{i}.csv"))
    client.force_login(people["admin"])
    upload(client, django_capture_on_commit_callbacks, file=csv_file(person_row("丙"), name="县里的.csv"))

    client.force_login(people["clerk_a"])
    with django_assert_max_num_queries(6):
        page = client.get(url("list")).content.decode()
    assert page.count('data-testid="job-row"') == 50
    assert "第 1 / 2 页，共 51 条" in page
    assert "县里的.csv</a>" not in page
    assert page.index("表49.csv</a>") < page.index("表48.csv</a>")
    second = client.get(url("list"), {"page": 2}).content.decode()
    assert second.count('data-testid="job-row"') == 1
    row = second.split('data-testid="job-row"')[1]
    assert "第一.csv" in row and "试导入" in row and "已校验（未导入）" in row
    assert '<td class="text-end">1</td><td class="text-end">1</td>' in row  # 1 row, 1 new
    assert "平舒镇录入员 · 平舒镇" in row
    assert 'data-testid="import-upload"' in page


# --- API and admin ---------------------------------------------------------------------------------------


def test_api_lists_and_details_the_users_visible_jobs(api_client, people, messy_dry_run):
    job = messy_dry_run
    api_client.force_authenticate(people["admin"])
    listing = api_client.get("/api/v1/imports/").json()
    assert listing["count"] == 1
    item = listing["results"][0]
    assert (item["id"], item["kind"], item["status"], item["rows"], item["rejected"]) == (
        job.pk, "persons", "validated", 261, 11
    )  # fmt: skip
    assert item["error_report_url"] == f"http://testserver/imports/{job.pk}/errors.xlsx"
    assert "first_errors" not in item
    detail = api_client.get(f"/api/v1/imports/{job.pk}/").json()
    assert {"row": 211, "column": "姓名", "message": "姓名为空"} in detail["first_errors"]
    assert api_client.get("/api/v1/imports/", {"status": "committed"}).json()["count"] == 0

    api_client.force_authenticate(people["clerk_b"])
    assert api_client.get(f"/api/v1/imports/{job.pk}/").status_code == 404
    assert api_client.get("/api/v1/imports/").json()["count"] == 0
    api_client.force_authenticate(people["viewer"])
    assert api_client.get("/api/v1/imports/").status_code == 403
    api_client.force_authenticate(people["admin"])
    assert api_client.post("/api/v1/imports/", {}).status_code == 405


def test_admin_lists_jobs_read_only(client, people, messy_dry_run):
    root = people["admin"]
    root.is_staff = root.is_superuser = True
    root.save()
    client.force_login(root)
    page = client.get("/admin/imports/importjob/").content.decode()
    assert "persons_messy.xlsx" in page
    assert client.get(f"/admin/imports/importjob/{messy_dry_run.pk}/change/").status_code == 200
    assert client.get("/admin/imports/importjob/add/").status_code == 403


def _testid_text(page: str, testid: str) -> str:
    return page.split(f'data-testid="{testid}">', 1)[1].split("<", 1)[0]
