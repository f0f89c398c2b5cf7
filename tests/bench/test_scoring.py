"""Scoring on the reference county's 10 townships: rescoring every unit from the latest snapshot (time and
SQL statements), and the results table and a unit's breakdown under 20 concurrent clients (DESIGN §9:
p95 under 200 ms)."""

import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.services import user_create
from apps.areas.models import Area, AreaLevel
from apps.areas.services import areas_load_csv
from apps.scoring.demo import scoring_demo_ensure
from apps.scoring.models import Assessment, ItemScore, SchemeItem
from apps.scoring.services import assessments_recompute, scheme_load
from tests.bench.test_pages import CLIENTS, REQUESTS_PER_CLIENT, _opener
from tests.conftest import AREAS_CSV, COUNTY
from tests.scoring.conftest import ALL_MET, SCHEME_TEXT, YEAR, make_snapshot


@pytest.fixture
def scored_county(transactional_db):
    areas_load_csv(text=AREAS_CSV.read_text(encoding="utf-8"))
    scheme_load(text=SCHEME_TEXT, effective_from=date(YEAR, 1, 1))
    townships = list(Area.objects.filter(level=AreaLevel.TOWNSHIP).values_list("code", flat=True))
    make_snapshot(f"{YEAR}Q3-YTD", dict.fromkeys(townships, ALL_MET))
    scoring_demo_ensure(year=YEAR, score=False)  # the bench scores the manual items itself
    manual = list(SchemeItem.objects.filter(method="manual"))
    ItemScore.objects.bulk_create(
        ItemScore(assessment=a, item=item, source="manual", points=item.points * (i % 10) / 10, note="基准测试")
        for i, a in enumerate(Assessment.objects.all())
        for item in manual
    )
    user_create(username="bench", password="Bench-Password-1", area=Area.objects.get(code=COUNTY),
                roles=["assessor", "county_viewer"])  # fmt: skip
    return townships


def test_rescoring_the_county(scored_county, bench_record):
    runs = []
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            start = time.perf_counter()
            assert assessments_recompute(year=YEAR) == len(scored_county)
            runs.append((time.perf_counter() - start) * 1000)
    bench_record(
        "scoring_recompute",
        units=len(scored_county),
        median_ms=round(statistics.median(runs), 1),
        max_ms=round(max(runs), 1),
        sql_statements_per_run=len(queries) // 5,
    )


@pytest.mark.parametrize("page", ["results", "breakdown"])
def test_scoring_pages_under_concurrent_clients(served_app, scored_county, bench_record, page):
    assessments_recompute(year=YEAR)
    first = Assessment.objects.order_by("area_id").first()
    path = "/scoring/" if page == "results" else f"/scoring/assessments/{first.pk}/"
    openers = [_opener(served_app, "bench", "Bench-Password-1") for _ in range(CLIENTS)]

    def client(opener):
        timings = []
        for _ in range(REQUESTS_PER_CLIENT):
            start = time.perf_counter()
            with opener.open(f"{served_app}{path}") as response:
                body = response.read()
                assert response.status == 200 and "平舒镇".encode() in body
            timings.append((time.perf_counter() - start) * 1000)
        return timings

    with ThreadPoolExecutor(CLIENTS) as pool:
        timings = sorted(t for ts in pool.map(client, openers) for t in ts)
    bench_record(
        f"scoring_page_{page}",
        path=path,
        clients=CLIENTS,
        requests=len(timings),
        p50_ms=round(statistics.median(timings), 1),
        p95_ms=round(timings[int(len(timings) * 0.95) - 1], 1),
        max_ms=round(timings[-1], 1),
    )
