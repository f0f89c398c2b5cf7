"""``make run``'s demo county gives every demo user work on the start page (工作台), each link opening a page
the user may see: the same steps as scripts/run.sh on a dated 2,000-person county."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from apps.accounts.demo import DEMO_USERS
from apps.accounts.models import User
from tests.scoring.conftest import SCHEME_FILE

AS_OF = "2026-06-30"
# The work the demo leaves for each README login (more may be shown).
EXPECTED = {
    "county_admin": "accounts.first_login",
    "county_viewer": "indicators.new_reports",
    "assessor": "scoring.to_score",
    "subsidy_approver": "subsidies.county_approve",
    "township_admin": "accounts.first_login",
    "township_clerk": "subsidies.failed_payments",
    "township_leader": "indicators.new_reports",
    "fee_officer": "fees.review",
    "subsidy_reviewer": "subsidies.township_review",
    "village_clerk": "subsidies.village_submit",
}


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip().splitlines()[-1]


@pytest.fixture
def demo_county(db):
    # Seed 4: a 2,000-person county whose first township has out-of-policy births of the fee's years (seed 1
    # has none there; the 20,000-person county of make run has many).
    _run("seed_demo", "--persons", "2000", "--seed", "4", "--as-of", AS_OF)
    _run("compute_indicators", "--period", "2026Q2-YTD")
    _run("load_scheme", str(SCHEME_FILE))
    _run("scoring_demo", "--year", "2026", "--leave-open", "2")
    _run("seed_demo_users", "--password", "demo-county-2026")
    summary = {"subsidies": _run("subsidies_demo", "--as-of", AS_OF), "fees": _run("fees_demo")}
    assert '"failed": 0' not in summary["subsidies"] and '"to_review": 1' in summary["fees"], summary
    return summary


def test_every_demo_user_finds_work_on_the_start_page(demo_county):
    assert set(EXPECTED) == {d.username for d in DEMO_USERS}
    for username, key in EXPECTED.items():
        client = Client()
        client.force_login(User.objects.get(username=username))
        page = client.get("/")
        assert page.status_code == 200
        html = page.content.decode()
        links = dict(re.findall(r'href="(/worklist/[^"]+/)" data-testid="work-([\w.]+)"', html))
        keys = set(links.values())
        assert key in keys, (username, keys)
        for link, item in links.items():
            opened = client.get(link, follow=True)
            assert opened.status_code == 200, (username, item)
            assert opened.redirect_chain and "/worklist/" not in opened.request["PATH_INFO"], (username, item)
