"""The quarterly report of the reference county (DESIGN §9): every indicator for every area of the
600,000-person ``seed_demo`` county for one period in under 10 s, in a number of SQL statements that does not
grow with the number of areas."""

import json
import time
from io import StringIO

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
    )
    assert county_seconds < LIMIT_SECONDS
    # Forty times the areas, the same statements: nothing runs per area.
    assert areas_in_county > 10 * areas_in_township
    assert county_statements == township_statements
    assert values > 15 * areas_in_county
