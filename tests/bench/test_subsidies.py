"""Eligibility of one programme over the reference county (DESIGN §9: under 20 s), set-based in one statement."""

import time
from io import StringIO

from django.core.management import call_command
from django.db import connection

from apps.subsidies.models import Programme, RosterEntry
from apps.subsidies.services import rosters_generate

PERSONS = 600_000
LIMIT_SECONDS = 20


def test_eligibility_of_one_programme_over_the_reference_county(db, bench_record):
    call_command("seed_demo", "--persons", str(PERSONS), "--seed", "1", stdout=StringIO())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    figures = {}
    for code, period in (("rural_reward", "2025"), ("only_child_parents", "2025M06"), ("childcare", "2025M06")):
        programme = Programme.objects.get(code=code)
        start = time.perf_counter()
        written = rosters_generate(programme=programme, period=period, by=None)
        seconds = time.perf_counter() - start
        figures[code] = {
            "period": period,
            "seconds": round(seconds, 2),
            "entries": written,
            "beneficiaries": RosterEntry.objects.filter(roster__programme=programme, roster__period=period)
            .exclude(change="leaving")
            .count(),
        }
    # The next year against the previous one: new / continuing / leaving for the whole county.
    programme = Programme.objects.get(code="rural_reward")
    start = time.perf_counter()
    written = rosters_generate(programme=programme, period="2026", by=None)
    figures["rural_reward_next_year"] = {
        "period": "2026",
        "seconds": round(time.perf_counter() - start, 2),
        "entries": written,
    }

    bench_record("subsidies_eligibility", persons=PERSONS, limit_seconds=LIMIT_SECONDS, programmes=figures)
    assert figures["rural_reward"]["beneficiaries"] > 0
    assert all(f["seconds"] < LIMIT_SECONDS for f in figures.values())
