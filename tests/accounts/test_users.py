"""Users managed in the app: the county admin (and a township admin for its own township) creates users bound
to an area inside its own, gives roles it may grant, disables, resets a password the user must change at the
next login, and unlocks an account locked by wrong passwords."""

from __future__ import annotations

import pytest
from django.test import Client
from pghistory.models import Events

from apps.accounts.models import Role, User
from apps.accounts.services import user_create
from apps.core.clientip import rate_limit_reset
from apps.core.errors import RuleViolation
from tests.conftest import COUNTY, PASSWORD, TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A, VILLAGE_B

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Fresh-Lantern-93"


@pytest.fixture
def county_admin(make_user) -> User:
    return make_user("county_admin", COUNTY, Role.COUNTY_ADMIN, full_name="县管理员")


@pytest.fixture
def township_admin(make_user) -> User:
    return make_user("town_admin", TOWNSHIP_A, Role.TOWNSHIP_ADMIN, full_name="平舒镇管理员")


def _new_user(client, **fields):
    data = {"username": "new_clerk", "full_name": "王芳", "area": TOWNSHIP_A, "roles": ["township_clerk"],
            "password1": "Temp-Password-2026", "password2": "Temp-Password-2026", **fields}  # fmt: skip
    return client.post("/accounts/users/new/", data)


def test_the_county_admin_creates_a_township_clerk_inside_its_county(client, county_admin):
    client.force_login(county_admin)
    form = client.get("/accounts/users/new/").content.decode()
    assert "平舒镇" in form and "县级管理员" in form
    response = _new_user(client)
    assert response.status_code == 302 and response["Location"] == "/accounts/users/"
    user = User.objects.get(username="new_clerk")
    assert (user.area_id, user.roles, user.first_name) == (TOWNSHIP_A, ["township_clerk"], "王芳")
    assert list(user.groups.values_list("name", flat=True)) == ["township_clerk"]
    assert user.must_change_password and user.check_password("Temp-Password-2026") and not user.is_staff
    # Audited: who created the account.
    event = Events.objects.tracks(user).get(pgh_label="insert")
    assert event.pgh_context["user"] == county_admin.pk

    listing = client.get("/accounts/users/").content.decode()
    assert "new_clerk" in listing and "乡镇录入员" in listing and "从未登录" in listing and "待改密码" in listing


def test_a_weak_or_repeated_name_is_refused_with_a_chinese_message(client, county_admin):
    client.force_login(county_admin)
    response = _new_user(client, password1="12345678", password2="12345678")
    assert response.status_code == 200 and "密码" in response.content.decode()
    assert _new_user(client, username="county_admin").status_code == 200
    assert "已存在" in _new_user(client, username="county_admin").content.decode()
    assert not User.objects.filter(username="new_clerk").exists()


def test_a_township_admin_manages_only_its_own_township(client, township_admin, make_user):
    client.force_login(township_admin)
    # Another township is not among the areas, and the service refuses it too.
    response = _new_user(client, area=TOWNSHIP_B)
    assert response.status_code == 200 and "选择一个有效的选项" in response.content.decode()
    assert not User.objects.filter(username="new_clerk").exists()
    with pytest.raises(RuleViolation, match="所选区划不在您的管辖范围内"):
        user_create(username="x1", password=PASSWORD, area=User.objects.get(username="town_admin").area.parent,
                    roles=["village_clerk"], by=township_admin)  # fmt: skip

    # A user of another township is a 404, for every page.
    other = make_user("clerk_b", VILLAGE_B, Role.VILLAGE_CLERK)
    assert client.get(f"/accounts/users/{other.pk}/").status_code == 404
    assert client.post(f"/accounts/users/{other.pk}/active/", {"active": "0"}).status_code == 404
    assert client.post(f"/accounts/users/{other.pk}/password/", {"password": ""}).status_code == 404
    listing = client.get("/accounts/users/").content.decode()
    assert "clerk_b" not in listing and "town_admin" in listing

    assert _new_user(client, area=VILLAGE_A, roles=["village_clerk"]).status_code == 302
    assert User.objects.get(username="new_clerk").area_id == VILLAGE_A


def test_a_township_admin_cannot_grant_a_county_role(client, township_admin, areas):
    client.force_login(township_admin)
    page = client.get("/accounts/users/new/").content.decode()
    assert "乡镇录入员" in page and "县级管理员" not in page and "县级查询" not in page
    response = _new_user(client, roles=["county_admin"])
    assert response.status_code == 200 and "选择一个有效的选项" in response.content.decode()
    assert not User.objects.filter(username="new_clerk").exists()
    with pytest.raises(RuleViolation, match="您不能授予以下角色：县级管理员"):
        user_create(username="x2", password=PASSWORD, area=areas[TOWNSHIP_A], roles=["county_admin"],
                    by=township_admin)  # fmt: skip


def test_a_township_admin_cannot_change_a_user_holding_a_county_role(client, township_admin, make_user):
    leader = make_user("leader", TOWNSHIP_A, Role.COUNTY_VIEWER)
    client.force_login(township_admin)
    response = client.post(f"/accounts/users/{leader.pk}/active/", {"active": "0"}, follow=True)
    assert "该用户的角色超出您可以管理的范围" in response.content.decode()
    leader.refresh_from_db()
    assert leader.is_active


def test_the_admin_edits_roles_and_area(client, county_admin, township_clerk):
    client.force_login(county_admin)
    assert client.get(f"/accounts/users/{township_clerk.pk}/").status_code == 200
    response = client.post(
        f"/accounts/users/{township_clerk.pk}/",
        {"full_name": "李娜", "area": TOWNSHIP_B, "roles": ["township_clerk", "fee_officer"]},
    )
    assert response.status_code == 302
    township_clerk.refresh_from_db()
    assert (township_clerk.first_name, township_clerk.area_id) == ("李娜", TOWNSHIP_B)
    assert set(township_clerk.groups.values_list("name", flat=True)) == {"township_clerk", "fee_officer"}


def test_disabling_a_user_keeps_it_and_stops_its_logins(client, county_admin, township_clerk):
    client.force_login(county_admin)
    assert client.get(f"/accounts/users/{township_clerk.pk}/active/").status_code == 405  # never by GET
    response = client.post(f"/accounts/users/{township_clerk.pk}/active/", {"active": "0"}, follow=True)
    assert "已停用用户“clerk_a”" in response.content.decode() and "已停用" in response.content.decode()
    township_clerk.refresh_from_db()
    assert not township_clerk.is_active
    login = Client().post("/accounts/login/", {"username": "clerk_a", "password": PASSWORD})
    assert login.status_code == 200 and "用户名或密码错误" in login.content.decode()
    # One may not disable oneself.
    response = client.post(f"/accounts/users/{county_admin.pk}/active/", {"active": "0"}, follow=True)
    assert "不能修改自己的" in response.content.decode()
    county_admin.refresh_from_db()
    assert county_admin.is_active


def test_a_reset_password_must_be_changed_at_the_next_login(client, county_admin, township_clerk):
    client.force_login(county_admin)
    response = client.post(f"/accounts/users/{township_clerk.pk}/password/", {"password": "Temp-Reset-2026!"})
    assert response.status_code == 200 and "用户下次登录后须先修改密码" in response.content.decode()
    assert "Temp-Reset-2026!" not in response.content.decode()  # typed by the admin: not echoed

    user = Client()
    assert user.post("/accounts/login/", {"username": "clerk_a", "password": PASSWORD}).status_code == 200
    login = user.post("/accounts/login/", {"username": "clerk_a", "password": "Temp-Reset-2026!"})
    assert login.status_code == 302
    # Every page leads to the password change first; the API opens nothing.
    for path in ("/", "/registry/persons/", "/accounts/users/"):
        answer = user.get(path)
        assert answer.status_code in (302, 403) and (
            answer.status_code == 403 or answer["Location"] == "/accounts/password/"
        )
    assert user.get("/").status_code == 302
    api = user.get("/api/v1/persons/")
    assert api.status_code == 403 and "临时密码" in api.json()["detail"]

    page = user.get("/accounts/password/").content.decode()
    assert "临时密码" in page
    wrong = user.post("/accounts/password/", {"old_password": "nope", "new_password1": NEW_PASSWORD,
                                              "new_password2": NEW_PASSWORD})  # fmt: skip
    assert wrong.status_code == 200
    done = user.post("/accounts/password/", {"old_password": "Temp-Reset-2026!", "new_password1": NEW_PASSWORD,
                                             "new_password2": NEW_PASSWORD})  # fmt: skip
    assert done.status_code == 302 and done["Location"] == "/"
    assert user.get("/").status_code == 200  # still signed in, and free to work
    township_clerk.refresh_from_db()
    assert not township_clerk.must_change_password and township_clerk.check_password(NEW_PASSWORD)


def test_a_generated_password_is_shown_once(client, county_admin, township_clerk):
    client.force_login(county_admin)
    response = client.post(f"/accounts/users/{township_clerk.pk}/password/", {"password": ""})
    page = response.content.decode()
    assert "只显示这一次" in page
    password = page.split('data-testid="temporary-password">')[1].split("<")[0]
    township_clerk.refresh_from_db()
    assert township_clerk.check_password(password) and township_clerk.must_change_password


def test_the_list_shows_a_lockout_and_the_admin_unlocks_it(client, county_admin, township_clerk, settings):
    rate_limit_reset(scope="login", address="10.7.7.7")
    stranger = Client(REMOTE_ADDR="10.7.7.7")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        stranger.post("/accounts/login/", {"username": "clerk_a", "password": "wrong"})
    assert stranger.post("/accounts/login/", {"username": "clerk_a", "password": PASSWORD}).status_code == 429

    client.force_login(county_admin)
    listing = client.get("/accounts/users/").content.decode()
    row = listing.split('data-username="clerk_a"')[1].split("</tr>")[0]
    assert "已锁定" in row and "解锁" in row
    response = client.post(f"/accounts/users/{township_clerk.pk}/unlock/", follow=True)
    assert "已解除用户“clerk_a”的锁定" in response.content.decode()
    row = response.content.decode().split('data-username="clerk_a"')[1].split("</tr>")[0]
    assert "已锁定" not in row
    assert stranger.post("/accounts/login/", {"username": "clerk_a", "password": PASSWORD}).status_code == 302


def test_the_list_reads_in_a_fixed_number_of_queries(client, county_admin, make_user, django_assert_max_num_queries):
    for i in range(12):
        make_user(f"clerk{i}", VILLAGE_A if i % 2 else TOWNSHIP_B, Role.VILLAGE_CLERK)
    client.force_login(county_admin)
    with django_assert_max_num_queries(8):
        response = client.get("/accounts/users/")
    assert response.content.decode().count('data-testid="user-row"') == 13


def test_other_roles_cannot_manage_users(client, township_clerk):
    client.force_login(township_clerk)
    assert client.get("/accounts/users/").status_code == 403
    assert client.get("/accounts/users/new/").status_code == 403
    with pytest.raises(RuleViolation, match="您的角色不能管理用户"):
        user_create(username="x3", password=PASSWORD, area=township_clerk.area, roles=[], by=township_clerk)
