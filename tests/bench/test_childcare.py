"""Eligibility of 育儿补贴 over the reference county (DESIGN §9: one programme under 20 s): every child with an
application, month by month since 2025 with back months, by the child's 户籍 at each month — one statement."""

import time
from io import StringIO

from django.core.management import call_command
from django.db import connection

from apps.subsidies.models import ChildcareApplication, Programme, RosterEntry
from apps.subsidies.services import rosters_generate

PERSONS = 600_000
LIMIT_SECONDS = 20


def test_childcare_eligibility_over_the_reference_county(db, bench_record):
    call_command("seed_demo", "--persons", str(PERSONS), "--seed", "1", stdout=StringIO())  # applications too
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    programme = Programme.objects.get(code="childcare")
    applications = ChildcareApplication.objects.filter(programme=programme).count()
    figures = {}
    # The first roster of the scheme in mid-2026: each applied child's months since January 2025 (back months
    # included); then the next month against it (new / continuing / leaving).
    for period in ("2026M06", "2026M07"):
        start = time.perf_counter()
        written = rosters_generate(programme=programme, period=period, by=None)
        entries = RosterEntry.objects.filter(roster__programme=programme, roster__period=period)
        figures[period] = {
            "seconds": round(time.perf_counter() - start, 2),
            "entries": written,
            "children": entries.exclude(change="leaving").values("person").distinct().count(),
            "leaving": entries.filter(change="leaving").count(),
        }
    bench_record(
        "childcare_eligibility",
        persons=PERSONS,
        limit_seconds=LIMIT_SECONDS,
        applications=applications,
        periods=figures,
    )
    assert applications > 0 and figures["2026M06"]["children"] > 0
    assert all(f["seconds"] < LIMIT_SECONDS for f in figures.values())
