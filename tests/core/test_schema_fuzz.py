"""Schema fuzzing: schemathesis drives every operation of the OpenAPI schema against a live server, as a county
admin with an API token, and must find no 5xx and no response that breaks the schema (status codes included:
the 4xx each operation can answer are documented, apps/core/schema.py).

Bounded: a few examples per operation, a fixed seed, one worker and a time budget, so it stays under a minute
of fuzzing. The run's summary (operations, requests, failures) is printed (pytest -s shows it) and kept in
test-artifacts/schemathesis.txt.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from django.core.management import call_command
from rest_framework.authtoken.models import Token

from apps.accounts.services import user_create
from apps.areas.models import Area
from apps.areas.services import areas_load_csv
from tests.conftest import AREAS_CSV, COUNTY, PASSWORD, ROOT

ARTIFACTS = ROOT / "test-artifacts"
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def test_schema_fuzzing_finds_no_server_error_and_no_schema_violation(live_server, transactional_db, tmp_path):
    areas_load_csv(text=AREAS_CSV.read_text(encoding="utf-8"))
    call_command("seed_demo", "--persons", "300", stdout=io.StringIO())  # records to read, search and act on
    admin = user_create(username="fuzz_admin", password=PASSWORD, area=Area.objects.get(code=COUNTY),
                        roles=["county_admin"])  # fmt: skip
    token = Token.objects.create(user=admin)
    report, har = tmp_path / "report.json", tmp_path / "requests.har"
    command = [
        str(Path(sys.executable).with_name("st")), "run", f"{live_server.url}/api/schema/?format=json",
        "--header", f"Authorization: Token {token.key}",
        "--checks", CHECKS,
        "--phases", "examples,coverage,fuzzing",
        "--max-examples", "5", "--seed", "13", "--workers", "1", "--max-time", "50",
        "--request-timeout", "20", "--no-shrink", "--suppress-health-check", "all",
        "--report", "json,har", "--report-json-path", str(report), "--report-har-path", str(har),
    ]  # fmt: skip
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "160", "SCHEMATHESIS_HOOKS": ""}
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    output = result.stdout + result.stderr
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "schemathesis.txt").write_text(output, encoding="utf-8")
    assert result.returncode == 0, output[-8000:]
    run = json.loads(report.read_text())
    statuses = Counter(e["response"]["status"] for e in json.loads(har.read_text())["log"]["entries"])
    server_errors = sum(n for status, n in statuses.items() if status >= 500)
    line = (
        f"schemathesis: {run['operations']['tested']} operations, {run['test_cases']['generated']} test cases, "
        f"{statuses.total()} requests, {server_errors} 5xx, {len(run['failures'])} failures; "
        f"status codes {dict(sorted(statuses.items()))}; {run['running_time']:.0f} s"
    )
    print(line)
    (ARTIFACTS / "schemathesis.txt").write_text(output + "\n" + line + "\n", encoding="utf-8")
    assert run["operations"]["tested"] == run["operations"]["total"] >= 60
    assert server_errors == 0 and run["failures"] == [] and run["errors"] == []
