"""Reconciliation of a year's births of the reference county (issue 17, ``make bench``): the registry's
births of the last full year matched against a hospital list and a police list of the same size, in under
10 s, set-based (``services.matches_run``), then the county's capture–recapture estimate.

The lists are built from the registry in SQL, as the departments would report the same births with their
own errors: the hospital's dates off by up to a day for a third of the births and one birth in twenty with
the other sex (unmatched), the police's without a child's ID number for one in ten and one in twenty-five
of another sex. Speed is also given as a ratio to the machine's floor measured in the same run: the plain
hash join of both lists to the year's births by mother, which any matching must at least do.
"""

import time
from io import StringIO

from django.core.management import call_command
from django.db import connection

from apps.areas.models import Area, AreaLevel
from apps.reconciliation.models import OutsideBirth
from apps.reconciliation.selectors import estimates
from apps.reconciliation.services import matches_run

PERSONS = 600_000
LIMIT_SECONDS = 10

LISTS = """
INSERT INTO reconciliation_outsidebirth
    (source, key, mother_id, child_id_number, sex, date, certificate_number, institution, registered_on,
     village_id, status, candidates, created_at)
SELECT 'hospital', 'H' || b.id, b.mother_id, '',
       CASE WHEN b.id %% 20 = 0 THEN (CASE b.sex WHEN 'M' THEN 'F' ELSE 'M' END) ELSE b.sex END,
       b.date + (b.id %% 3 - 1)::int, 'H' || b.id, '县医院', NULL, m.village_id, 'unmatched', 0, now()
FROM registry_birth b JOIN registry_person m ON m.id = b.mother_id
WHERE b.voided_at IS NULL AND b.date BETWEEN %(start)s AND %(end)s
UNION ALL
SELECT 'police', CASE WHEN b.id %% 10 = 0 THEN 'P' || b.id ELSE COALESCE(c.id_number, 'P' || b.id) END,
       b.mother_id, CASE WHEN b.id %% 10 = 0 THEN '' ELSE COALESCE(c.id_number, '') END,
       CASE WHEN b.id %% 25 = 0 THEN (CASE b.sex WHEN 'M' THEN 'F' ELSE 'M' END) ELSE b.sex END,
       b.date, '', '派出所', b.date + 20, m.village_id, 'unmatched', 0, now()
FROM registry_birth b JOIN registry_person m ON m.id = b.mother_id LEFT JOIN registry_person c ON c.id = b.child_id
WHERE b.voided_at IS NULL AND b.date BETWEEN %(start)s AND %(end)s
"""

FLOOR = """
SELECT count(*) FROM reconciliation_outsidebirth o
JOIN registry_birth b ON b.mother_id = o.mother_id AND b.voided_at IS NULL
WHERE b.date BETWEEN %(start)s AND %(end)s
"""


def test_reconciliation_of_a_year_of_the_reference_county(db, bench_record):
    call_command("seed_demo", "--persons", str(PERSONS), "--seed", "1", stdout=StringIO())
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(date) FROM registry_birth WHERE voided_at IS NULL")
        (last,) = cursor.fetchone()
        year = last.year - 1  # the last full year
        params = {"start": f"{year}-01-01", "end": f"{year}-12-31"}
        cursor.execute(LISTS, params)
        cursor.execute("ANALYZE")
        cursor.execute(
            "SELECT count(*) FROM registry_birth WHERE voided_at IS NULL AND date BETWEEN %(start)s AND %(end)s", params
        )
        (births,) = cursor.fetchone()
        start = time.perf_counter()
        cursor.execute(FLOOR, params)
        floor = time.perf_counter() - start
    hospital = OutsideBirth.objects.filter(source="hospital").count()

    start = time.perf_counter()
    counts = matches_run()
    seconds = time.perf_counter() - start

    county = Area.objects.filter(level=AreaLevel.COUNTY).first()
    start = time.perf_counter()
    total, townships = estimates(user=None, year=year, area=county)
    estimate_seconds = time.perf_counter() - start

    bench_record(
        "reconciliation", persons=PERSONS, year=year, registry_births=births, hospital_records=hospital,
        police_records=OutsideBirth.objects.filter(source="police").count(), limit_seconds=LIMIT_SECONDS,
        match_seconds=round(seconds, 3), floor_seconds=round(floor, 3),
        ratio_to_floor=round(seconds / floor, 1) if floor else None, matches=counts,
        estimate_seconds=round(estimate_seconds, 3),
        county_estimate={"registered": total.registered, "hospital": total.hospital, "matched": total.matched,
                         "estimate": round(total.estimate, 1), "low": round(total.low, 1),
                         "high": round(total.high, 1), "completeness": round(total.completeness, 2)},
    )  # fmt: skip
    assert hospital == births and births > 1000
    # Every birth not given the other sex by a list is matched (or, for twins of one sex, sent to review).
    assert counts["matched"] + counts["ambiguous"] >= 0.9 * 2 * births
    assert len(townships) == 10 and total.estimate >= total.registered
    assert seconds < LIMIT_SECONDS
