"""The fee pages through the Django test client: the officer's workflow, scope, masking, messages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.fees.models import FeeCase, Payment
from apps.fees.services import fee_case_decide, payment_record
from tests.fees.conftest import open_case

D = Decimal


def url(name, *args):
    return reverse(f"fees:{name}", args=args)


@pytest.fixture
def signed_in(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def decided_case(make_birth, fee_officer):
    case = open_case(make_birth(), fee_officer)
    return fee_case_decide(
        case=case, decision_number="平抚决〔2013〕1号", decided_on=date(2013, 1, 10), amount=D("13000.00"),
        due_on=date(2013, 2, 10), by=fee_officer,
    )  # fmt: skip


@pytest.mark.usefixtures("fee_in_force")  # opening through the pages is dated today
def test_officer_opens_decides_and_collects_through_the_pages(make_birth, fee_officer, signed_in):
    birth = make_birth()
    client = signed_in(fee_officer)
    page = client.get(url("case_list"))
    assert page.status_code == 200 and "待立案的政策外出生" in page.content.decode()
    response = client.post(url("case_open", birth.pk), follow=True)
    case = FeeCase.objects.get(birth=birth)
    assert "已立案：应征额13,000.00元至24,243.00元" in response.content.decode()

    response = client.post(
        url("case_decide", case.pk),
        {"decision_number": "平抚决1号", "decided_on": "2013-01-10", "amount": "12000", "due_on": "2013-02-10"},
    )
    assert "决定征收额应在13,000.00元至24,243.00元之间（不得低于首征标准）" in response.content.decode()
    response = client.post(
        url("case_decide", case.pk),
        {"decision_number": "平抚决1号", "decided_on": "2013-01-10", "amount": "13000", "due_on": "2013-02-10"},
        follow=True,
    )
    assert "已作出征收决定 平抚决1号，征收13,000.00元" in response.content.decode()

    response = client.post(
        url("payment_create", case.pk),
        {"receipt_number": "No.1", "amount": "abc", "paid_on": "2013-01-15", "method": "cash"},
    )
    assert response.status_code == 200 and "请输入金额（元），最多两位小数" in response.content.decode()
    response = client.post(
        url("payment_create", case.pk),
        {"receipt_number": "No.1", "amount": "13000.01", "paid_on": "2013-01-15", "method": "cash"},
    )
    assert "缴款金额13,000.01元超过尚欠金额13,000.00元，不能超额收款" in response.content.decode()
    assert Payment.objects.count() == 0


def test_notice_and_receipt_mask_ids_for_roles_that_do_not_need_them(decided_case, fee_officer, make_user, client):
    payment = payment_record(
        case=decided_case, receipt_number="No.1", amount=D("6500.00"), paid_on=date(2013, 1, 15), method="cash",
        by=fee_officer,
    )  # fmt: skip
    full = decided_case.mother.id_number
    client.force_login(fee_officer)
    receipt = client.get(url("receipt", payment.pk)).content.decode()
    assert "缴纳社会抚养费票据" in receipt and "陆仟伍佰元整" in receipt and full in receipt
    notice = client.get(url("decision_notice", decided_case.pk)).content.decode()
    assert "征收社会抚养费决定书" in notice and "壹万叁仟元整" in notice and full in notice

    leader = make_user("leader", "131025100000", "county_viewer")
    client.force_login(leader)
    for page in (
        url("receipt", payment.pk),
        url("decision_notice", decided_case.pk),
        url("case_detail", decided_case.pk),
    ):
        body = client.get(page).content.decode()
        assert full not in body and full[:6] + "********" + full[-4:] in body


def test_another_township_gets_404_everywhere(decided_case, fee_officer, fee_officer_b, client):
    payment = payment_record(
        case=decided_case, receipt_number="No.1", amount=D("100.00"), paid_on=date(2013, 1, 15), method="cash",
        by=fee_officer,
    )  # fmt: skip
    client.force_login(fee_officer_b)
    for page in ("case_detail", "decision_notice", "case_decide", "payment_create"):
        assert client.get(url(page, decided_case.pk)).status_code == 404
    assert client.get(url("receipt", payment.pk)).status_code == 404
    assert client.post(url("case_open", decided_case.birth_id)).status_code == 404


def test_a_reader_cannot_write(decided_case, make_user, client):
    leader = make_user("leader", "131025100000", "county_viewer")
    client.force_login(leader)
    response = client.post(
        url("payment_create", decided_case.pk),
        {"receipt_number": "No.1", "amount": "100", "paid_on": "2013-01-15", "method": "cash"},
    )
    assert response.status_code == 403
    assert Payment.objects.count() == 0


def test_ledger_and_enforcement_pages(decided_case, county_admin, client, django_assert_max_num_queries):
    client.force_login(county_admin)
    with django_assert_max_num_queries(8):
        page = client.get(url("ledger"), {"start": "2013-01-01", "end": "2013-12-31"})
    body = page.content.decode()
    assert page.status_code == 200 and "平舒镇" in body and "13000.00" in body and "0.00%" in body
    assert (
        "起始日期不能晚于截止日期"
        in client.get(url("ledger"), {"start": "2014-01-01", "end": "2013-01-01"}).content.decode()
    )
    assert client.get(url("ledger"), {"start": "not-a-date"}).status_code == 200
    enforcement = client.get(url("enforcement_list")).content.decode()
    assert "社会抚养费已于2021年7月20日停止征收，不再移送强制执行" in enforcement
    assert "平抚决〔2013〕1号" not in enforcement  # overdue since 2013, but the fee has ended


@pytest.mark.usefixtures("fee_in_force")
def test_enforcement_page_before_the_end(decided_case, county_admin, client):
    client.force_login(county_admin)
    assert "平抚决〔2013〕1号" in client.get(url("enforcement_list")).content.decode()
