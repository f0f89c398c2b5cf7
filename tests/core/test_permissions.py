"""Roles are permissions (DESIGN §4): each role's group holds exactly the Django permissions written out below,
so the county admin configures the rule tables in the admin without being a superuser, and no role holds a
permission more. The table is written from DESIGN §4 by hand (not derived from ``apps.core.access``), so a
change of the matrix that gives a role more than this fails here."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import Group
from pghistory.models import Events

from apps.accounts.models import Role
from apps.accounts.services import user_set_roles
from apps.core import access
from apps.registry.models import BirthPolicyRule
from tests.conftest import COUNTY, TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A

pytestmark = pytest.mark.django_db


def _perms(app: str, actions: str, *models: str) -> set[str]:
    return {f"{app}.{action}_{model}" for action in actions.split() for model in models}


AREAS = _perms("areas", "view", "area")
POLICY = _perms("registry", "view", "birthpolicyrule", "plausibilityrule")
FEES = _perms("fees", "view", "feestandard", "feerate", "feepolicy", "feeend", "legalbasis")
SUBSIDIES = _perms("subsidies", "view", "programme", "programmerule", "disabilityrecord")
INDICATORS = _perms("indicators", "view", "alertthreshold", "registrationdeadline", "assessmentend")
SCORING = _perms(
    "scoring", "view", "scheme", "schemeitem", "adjustmentrule", "resultrules", "gradeband", "contract",
    "contracttarget", "pairing", "samplecheckpolicy",
)  # fmt: skip
USERS = _perms("accounts", "view", "user")
RECONCILIATION = _perms("reconciliation", "view", "matchtolerance")

EXPECTED: dict[str, set[str]] = {
    # Clerks and staff look up the rules of the parts they work in; they change none.
    Role.VILLAGE_CLERK: AREAS | POLICY | SUBSIDIES,
    Role.TOWNSHIP_CLERK: AREAS | POLICY | SUBSIDIES | SCORING | RECONCILIATION,
    Role.FEE_OFFICER: AREAS | POLICY | FEES,
    Role.SUBSIDY_REVIEWER: AREAS | POLICY | SUBSIDIES,
    Role.SUBSIDY_APPROVER: AREAS | POLICY | SUBSIDIES,
    Role.ASSESSOR: AREAS | INDICATORS | SCORING,
    Role.COUNTY_VIEWER: AREAS | POLICY | FEES | SUBSIDIES | INDICATORS | SCORING | RECONCILIATION,
    Role.TOWNSHIP_ADMIN: AREAS | USERS,
    # The county admin configures everything that is configuration: divisions (never deleted), birth-policy and
    # plausibility rules, fee parameters, programmes and their rules, thresholds and deadlines, result rules,
    # grade bands, contracts and pairings; schemes are loaded by a command and only viewed; users are managed
    # in our own pages, through the services, and only viewed in the admin.
    Role.COUNTY_ADMIN: AREAS
    | POLICY
    | FEES
    | SUBSIDIES
    | INDICATORS
    | SCORING
    | USERS
    | RECONCILIATION
    | _perms("areas", "add change", "area")
    | _perms("registry", "add change delete", "birthpolicyrule", "plausibilityrule")
    | _perms("fees", "add change delete", "feestandard", "feerate", "feepolicy", "legalbasis")
    | _perms("fees", "change", "feeend")
    | _perms("subsidies", "add change delete", "programme", "programmerule")
    | _perms("subsidies", "add", "disabilityrecord")
    | _perms("indicators", "add change delete", "alertthreshold", "registrationdeadline", "assessmentend")
    | _perms("reconciliation", "add change delete", "matchtolerance")
    | _perms(
        "scoring",
        "add change delete",
        "resultrules",
        "gradeband",
        "contract",
        "contracttarget",
        "pairing",
        "samplecheckpolicy",
    ),
}


def _group_perms(group: Group) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


@pytest.mark.parametrize("role", Role.values)
def test_each_roles_group_holds_exactly_its_permissions(role):
    assert set(access.role_permissions(role)) == EXPECTED[role]
    # The groups the migration (and every migrate since) made in the database.
    assert _group_perms(Group.objects.get(name=role)) == EXPECTED[role]


@pytest.mark.parametrize("role", Role.values)
def test_a_user_of_each_role_holds_exactly_its_permissions(make_user, role):
    """What Django answers for the user (its groups and any permission of its own), not only the group's."""
    area = VILLAGE_A if role == Role.VILLAGE_CLERK else TOWNSHIP_A if role in access.TOWNSHIP_ROLES else COUNTY
    user = make_user(f"perm_{role}", area, role)
    assert not user.is_superuser and not user.user_permissions.exists()
    assert user.get_all_permissions() == EXPECTED[role]


def test_every_role_has_its_group_and_only_the_county_admin_enters_the_admin():
    assert set(Group.objects.values_list("name", flat=True)) >= set(Role.values)
    assert [r for r in Role.values if access.may_enter_admin([r])] == [Role.COUNTY_ADMIN]


def test_a_users_groups_and_admin_access_follow_its_roles(make_user, areas):
    user = make_user("multi", TOWNSHIP_A, Role.TOWNSHIP_CLERK, Role.FEE_OFFICER)
    assert set(user.groups.values_list("name", flat=True)) == {"township_clerk", "fee_officer"}
    assert not user.is_staff
    assert user.has_perm("fees.view_feestandard") and not user.has_perm("fees.change_feestandard")

    user_set_roles(user=user, area=areas[COUNTY], roles=[Role.COUNTY_ADMIN])
    user = type(user).objects.get(pk=user.pk)  # a fresh permission cache
    assert list(user.groups.values_list("name", flat=True)) == ["county_admin"]
    assert user.is_staff and user.has_perm("registry.change_birthpolicyrule")

    user_set_roles(user=user, area=areas[TOWNSHIP_A], roles=[Role.VILLAGE_CLERK])
    user = type(user).objects.get(pk=user.pk)
    assert list(user.groups.values_list("name", flat=True)) == ["village_clerk"]
    assert not user.is_staff and not user.has_perm("registry.change_birthpolicyrule")


def test_the_county_admin_configures_in_the_admin_without_being_a_superuser(client, make_user):
    admin_user = make_user("county_admin", COUNTY, Role.COUNTY_ADMIN)
    assert not admin_user.is_superuser and admin_user.is_staff
    client.force_login(admin_user)
    index = client.get("/admin/")
    assert index.status_code == 200
    page = index.content.decode()
    for name in ("生育政策规则", "合理性规则", "征收标准", "用户"):
        assert name in page, name
    # Records are changed only through the services and read in our pages: not in the admin.
    for path in ("/admin/fees/feecase/", "/admin/registry/person/", "/admin/subsidies/roster/"):
        assert client.get(path).status_code == 403, path

    rule = BirthPolicyRule.objects.filter(valid_to__isnull=True).order_by("-valid_from").first()
    url = f"/admin/registry/birthpolicyrule/{rule.pk}/change/"
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {"name": rule.name, "valid_from": rule.valid_from.isoformat(), "valid_to": "2030-12-31",
         "hukou_type": rule.hukou_type, "condition": rule.condition, "children_allowed": rule.children_allowed,
         "source": rule.source},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:3000]
    rule.refresh_from_db()
    assert rule.valid_to == date(2030, 12, 31)
    # Audited and dated: who changed it, and the before and after.
    event = Events.objects.tracks(rule).filter(pgh_label="update").latest("pgh_created_at")
    assert event.pgh_diff["valid_to"] == [None, "2030-12-31"]
    assert event.pgh_context["user"] == admin_user.pk

    # Users are listed (its own county's) but changed in our pages.
    assert client.get("/admin/accounts/user/").status_code == 200
    assert client.get("/admin/accounts/user/add/").status_code == 403


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.COUNTY_ADMIN])
def test_every_other_role_is_refused_the_admin(client, make_user, role):
    area = VILLAGE_A if role == Role.VILLAGE_CLERK else TOWNSHIP_A
    client.force_login(make_user(f"u_{role}", area, role))
    assert client.get("/admin/").status_code == 403
    assert client.get("/admin/registry/birthpolicyrule/").status_code == 403


def test_the_admin_shows_users_of_the_admins_own_area_only(client, make_user):
    make_user("clerk_b", TOWNSHIP_B, Role.TOWNSHIP_CLERK)
    own = make_user("clerk_a", TOWNSHIP_A, Role.TOWNSHIP_CLERK)
    # A county admin bound to a township (an odd binding, but the scope must hold for it too).
    client.force_login(make_user("admin_a", TOWNSHIP_A, Role.COUNTY_ADMIN))
    page = client.get("/admin/accounts/user/").content.decode()
    assert "clerk_a" in page and "clerk_b" not in page
    other = type(own).objects.get(username="clerk_b")
    assert client.get(f"/admin/accounts/user/{other.pk}/change/").status_code in (302, 404)
    assert client.get(f"/admin/accounts/user/{own.pk}/change/").status_code == 200


def test_every_editable_admin_model_is_configuration_of_the_matrix(rf):
    """A rule table someone adds to the admin must join ``access.CONFIG_MODELS`` (else the county admin, who is
    no superuser, could not edit it); every other model of ours is read-only in the admin."""
    from django.contrib import admin

    from apps.accounts.models import User

    request = rf.get("/admin/")
    request.user = User(is_superuser=True, is_active=True, is_staff=True)
    missing = []
    for model, model_admin in admin.site._registry.items():
        if not model.__module__.startswith("apps."):
            continue
        editable = model_admin.has_add_permission(request) or model_admin.has_change_permission(request)
        if editable and model._meta.label_lower not in access.CONFIG_MODELS:
            missing.append(model._meta.label_lower)
        for inline in model_admin.get_inline_instances(request) if editable else ():
            if inline.has_change_permission(request) and inline.model._meta.label_lower not in access.CONFIG_MODELS:
                missing.append(inline.model._meta.label_lower)
    assert missing == []
