"""Headers and caching: CSP without inline script, no-store on personal data, Referrer- and Permissions-Policy,
HSTS behind a setting, and `manage.py check --deploy` clean with the production settings."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

TEMPLATES = ROOT / "templates"


def _csp(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}


def test_pages_carry_a_csp_without_inline_script_and_no_store(client, township_clerk):
    client.force_login(township_clerk)
    response = client.get("/")
    assert response.status_code == 200
    csp = _csp(response)
    assert csp["script-src"] == ["'self'"] and "'unsafe-inline'" not in csp["script-src"]
    assert csp["object-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"]
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]


def test_every_api_response_is_no_store(api_client, township_clerk):
    assert "no-store" in api_client.get("/api/v1/areas/")["Cache-Control"]  # refused, still not cached
    api_client.force_authenticate(township_clerk)
    response = api_client.get("/api/v1/areas/")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]


def test_the_anonymous_login_page_has_the_policies_too(client, areas):
    response = client.get("/accounts/login/")
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "same-origin" and response["Permissions-Policy"]


def test_api_docs_page_has_no_inline_script(client, county_viewer):
    client.force_login(county_viewer)
    page = client.get("/api/docs/").content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", page), page


def test_templates_have_no_inline_script_or_event_handler():
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        # <script> without src, other than JSON data blocks (json_script), and on*= handler attributes.
        for match in re.finditer(r"<script\b([^>]*)>", text):
            attrs = match.group(1)
            if "src=" not in attrs and "application/json" not in attrs:
                offenders.append(f"{path.relative_to(ROOT)}: {match.group(0)}")
        for match in re.finditer(r"\son[a-z]+\s*=\s*[\"']", text):
            offenders.append(f"{path.relative_to(ROOT)}: {match.group(0)}")
        if "javascript:" in text:
            offenders.append(f"{path.relative_to(ROOT)}: javascript: URL")
    assert offenders == []


def test_hsts_is_off_by_default_and_sent_over_https_when_set(client, areas, settings):
    assert settings.SECURE_HSTS_SECONDS == 0 or os.environ.get("SECURE_HSTS_SECONDS")
    assert "Strict-Transport-Security" not in client.get("/accounts/login/", secure=True)
    settings.SECURE_HSTS_SECONDS = 31536000
    from django.test import Client  # a new client: the security middleware reads the setting when created

    assert Client().get("/accounts/login/", secure=True)["Strict-Transport-Security"].startswith("max-age=31536000")
    compose = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    assert "SECURE_HSTS_SECONDS: ${SECURE_HSTS_SECONDS:-31536000}" in compose


@pytest.mark.django_db
def test_check_deploy_is_clean_with_the_production_settings():
    env = {
        # Not the browser tests' async-unsafe switch (set in this process when they are collected too).
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SECURE_COOKIES": "1",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_SSL_REDIRECT": "1",
        "ALLOWED_HOSTS": "jsxt.example.gov.cn",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=Path(ROOT), env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)" in result.stdout or "no issues" in result.stdout
