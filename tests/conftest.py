"""Shared fixtures: the demo county's areas, users of each role, API clients and a real Celery worker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.accounts.services import user_create
from apps.areas.models import Area
from apps.areas.services import areas_load_csv

ROOT = Path(__file__).resolve().parent.parent

# Every connection of the tests (this process, its live servers, the Celery worker and commands it starts: libpq
# reads PGOPTIONS) commits without waiting for the WAL to reach the disk. The suite makes thousands of small
# transactions and flushes (transactional tests), and durability against a crash of the server is not what any
# test checks. Only the tests: the app itself keeps the server's own setting.
os.environ.setdefault("PGOPTIONS", "-c synchronous_commit=off")

# Benchmarks run with `make bench` (RUN_BENCH=1), never as part of `make test`.
collect_ignore_glob = [] if os.environ.get("RUN_BENCH") else ["bench/*"]
SHARED = ROOT.parent / "shared"
AREAS_CSV = ROOT / "fixtures" / "areas_demo.csv"

# The demo county (大城县) and two of its townships / villages, from fixtures/areas_demo.csv.
COUNTY = "131025000000"
TOWNSHIP_A = "131025100000"  # 平舒镇
VILLAGE_A = "131025100201"  # 南潘庄村委会 (under A)
TOWNSHIP_B = "131025101000"
VILLAGE_B = "131025101201"  # (under B)
PASSWORD = "Correct-Horse-42"


@pytest.fixture(autouse=True)
def _login_rate_limit_reset():
    """Every test starts with a fresh per-address login budget (tests and browsers all log in from 127.0.0.1;
    the counter lives in Redis, outside the rolled-back test transaction)."""
    from apps.core.clientip import rate_limit_reset

    rate_limit_reset(scope="login", address="127.0.0.1")


@pytest.fixture
def areas(db) -> dict[str, Area]:
    areas_load_csv(text=AREAS_CSV.read_text(encoding="utf-8"))
    return {a.code: a for a in Area.objects.all()}


@pytest.fixture
def make_user(areas):
    def make(username: str, area_code: str, *roles: str, **extra) -> User:
        return user_create(username=username, password=PASSWORD, area=areas[area_code], roles=roles, **extra)

    return make


@pytest.fixture
def township_clerk(make_user) -> User:
    return make_user("clerk_a", TOWNSHIP_A, "township_clerk", full_name="平舒镇录入员")


@pytest.fixture
def county_viewer(make_user) -> User:
    return make_user("viewer", COUNTY, "county_viewer")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def _test_database_url() -> str:
    """The URL of the test database pytest-django created, for processes outside this one."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + settings.DATABASES["default"]["NAME"]))


@pytest.fixture(scope="session")
def test_database_env(django_db_setup) -> dict[str, str]:
    """The environment for a subprocess (a command, a worker) that must use the test database."""
    return {**os.environ, "DATABASE_URL": _test_database_url()}


@pytest.fixture(scope="session")
def worker_media_root(tmp_path_factory) -> Path:
    """MEDIA_ROOT of the Celery worker: a test whose uploads the worker must read sets ``settings.MEDIA_ROOT``
    to it (see ``shared_media``)."""
    return tmp_path_factory.mktemp("media")


@pytest.fixture
def shared_media(settings, worker_media_root) -> Path:
    """Uploads made in this test (or by its live server) land where the Celery worker looks for them."""
    settings.MEDIA_ROOT = worker_media_root
    return worker_media_root


@pytest.fixture(scope="session")
def celery_worker(test_database_env, worker_media_root):
    """A real Celery worker process on the real broker, using the test database (and ``worker_media_root``)."""
    from config.celery import app

    env = {**test_database_env, "MEDIA_ROOT": str(worker_media_root)}
    log = (ROOT / "test-artifacts").resolve()
    log.mkdir(exist_ok=True)
    name = f"celery-worker{os.environ.get('PYTEST_XDIST_WORKER', '')}.log"  # one per parallel test process
    with open(log / name, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO",
             "--hostname=pytest@%h", "--without-mingle", "--without-gossip"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if app.control.ping(timeout=0.5):
                    break
                if proc.poll() is not None:
                    raise RuntimeError(f"the Celery worker exited; see test-artifacts/{name}")
            else:
                raise RuntimeError("the Celery worker did not answer within 60 s")
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
