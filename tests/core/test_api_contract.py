"""The API contract: 4xx responses documented on every operation, unique component names, strict paging
parameters, long upload names, uploads purged after their retention."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from apps.imports import services as import_services
from apps.imports.models import ImportJob, ImportMode, ImportStatus
from tests.conftest import COUNTY


@pytest.fixture
def schema(client, county_viewer) -> dict:
    client.force_login(county_viewer)
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def test_every_operation_documents_its_4xx_responses(schema):
    operations = [
        (method.upper(), path, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    assert len(operations) >= 60
    for method, path, op in operations:
        codes = set(op["responses"])
        assert {"401", "403"} <= codes, (method, path)
        if "{" in path:
            assert "404" in codes, (method, path)
        if method in {"POST", "PUT", "PATCH"} or any(p["in"] == "query" for p in op.get("parameters", [])):
            assert "400" in codes, (method, path)
    assert schema["components"]["schemas"]["ErrorDetail"]["required"] == ["detail"]


def test_component_names_are_unique_per_serializer(schema):
    components = schema["components"]["schemas"]
    # The fees payment (缴款) and the subsidy payment (发放) are two components.
    assert "Payment" in components and "SubsidyPayment" in components
    assert "payee_name" in components["SubsidyPayment"]["properties"]
    assert "payee_name" not in components["Payment"]["properties"]
    payments = schema["paths"]["/api/v1/subsidies/batches/{id}/payments/"]["get"]["responses"]["200"]
    assert "SubsidyPayment" in json.dumps(payments)


@pytest.mark.parametrize("value", ["abc", "0", "-1", "1.5", "１０"])
def test_a_malformed_page_size_is_a_400(api_client, county_viewer, value):
    api_client.force_authenticate(county_viewer)
    response = api_client.get("/api/v1/areas/", {"page_size": value})
    assert response.status_code == 400
    assert "page_size" in response.json()


def test_a_valid_page_size_is_used_and_capped(api_client, county_viewer):
    api_client.force_authenticate(county_viewer)
    assert len(api_client.get("/api/v1/areas/", {"page_size": "3"}).json()["results"]) == 3
    capped = api_client.get("/api/v1/areas/", {"page_size": "100000"}).json()
    assert len(capped["results"]) == min(capped["count"], 500)
    assert api_client.get("/api/v1/areas/", {"page_size": ""}).status_code == 200


HEADER = "身份证号,姓名,性别,出生日期,户籍性质,现住址区划代码"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _upload(admin, name: str) -> ImportJob:
    content = (HEADER + "\n").encode()
    return import_services.import_job_create(
        kind="persons", fileobj=SimpleUploadedFile(name, content), file_name=name, user=admin,
        mode=ImportMode.ALL_OR_NOTHING, dry_run=True,
    )  # fmt: skip


def test_a_long_upload_name_is_stored_shortened_with_its_extension(make_user, media):
    admin = make_user("xian", COUNTY, "county_admin")
    job = _upload(admin, "二〇二六年第一季度" * 40 + "人口信息.xlsx.csv")
    assert len(job.file_name) <= 200 and job.file_name.endswith("….csv")
    # The stored name still says what the file is: confirming the dry run re-reads it by that name.
    from apps.core.files import shorten_file_name

    assert shorten_file_name("短.xlsx", 200) == "短.xlsx"
    assert shorten_file_name("x" * 300, 200) == "x" * 199 + "…"


def test_uploads_of_old_finished_jobs_are_purged(make_user, media, settings, capsys):
    admin = make_user("xian", COUNTY, "county_admin")
    old, recent, running = (_upload(admin, f"{n}.csv") for n in ("old", "recent", "running"))
    (media / "report.xlsx").write_bytes(b"x")
    ImportJob.objects.filter(pk=old.pk).update(
        status=ImportStatus.REJECTED, finished_at=timezone.now() - timedelta(days=91), error_report="report.xlsx"
    )
    ImportJob.objects.filter(pk=recent.pk).update(status=ImportStatus.VALIDATED, finished_at=timezone.now())
    ImportJob.objects.filter(pk=running.pk).update(status=ImportStatus.RUNNING)
    paths = {j.pk: media / j.file.name for j in (old, recent, running)}
    assert all(p.exists() for p in paths.values())

    settings.IMPORT_UPLOAD_RETENTION_DAYS = 90
    call_command("purge_import_uploads")
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {"ok": True, "purged": 1, "days": 90}
    assert not paths[old.pk].exists() and not (media / "report.xlsx").exists()
    assert paths[recent.pk].exists() and paths[running.pk].exists()
    old.refresh_from_db()
    assert not old.file and not old.error_report and old.file_name == "old.csv"  # the job itself stays
    call_command("purge_import_uploads")  # idempotent
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["purged"] == 0
    # A dry run whose upload is gone cannot be confirmed any more, with a clear message.
    ImportJob.objects.filter(pk=old.pk).update(status=ImportStatus.VALIDATED, rows=1, rejected=0)
    old.refresh_from_db()
    from apps.core.errors import RuleViolation

    with pytest.raises(RuleViolation, match="已超过保存期限"):
        import_services.import_job_commit(job=old, user=admin, mode=ImportMode.ALL_OR_NOTHING)


def test_the_purge_runs_nightly_from_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["imports-purge-uploads"]
    assert entry["task"] == "imports.purge_uploads"


def test_an_api_path_that_matches_no_route_answers_json(api_client, county_viewer, client):
    api_client.force_authenticate(county_viewer)
    response = api_client.get("/api/v1/persons/%C2%90x/")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "未找到。"}
    assert client.get("/no-such-page/").status_code == 404


def test_blank_choices_of_read_only_fields_are_documented(schema):
    employment = schema["components"]["schemas"]["Person"]["properties"]["employment_type"]
    assert {"$ref": "#/components/schemas/BlankEnum"} in employment["oneOf"]
