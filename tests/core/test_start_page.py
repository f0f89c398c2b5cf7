"""The start page (工作台): per role, the work waiting for the user, each a link that leads to the page where it
is done; a link opened counts as seen, so "new" items are new to that user. Items come from each app's
``worklist.py`` (core imports none of them) and cost one COUNT each."""

# The fixtures of other apps' conftests are imported by name, and pytest passes them back in as arguments.
# ruff: noqa: F811

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Role
from apps.areas.models import Area
from apps.core.worklist import providers
from apps.fees.services import fee_case_decide
from apps.imports.models import ImportJob
from apps.registry.services import ChildData, birth_record
from apps.subsidies.models import Roster
from apps.subsidies.services import batch_create, roster_approve, roster_review, roster_village_submit
from tests.conftest import COUNTY, TOWNSHIP_A, VILLAGE_A
from tests.core.test_role_matrix import world  # noqa: F401 (fixture)
from tests.fees.conftest import fee_in_force, make_birth, open_case, policy_data  # noqa: F401 (fixtures)
from tests.registry.conftest import make_person  # noqa: F401 (fixture)
from tests.scoring.conftest import (  # noqa: F401 (fixtures)
    YEAR,
    assessments,
    contracts,
    make_snapshot,
    scheme,
)
from tests.subsidies.conftest import (  # noqa: F401 (fixtures)
    families,
    make_family,
    programme,
    users,
)
from tests.subsidies.test_workflow import roster  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

HOME = "/"


def work(client, user) -> dict[str, int | None]:
    """The start page's items as the user sees them: ``{key: count}`` (None: a link without a number)."""
    client.force_login(user)
    response = client.get(HOME)
    assert response.status_code == 200
    html = response.content.decode()
    keys = re.findall(r'data-testid="work-([\w.]+)"', html)
    counts = dict(re.findall(r'data-testid="count-([\w.]+)">(\d+)<', html))
    return {k: int(counts[k]) if k in counts else None for k in keys}


def test_every_domain_app_contributes_through_its_own_worklist_module():
    modules = {p.__module__ for p in providers()}
    assert modules == {
        "apps.accounts.worklist",
        "apps.registry.worklist",
        "apps.imports.worklist",
        "apps.indicators.worklist",
        "apps.fees.worklist",
        "apps.subsidies.worklist",
        "apps.scoring.worklist",
        "apps.reconciliation.worklist",
    }


def test_a_roster_moves_from_the_village_to_the_township_to_the_county_on_their_start_pages(client, roster, users):
    assert work(client, users["village"]) == {"subsidies.village_submit": 1}
    assert work(client, users["reviewer"]) == {}
    assert work(client, users["approver"]) == {}

    roster_village_submit(roster=roster, by=users["village"])
    assert work(client, users["village"]) == {}
    assert work(client, users["reviewer"]) == {"subsidies.township_review": 1}
    assert work(client, users["reviewer_b"]) == {}  # another township's reviewer

    roster_review(roster=roster, by=users["reviewer"])
    assert work(client, users["reviewer"]) == {}
    assert work(client, users["approver"]) == {"subsidies.county_approve": 1}

    roster_approve(roster=roster, by=users["approver"])
    assert work(client, users["approver"]) == {}
    Roster.objects.filter(pk=roster.pk).update(approved_on=date.today() - timedelta(days=30))  # 公示 is over
    roster.refresh_from_db()
    batch_create(roster=roster, by=users["payer"])
    assert work(client, users["payer"]) == {"subsidies.bank_return": 1}
    # The link leads to the page where the work is done.
    client.force_login(users["payer"])
    response = client.get(reverse("core:worklist_open", kwargs={"key": "subsidies.bank_return"}))
    assert response.status_code == 302 and response["Location"] == reverse("subsidies:batch_list")
    page = client.get(response["Location"]).content.decode()
    assert "待银行回盘" in page


def test_an_import_result_is_new_until_its_owner_opens_it(client, make_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    clerk = make_user("clerk", TOWNSHIP_A, "township_clerk")
    other = make_user("other", TOWNSHIP_A, "township_clerk")
    now = timezone.now()

    def job(by, status, finished_at):
        return ImportJob.objects.create(
            kind="persons", file_name="a.csv", file_sha256="0" * 64, area_id=TOWNSHIP_A, created_by=by,
            status=status, finished_at=finished_at,
        )  # fmt: skip

    job(clerk, "failed", now - timedelta(hours=1))
    job(clerk, "committed", now - timedelta(days=2))
    job(clerk, "validated", now - timedelta(minutes=5))
    job(clerk, "committed", now - timedelta(days=8))  # older than a week
    job(other, "rejected", now)  # someone else's
    assert work(client, clerk) == {"imports.to_confirm": 1, "imports.results": 2}
    assert work(client, other) == {"imports.results": 1}

    client.force_login(clerk)
    response = client.get(reverse("core:worklist_open", kwargs={"key": "imports.results"}))
    assert response["Location"] == reverse("imports:list")
    assert work(client, clerk) == {"imports.to_confirm": 1}  # seen; the dry run still waits for a decision
    job(clerk, "rejected", timezone.now() + timedelta(seconds=1))
    assert work(client, clerk) == {"imports.to_confirm": 1, "imports.results": 1}


def test_the_assessor_sees_units_to_score_but_never_its_own(client, assessments, make_user):
    county_assessor = make_user("kaohe", COUNTY, "assessor")
    township_assessor = make_user("kaohe_a", TOWNSHIP_A, "assessor", "county_viewer")
    assert work(client, county_assessor) == {"scoring.to_score": 3}
    # Bound to township A, it sees (and may score) nothing but its own unit: nothing is waiting for it.
    assert work(client, township_assessor) == {}


def test_a_new_snapshot_is_news_for_readers_of_the_indicators_until_they_open_the_dashboard(client, make_user):
    viewer = make_user("viewer", COUNTY, "county_viewer")
    leader = make_user("leader", TOWNSHIP_A, "county_viewer")
    clerk = make_user("clerk", TOWNSHIP_A, "township_clerk")
    run = make_snapshot(f"{YEAR}Q1", {COUNTY: {"births": "3"}})
    run.finished_at = timezone.now()
    run.save(update_fields=["finished_at"])
    assert work(client, viewer) == {"indicators.new_reports": 1}
    assert work(client, leader) == {"indicators.new_reports": 1}  # the county's run covers the township
    assert work(client, clerk) == {}  # a clerk does not read the indicators
    client.force_login(viewer)
    assert client.get(reverse("core:worklist_open", kwargs={"key": "indicators.new_reports"}))["Location"] == (
        reverse("indicators:dashboard")
    )
    assert work(client, viewer) == {}
    assert work(client, leader) == {"indicators.new_reports": 1}  # seen by one user, still new to another


def test_a_newly_entered_implausible_birth_is_a_new_data_quality_entry_for_the_clerks(client, make_user, make_person):
    clerk = make_user("clerk", TOWNSHIP_A, "township_clerk")
    born = date.today() - timedelta(days=30)
    mother = make_person("小母亲", "F", born.replace(year=born.year - 14, day=1) - timedelta(days=100))
    assert work(client, clerk) == {}
    # The mother was 14: held by the plausibility rules until confirmed, then listed by the quality check.
    village = Area.objects.get(code=VILLAGE_A)
    birth_record(mother=mother, on=born, village=village, child_data=ChildData("婴儿", "F"), by=None,
                 confirmed=True)  # fmt: skip
    assert work(client, clerk) == {"registry.quality": 1}
    assert work(client, make_user("fee", TOWNSHIP_A, "fee_officer")) == {}  # reads the registry, fixes nothing
    client.force_login(clerk)
    assert client.get(reverse("core:worklist_open", kwargs={"key": "registry.quality"}))["Location"] == (
        reverse("registry:quality")
    )
    assert work(client, clerk) == {}


def test_fee_cases_past_their_due_date_wait_for_the_fee_officer(client, make_user, make_birth, fee_in_force):
    """In the years the fee was levied (after its end, the county terminates open cases and nothing is due)."""
    officer = make_user("fee", TOWNSHIP_A, "fee_officer")
    case = open_case(make_birth(), officer)
    fee_case_decide(
        case=case, decision_number="平抚决〔2013〕9号", decided_on=date(2013, 1, 10), amount=Decimal("13000.00"),
        due_on=date(2013, 2, 10), by=officer,
    )  # fmt: skip
    assert work(client, officer) == {"fees.overdue": 1}
    assert "fees.overdue" not in work(client, make_user("reviewer", TOWNSHIP_A, "subsidy_reviewer"))


def test_a_link_to_another_roles_item_leads_back_to_the_start_page(client, make_user):
    client.force_login(make_user("fee", TOWNSHIP_A, "fee_officer"))
    response = client.get(reverse("core:worklist_open", kwargs={"key": "subsidies.bank_return"}))
    assert response.status_code == 302 and response["Location"] == reverse("accounts:home")


def test_the_start_page_takes_a_bounded_number_of_queries_for_every_role(client, world, django_assert_max_num_queries):
    """Every kind of record exists in the world; each role's page costs a few queries per item, whatever
    the data (session and user, the seen times, one COUNT per item, the menu and the areas under the user)."""
    shown = {}
    for role, user in world["people"].items():
        client.force_login(user)
        with django_assert_max_num_queries(20):  # county admin: up to 12 items
            response = client.get(HOME)
        assert response.status_code == 200
        shown[role] = work(client, user)
    # The world's roster is approved and its batch exported: the approver pays too (not that roster's batch).
    assert shown[Role.SUBSIDY_APPROVER] == {"subsidies.bank_return": 1}
    assert shown[Role.ASSESSOR]["scoring.to_score"] == 3
    assert "indicators.new_reports" not in shown[Role.FEE_OFFICER]
