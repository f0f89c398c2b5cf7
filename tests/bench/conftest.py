"""Benchmark helpers: each benchmark writes its figures to bench-results/<name>.json."""

import json
import os
import platform
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench-results"


@pytest.fixture(scope="session")
def served_app(test_database_env):
    """The app under gunicorn (as in production) on a free loopback port, using the test database."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**test_database_env, "SECURE_COOKIES": "0", "DEBUG": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi:application"],
        cwd=ROOT, env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_LOG_LEVEL": "warning"},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/accounts/login/", timeout=1).read()
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError("gunicorn did not start")
    yield url
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture
def bench_record():
    def record(name: str, **figures) -> dict:
        RESULTS.mkdir(exist_ok=True)
        data = {
            "benchmark": name,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            **figures,
        }
        (RESULTS / f"{name}.json").write_text(json.dumps(data, ensure_ascii=False, indent=2))
        print(json.dumps(data, ensure_ascii=False))
        return data

    return record
