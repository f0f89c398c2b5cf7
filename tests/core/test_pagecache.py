"""The page cache (apps.core.pagecache): a page is served from Redis until the data it shows changes through a
service, and a cached page is only ever the reader's own, with the reader's CSRF token."""

from __future__ import annotations

import re

import pytest
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client
from django.urls import reverse

from apps.indicators.services import indicators_compute
from apps.subsidies.models import Programme
from apps.subsidies.services import rosters_generate
from tests.conftest import PASSWORD
from tests.subsidies.conftest import load_fixture_programmes

DASHBOARD = reverse("indicators:dashboard")
ROSTERS = reverse("subsidies:roster_list")
HOME = reverse("accounts:home")


def _without_tokens(response) -> str:
    return re.sub(r"[A-Za-z0-9]{64}", "", response.content.decode())


def _cache_state(response) -> str:
    return response.headers.get("X-Page-Cache", "")


def test_dashboard_is_served_from_the_cache_until_a_report_run_finishes(client, county_viewer):
    client.force_login(county_viewer)
    first = client.get(DASHBOARD, {"period": "2024Q1"})
    assert first.status_code == 200 and _cache_state(first) == "miss"
    assert 'data-testid="no-data"' in first.content.decode()
    again = client.get(DASHBOARD, {"period": "2024Q1"})
    assert _cache_state(again) == "hit"
    assert _without_tokens(again) == _without_tokens(first)  # the same page, but for the fresh CSRF mask

    indicators_compute(period="2024Q1")  # a finished report run

    after = client.get(DASHBOARD, {"period": "2024Q1"})
    assert _cache_state(after) == "miss"
    page = after.content.decode()
    assert 'data-testid="no-data"' not in page and 'data-testid="cards"' in page and 'data-testid="data-as-of"' in page


def test_roster_list_follows_a_roster_generation(client, county_viewer):
    load_fixture_programmes()
    client.force_login(county_viewer)
    before = client.get(ROSTERS)
    assert "暂无名册" in before.content.decode()
    assert _cache_state(client.get(ROSTERS)) == "hit"

    rosters_generate(programme=Programme.objects.get(code="rural_reward"), period="2025", by=None)  # set-based

    page = client.get(ROSTERS).content.decode()
    assert "暂无名册" not in page
    assert page.count('data-testid="roster-row"') == 10  # a draft roster for each of the county's townships


def test_a_write_request_renders_the_pages_anew(client, county_viewer, township_clerk):
    client.force_login(county_viewer)
    client.get(HOME)
    assert _cache_state(client.get(HOME)) == "hit"
    other = Client()
    other.force_login(township_clerk)
    # Any successful write by a signed-in user (here: changing the own password) bumps every topic.
    response = other.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": "Another-Secret-9", "new_password2": "Another-Secret-9"},
    )
    assert response.status_code == 302
    assert _cache_state(client.get(HOME)) == "miss"


def test_each_user_gets_the_own_page(client, county_viewer, township_clerk):
    client.force_login(county_viewer)
    county_page = client.get(HOME).content.decode()
    clerk = Client()
    clerk.force_login(township_clerk)
    clerk_page = clerk.get(HOME)
    assert _cache_state(clerk_page) == "miss"  # not the county viewer's page from the cache
    assert str(township_clerk) in clerk_page.content.decode()
    assert str(township_clerk) not in county_page


def _token(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]{64})"', page).group(1)


def test_a_cached_page_carries_the_readers_csrf_token(county_viewer):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(county_viewer)
    browser.get(HOME)
    cached = browser.get(HOME)
    assert _cache_state(cached) == "hit"
    token = _token(cached.content.decode())
    assert _unmask_cipher_token(token) == browser.cookies["csrftoken"].value  # the reader's secret
    assert browser.post(reverse("accounts:logout"), {"csrfmiddlewaretoken": token}).status_code == 302

    # A new CSRF secret (a new browser session): the page (same user, same data) from the cache still posts.
    old_secret = _unmask_cipher_token(token)
    browser.force_login(county_viewer)
    del browser.cookies["csrftoken"]
    browser.get(HOME)
    cached = browser.get(HOME)
    assert _cache_state(cached) == "hit"
    token = _token(cached.content.decode())
    assert _unmask_cipher_token(token) != old_secret
    assert browser.post(reverse("accounts:logout"), {"csrfmiddlewaretoken": token}).status_code == 302


@pytest.mark.parametrize("path", [HOME, DASHBOARD])
def test_a_signed_out_visitor_is_sent_to_sign_in_not_served_a_cached_page(client, county_viewer, path):
    client.force_login(county_viewer)
    client.get(path)
    client.logout()
    response = client.get(path)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
