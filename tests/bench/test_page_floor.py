"""Every main page against the machine's floor (DESIGN §9, issue 16): the county served as the Dockerfile
serves it (gunicorn with config/gunicorn.py, DEBUG off), 20 concurrent clients (``wrk -t2 -c20 -d10s``) with a county
viewer's session on each page, and the login form measured before and after each page in the same run. The
ratio of each page's requests/s to the mean of the login form's two runs around it is the figure (target ≥ 0.5);
p99 is recorded beside it.

The make-run county (``seed_demo`` default, 20,000 persons) always; the reference county too when
``BENCH_PERSONS`` names its size (``BENCH_PERSONS=600000 make bench BENCH=tests/bench/test_page_floor.py``:
seeding it takes minutes). The county is prepared as ``make run`` prepares it: the dashboard's reports, the
township scoring demo, the data-quality findings.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from apps.accounts.services import user_create
from apps.areas.models import Area
from apps.indicators.periods import finished_quarter_ytd, quarters_up_to
from apps.indicators.services import indicators_compute
from apps.registry.quality import quality_findings_refresh
from tests.bench.conftest import ROOT
from tests.bench.test_pages import _opener
from tests.conftest import COUNTY, SHARED

MAKE_RUN_PERSONS = 20_000
PERSONS = [MAKE_RUN_PERSONS] + ([int(os.environ["BENCH_PERSONS"])] if os.environ.get("BENCH_PERSONS") else [])
# Each page with a county viewer's session, but the payment batches, which the role matrix shows to subsidy
# staff only: those with a county subsidy approver's.
PAGES = {
    "/": "county_viewer",
    "/indicators/": "county_viewer",
    "/scoring/": "county_viewer",
    "/registry/persons/": "county_viewer",
    "/fees/ledger/": "county_viewer",
    "/subsidies/rosters/": "county_viewer",
    "/subsidies/batches/": "subsidy_approver",
    "/registry/quality/": "county_viewer",
}
FLOOR = "/accounts/login/"
TARGET = 0.5
WRK = ["wrk", "-t2", "-c20", "-d10s", "--latency"]


def _gunicorn(env: dict[str, str]):
    """The Dockerfile's command (``config/gunicorn.py``: 3 threaded workers), DEBUG off."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi:application"],
        cwd=ROOT,
        env={**env, "SECURE_COOKIES": "0", "DEBUG": "0", "GUNICORN_BIND": f"127.0.0.1:{port}",
             "GUNICORN_LOG_LEVEL": "warning"},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}{FLOOR}", timeout=2).read()
            return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("gunicorn did not start")


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _wrk(url: str, cookie: str | None = None) -> dict:
    command = [*WRK, *(["-H", f"Cookie: {cookie}"] if cookie else []), url]
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests_per_s": rps,
        "p99_ms": round(_ms(*p99.groups()), 1),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def _prepare_county(persons: int) -> None:
    """As ``scripts/run.sh`` does for ``make run``."""
    call_command("seed_demo", "--persons", str(persons), "--seed", "1", stdout=StringIO())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    period = finished_quarter_ytd(timezone.localdate())
    for code in [period.code, f"{period.year - 1}{period.code[4:]}", *(q.code for q in quarters_up_to(period, 8))]:
        indicators_compute(period=code)
    scheme = SHARED / "reference" / "scheme_township_1000.yaml"
    call_command("load_scheme", str(scheme), stdout=StringIO())
    call_command("scoring_demo", stdout=StringIO())
    quality_findings_refresh()


@pytest.mark.parametrize("persons", PERSONS)
def test_every_page_against_the_login_floor(transactional_db, test_database_env, bench_record, persons):
    _prepare_county(persons)
    county = Area.objects.get(code=COUNTY)
    for role in set(PAGES.values()):
        user_create(username=f"bench_{role}", password="Bench-Password-1", area=county, roles=[role])
    proc, base = _gunicorn(test_database_env)
    try:
        openers = {role: _opener(base, f"bench_{role}", "Bench-Password-1") for role in set(PAGES.values())}
        cookies = {}
        for role, opener in openers.items():
            jar = next(h for h in opener.handlers if isinstance(h, urllib.request.HTTPCookieProcessor)).cookiejar
            cookies[role] = "; ".join(f"{c.name}={c.value}" for c in jar)
        for path, role in PAGES.items():  # every page answers its user (not a sign-in redirect or a 403)
            with openers[role].open(f"{base}{path}") as response:
                assert response.status == 200 and response.url == f"{base}{path}", path
        # The floor before and after each page, the page's ratio to their mean: the machine's speed drifts
        # within a run (by a third seen here), and a ratio to one floor taken at the start would measure the
        # drift as much as the page.
        floors = [_wrk(f"{base}{FLOOR}")]
        pages = {}
        for path, role in PAGES.items():
            figures = {"user_role": role, **_wrk(f"{base}{path}", cookies[role])}
            assert figures["non_2xx"] == 0, (path, figures)
            floors.append(_wrk(f"{base}{FLOOR}"))
            around = (floors[-2]["requests_per_s"] + floors[-1]["requests_per_s"]) / 2
            figures["floor_requests_per_s"] = round(around, 1)
            figures["ratio_to_floor"] = round(figures["requests_per_s"] / around, 3)
            pages[path] = figures
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    bench_record(
        f"pages_floor_{persons}",
        persons=persons,
        server="gunicorn -c config/gunicorn.py (3 gthread workers x 4 threads), DEBUG off",
        load=" ".join(WRK),
        target_ratio=TARGET,
        floor={"path": FLOOR, "runs": floors},
        pages=pages,
        below_target=[p for p, f in pages.items() if f["ratio_to_floor"] < TARGET],
    )
