"""Latency of pages and API lists under concurrent clients (DESIGN §9: p95 under 200 ms with 20 clients).

Later benchmarks load the reference county first; this one measures the foundation's own pages.
"""

import statistics
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar

import pytest

from apps.accounts.services import user_create
from apps.areas.models import Area
from apps.areas.services import areas_load_csv
from tests.conftest import AREAS_CSV, COUNTY

CLIENTS = 20
REQUESTS_PER_CLIENT = 25


def _opener(base_url, username, password):
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{base_url}/accounts/login/").read()
    token = next(c.value for c in jar if c.name == "csrftoken")
    data = f"username={username}&password={password}&csrfmiddlewaretoken={token}".encode()
    request = urllib.request.Request(f"{base_url}/accounts/login/", data=data)
    request.add_header("Referer", f"{base_url}/accounts/login/")
    opener.open(request).read()
    return opener


@pytest.mark.parametrize("path", ["/", "/areas/?level=village", "/api/v1/areas/?page_size=100"])
def test_page_latency_under_concurrent_clients(served_app, transactional_db, bench_record, path):
    base_url = served_app
    areas_load_csv(text=AREAS_CSV.read_text(encoding="utf-8"))
    county = Area.objects.get(code=COUNTY)
    user_create(username="bench", password="Bench-Password-1", area=county, roles=["county_viewer"])
    openers = [_opener(base_url, "bench", "Bench-Password-1") for _ in range(CLIENTS)]

    def client(opener):
        timings = []
        for _ in range(REQUESTS_PER_CLIENT):
            start = time.perf_counter()
            with opener.open(f"{base_url}{path}") as response:
                response.read()
                assert response.status == 200
            timings.append((time.perf_counter() - start) * 1000)
        return timings

    with ThreadPoolExecutor(CLIENTS) as pool:
        timings = sorted(t for ts in pool.map(client, openers) for t in ts)
    p95 = timings[int(len(timings) * 0.95) - 1]
    bench_record(
        "pages_" + (path.strip("/").split("?")[0].replace("/", "_") or "home"),
        path=path,
        clients=CLIENTS,
        requests=len(timings),
        p50_ms=round(statistics.median(timings), 1),
        p95_ms=round(p95, 1),
        max_ms=round(timings[-1], 1),
    )
