import json

import pytest
from django.core.management import call_command

from apps.accounts.demo import DEMO_USERS
from apps.accounts.models import User
from apps.core.clientip import rate_limit_reset
from tests.conftest import PASSWORD, TOWNSHIP_A


def _login(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_login_lands_on_the_home_page_in_chinese(client, township_clerk):
    response = _login(client, "clerk_a", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    home = client.get("/").content.decode()
    assert "工作台" in home and "平舒镇" in home and "乡镇录入员" in home


def test_wrong_password_shows_a_chinese_error(client, township_clerk):
    response = _login(client, "clerk_a", "wrong-password")
    assert response.status_code == 200
    assert "用户名或密码错误" in response.content.decode()


def test_repeated_wrong_passwords_lock_the_account(client, township_clerk, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, "clerk_a", "wrong-password").status_code == 200
    locked = _login(client, "clerk_a", "wrong-password")
    assert locked.status_code == 429
    assert "账号已被临时锁定" in locked.content.decode()
    # Even the right password is refused while locked.
    assert _login(client, "clerk_a", PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session


def test_pages_require_login(client, areas):
    response = client.get("/areas/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_logout_is_a_post(client, township_clerk):
    client.force_login(township_clerk)
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_navigation_depends_on_role(client, make_user):
    clerk = make_user("c", TOWNSHIP_A, "township_clerk")
    admin = make_user("a", "131025000000", "county_admin", is_staff=True)
    client.force_login(clerk)
    assert "管理后台" not in client.get("/").content.decode()
    client.force_login(admin)
    assert "管理后台" in client.get("/").content.decode()


def test_seed_demo_users_creates_one_user_per_role_and_is_idempotent(areas, capsys):
    call_command("seed_demo_users", "--password", "demo-pass-123")
    call_command("seed_demo_users", "--password", "demo-pass-123")
    out = capsys.readouterr().out.strip().splitlines()
    assert json.loads(next(line for line in out if line.startswith("{")))["staff_created"] == 9 * 5 + 39
    # The second run creates none of the county's other staff again (9 townships × 5 roles, 39 village clerks).
    assert json.loads(out[-1]) == {"ok": True, "users": len(DEMO_USERS), "staff_created": 0}
    assert User.objects.count() == len(DEMO_USERS) + 9 * 5 + 39
    reviewer = User.objects.get(username="subsidy_reviewer_101")
    assert reviewer.area_id == "131025101000" and reviewer.roles == ["subsidy_reviewer"]
    assert reviewer.must_change_password and reviewer.check_password("demo-pass-123")
    assert User.objects.get(username="village_clerk_202").area_id == "131025100202"
    assert not User.objects.get(username="village_clerk").must_change_password
    clerk = User.objects.get(username="township_clerk")
    assert clerk.area_id == "131025100000" and clerk.roles == ["township_clerk"]
    assert User.objects.get(username="village_clerk").area.level == "village"
    assert clerk.check_password("demo-pass-123")


def test_unknown_roles_are_refused_by_the_database(areas):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        User.objects.create(username="x", area_id=TOWNSHIP_A, roles=["pope"])


def test_admin_creates_a_user_with_area_and_roles(client, make_user):
    admin = make_user("root", "131025000000", "county_admin", is_staff=True)
    admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    assert client.get("/admin/accounts/user/add/").status_code == 200
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "new_clerk",
            "usable_password": "true",
            "password1": "Some-Long-Password-7",
            "password2": "Some-Long-Password-7",
            "area": TOWNSHIP_A,
            "roles": ["township_clerk", "fee_officer"],
        },
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    user = User.objects.get(username="new_clerk")
    assert user.area_id == TOWNSHIP_A and user.roles == ["township_clerk", "fee_officer"]
    assert client.get(f"/admin/accounts/user/{user.pk}/change/").status_code == 200


def test_a_strangers_wrong_passwords_do_not_lock_the_admin_out_elsewhere(client, make_user, settings):
    make_user("county_admin", "131025000000", "county_admin", is_staff=True)
    stranger = {"REMOTE_ADDR": "203.0.113.7"}
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "county_admin", "password": "guess"}, **stranger)
    # The stranger's address is locked for that name ...
    locked = client.post("/accounts/login/", {"username": "county_admin", "password": PASSWORD}, **stranger)
    assert locked.status_code == 429 and "账号已被临时锁定" in locked.content.decode()
    # ... the admin at the county office is not.
    office = client.post("/accounts/login/", {"username": "county_admin", "password": PASSWORD}, REMOTE_ADDR="10.1.2.3")
    assert office.status_code == 302 and client.session.get("_auth_user_id")


def test_one_address_trying_many_names_is_rate_limited(client, township_clerk, settings):
    settings.LOGIN_RATE_LIMIT = 8
    address = {"REMOTE_ADDR": "198.51.100.9"}
    rate_limit_reset(scope="login", address="198.51.100.9")
    codes = [
        client.post("/accounts/login/", {"username": f"user{i}", "password": "x"}, **address).status_code
        for i in range(10)
    ]
    assert codes[:8] == [200] * 8 and codes[8:] == [429, 429]
    limited = client.post("/accounts/login/", {"username": "clerk_a", "password": PASSWORD}, **address)
    assert limited.status_code == 429 and "登录尝试过于频繁" in limited.content.decode()
    # Another address still logs in; the token endpoint shares the limited address's budget.
    assert client.post("/accounts/login/", {"username": "clerk_a", "password": PASSWORD}).status_code == 302
    token = client.post("/api/v1/auth/token/", {"username": "clerk_a", "password": PASSWORD}, **address)
    assert token.status_code == 429


def test_the_token_endpoint_is_rate_limited_per_address(api_client, township_clerk, settings):
    settings.LOGIN_RATE_LIMIT = 3
    address = {"REMOTE_ADDR": "198.51.100.10"}
    rate_limit_reset(scope="login", address="198.51.100.10")
    codes = [
        api_client.post("/api/v1/auth/token/", {"username": f"u{i}", "password": "x"}, **address).status_code
        for i in range(4)
    ]
    assert codes == [400, 400, 400, 429]
    ok = api_client.post("/api/v1/auth/token/", {"username": "clerk_a", "password": PASSWORD}, REMOTE_ADDR="10.9.9.9")
    assert ok.status_code == 200 and ok.json()["token"]


def test_forwarded_for_is_only_believed_behind_a_trusted_proxy(rf, settings):
    from apps.core.clientip import client_ip

    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.5")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.1"  # a client-sent header is ignored
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.5"  # the entry our proxy appended, not the spoofable left-most
