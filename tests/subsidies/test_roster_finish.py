"""Rosters and batches that finish (issue 15): villages named until they submit, a township submitting for a
village, corrections of a returned roster, objections during the notice, who a batch leaves out and why, and a
failed payment paid again only to a corrected account."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from apps.areas.models import Area
from apps.core.errors import RuleViolation
from apps.registry.models import Person
from apps.registry.services import PersonData, death_record, person_create
from apps.subsidies.models import (
    BankAccount,
    Objection,
    Payment,
    ProgrammeRule,
    Roster,
    RosterCorrection,
    RosterStep,
)
from apps.subsidies.selectors import roster_unpaid, roster_villages_pending
from apps.subsidies.services import (
    bank_account_save,
    batch_create,
    batch_import_return,
    objection_decide,
    objection_record,
    roster_approve,
    roster_entry_add,
    roster_entry_change,
    roster_entry_remove,
    roster_return,
    roster_review,
    roster_village_submit,
    roster_village_submit_on_behalf,
    rosters_generate,
)
from tests.conftest import VILLAGE_A, VILLAGE_B
from tests.registry.conftest import make_id_number
from tests.subsidies.conftest import approved_roster, card_number, roster_of

VILLAGE_A2 = "131025100202"  # a second village of township A


@pytest.fixture
def two_villages(make_family, programme, users):
    """An eligible couple in village A and one in village A2, each parent with a card; the 2025 rosters made."""
    a = make_family(surname="杨", father=date(1960, 1, 1), mother=date(1961, 1, 1), children=[("M", date(1990, 1, 1))])
    b = make_family(
        surname="韩", father=date(1959, 1, 1), mother=date(1960, 6, 1), children=[("F", date(1986, 1, 1))],
        village=VILLAGE_A2,
    )  # fmt: skip
    for i, parent in enumerate((a.father, a.mother, b.father, b.mother)):
        bank_account_save(
            person=parent, kind="card", bank_name="信用社", account_number=card_number(f"62231{i}"), by=None
        )
    rosters_generate(programme=programme("rural_reward"), period="2025", by=users["admin"])
    return a, b


def test_the_roster_names_the_villages_not_submitted_and_the_township_submits_for_one_with_a_reason(
    two_villages, users, make_user
):
    roster = roster_of("rural_reward", "2025")
    assert [v.code for v in roster_villages_pending(roster=roster)] == [VILLAGE_A, VILLAGE_A2]
    roster_village_submit(roster=roster, by=users["village"])
    pending = roster_villages_pending(roster=roster)
    assert [(v.code, v.name) for v in pending] == [(VILLAGE_A2, pending[0].name)] and pending[0].name

    with pytest.raises(RuleViolation, match="请填写原因"):
        roster_village_submit_on_behalf(roster=roster, village_code=VILLAGE_A2, by=users["reviewer"], comment=" ")
    with pytest.raises(RuleViolation, match="只有乡镇奖扶审核员"):
        roster_village_submit_on_behalf(roster=roster, village_code=VILLAGE_A2, by=users["village"], comment="代报")
    with pytest.raises(RuleViolation, match="不在您的管辖范围"):  # another township's reviewer
        roster_village_submit_on_behalf(roster=roster, village_code=VILLAGE_A2, by=users["reviewer_b"], comment="x")
    with pytest.raises(RuleViolation, match="代村上报由乡镇办理"):  # the county's reviewer
        roster_village_submit_on_behalf(roster=roster, village_code=VILLAGE_A2, by=users["payer"], comment="x")
    assert Roster.objects.get(pk=roster.pk).status == "draft"

    roster_village_submit_on_behalf(
        roster=roster, village_code=VILLAGE_A2, by=users["reviewer"], comment="村录入员外出培训，经电话核实"
    )
    roster.refresh_from_db()
    assert roster.status == "submitted" and roster_villages_pending(roster=roster) == []
    step = RosterStep.objects.get(roster=roster, village_id=VILLAGE_A2)
    assert (step.on_behalf, step.by, step.comment) == (True, users["reviewer"], "村录入员外出培训，经电话核实")


def test_a_returned_roster_is_corrected_with_reasons_and_resubmitted(two_villages, users, make_user, programme):
    a, b = two_villages
    roster = roster_of("rural_reward", "2025")
    rule = roster.entries.get(person=a.father).rule
    # Not returned: the generated roster is not edited by hand.
    with pytest.raises(RuleViolation, match="只有被退回"):
        roster_entry_remove(entry=roster.entries.get(person=a.father), by=users["village"], reason="x")

    roster_village_submit(roster=roster, by=users["village"])
    roster_village_submit_on_behalf(roster=roster, village_code=VILLAGE_A2, by=users["reviewer"], comment="代报")
    roster_return(roster=roster, by=users["reviewer"], comment="杨父已迁出本县，请删除；韩母类别有误")

    with pytest.raises(RuleViolation, match="请填写更正原因"):
        roster_entry_remove(entry=roster.entries.get(person=a.father), by=users["village"], reason="")
    with pytest.raises(RuleViolation, match="不在您的管辖范围"):  # village A's clerk, village A2's entry
        roster_entry_remove(entry=roster.entries.get(person=b.mother), by=users["village"], reason="x")
    assert roster.entries.count() == 4 and RosterCorrection.objects.count() == 0

    removed = roster_entry_remove(entry=roster.entries.get(person=a.father), by=users["village"], reason="已迁出本县")
    assert (removed.action, removed.before, removed.after, removed.by) == ("remove", f"{rule.category} {rule.amount}元",
                                                                          "", users["village"])  # fmt: skip
    # A second category the county configured for the year (dated data, as every rule).
    other = ProgrammeRule.objects.create(
        programme=roster.programme, category="奖励扶助（提标）", priority=2, valid_from=date(2025, 1, 1),
        predicates=rule.predicates, amount=Decimal("1200.00"), notice_days=7,
    )  # fmt: skip
    expired = ProgrammeRule.objects.create(
        programme=roster.programme, category="旧标准", priority=3, valid_from=date(2010, 1, 1),
        valid_to=date(2015, 12, 31), predicates=rule.predicates, amount=Decimal("720.00"), notice_days=7,
    )  # fmt: skip
    with pytest.raises(RuleViolation, match="不是本项目本期有效的规则"):
        roster_entry_change(entry=roster.entries.get(person=b.mother), rule=expired, by=users["reviewer"], reason="x")
    changed = roster_entry_change(
        entry=roster.entries.get(person=b.mother), rule=other, by=users["reviewer"], reason="核对户籍后更正类别"
    )
    assert changed.after == "奖励扶助（提标） 1200.00元"
    assert roster.entries.get(person=b.mother).amount == Decimal("1200.00")
    # Added back after the clerk finds the evaluation right after all: the person's own account, a NEW entry.
    added = roster_entry_add(
        roster=roster, person=a.father, rule=rule, by=users["village"], reason="迁出登记有误，已更正"
    )
    assert (added.change, added.amount, added.payee) == ("new", rule.amount, a.father)
    with pytest.raises(RuleViolation, match="已在本名册中"):
        roster_entry_add(roster=roster, person=a.father, rule=rule, by=users["village"], reason="重复")
    # A retired duplicate record of a person is not a second beneficiary.
    Person.objects.filter(pk=a.mother.pk).update(merged_into=a.father)
    with pytest.raises(RuleViolation, match="已合并"):
        roster_entry_add(roster=roster, person=Person.objects.get(pk=a.mother.pk), rule=rule, by=users["village"],
                         reason="补录")  # fmt: skip
    Person.objects.filter(pk=a.mother.pk).update(merged_into=None)
    assert list(RosterCorrection.objects.values_list("action", flat=True)) == ["remove", "change", "add"]

    roster_village_submit(roster=roster, by=users["village"])
    with pytest.raises(RuleViolation, match="该村已重新上报"):
        roster_entry_remove(entry=roster.entries.get(person=a.mother), by=users["village"], reason="x")
    roster_village_submit_on_behalf(roster=roster, village_code=VILLAGE_A2, by=users["reviewer"], comment="代报")
    roster.refresh_from_db()
    assert roster.status == "submitted"


def test_objections_are_recorded_in_the_notice_and_block_the_batch_until_decided(two_villages, users):
    a, _ = two_villages
    roster = roster_of("rural_reward", "2025")
    roster_village_submit(roster=roster, by=users["village"])
    roster_village_submit_on_behalf(roster=roster, village_code=VILLAGE_A2, by=users["reviewer"], comment="代报")
    roster_review(roster=roster, by=users["reviewer"])
    roster_approve(roster=roster, by=users["approver"])
    roster.refresh_from_db()
    today = date.today()
    with pytest.raises(RuleViolation, match="收到日期不在公示期内"):
        objection_record(roster=roster, by=users["reviewer"], objector="张三", content="x",
                         received_on=today - timedelta(days=1))  # fmt: skip
    with pytest.raises(RuleViolation, match="没有登记公示异议的权限"):
        objection_record(roster=roster, by=users["village"], objector="张三", content="x", received_on=today)
    against_father = objection_record(
        roster=roster, by=users["reviewer"], objector="邻居李某", content="杨父仍有在世的子女二人",
        received_on=today, entry=roster.entries.get(person=a.father),
    )  # fmt: skip
    general = objection_record(roster=roster, by=users["reviewer"], objector="匿名", content="名单张贴位置不醒目",
                               received_on=today)  # fmt: skip
    Roster.objects.filter(pk=roster.pk).update(approved_on=today - timedelta(days=30))  # the notice is over
    roster.refresh_from_db()
    with pytest.raises(RuleViolation, match="2件公示异议尚未处理"):
        batch_create(roster=roster, by=users["payer"])

    with pytest.raises(RuleViolation, match="请填写核查意见"):
        objection_decide(objection=against_father, upheld=True, decision="", by=users["approver2"])
    objection_decide(objection=against_father, upheld=True, decision="经入户核实，异议属实", by=users["approver2"])
    objection_decide(objection=general, upheld=False, decision="已移至村务公开栏", by=users["approver2"])
    with pytest.raises(RuleViolation, match="该异议已处理"):
        objection_decide(objection=general, upheld=True, decision="再议", by=users["approver2"])
    assert dict(Objection.objects.values_list("objector", "status")) == {"邻居李某": "upheld", "匿名": "dismissed"}

    batch = batch_create(roster=roster, by=users["payer"])
    assert sorted(batch.payments.values_list("person__name", flat=True)) == ["杨母", "韩母", "韩父"]
    unpaid = roster_unpaid(roster=roster, user=users["payer"])
    assert [(e.person.name, e.unpaid_reason) for e in unpaid] == [("杨父", "公示异议成立，不予发放")]


def test_a_batch_names_who_it_left_out_and_a_failed_payment_goes_again_only_to_a_corrected_account(
    families, users, make_user
):
    a, b = families
    BankAccount.objects.filter(person=a.mother).update(is_active=False)  # 杨母 has no account in use
    roster = approved_roster(users)
    batch = batch_create(roster=roster, by=users["payer"])
    assert sorted(batch.payments.values_list("person__name", flat=True)) == ["朱母", "朱父", "杨父"]
    left_out = roster_unpaid(roster=roster, user=users["payer"])
    assert [(e.person.name, e.unpaid_reason) for e in left_out] == [("杨母", "无领取账户")]
    # ... and the village clerk of another village sees none of it.
    assert roster_unpaid(roster=roster, user=make_user("cun2", VILLAGE_A2, "village_clerk")) == []

    rows = [
        [p.pk, p.account.account_number, p.amount, *(("失败", "账户已销户") if p.person == b.father else ("成功", ""))]
        for p in batch.payments.select_related("account", "person")
    ]
    content = ("付款编号,账号,金额,结果,失败原因\n" + "\n".join(",".join(map(str, r)) for r in rows)).encode()
    batch_import_return(batch=batch, name="回盘.csv", content=content, by=users["payer"])
    failed = Payment.objects.get(status="failed")

    # The account that failed is still the one in use: nobody is paid again, and the list says why.
    with pytest.raises(RuleViolation, match="发放失败的账户尚未更正"):
        batch_create(roster=roster, by=users["payer"])
    reasons = {e.person.name: e.unpaid_reason for e in roster_unpaid(roster=roster, user=users["payer"])}
    assert reasons == {"朱父": "上次发放失败，账户尚未更正（账户已销户）", "杨母": "无领取账户"}

    new_account = bank_account_save(person=b.father, kind="card", bank_name="农业银行",
                                     account_number=card_number("62284"), by=users["village"])  # fmt: skip
    retry = batch_create(roster=roster, by=users["payer"])
    paid_again = retry.payments.get()
    assert (paid_again.person, paid_again.account, paid_again.reissue_of, paid_again.amount) == (
        b.father, new_account, failed, Decimal(failed.amount)
    )  # fmt: skip
    assert [(e.person.name, e.unpaid_reason) for e in roster_unpaid(roster=roster, user=users["payer"])] == [
        ("杨母", "无领取账户")
    ]


def test_the_notice_carries_the_office_the_dates_and_the_contact(families, users, client):
    roster = approved_roster(users)
    roster.programme.notice_office = "大城县卫生健康局"
    roster.programme.notice_contact = "0316-5555555（县卫健局人口家庭科）"
    roster.programme.save()
    client.force_login(users["reviewer"])
    page = client.get(f"/subsidies/rosters/{roster.pk}/notice/").content.decode()
    assert "大城县卫生健康局" in page and "0316-5555555（县卫健局人口家庭科）" in page
    assert f"{roster.notice_ends_on.year}年{roster.notice_ends_on.month}月{roster.notice_ends_on.day}日" in page
    sheet = load_workbook(io.BytesIO(b"".join(client.get(f"/subsidies/rosters/{roster.pk}/notice.xlsx"))))
    texts = " ".join(str(c.value) for row in sheet.worksheets[0].iter_rows(max_row=4) for c in row if c.value)
    assert "大城县卫生健康局" in texts and "0316-5555555" in texts and f"{roster.approved_on:%Y-%m-%d}" in texts


def test_the_workflow_through_the_api(two_villages, users, api_client):
    a, _ = two_villages
    roster = roster_of("rural_reward", "2025")
    base = f"/api/v1/subsidies/rosters/{roster.pk}"
    api_client.force_authenticate(users["village"])
    assert api_client.post(f"{base}/submit/", {}, format="json").status_code == 200
    api_client.force_authenticate(users["reviewer"])
    response = api_client.post(f"{base}/submit-on-behalf/", {"village": VILLAGE_A2, "comment": ""}, format="json")
    assert response.status_code == 400
    response = api_client.post(f"{base}/submit-on-behalf/", {"village": VILLAGE_A2, "comment": "代报"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "submitted"
    assert api_client.post(f"{base}/return/", {"comment": "杨父请删除"}, format="json").status_code == 200

    entry = roster.entries.get(person=a.father)
    response = api_client.post(f"{base}/corrections/", {"action": "remove", "entry": entry.pk, "reason": "已迁出"},
                               format="json")  # fmt: skip
    assert response.status_code == 201 and response.json()["action"] == "remove"
    # Another township's reviewer: the roster is not there.
    api_client.force_authenticate(users["reviewer_b"])
    assert api_client.get(f"{base}/corrections/").status_code == 404
    api_client.force_authenticate(users["reviewer"])
    assert [c["name"] for c in api_client.get(f"{base}/corrections/").json()] == ["杨父"]
    # An ID number nobody in the area holds: the same words whether or not it exists elsewhere.
    unknown = {"action": "add", "id_number": "110101199001011234", "rule": entry.rule_id, "reason": "补录"}
    response = api_client.post(f"{base}/corrections/", unknown, format="json")
    assert response.status_code == 400 and "在您的管辖范围内没有该身份证号的人员" in str(response.json())
    # Another township's resident, typed in with full-width digits: the very same words, nothing added.
    outsider = person_create(
        data=PersonData(name="外乡老人", sex="M", birth_date=date(1955, 3, 1), hukou_type="agricultural",
                        village=Area.objects.get(code=VILLAGE_B), id_number=make_id_number(date(1955, 3, 1), "M")),
        by=None,
    )  # fmt: skip
    typed = outsider.id_number.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    response = api_client.post(f"{base}/corrections/", {**unknown, "id_number": typed}, format="json")
    assert response.status_code == 400 and "在您的管辖范围内没有该身份证号的人员" in str(response.json())
    assert "外乡老人" not in response.content.decode() and not roster.entries.filter(person=outsider).exists()

    api_client.force_authenticate(users["village"])
    api_client.post(f"{base}/submit/", {}, format="json")
    api_client.force_authenticate(users["reviewer"])
    api_client.post(f"{base}/submit-on-behalf/", {"village": VILLAGE_A2, "comment": "代报"}, format="json")
    api_client.post(f"{base}/review/", {}, format="json")
    api_client.force_authenticate(users["approver"])
    assert api_client.post(f"{base}/approve/", {}, format="json").status_code == 200
    api_client.force_authenticate(users["reviewer"])
    mother = roster.entries.get(person=a.mother)
    objection = {"entry": mother.pk, "objector": "王某", "content": "不符合", "received_on": date.today().isoformat()}
    response = api_client.post(f"{base}/objections/", objection, format="json")
    assert response.status_code == 201 and response.json()["status"] == "open"
    objection = response.json()["id"]
    response = api_client.post(f"{base}/objections/{objection}/decide/", {"upheld": False, "decision": "核实不属实"},
                               format="json")  # fmt: skip
    assert response.status_code == 200 and response.json()["status"] == "dismissed"
    Roster.objects.filter(pk=roster.pk).update(approved_on=date.today() - timedelta(days=30))
    api_client.force_authenticate(users["payer"])
    response = api_client.post(f"{base}/batch/", format="json")
    assert response.status_code == 201 and response.json()["payment_count"] == 3
    assert api_client.get(f"{base}/unpaid/").json() == []


def test_corrections_of_a_returned_roster_outlive_its_evaluation_run_again(two_villages, users, programme):
    """The registry is corrected after a return and the rosters are evaluated again: the clerks' removals,
    changes and additions, each a decision with a reason, still stand; everyone else is as evaluated."""
    a, b = two_villages
    roster = roster_of("rural_reward", "2025")
    rule = roster.entries.get(person=a.father).rule
    roster_village_submit(roster=roster, by=users["village"])
    roster_village_submit_on_behalf(roster=roster, village_code=VILLAGE_A2, by=users["reviewer"], comment="代报")
    roster_return(roster=roster, by=users["reviewer"], comment="请核对")
    other = ProgrammeRule.objects.create(
        programme=roster.programme, category="奖励扶助（提标）", priority=2, valid_from=date(2025, 1, 1),
        predicates=rule.predicates, amount=Decimal("1200.00"), notice_days=7,
    )  # fmt: skip
    son = a.children[0]  # 35 years old: not eligible, added by hand
    roster_entry_remove(entry=roster.entries.get(person=a.father), by=users["village"], reason="已迁出本县")
    roster_entry_change(entry=roster.entries.get(person=b.mother), rule=other, by=users["reviewer"], reason="提标")
    roster_entry_add(roster=roster, person=son, rule=rule, by=users["village"], reason="代父母领取（核实）")
    # Removed, then added back with another category, then changed again: the last word stands.
    roster_entry_remove(entry=roster.entries.get(person=a.mother), by=users["village"], reason="误删前")
    roster_entry_add(roster=roster, person=a.mother, rule=other, by=users["village"], reason="恢复")
    roster_entry_change(entry=roster.entries.get(person=a.mother), rule=rule, by=users["village"], reason="改回")
    before = sorted(roster.entries.values_list("person_id", "category", "amount", "change"))

    rosters_generate(programme=programme("rural_reward"), period="2025", by=users["admin"])

    after = sorted(roster.entries.values_list("person_id", "category", "amount", "change"))
    assert after == before
    assert a.father.pk not in {p for p, *_ in after}
    assert roster.entries.get(person=b.mother).amount == Decimal("1200.00")
    assert roster.entries.get(person=a.mother).amount == rule.amount
    assert (roster.entries.get(person=son).change, roster.entries.get(person=son).payee) == ("new", son)
    assert RosterCorrection.objects.filter(roster=roster).count() == 6  # the record of each is kept

    # A person added by hand who has died since is not put back; one removed stays removed whatever the data.
    death_record(person=son, on=date(2025, 3, 1), by=None)
    rosters_generate(programme=programme("rural_reward"), period="2025", by=users["admin"])
    persons = set(roster.entries.values_list("person_id", flat=True))
    assert son.pk not in persons and a.father.pk not in persons and {a.mother.pk, b.father.pk, b.mother.pk} <= persons
