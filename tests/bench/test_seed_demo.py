"""Seeding the reference county (DESIGN §9: ``seed_demo --persons 600000``) in under five minutes."""

import json
import time
from io import StringIO

from django.core.management import call_command
from django.db import connection

from apps.registry.demo import TABLES

PERSONS = 600_000
LIMIT_SECONDS = 300


def test_seed_demo_reference_county(db, bench_record):
    out = StringIO()
    start = time.perf_counter()
    call_command("seed_demo", "--persons", str(PERSONS), "--seed", "1", stdout=out)
    seconds = time.perf_counter() - start
    summary = json.loads(out.getvalue().strip().splitlines()[-1])

    rows = {}
    with connection.cursor() as cursor:
        for table, _, _ in TABLES:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - table names are constants
            rows[table] = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM registry_personevent WHERE pgh_label = 'insert'")
        person_events = cursor.fetchone()[0]
    bench_record(
        "seed_demo",
        persons=PERSONS,
        seconds=round(seconds, 1),
        limit_seconds=LIMIT_SECONDS,
        rows=rows,
        audit_person_events=person_events,
        phases=summary["timings"],
        births_recent=summary["births_recent"],
        sex_ratio_at_birth_recent=summary["sex_ratio_at_birth_recent"],
        out_of_policy_births=summary["out_of_policy_births"],
        recompute_changed_births=summary["recompute_changed_births"],
    )
    assert summary["ok"] is True
    assert rows["registry_person"] == person_events == PERSONS
    assert rows == summary["tables"]
    assert summary["recompute_changed_births"] == 0
    assert seconds < LIMIT_SECONDS
