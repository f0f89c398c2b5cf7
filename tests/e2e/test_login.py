"""A clerk signs in, mistypes a password, and gets locked out: in Chinese, in a real browser."""

import pytest
from playwright.sync_api import expect

from apps.accounts.demo import demo_users_ensure
from apps.areas.services import areas_load_csv
from tests.conftest import AREAS_CSV

DEMO_PASSWORD = "demo-e2e-2026"


@pytest.fixture
def demo_users(transactional_db):
    areas_load_csv(text=AREAS_CSV.read_text(encoding="utf-8"))
    demo_users_ensure(password=DEMO_PASSWORD)


def _sign_in(page, username, password):
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_township_clerk_signs_in_and_lands_on_the_home_page(page, demo_users):
    _sign_in(page, "township_clerk", DEMO_PASSWORD)
    expect(page.get_by_test_id("home-title")).to_have_text("工作台")
    expect(page.get_by_test_id("current-user")).to_contain_text("平舒镇")
    expect(page.get_by_test_id("current-user")).to_contain_text("乡镇录入员")
    # The township's villages are listed, and one of them opens.
    page.get_by_role("link", name="南潘庄村委会").click()
    expect(page.get_by_test_id("area-name")).to_have_text("南潘庄村委会")


def test_wrong_password_shows_a_chinese_error_and_repeats_lock_the_account(page, demo_users, settings):
    _sign_in(page, "township_clerk", "not-the-password")
    expect(page.get_by_test_id("login-error")).to_contain_text("用户名或密码错误")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _sign_in(page, "township_clerk", "not-the-password")
    expect(page.get_by_test_id("locked-out")).to_contain_text("账号已被临时锁定")
    _sign_in(page, "township_clerk", DEMO_PASSWORD)
    expect(page.get_by_test_id("locked-out")).to_be_visible()


def test_a_clerk_cannot_open_another_townships_page(page, demo_users):
    _sign_in(page, "village_clerk", DEMO_PASSWORD)
    expect(page.get_by_test_id("home-title")).to_be_visible()
    response = page.goto("/areas/131025101201/")
    assert response.status == 404
