"""The role matrix (``apps.core.access``, DESIGN §4) walked over every page and every API operation.

Every URL pattern of the project is enumerated from the resolver and every API operation from the OpenAPI
schema, so a new page or endpoint that the matrix (or this test's small world) does not know makes the test
fail. For each role, one user of that role requests each of them with real objects of one township filled in:
a role that may open the page or read the API part gets its page (200; a POST-only page answers a GET with
405), any other role gets the matrix's 403 — whatever the object, so nothing reveals whether it exists.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from drf_spectacular.generators import SchemaGenerator

from apps.accounts.models import Role
from apps.core import access
from apps.core.navigation import nav_items_for
from apps.fees.models import FeeCase
from apps.fees.services import fee_case_decide, payment_record
from apps.imports.models import ImportJob
from apps.indicators.services import report_submit
from apps.scoring.models import AdjustmentRule, ItemMethod, SchemeItem
from apps.scoring.services import adjustment_claim, item_score_manual
from apps.subsidies.models import BankAccount, ChildcareApplication, Programme
from apps.subsidies.services import batch_create
from tests.conftest import COUNTY, TOWNSHIP_A, VILLAGE_A
from tests.fees.conftest import make_birth, open_case, policy_data  # noqa: F401 (fixtures)
from tests.registry.conftest import make_person  # noqa: F401 (fixture)
from tests.registry.test_api import _populate
from tests.scoring.conftest import YEAR, assessments, contracts, make_snapshot, scheme  # noqa: F401 (fixtures)
from tests.subsidies.conftest import approved_roster, families, make_family, programme, users  # noqa: F401 (fixtures)  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

# One user of each role, bound where that role works; every object of the world lies within their areas.
ROLE_AREAS = {
    Role.VILLAGE_CLERK: VILLAGE_A,
    Role.TOWNSHIP_CLERK: TOWNSHIP_A,
    Role.FEE_OFFICER: TOWNSHIP_A,
    Role.SUBSIDY_REVIEWER: TOWNSHIP_A,
    Role.SUBSIDY_APPROVER: COUNTY,
    Role.ASSESSOR: COUNTY,
    Role.COUNTY_VIEWER: COUNTY,
    Role.COUNTY_ADMIN: COUNTY,
    Role.TOWNSHIP_ADMIN: TOWNSHIP_A,
}
# Admin pages: every pattern must belong to the admin part; these are requested (configuration: the role
# groups' permissions, from the matrix, open them to the county admin).
ADMIN_SAMPLE = ["/admin/", "/admin/accounts/user/", "/admin/registry/birthpolicyrule/", "/admin/scoring/contract/"]


def _patterns(resolver=None, prefix="", namespace=""):
    for p in (resolver or get_resolver()).url_patterns:
        if isinstance(p, URLResolver):
            ns = ":".join(filter(None, [namespace, p.namespace]))
            yield from _patterns(p, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), namespace, p.name or "", p.callback


@pytest.fixture
def world(request, settings, tmp_path, areas, make_user):
    """One township's worth of every kind of record, and one user of each role."""
    settings.MEDIA_ROOT = tmp_path
    # The other apps' test fixtures (imported above), taken by name.
    new_person, new_birth, subsidy_users, township_assessments = (
        request.getfixturevalue(name) for name in ("make_person", "make_birth", "users", "assessments")
    )
    request.getfixturevalue("families")  # two eligible couples with bank cards, and the 2025 rosters
    # Inside the admin, Django's own permissions apply: those of the role's group, which user_create gives.
    people = {role: make_user(f"m_{role}", area, role) for role, area in ROLE_AREAS.items()}
    managed = make_user("m_managed", VILLAGE_A, Role.VILLAGE_CLERK)  # a user the user admins open
    registry = _populate(new_person, village=VILLAGE_A, township=TOWNSHIP_A, tag="甲")

    officer = people[Role.FEE_OFFICER]
    birth = new_birth()
    case = open_case(birth, officer)
    fee_case_decide(
        case=case, decision_number="平抚决〔2013〕9号", decided_on=date(2013, 1, 10), amount=Decimal("13000.00"),
        due_on=date(2013, 2, 10), by=officer,
    )  # fmt: skip
    payment = payment_record(
        case=case, receipt_number="R-1", amount=Decimal("100.00"), paid_on=date(2013, 1, 20), method="cash", by=officer
    )
    open_birth = new_birth(name="陈桂兰", on=date(2013, 7, 1))  # out of policy, no case yet
    ended = open_case(new_birth(name="赵淑珍", on=date(2014, 3, 1)), officer)
    # terminated after the fee's end (set directly: the bulk service would close the world's open case too)
    FeeCase.objects.filter(pk=ended.pk).update(state="terminated", closed_on=date(2021, 8, 1), closed_reason="停征")

    roster = approved_roster(subsidy_users)
    batch = batch_create(roster=roster, by=subsidy_users["payer"])
    father = roster.entries.get(person__name="杨父").person
    childcare = ChildcareApplication.objects.create(
        programme=Programme.objects.get(code="childcare"),
        child=registry.wife,
        applicant=father,
        relationship="guardian",
        guardian_basis="指定监护",
        applied_on=date(2025, 3, 1),
        account=BankAccount.objects.get(person=father, is_active=True),
        village_id=VILLAGE_A,
    )  # fmt: skip (the matrix opens its pages; its rules are tested in tests/subsidies/test_childcare.py)

    assessment = township_assessments[TOWNSHIP_A]
    run = make_snapshot(f"{YEAR}Q2-YTD", {area: {"policy_compliance_rate": "99"} for area in (COUNTY, TOWNSHIP_A)})
    submission = report_submit(period=run.period, by=make_user("m_leader", TOWNSHIP_A, Role.COUNTY_VIEWER))
    assessor = people[Role.ASSESSOR]
    from apps.scoring.models import SampleCheckPolicy
    from apps.scoring.services import sample_checks_draw

    # (A transactional test before this one may have flushed the migration's rule.)
    SampleCheckPolicy.objects.get_or_create(
        valid_from=date(2020, 1, 1), defaults={"households_per_township": 20, "accuracy_threshold": 95}
    )
    sample = sample_checks_draw(year=YEAR, by=assessor)[0]
    manual = SchemeItem.objects.filter(scheme_id=assessment.scheme_id, method=ItemMethod.MANUAL).first()
    score = item_score_manual(
        assessment=assessment, item=manual, points=Decimal("1"), note="台账齐全",
        evidence=SimpleUploadedFile("s.txt", b"x"), by=assessor,
    )  # fmt: skip
    rule = AdjustmentRule.objects.filter(scheme_id=assessment.scheme_id).first()
    claim = adjustment_claim(
        assessment=assessment, rule=rule, note="创新", cases=1, evidence=SimpleUploadedFile("a.txt", b"x"),
        by=assessor,
    )  # fmt: skip

    job = ImportJob.objects.create(
        kind="persons", file_name="a.csv", file_sha256="0" * 64, area_id=TOWNSHIP_A,
        created_by=people[Role.COUNTY_ADMIN], status="failed",
    )  # fmt: skip
    job.file.save("a.csv", ContentFile(b"x"), save=False)
    job.error_report.save("errors.xlsx", ContentFile(b"x"), save=False)
    job.save()

    # Path parameters by (url name, parameter): the objects a reader opens.
    params = {
        "code": VILLAGE_A,
        "pk": {
            "registry": registry.wife.pk,
            "core": registry.wife.pk,  # core:history of registry.person
            "registry:contraception_end": registry.use.pk,
            "registry:birth_policy_override": registry.birth.pk,
            "registry:household_detail": registry.household.pk,
            "registry:event_correct": registry.marriage.pk,
            "registry:event_void": registry.marriage.pk,
            "imports": job.pk,
            "indicators": run.pk,
            "indicators:submission_detail": submission.pk,
            "indicators:submission_decide": submission.pk,
            "fees": case.pk,
            "fees:receipt": payment.pk,
            "fees:payment_reverse": payment.pk,
            "fees:termination_notice": ended.pk,
            "subsidies": roster.pk,
            "subsidies:batch_detail": batch.pk,
            "subsidies:batch_export": batch.pk,
            "subsidies:batch_return": batch.pk,
            "subsidies:childcare_close": childcare.pk,
            "scoring": assessment.pk,
            "scoring:scheme_detail": assessment.scheme_id,
            "scoring:adjustment_decide": claim.pk,
            "scoring:score_evidence": score.pk,
            "scoring:adjustment_evidence": claim.pk,
            "scoring:sample_check_detail": sample.pk,
            "scoring:sample_check_print": sample.pk,
            "scoring:sample_finding_save": sample.pk,
            "scoring:sample_check_close": sample.pk,
            "accounts": managed.pk,
        },
        "birth_pk": open_birth.pk,
        "year": YEAR,  # scoring:contract_edit
        "area_code": TOWNSHIP_A,
        "kind": {"registry": "marriages"},  # registry:event_correct / event_void of the world's marriage
        "other": registry.husband.pk,  # registry:person_merge (the matrix decides before the view)
        "entry_pk": roster.entries.first().pk,
        "objection_pk": 1,  # subsidies:objection_decide (the matrix decides before the view looks it up)
        "item_pk": manual.pk,
        "action": "submit",
        "fmt": "xlsx",
        "model_label": "registry.person",
        "key": "registry.quality",  # core:worklist_open: a start-page link, which redirects
    }
    api_ids = {
        "areas": VILLAGE_A,
        "persons": registry.wife.pk,
        "households": registry.household.pk,
        "births": registry.birth.pk,
        "deaths": registry.death.pk,
        "marriages": registry.marriage.pk,
        "contraception": registry.use.pk,
        "moves": registry.move.pk,
        "permits": registry.permit.pk,
        "imports": job.pk,
        "indicators/values": run.values.first().pk,
        "indicators/submissions": submission.pk,
        "fees/cases": case.pk,
        "fees/payments": payment.pk,
        "subsidies/programmes": roster.programme_id,
        "subsidies/rosters": roster.pk,
        "subsidies/batches": batch.pk,
        "subsidies/childcare-applications": childcare.pk,
        "scoring/schemes": assessment.scheme_id,
        "scoring/assessments": assessment.pk,
    }
    return {"people": people, "params": params, "api_ids": api_ids, "person": registry.wife, "case": case,
            "batch": batch, "roster": roster}  # fmt: skip


def _fill(route: str, namespace: str, name: str, params: dict) -> str:
    """The path of a page with the world's objects in place of its parameters."""

    def value(match: re.Match) -> str:
        key = match.group(1)
        given = params.get(key)
        if isinstance(given, dict):
            given = given.get(f"{namespace}:{name}", given.get(namespace))
        assert given is not None, f"no object in the world for <{key}> of {namespace}:{name}: add one"
        return str(given)

    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", value, route)


def test_every_role_named_in_the_matrix_is_a_role_and_every_part_has_both_rules():
    named = set().union(*access.READ.values(), *access.WRITE.values())
    assert named <= set(Role.values) and set(Role.values) == access.ALL_ROLES
    assert access.READ.keys() == access.WRITE.keys()
    for part, writers in access.WRITE.items():
        assert writers <= access.READ[part], f"{part}: a writer who may not read"
    assert set(access.PAGE_PARTS.values()) <= set(access.READ) | {access.PUBLIC}


def test_every_page_follows_the_matrix_for_every_role(client, world):
    pages, api_views = [], set()
    for route, namespace, name, callback in _patterns():
        view_class = getattr(callback, "cls", None)
        if view_class is not None and hasattr(view_class, "get_queryset") and route.startswith("api/v1/^"):
            api_views.add(view_class)  # walked through the schema below
            continue
        if namespace == "admin":
            assert access.page_part("admin", name) == "admin"
            continue
        part = access.page_part(namespace, name)
        if (namespace, name) != ("core", "history"):
            assert part is not None, f"page {namespace}:{name} ({route}) is not in the role matrix"
        if part == access.PUBLIC or (not namespace and name.startswith("api-")):
            continue  # signing in, the health check, the API root and schema: no role needed
        if "<drf_format_suffix" in route:
            continue
        pages.append((_fill(route, namespace, name, world["params"]), namespace, name))
    assert api_views, "the API viewsets were not found among the URL patterns"
    assert len(pages) > 50

    wrong = []
    for role, user in world["people"].items():
        client.force_login(user)
        for path, namespace, name in pages:
            status = client.get(path).status_code
            if (namespace, name) == ("core", "history"):
                allowed = access.may_read(user, "registry")
            else:
                allowed = access.page_allowed(user, namespace, name)
            full = f"{namespace}:{name}"
            if not allowed:
                ok = status == 403
            elif full in access.WRITE_PAGES:
                ok = status in (200, 302, 405)
            elif full == "core:worklist_open":
                ok = status == 302
            else:
                ok = status == 200
            if not ok:
                wrong.append((role, path, status, "allowed" if allowed else "refused"))
        for path in ADMIN_SAMPLE:
            status = client.get(path).status_code
            allowed = access.may_read(user, "admin")
            if (status == 200) != allowed or (not allowed and status != 403):
                wrong.append((role, path, status, "allowed" if allowed else "refused"))
    assert not wrong, "\n".join(map(str, wrong))


def _operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, methods in schema["paths"].items():
        for method in methods:
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method


def test_every_api_operation_follows_the_matrix_for_every_role(api_client, world):
    ids = world["api_ids"]
    operations = []
    for template, method in _operations():
        prefix = template.removeprefix("/api/v1/").split("/{")[0].rstrip("/")
        if "{" in template:
            assert prefix in ids, f"no object in the world for {template}: add one"
            path = re.sub(r"\{\w+\}", str(ids[prefix]), template)
        else:
            path = template
        view_class = resolve(path).func.cls
        part = access.api_part(view_class) if hasattr(view_class, "get_queryset") else "api_docs"
        assert part in access.READ, f"{template} belongs to no part of the role matrix"
        operations.append((path, method, part))
    assert len(operations) > 50

    wrong = []
    # Reads first, then writes (an empty body: refused by the matrix, or by the serializer or the service).
    for phase in ("get", "write"):
        for role, user in world["people"].items():
            api_client.force_authenticate(user)
            for path, method, part in operations:
                if (method == "get") != (phase == "get"):
                    continue
                response = getattr(api_client, method)(path, {}, format="json") if method != "get" else (
                    api_client.get(path)
                )  # fmt: skip
                allowed = access.may_read(user, part)
                denied = response.status_code == 403 and response.json().get("detail") == access.DENIED_MESSAGE
                if method == "get":
                    ok = response.status_code == 200 if allowed else response.status_code == 403
                else:
                    ok = (response.status_code < 500 and not denied) if allowed else response.status_code == 403
                if not ok:
                    wrong.append((role, method, path, response.status_code))
    assert not wrong, "\n".join(map(str, wrong))


def test_a_fee_officer_reads_no_subsidy_record_and_subsidy_staff_no_fee_record(client, world):
    """The issue's finding: by URL, not only through the menu."""
    people, case, batch, roster = world["people"], world["case"], world["batch"], world["roster"]
    client.force_login(people[Role.FEE_OFFICER])
    for path in (f"/subsidies/rosters/{roster.pk}/", f"/subsidies/batches/{batch.pk}/",
                 f"/subsidies/batches/{batch.pk}/export/xlsx/", f"/api/v1/subsidies/batches/{batch.pk}/payments/",
                 f"/history/subsidies.paymentbatch/{batch.pk}/"):  # fmt: skip
        assert client.get(path).status_code == 403, path
    labels = [i["label"] for i in nav_items_for(people[Role.FEE_OFFICER])]
    assert "社会抚养费" in labels and "奖扶名册" not in labels and "发放批次" not in labels

    for role in (Role.SUBSIDY_REVIEWER, Role.SUBSIDY_APPROVER):
        client.force_login(people[role])
        for path in (f"/fees/cases/{case.pk}/", f"/fees/cases/{case.pk}/notice/", f"/api/v1/fees/cases/{case.pk}/",
                     f"/history/fees.feecase/{case.pk}/"):  # fmt: skip
            assert client.get(path).status_code == 403, (role, path)
        labels = [i["label"] for i in nav_items_for(people[role])]
        assert "社会抚养费" not in labels and "奖扶名册" in labels


def test_the_selectors_return_nothing_to_a_role_without_read_access(world):
    from apps.fees.selectors import fee_cases_visible_to, payments_visible_to, township_ledger
    from apps.indicators.selectors import indicator_values_visible_to
    from apps.registry.selectors import persons_visible_to
    from apps.scoring.selectors import assessments_visible_to
    from apps.subsidies.selectors import batches_visible_to, rosters_visible_to

    people = world["people"]
    fee, reviewer, assessor = people[Role.FEE_OFFICER], people[Role.SUBSIDY_REVIEWER], people[Role.ASSESSOR]
    assert fee_cases_visible_to(user=fee).exists() and not fee_cases_visible_to(user=reviewer).exists()
    assert not payments_visible_to(user=reviewer).exists()
    assert township_ledger(user=reviewer, start=date(2013, 1, 1), end=date(2013, 12, 31)) == []
    assert township_ledger(user=fee, start=date(2013, 1, 1), end=date(2013, 12, 31)) != []
    assert rosters_visible_to(user=reviewer).exists() and not rosters_visible_to(user=fee).exists()
    assert batches_visible_to(user=reviewer).exists() and not batches_visible_to(user=fee).exists()
    assert not batches_visible_to(user=people[Role.ASSESSOR]).exists()
    assert not persons_visible_to(user=assessor).exists() and persons_visible_to(user=fee).exists()
    assert assessments_visible_to(user=assessor).exists() and not assessments_visible_to(user=fee).exists()
    assert indicator_values_visible_to(user=assessor).exists()
    assert not indicator_values_visible_to(user=people[Role.TOWNSHIP_CLERK]).exists()
