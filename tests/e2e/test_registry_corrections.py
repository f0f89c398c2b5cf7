"""A village clerk corrects a wrong birth date and voids a duplicate marriage from the mother's page, and reads
the recomputed 孩次 and 政策属性, the struck-through marriage with its reason and the history entries.
Real Chromium, in Chinese."""

from datetime import date

import pytest
from playwright.sync_api import expect

from apps.accounts.services import user_create
from apps.areas.models import Area
from apps.areas.services import areas_load_csv
from apps.core.idnumbers import check_digit
from apps.registry.models import Marriage
from apps.registry.rules import marital_status_sync
from apps.registry.services import ChildData, PersonData, birth_record, marriage_record, person_create
from tests.conftest import AREAS_CSV, PASSWORD, VILLAGE_A
from tests.fees.conftest import load_policy_data


def _id_number(born: date, serial: str, sex_digit: int) -> str:
    first17 = f"131025{born:%Y%m%d}{serial}{sex_digit}"
    return first17 + check_digit(first17)


def _person(name, sex, born, serial, sex_digit, village):
    return person_create(
        data=PersonData(
            name=name, sex=sex, birth_date=born, hukou_type="non_agricultural", village=village,
            id_number=_id_number(born, serial, sex_digit),
        ),
        by=None,
    )  # fmt: skip


@pytest.fixture
def mother(transactional_db):
    """An urban mother: a boy born 2012, a girl entered as born 2011-03-15 (really 2017-03-15), and the
    couple's wedding entered twice (2010-05-01 and, by an old import, 2010-05-08)."""
    areas_load_csv(text=AREAS_CSV.read_text(encoding="utf-8"))
    load_policy_data()
    village = Area.objects.get(code=VILLAGE_A)
    user_create(username="cun_luru", password=PASSWORD, area=village, roles=["village_clerk"], full_name="村录入员")
    wife = _person("刘秀英", "F", date(1989, 4, 12), "32", 4, village)
    husband = _person("张建国", "M", date(1987, 2, 3), "51", 3, village)
    marriage_record(wife=wife, husband=husband, kind="marriage", on=date(2010, 5, 1), by=None)
    Marriage.objects.create(wife=wife, husband=husband, kind="marriage", date=date(2010, 5, 8), village=village)
    marital_status_sync(person_ids=[wife.pk, husband.pk])
    birth_record(
        mother=wife, on=date(2012, 8, 20), village=village, child_data=ChildData("张一鸣", "M"), father=husband, by=None
    )
    birth_record(
        mother=wife, on=date(2011, 3, 15), village=village, child_data=ChildData("张二妞", "F"), father=husband, by=None
    )
    return wife


def _sign_in(page, username):
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("home-title")).to_be_visible()


def test_clerk_corrects_a_birth_date_and_voids_a_duplicate_marriage(page, mother):
    _sign_in(page, "cun_luru")
    page.goto(f"/registry/persons/{mother.pk}/")
    expect(page.get_by_test_id("person-name")).to_have_text("刘秀英")
    boy = page.get_by_test_id("birth-row").filter(has_text="张一鸣")
    girl = page.get_by_test_id("birth-row").filter(has_text="张二妞")
    expect(girl.get_by_test_id("birth-order")).to_have_text("第1孩")
    expect(boy.get_by_test_id("birth-order")).to_have_text("第2孩")
    expect(boy.get_by_test_id("policy-status")).to_have_text("政策外")

    # 更正 the girl's birth date.
    girl.get_by_test_id("birth-correct").click()
    expect(page.get_by_test_id("form-title")).to_contain_text("更正出生登记：张二妞")
    expect(page.get_by_label("出生日期")).to_have_value("2011-03-15")
    page.get_by_label("出生日期").fill("2017-03-15")
    page.get_by_role("button", name="保存更正").click()
    expect(page.get_by_test_id("error-reason")).to_be_visible()  # the reason is required
    page.get_by_label("更正原因").fill("出生日期录入错误，以出生医学证明为准")
    page.get_by_role("button", name="保存更正").click()

    expect(page.get_by_role("alert").filter(has_text="已更正出生登记")).to_have_text(
        "已更正出生登记：张二妞（2017-03-15出生），第2孩，政策内"
    )
    expect(boy.get_by_test_id("birth-order")).to_have_text("第1孩")
    expect(boy.get_by_test_id("policy-status")).to_have_text("政策内")
    expect(girl.get_by_test_id("birth-order")).to_have_text("第2孩")
    expect(girl.get_by_test_id("policy-status")).to_have_text("政策内")
    expect(girl).to_contain_text("2017-03-15")

    # 作废 the duplicate wedding.
    duplicate = page.get_by_test_id("timeline-event").filter(has_text="2010-05-08")
    duplicate.get_by_role("link", name="作废").click()
    expect(page.get_by_test_id("form-title")).to_contain_text("作废婚姻登记：刘秀英与张建国结婚（2010-05-08）")
    page.get_by_label("作废原因").fill("重复登记")
    page.get_by_role("button", name="确认作废").click()

    expect(page.get_by_role("alert").filter(has_text="已作废")).to_contain_text("已作废婚姻登记")
    voided = page.get_by_test_id("timeline-event-voided")
    expect(voided).to_have_count(1)
    expect(voided).to_contain_text("2010-05-08")
    expect(voided.get_by_test_id("void-reason")).to_contain_text("原因：重复登记")
    expect(page.get_by_test_id("person-facts")).to_contain_text("已婚")  # the 2010-05-01 wedding stands
    history = page.get_by_test_id("audit-history")
    expect(history).to_contain_text("原因：重复登记")
    expect(history).to_contain_text("原因：出生日期录入错误，以出生医学证明为准")
    expect(history).to_contain_text("2011-03-15 → 2017-03-15")
