"""The county runs itself in the app: the demo county admin (no superuser) creates a township clerk in a
township with a first password; the clerk signs in, must choose a password first, then reaches the start page;
the county admin changes a birth-policy rule's end date in the admin. Real Chromium, in Chinese."""

import importlib

import pytest
from django.apps import apps
from playwright.sync_api import expect

from apps.accounts.demo import demo_users_ensure
from apps.accounts.models import User
from apps.areas.services import areas_load_csv
from apps.registry.models import BirthPolicyRule
from tests.conftest import AREAS_CSV, TOWNSHIP_A

DEMO_PASSWORD = "demo-e2e-2026"
FIRST_PASSWORD = "Pingshu-Start-2026"
OWN_PASSWORD = "Wang-Fang-Own-77"


@pytest.fixture
def county(transactional_db):
    areas_load_csv(text=AREAS_CSV.read_text(encoding="utf-8"))
    # A transactional test empties every table when it ends, migration data included: the rules again.
    importlib.import_module("apps.registry.migrations.0002_birth_policy_rules").load(apps, None)
    demo_users_ensure(password=DEMO_PASSWORD)


def _sign_in(page, username, password):
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def _sign_out(page):
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_role("heading", name="用户登录")).to_be_visible()


def test_the_county_admin_creates_a_township_clerk_who_sets_a_password(page, county):
    assert not User.objects.get(username="county_admin").is_superuser
    _sign_in(page, "county_admin", DEMO_PASSWORD)
    page.get_by_role("link", name="用户管理").click()
    page.get_by_test_id("user-create").click()
    page.get_by_label("用户名").fill("wangfang")
    page.get_by_label("姓名").fill("王芳")
    page.get_by_label("所属区划").select_option(TOWNSHIP_A)
    page.get_by_label("乡镇录入员").check()
    page.get_by_label("初始密码", exact=True).fill(FIRST_PASSWORD)
    page.get_by_label("再次输入初始密码").fill(FIRST_PASSWORD)
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert")).to_contain_text("已创建用户“wangfang”")
    row = page.locator('[data-username="wangfang"]')
    expect(row).to_contain_text("平舒镇")
    expect(row).to_contain_text("乡镇录入员")
    expect(row).to_contain_text("从未登录")
    _sign_out(page)

    # The new clerk is sent to choose a password before anything else.
    _sign_in(page, "wangfang", FIRST_PASSWORD)
    expect(page.get_by_test_id("password-change-title")).to_have_text("修改密码")
    page.goto("/")
    expect(page.get_by_test_id("password-change-title")).to_be_visible()
    page.get_by_label("当前密码").fill(FIRST_PASSWORD)
    page.get_by_label("新密码", exact=True).fill(OWN_PASSWORD)
    page.get_by_label("再次输入新密码").fill(OWN_PASSWORD)
    page.get_by_role("button", name="修改密码").click()
    expect(page.get_by_test_id("home-title")).to_have_text("工作台")
    expect(page.get_by_test_id("current-user")).to_contain_text("平舒镇")
    expect(page.get_by_test_id("current-user")).to_contain_text("乡镇录入员")
    _sign_out(page)
    _sign_in(page, "wangfang", OWN_PASSWORD)
    expect(page.get_by_test_id("home-title")).to_have_text("工作台")


def test_the_county_admin_ends_a_birth_policy_rule_in_the_admin(page, county):
    _sign_in(page, "county_admin", DEMO_PASSWORD)
    page.get_by_role("link", name="管理后台").click()
    page.get_by_role("link", name="生育政策规则").first.click()
    page.get_by_role("link", name="三孩生育政策").click()
    page.locator("#id_valid_to").fill("2035-12-31")
    page.locator('input[name="_save"]').click()
    expect(page.locator(".messagelist")).to_contain_text("三孩生育政策")
    rule = BirthPolicyRule.objects.get(name="三孩生育政策")
    assert rule.valid_to.isoformat() == "2035-12-31"
