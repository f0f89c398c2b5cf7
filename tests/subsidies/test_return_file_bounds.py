"""Hostile bank return files (tests/hostile_sheets.py) posted to a batch's 回盘 page: each is refused with a clear
message, nothing about the batch changes, and the web process (this one) neither dies nor passes 1 GB."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.subsidies.models import Payment
from apps.subsidies.services import batch_create
from tests.hostile_sheets import HOSTILE, REFUSALS, children_peak_rss_mb, peak_rss_mb, write_all
from tests.subsidies.conftest import approved_roster

RETURN_REFUSALS = {
    **REFUSALS,
    "bomb.xlsx": "文件声明的工作表范围为1048576行×16384列，超过允许的上限（200000行×50列），已拒绝读取",
    "over_50mb.csv": "回盘文件不能超过20MB",
    "million_empty_rows.xlsx": "文件声明的工作表范围为1000000行×1列，超过允许的上限（200000行×50列），已拒绝读取",
}


def test_every_hostile_return_file_is_refused_and_changes_nothing(client, families, users, tmp_path):
    batch = batch_create(roster=approved_roster(users), by=users["payer"])
    client.force_login(users["payer"])
    for name, path in write_all(tmp_path).items():
        upload = SimpleUploadedFile(name, path.read_bytes())
        response = client.post(reverse("subsidies:batch_return", args=[batch.pk]), {"file": upload}, follow=True)
        assert response.status_code == 200, name
        assert RETURN_REFUSALS[name] in response.content.decode(), name
        assert set(Payment.objects.filter(batch=batch).values_list("status", flat=True)) == {"pending"}
    assert len(HOSTILE) == 5
    assert peak_rss_mb() < 1024 and children_peak_rss_mb() < 1024
