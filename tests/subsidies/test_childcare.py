"""育儿补贴 as the national scheme runs it (issue 14): applications by a parent or guardian, paid to the
applicant, by the child's 户籍 in the county, per child under 3 by month from 2025, back months on a late
application, once per child and month whoever applies — on hand-built families."""

from __future__ import annotations

import contextlib
import csv
import json
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from apps.core.errors import RuleViolation
from apps.registry.models import Person
from apps.registry.services import move_record
from apps.subsidies.childcare_services import childcare_application_close, childcare_application_submit
from apps.subsidies.models import ChildcareApplication, Payment, Roster, RosterEntry
from apps.subsidies.services import (
    batch_create,
    roster_approve,
    roster_review,
    roster_village_submit,
    rosters_generate,
)
from tests.conftest import TOWNSHIP_A, VILLAGE_A, VILLAGE_B
from tests.registry.conftest import make_id_number
from tests.subsidies.conftest import card_number, roster_of

OUTSIDE = "110101001001"  # a village code of another county (北京 东城)


@pytest.fixture(autouse=True)
def _children_get_id_numbers(monkeypatch):
    """A newborn is registered without an ID number; a child applied for has one (户口 registration)."""
    from tests.subsidies import conftest

    make = conftest.birth_record

    def birth_record(**kwargs):
        birth = make(**kwargs)
        child = birth.child
        Person.objects.filter(pk=child.pk).update(id_number=make_id_number(child.birth_date, child.sex))
        child.refresh_from_db()
        return birth

    monkeypatch.setattr(conftest, "birth_record", birth_record)


def _months(first: str, last: str) -> list[str]:
    y, m = int(first[:4]), int(first[5:])
    out = []
    while f"{y}M{m:02d}" <= last:
        out.append(f"{y}M{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _generate(programme, *periods: str) -> None:
    for period in periods:
        rosters_generate(programme=programme("childcare"), period=period, by=None)


def _paid_months(child) -> dict[str, tuple[str, str]]:
    """``{month: (payee name, amount)}`` of the child's non-leaving entries in every 育儿补贴 roster."""
    entries = RosterEntry.objects.filter(roster__programme__code="childcare", person=child).exclude(change="leaving")
    months = {}
    for e in entries.select_related("payee"):
        assert e.month not in months, f"{e.month} entered twice"
        months[e.month] = (e.payee.name, str(e.amount))
    return months


def _apply(child, applicant, relationship, on, *, by=None, account=None, **extra):
    return childcare_application_submit(
        child_id_number=child.id_number,
        applicant_id_number=applicant.id_number,
        relationship=relationship,
        applied_on=on,
        bank_name="农村信用社",
        account_number=account or card_number(f"6228{applicant.pk % 1000:03d}"),
        by=by,
        **extra,
    )


def test_a_child_born_2023_07_is_paid_only_its_months_under_3_in_2025_and_2026(make_family, programme):
    family = make_family(
        surname="孔", father=date(1990, 1, 1), mother=date(1992, 1, 1), children=[("F", date(2023, 7, 15))]
    )
    child = family.children[0]
    _apply(child, family.mother, "mother", date(2025, 3, 10))

    _generate(programme, *_months("2025M03", "2026M12"))

    # January and February are back months in March's roster; the last month is June 2026 (3 on 2026-07-15).
    months = _paid_months(child)
    assert sorted(months) == _months("2025M01", "2026M06")
    assert set(months.values()) == {("孔母", "300.00")}
    assert sum(Decimal(a) for _, a in months.values()) == Decimal("5400.00")  # 18 months of 3,600 a year
    march = roster_of("childcare", "2025M03").entries.filter(person=child).order_by("month")
    assert [(e.month, e.change, "补发往月" in e.reasons) for e in march] == [
        ("2025M01", "new", True), ("2025M02", "new", True), ("2025M03", "new", False),
    ]  # fmt: skip
    leaving = roster_of("childcare", "2026M07").entries.get(person=child)
    assert (leaving.change, leaving.reasons) == ("leaving", ["已满3周岁"])
    assert not RosterEntry.objects.filter(roster__period="2026M08", person=child).exists()


def _approve_and_pay(users, period: str):
    roster = roster_of("childcare", period)
    roster_village_submit(roster=roster, by=users["village"])
    roster_review(roster=roster, by=users["reviewer"])
    roster_approve(roster=roster, by=users["approver"])
    Roster.objects.filter(pk=roster.pk).update(approved_on=date.today() - timedelta(days=30))  # 公示 is over
    return batch_create(roster=roster, by=users["payer"])


def test_two_parents_applying_for_one_child_pay_it_once(make_family, programme, users):
    family = make_family(
        surname="曹", father=date(1990, 1, 1), mother=date(1992, 1, 1), children=[("M", date(2024, 12, 5))]
    )
    child = family.children[0]
    _apply(child, family.father, "father", date(2025, 2, 1), by=users["village"])
    _apply(child, family.mother, "mother", date(2025, 2, 3), by=users["village"])
    assert ChildcareApplication.objects.filter(child=child, status="active").count() == 2

    _generate(programme, "2025M02")
    batch = _approve_and_pay(users, "2025M02")

    # The earlier application pays: to the father, each month once, to his own account.
    assert _paid_months(child) == {"2025M01": ("曹父", "300.00"), "2025M02": ("曹父", "300.00")}
    payments = Payment.objects.filter(person=child).order_by("period")
    assert [(p.period, p.payee.name, p.amount, p.account.person_id) for p in payments] == [
        ("2025M01", "曹父", Decimal("300.00"), family.father.pk),
        ("2025M02", "曹父", Decimal("300.00"), family.father.pk),
    ]
    assert batch.payments.count() == 2
    # The database refuses a second payment of the child for a month, whoever would receive it.
    first = payments[0]
    mother_account = ChildcareApplication.objects.get(applicant=family.mother).account
    with pytest.raises(IntegrityError, match="payment_once_per_person_period"), transaction.atomic():
        Payment.objects.create(
            batch=batch, entry=first.entry, person=child, payee=family.mother, programme=first.programme,
            period="2025M01", village_id=first.village_id, amount=Decimal("300.00"), account=mother_account,
        )  # fmt: skip

    # The father withdraws: from the next month the mother's standing application pays; nothing is repaid.
    childcare_application_close(
        application=ChildcareApplication.objects.get(applicant=family.father), status="withdrawn",
        reason="改由母亲领取", by=users["village"],
    )  # fmt: skip
    _generate(programme, "2025M03")
    assert _paid_months(child)["2025M03"] == ("曹母", "300.00")
    assert len(_paid_months(child)) == 3


def test_a_mother_who_died_the_father_applies_and_is_paid(make_family, programme, users, kill):
    family = make_family(
        surname="严", father=date(1990, 1, 1), mother=date(1992, 1, 1), children=[("F", date(2024, 11, 20))]
    )
    child = family.children[0]
    kill(family.mother, date(2025, 2, 10))

    with pytest.raises(RuleViolation, match="申请人已登记死亡"):
        _apply(child, family.mother, "mother", date(2025, 4, 1), by=users["village"])
    _apply(child, family.father, "father", date(2025, 4, 1), by=users["village"])
    _generate(programme, "2025M04")
    batch = _approve_and_pay(users, "2025M04")

    assert _paid_months(child) == dict.fromkeys(_months("2025M01", "2025M04"), ("严父", "300.00"))
    assert {(p.payee_id, p.account.person_id) for p in batch.payments.all()} == {(family.father.pk, family.father.pk)}


def test_a_child_whose_hukou_moved_out_stops_the_month_after(make_family, programme):
    family = make_family(
        surname="华", father=date(1990, 1, 1), mother=date(1992, 1, 1), children=[("M", date(2025, 1, 10))]
    )
    child = family.children[0]
    _apply(child, family.mother, "mother", date(2025, 2, 1))
    move_record(
        person=child, kind="move_out", on=date(2025, 5, 20), origin_code=VILLAGE_A, destination_code=OUTSIDE, by=None
    )

    _generate(programme, *_months("2025M02", "2025M07"))

    assert sorted(_paid_months(child)) == _months("2025M01", "2025M05")  # the month of the move is paid
    leaving = roster_of("childcare", "2025M06").entries.get(person=child)
    assert (leaving.change, leaving.reasons) == ("leaving", ["户籍已迁出本县"])
    assert not RosterEntry.objects.filter(roster__period="2025M07", person=child).exists()


def test_applications_are_checked_and_a_duplicate_is_refused(make_family, programme, users):
    family = make_family(
        surname="金", father=date(1990, 1, 1), mother=date(1992, 1, 1), children=[("F", date(2024, 6, 1))]
    )
    child = family.children[0]
    with pytest.raises(RuleViolation, match="申请人不是该婴幼儿出生登记中的父亲"):
        _apply(child, family.mother, "father", date(2025, 2, 1), by=users["village"])
    with pytest.raises(RuleViolation, match="其他监护人申领须填写监护依据"):
        _apply(child, family.father, "guardian", date(2025, 2, 1), by=users["village"])
    with pytest.raises(RuleViolation, match="申请人与婴儿关系应为父亲、母亲或其他监护人"):
        _apply(child, family.father, "uncle", date(2025, 2, 1), by=users["village"])
    _apply(child, family.mother, "mother", date(2025, 2, 1), by=users["village"])
    with pytest.raises(RuleViolation, match="该申请人已为该婴幼儿申领，不能重复申领"):
        _apply(child, family.mother, "mother", date(2025, 3, 1), by=users["village"])
    assert ChildcareApplication.objects.count() == 1
    # A child of another township is, to this clerk, not there.
    other = make_family(surname="欧", father=date(1990, 1, 1), mother=date(1992, 1, 1),
                        children=[("M", date(2024, 6, 1))], village=VILLAGE_B)  # fmt: skip
    with pytest.raises(RuleViolation, match=r"^在您的管辖范围内没有该身份证号的婴幼儿$"):
        _apply(other.children[0], other.mother, "mother", date(2025, 2, 1), by=users["village"])


def _import(path, user: str) -> tuple[dict, str]:
    out = StringIO()
    with contextlib.suppress(SystemExit):
        call_command("import_sheet", "childcare_applications", str(path), "--user", user, stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1]), out.getvalue()


def test_import_refuses_another_townships_child_and_a_bad_relationship_naming_no_one(
    make_family, programme, make_user, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    make_user("zhen_a", TOWNSHIP_A, "township_clerk")
    mine = make_family(
        surname="唐", father=date(1990, 1, 1), mother=date(1992, 1, 1), children=[("F", date(2024, 8, 1))]
    )
    theirs = make_family(surname="邝秘", father=date(1990, 1, 1), mother=date(1992, 1, 1),
                         children=[("M", date(2024, 8, 1))], village=VILLAGE_B)  # fmt: skip
    header = ["婴儿身份证号", "申请人身份证号", "申请人与婴儿关系", "申请日期", "开户银行", "银行账号"]
    rows = [
        [mine.children[0].id_number, mine.mother.id_number, "母亲", "2025-03-01", "农商银行", card_number("62281")],
        [theirs.children[0].id_number, theirs.mother.id_number, "母亲", "2025-03-01", "农商银行", card_number("62282")],
        [mine.children[0].id_number, mine.father.id_number, "叔叔", "2025-03-01", "农商银行", card_number("62283")],
    ]
    path = tmp_path / "申领.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *rows])

    summary, printed = _import(path, "zhen_a")
    assert (summary["rows"], summary["created"], summary["errors"]) == (3, 0, 2)  # all or nothing
    assert "第3行 婴儿身份证号：在您的管辖范围内没有该身份证号的婴幼儿" in printed
    assert "第4行 申请人与婴儿关系：申请人与婴儿关系“叔叔”无效，应为父亲、母亲、其他监护人、监护人" in printed
    assert "邝秘" not in printed and theirs.children[0].id_number not in printed
    assert ChildcareApplication.objects.count() == 0

    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, rows[0]])
    assert _import(path, "zhen_a")[0]["created"] == 1
    assert _import(path, "zhen_a")[0]["created"] == 0  # a re-import changes nothing
    application = ChildcareApplication.objects.get()
    assert (application.applicant, application.relationship, application.village_id) == (
        mine.mother,
        "mother",
        VILLAGE_A,
    )
    assert application.account.account_number == card_number("62281")


def test_the_clerk_enters_an_application_on_the_page_and_the_api_lists_it_masked(
    client, api_client, make_family, programme, users
):
    family = make_family(
        surname="龙", father=date(1990, 1, 1), mother=date(1992, 1, 1), children=[("F", date(2025, 3, 3))]
    )
    child = family.children[0]
    client.force_login(users["village"])
    form = {
        "child_id_number": child.id_number, "applicant_id_number": family.father.id_number,
        "relationship": "mother", "applied_on": "2025-04-01", "bank_name": "邮储银行",
        "account_kind": "card", "account_number": card_number("62210"),
    }  # fmt: skip
    response = client.post("/subsidies/childcare/new/", form)
    assert response.status_code == 200
    assert "申请人不是该婴幼儿出生登记中的母亲" in response.content.decode()
    assert ChildcareApplication.objects.count() == 0

    response = client.post("/subsidies/childcare/new/", {**form, "relationship": "father"}, follow=True)
    page = response.content.decode()
    assert "已受理龙女1的育儿补贴申领（申请人：龙父）" in page
    assert child.id_number not in page and child.masked_id_number in page

    api_client.force_authenticate(users["reviewer"])
    rows = api_client.get("/api/v1/subsidies/childcare-applications/").json()["results"]
    assert [(r["child_name"], r["applicant_name"], r["relationship"], r["child_id_number"]) for r in rows] == [
        ("龙女1", "龙父", "father", child.masked_id_number)
    ]
    api_client.force_authenticate(users["reviewer_b"])  # another township: nothing, and the record is a 404
    assert api_client.get("/api/v1/subsidies/childcare-applications/").json()["results"] == []
    assert api_client.get(f"/api/v1/subsidies/childcare-applications/{rows[0]['id']}/").status_code == 404
    bad = api_client.post("/api/v1/subsidies/childcare-applications/", {**form, "relationship": "uncle"})
    assert bad.status_code == 400


def test_persons_sheets_carry_the_hukou_place_and_an_empty_cell_keeps_it(areas, make_user, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    make_user("zhen_a", TOWNSHIP_A, "township_clerk")
    number = make_id_number(date(2024, 5, 1), "F")
    header = ["身份证号", "姓名", "性别", "出生日期", "户籍性质", "现住址区划代码", "户籍地区划代码"]
    path = tmp_path / "人口.csv"
    for hukou, expected in ((OUTSIDE, OUTSIDE), ("", OUTSIDE)):
        with open(path, "w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows([header, [number, "户籍测", "女", "2024-05-01", "农业", VILLAGE_A, hukou]])
        out = StringIO()
        call_command("import_sheet", "persons", str(path), "--user", "zhen_a", stdout=out)
        assert Person.objects.get(id_number=number).hukou_place_code == expected
    assert json.loads(out.getvalue().strip().splitlines()[-1])["updated"] == 0  # the empty cell changed nothing


def test_the_demo_county_has_childcare_applications_that_the_roster_pays(db, programme):
    out = StringIO()
    call_command("seed_demo", "--persons", "3000", "--seed", "3", stdout=out)
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert summary["extensions"]["childcare_applications"] == ChildcareApplication.objects.count() > 0
    rosters_generate(programme=programme("childcare"), period="2025M12", by=None)
    entries = RosterEntry.objects.filter(roster__programme__code="childcare", roster__period="2025M12")
    assert entries.exists()
    assert not entries.exclude(payee_id__in=ChildcareApplication.objects.values("applicant_id")).exists()
