"""A village clerk finds a mother, records her second child, and reads the computed 孩次 and 政策属性;
a clerk of another township cannot open her page. Real Chromium, in Chinese."""

from datetime import date

import pytest
from playwright.sync_api import expect

from apps.accounts.services import user_create
from apps.areas.models import Area
from apps.areas.services import areas_load_csv
from apps.core.idnumbers import check_digit
from apps.registry.services import ChildData, PersonData, birth_record, person_create
from tests.conftest import AREAS_CSV, PASSWORD, TOWNSHIP_B, VILLAGE_A


def _id_number(born: date, serial: str, sex_digit: int) -> str:
    first17 = f"131025{born:%Y%m%d}{serial}{sex_digit}"
    return first17 + check_digit(first17)


@pytest.fixture
def mother(transactional_db):
    """A mother of village A (agricultural hukou) whose first child, a boy, was born in 2012."""
    areas_load_csv(text=AREAS_CSV.read_text(encoding="utf-8"))
    village = Area.objects.get(code=VILLAGE_A)
    user_create(username="cun_luru", password=PASSWORD, area=village, roles=["village_clerk"], full_name="村录入员")
    user_create(
        username="wangcun_luru", password=PASSWORD, area=Area.objects.get(code=TOWNSHIP_B), roles=["township_clerk"]
    )
    person = person_create(
        data=PersonData(
            name="刘秀英",
            sex="F",
            birth_date=date(1989, 4, 12),
            hukou_type="agricultural",
            village=village,
            id_number=_id_number(date(1989, 4, 12), "32", 4),
        ),
        by=None,
    )
    birth_record(mother=person, on=date(2012, 8, 20), village=village, child_data=ChildData("张一鸣", "M"), by=None)
    return person


def _sign_in(page, username):
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("home-title")).to_be_visible()


def test_village_clerk_records_a_second_birth_and_sees_order_and_policy(page, mother):
    _sign_in(page, "cun_luru")
    page.get_by_role("link", name="人口查询").click()
    # Typing is enough: the results table re-renders (htmx) without a submit.
    page.get_by_label("身份证号、姓名或户编号").press_sequentially("刘秀", delay=50)
    results = page.get_by_test_id("person-results")
    expect(results.get_by_test_id("person-row")).to_have_count(1)
    expect(results.get_by_test_id("person-id")).to_have_text(mother.masked_id_number)
    results.get_by_role("link", name="刘秀英").click()

    expect(page.get_by_test_id("person-name")).to_have_text("刘秀英")
    expect(page.get_by_test_id("birth-order")).to_have_text(["第1孩"])
    page.get_by_role("link", name="出生登记").click()
    expect(page.get_by_test_id("form-title")).to_have_text("出生登记")
    page.get_by_label("婴儿姓名").fill("张二妞")
    page.get_by_label("婴儿性别").select_option(label="女")
    page.get_by_label("出生日期").fill("2017-03-15")
    expect(page.get_by_label("出生地")).to_have_value(VILLAGE_A)  # the mother's village by default
    page.get_by_role("button", name="保存").click()

    expect(page.get_by_role("alert").filter(has_text="已登记出生")).to_have_text("已登记出生：张二妞，第2孩，政策内")
    second = page.get_by_test_id("birth-row").filter(has_text="张二妞")
    expect(second.get_by_test_id("birth-order")).to_have_text("第2孩")
    expect(second.get_by_test_id("policy-status")).to_have_text("政策内")
    expect(page.get_by_test_id("timeline")).to_contain_text("生育第2孩 张二妞（女），政策内")


def test_clerk_of_another_township_gets_404_on_the_mothers_page(page, mother):
    _sign_in(page, "wangcun_luru")
    response = page.goto(f"/registry/persons/{mother.pk}/")
    assert response.status == 404
    page.goto("/registry/persons/")
    page.get_by_label("身份证号、姓名或户编号").fill("刘秀英")
    expect(page.get_by_test_id("search-empty")).to_contain_text("在您的管辖范围内没有找到")
