import json

import pytest
from django.core.management import call_command

from apps.accounts.demo import DEMO_USERS
from apps.accounts.models import User
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
    assert json.loads(out[-1]) == {"ok": True, "users": len(DEMO_USERS)}
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
