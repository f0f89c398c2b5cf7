"""The quarterly report of the reference county (DESIGN §9): every indicator for every area of the
600,000-person ``seed_demo`` county for one period in under 10 s, in a number of SQL statements that does not
grow with the number of areas; and (issue 16) ``compute_indicators --period 2024Q4-YTD`` as users run it, a
fresh process with its start-up, in at most 3 s at 600,000 persons and 30 s at 6,000,000
(``BENCH_REPORT_PERSONS=6000000 make bench BENCH=tests/bench/test_indicators.py``)."""

import json
import os
import statistics
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.areas.models import Area
from apps.indicators.models import IndicatorValue
from apps.indicators.periods import finished_quarter_ytd
from apps.indicators.services import indicators_compute
from tests.conftest import COUNTY, TOWNSHIP_A

PERSONS = 600_000
LIMIT_SECONDS = 10
ROOT = Path(__file__).resolve().parents[2]
# issue 16: the command's wall time, start-up included, per county size (persons: seconds).
COMMAND_LIMITS = {600_000: 3.0, 6_000_000: 30.0}
COMMAND_PERIOD = "2024Q4-YTD"


def _timed_compute(period: str, area: str) -> tuple[float, int, object]:
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        run = indicators_compute(period=period, area_code=area)
        seconds = time.perf_counter() - start
    return seconds, len(queries), run


def test_full_report_of_the_reference_county(db, bench_record):
    call_command("seed_demo", "--persons", str(PERSONS), "--seed", "1", stdout=StringIO())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    period = finished_quarter_ytd(timezone.localdate()).code

    county_seconds, county_statements, run = _timed_compute(period, COUNTY)
    assert run.status == "success"
    values = IndicatorValue.objects.filter(run=run).count()
    areas_in_county = Area.objects.within(COUNTY).count()

    township_seconds, township_statements, township_run = _timed_compute(period, TOWNSHIP_A)
    assert township_run.status == "success"
    areas_in_township = Area.objects.within(TOWNSHIP_A).count()

    out = StringIO()
    start = time.perf_counter()
    call_command("report", "--period", period, "--area", COUNTY, "--format", "json", stdout=out)
    report_seconds = time.perf_counter() - start
    report = json.loads(out.getvalue().strip().splitlines()[-1])

    bench_record(
        "indicators_report",
        persons=PERSONS,
        period=period,
        county_seconds=round(county_seconds, 2),
        county_statements=county_statements,
        county_areas=areas_in_county,
        values_stored=values,
        township_seconds=round(township_seconds, 2),
        township_statements=township_statements,
        township_areas=areas_in_township,
        report_json_seconds=round(report_seconds, 3),
        limit_seconds=LIMIT_SECONDS,
        county_population_end=report["values"]["population_end"]["value"],
        county_birth_rate=report["values"]["birth_rate"]["value"],
        county_sex_ratio_at_birth=report["values"]["sex_ratio_at_birth"]["value"],
        county_children_0_2=report["values"]["children_0_2"]["value"],
        county_old_age_dependency_ratio=report["values"]["old_age_dependency_ratio"]["value"],
        county_general_fertility_rate=report["values"]["general_fertility_rate"]["value"],
        county_total_fertility_rate=report["values"]["total_fertility_rate"]["value"],
        county_policy_compliance=report["values"]["policy_compliance_rate"],
    )
    # Today's indicators are in the same run (the age groups and the TFR's components in the same statements).
    assert {"children_0_2", "share_65plus", "child_dependency_ratio", "general_fertility_rate"} <= set(report["values"])
    assert report["values"]["total_fertility_rate"]["value"] is not None
    assert county_seconds < LIMIT_SECONDS
    # Forty times the areas, the same statements: nothing runs per area.
    assert areas_in_county > 10 * areas_in_township
    assert county_statements == township_statements
    assert values > 15 * areas_in_county


def test_dashboard_latency_on_the_reference_county(served_app, transactional_db, bench_record):
    """DESIGN §9: dashboard pages under 20 concurrent clients on the reference county (target p95 < 200 ms)."""
    import statistics
    from concurrent.futures import ThreadPoolExecutor

    from apps.accounts.services import user_create
    from apps.indicators.periods import quarters_up_to
    from tests.bench.test_pages import _opener

    call_command("seed_demo", "--persons", str(PERSONS), "--seed", "1", stdout=StringIO())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    period = finished_quarter_ytd(timezone.localdate())
    for code in [period.code, period.same_period_last_year().code, *(q.code for q in quarters_up_to(period, 4))]:
        indicators_compute(period=code)
    user_create(username="bench", password="Bench-Password-1", area=Area.objects.get(code=COUNTY),
                roles=["county_viewer"])  # fmt: skip
    openers = [_opener(served_app, "bench", "Bench-Password-1") for _ in range(20)]
    figures = {}
    for name, query in (("county", ""), ("township", f"&area={TOWNSHIP_A}")):
        url = f"{served_app}/indicators/?period={period.code}{query}"

        def client(opener, url=url):
            timings = []
            for _ in range(25):
                start = time.perf_counter()
                with opener.open(url) as response:
                    body = response.read().decode()
                    assert response.status == 200 and 'data-testid="ranking"' in body
                timings.append((time.perf_counter() - start) * 1000)
            return timings

        with ThreadPoolExecutor(len(openers)) as pool:
            timings = sorted(t for ts in pool.map(client, openers) for t in ts)
        figures[name] = {
            "p50_ms": round(statistics.median(timings), 1),
            "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 1),
            "max_ms": round(timings[-1], 1),
            "requests": len(timings),
        }
    # Recorded against the DESIGN §9 target (p95 < 200 ms) like tests/bench/test_pages.py; on this shared
    # two-core machine the figure depends on what else runs, so the target is reported, not asserted.
    bench_record(
        "indicators_dashboard", persons=PERSONS, period=period.code, clients=len(openers), target_p95_ms=200, **figures
    )


def _wall(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=True)
    return time.perf_counter() - start, done.stdout


def test_compute_indicators_command_wall_time(transactional_db, test_database_env, bench_record):
    """The command in its own process, as a cron job or a user runs it: Django's start-up, the run's
    statements and the JSON summary, against the floor of the same run (a bare ``manage.py`` start-up)."""
    persons = int(os.environ.get("BENCH_REPORT_PERSONS", PERSONS))
    limit = COMMAND_LIMITS.get(persons, 3.0 * persons / PERSONS)
    call_command("seed_demo", "--persons", str(persons), "--seed", "1", stdout=StringIO())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    manage = [sys.executable, "manage.py"]
    floors = [_wall([*manage, "shell", "-c", "pass"], test_database_env)[0] for _ in range(3)]
    walls, summaries = [], []
    for _ in range(3):
        seconds, out = _wall([*manage, "compute_indicators", "--period", COMMAND_PERIOD], test_database_env)
        walls.append(seconds)
        summaries.append(json.loads(out.strip().splitlines()[-1]))
    areas = Area.objects.count()
    bench_record(
        f"indicators_command_{persons // 1000}k",
        persons=persons,
        period=COMMAND_PERIOD,
        wall_seconds=[round(w, 2) for w in walls],
        best_wall_seconds=round(min(walls), 2),
        median_wall_seconds=round(statistics.median(walls), 2),
        in_process_seconds=[s["seconds"] for s in summaries],
        startup_floor_seconds=round(min(floors), 2),
        ratio_to_startup_floor=round(min(walls) / min(floors), 2),
        limit_seconds=limit,
        load_average=[round(x, 2) for x in os.getloadavg()],
        values_stored=summaries[-1]["values"],
    )
    assert all(s["ok"] and s["status"] == "success" for s in summaries)
    assert summaries[-1]["values"] > 30 * areas  # every indicator of every area, all in the snapshot
    assert min(walls) <= limit
