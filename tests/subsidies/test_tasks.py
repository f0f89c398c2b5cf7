"""Roster generation in a REAL Celery worker on the test database: the page refuses bad requests at once and
queues good ones; the worker fills the rosters; running it again gives the same rosters (idempotent)."""

from __future__ import annotations

import time
from datetime import date

import pytest

from apps.subsidies.models import RosterEntry
from apps.subsidies.tasks import generate_rosters
from tests.subsidies.conftest import entries_of


@pytest.fixture
def worker_county(transactional_db, celery_worker, make_family, programme, users):
    make_family(surname="杨", father=date(1960, 1, 1), mother=date(1961, 1, 1), children=[("M", date(1990, 1, 1))])
    return users


def _wait_for_entries(n: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if RosterEntry.objects.count() == n:
            return
        time.sleep(0.3)
    raise AssertionError(f"the worker did not write {n} roster entries within 60 s")


def test_the_page_queues_generation_and_the_worker_fills_the_rosters(client, worker_county):
    client.force_login(worker_county["admin"])
    response = client.post("/subsidies/rosters/generate/", {"programme": "childcare", "period": "2024M12"}, follow=True)
    assert "该期间没有有效的资格规则" in response.content.decode()  # refused at once, nothing queued

    response = client.post("/subsidies/rosters/generate/", {"programme": "rural_reward", "period": "2025"}, follow=True)
    assert "已开始农村部分计划生育家庭奖励扶助2025资格认定" in response.content.decode()
    _wait_for_entries(2)
    assert set(entries_of("rural_reward", "2025")) == {"杨父", "杨母"}

    result = generate_rosters.delay(
        RosterEntry.objects.first().roster.programme_id, "2025", worker_county["admin"].pk
    ).get(timeout=60)
    assert result == {"programme": "rural_reward", "period": "2025", "entries": 2}
    assert RosterEntry.objects.count() == 2
