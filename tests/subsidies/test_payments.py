"""Bank accounts, the bank file round trip, carrying failures, and never paying anyone twice for a period."""

from __future__ import annotations

import csv
import io
import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, connections
from openpyxl import Workbook, load_workbook

from apps.core.errors import RuleViolation
from apps.core.privacy import mask_account
from apps.subsidies.models import BankAccount, Payment, PaymentBatch
from apps.subsidies.selectors import batches_visible_to, subsidy_payment_by_village
from apps.subsidies.services import (
    bank_account_save,
    batch_create,
    batch_export,
    batch_import_return,
    rosters_generate,
)
from tests.conftest import VILLAGE_A
from tests.subsidies.conftest import approved_roster, card_number


def test_account_numbers_are_validated_and_masked(make_family, users):
    family = make_family(surname="秦", father=date(1960, 1, 1), mother=date(1961, 1, 1), children=[])
    good = card_number()
    bad_luhn = good[:-1] + str((int(good[-1]) + 1) % 10)
    with pytest.raises(RuleViolation, match="校验位不正确"):
        bank_account_save(
            person=family.father, kind="card", bank_name="农行", account_number=bad_luhn, by=users["village"]
        )
    with pytest.raises(RuleViolation, match="16至19位"):
        bank_account_save(person=family.father, kind="card", bank_name="农行", account_number="6222021234", by=None)
    with pytest.raises(RuleViolation, match="只能包含数字"):
        bank_account_save(person=family.father, kind="card", bank_name="农行", account_number="6222O2", by=None)
    assert BankAccount.objects.count() == 0

    spaced = " ".join(good[i : i + 4] for i in range(0, len(good), 4)).replace("6", "６", 1)  # full-width digit
    account = bank_account_save(
        person=family.father, kind="card", bank_name="农行", account_number=spaced, by=users["village"]
    )
    assert account.account_number == good
    assert account.masked_number == good[:4] + "*" * 11 + good[-4:] == mask_account(good)
    passbook = bank_account_save(
        person=family.father, kind="passbook", bank_name="信用社", account_number="1234567890", by=None
    )
    assert BankAccount.objects.get(is_active=True) == passbook  # the new account replaces the old one


def _return_csv(rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["付款编号", "账号", "金额", "结果", "失败原因"])
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def test_bank_round_trip_marks_paid_and_failed_and_carries_failures(families, users, make_user):
    roster = approved_roster(users)
    batch = batch_create(roster=roster, by=users["payer"])

    exported = list(
        csv.reader(io.StringIO(batch_export(batch=batch, fmt="csv", by=users["payer"]).decode("utf-8-sig")))
    )
    assert exported[0] == ["付款编号", "姓名", "身份证号", "开户银行", "账号", "金额", "项目", "期间"]
    assert sorted(r[1] for r in exported[1:]) == ["朱母", "朱父", "杨母", "杨父"]
    assert {r[5] for r in exported[1:]} == {"960.00"}
    wb = load_workbook(io.BytesIO(batch_export(batch=batch, fmt="xlsx", by=users["payer"])))
    assert [c.value for c in wb.active[2]][4] == exported[1][4]  # the account number in full, as text
    assert [c.value for c in wb.active[2]][5] == 960  # the amount as a number
    # Full account numbers: the village clerk, who may see the batch page, gets no bank file.
    with pytest.raises(RuleViolation, match="您没有导出代发文件的权限"):
        batch_export(batch=batch, fmt="csv", by=users["village"])
    # The batch's counts and sums cover what each user may see: the township's reviewer all four payments,
    # the clerk of another village of the township (who sees the batch) none of this village's money.
    neighbour = make_user("cun2", "131025100202", "village_clerk")
    assert [(b.payment_count, b.total) for b in batches_visible_to(user=users["payer"])] == [(4, Decimal("3840.00"))]
    assert [(b.payment_count, b.total) for b in batches_visible_to(user=neighbour)] == [(0, None)]

    by_name = {r[1]: r for r in exported[1:]}
    rows = [
        [r[0], r[4], r[5], "失败" if name == "朱父" else "成功", "账户已销户" if name == "朱父" else ""]
        for name, r in by_name.items()
    ]
    # An error anywhere changes nothing.
    broken = [*rows[:-1], [rows[-1][0], rows[-1][1], "96.00", "成功", ""]]
    with pytest.raises(RuleViolation, match=r"金额与本批次不一致（应为960\.00）"):
        batch_import_return(batch=batch, name="回盘.csv", content=_return_csv(broken), by=users["payer"])
    assert set(batch.payments.values_list("status", flat=True)) == {"pending"}

    summary = batch_import_return(batch=batch, name="回盘.csv", content=_return_csv(rows), by=users["payer"])
    assert (summary.paid, summary.failed, summary.pending) == (3, 1, 0)
    batch.refresh_from_db()
    assert batch.status == "reconciled"
    failed = Payment.objects.get(status="failed")
    assert (failed.payee.name, failed.bank_reason) == ("朱父", "账户已销户")

    # A second batch for the same period pays only the failed one, to the corrected account.
    bank_account_save(
        person=failed.payee, kind="card", bank_name="农业银行", account_number=card_number("62284"), by=None
    )
    retry = batch_create(roster=roster, by=users["payer"])
    assert [(p.payee.name, p.amount, p.account.bank_name) for p in retry.payments.all()] == [
        ("朱父", Decimal("960.00"), "农业银行")
    ]
    with pytest.raises(RuleViolation, match="没有待发放的人员"):
        batch_create(roster=roster, by=users["payer"])  # the retry is pending: nobody is left to pay
    # Indicator source: 4 × 960 due in the village, 3 × 960 paid so far.
    assert subsidy_payment_by_village(start=date(2025, 1, 1), end=date(2025, 12, 31)) == [
        (VILLAGE_A, Decimal("2880.00"), Decimal("3840.00"))
    ]
    # ... and the year's indicator report carries it up the tree: 75% in the village, its township and the county.
    from apps.indicators.selectors import indicator_values_latest
    from apps.indicators.services import indicators_compute

    indicators_compute(period="2025")
    rate = indicator_values_latest(period="2025", indicator_codes=["subsidy_payment_rate"])
    assert {area: (r.numerator, r.denominator, round(r.value, 2)) for (area, _), r in rate.items()} == {
        code: (Decimal("2880.00"), Decimal("3840.00"), Decimal("75.00"))
        for code in (VILLAGE_A, VILLAGE_A[:9] + "000", VILLAGE_A[:6] + "000000")
    }
    # Every amount of the rate lists the roster entries it sums (指标明细): four entries due, three paid.
    from apps.indicators.models import ReportRun
    from tests.indicators.drill import assert_every_figure_lists_its_records

    run = ReportRun.objects.filter(period="2025", status="success").latest("finished_at")
    areas = (VILLAGE_A, VILLAGE_A[:9] + "000", VILLAGE_A[:6] + "000000")
    listed = assert_every_figure_lists_its_records(run, users["admin"], areas=areas, codes=["subsidy_payment_rate"])
    assert listed == {"subsidy_payment_rate": 3 * (3 + 4)}


def test_xlsx_return_file_and_failed_payments_carried_once_the_account_is_corrected(families, users, programme):
    roster = approved_roster(users)
    batch = batch_create(roster=roster, by=users["payer"])
    wb = Workbook()
    ws = wb.active
    ws.append(["银行代发回盘"])  # a title row above the header is fine
    ws.append(["付款编号", "账号", "金额", "结果", "失败原因"])
    for p in batch.payments.select_related("account", "payee"):
        failed = p.payee.name == "杨母"
        ws.append(
            [
                p.pk,
                p.account.account_number,
                float(p.amount),
                "失败" if failed else "成功",
                "户名不符" if failed else None,
            ]
        )
    buf = io.BytesIO()
    wb.save(buf)
    summary = batch_import_return(batch=batch, name="return.xlsx", content=buf.getvalue(), by=users["payer"])
    assert (summary.paid, summary.failed) == (3, 1)

    rosters_generate(programme=programme("rural_reward"), period="2026", by=users["admin"])
    next_roster = approved_roster(users, "2026")
    # Nothing more to the account the bank refused, neither the failed 2025 payment nor 2026's ...
    held = batch_create(roster=next_roster, by=users["payer"])
    rows = sorted((p.payee.name, p.period) for p in held.payments.select_related("payee"))
    assert rows == [("朱母", "2026"), ("朱父", "2026"), ("杨父", "2026")]
    # ... until the village corrects it: then both go out, the failed one as its re-issue.
    mother = Payment.objects.get(status="failed").payee
    bank_account_save(person=mother, kind="card", bank_name="农业银行", account_number=card_number("62284"), by=None)
    carried = batch_create(roster=next_roster, by=users["payer"])
    rows = sorted(
        (p.payee.name, p.period, p.reissue_of_id is not None) for p in carried.payments.select_related("payee")
    )
    assert rows == [("杨母", "2025", True), ("杨母", "2026", False)]


def test_the_database_refuses_a_second_payment_for_the_same_period(families, users):
    roster = approved_roster(users)
    batch = batch_create(roster=roster, by=users["payer"])
    payment = batch.payments.first()
    other = PaymentBatch.objects.create(roster=roster, township_id=roster.township_id, created_by=users["payer"])
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError, match="payment_once_per_person_period"), transaction.atomic():
        Payment.objects.create(
            batch=other, entry=payment.entry, person=payment.person, payee=payment.payee, programme=payment.programme,
            period=payment.period, village=payment.village, amount=payment.amount, account=payment.account,
        )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_two_batches_created_at_once_pay_no_one_twice(families, users):
    roster = approved_roster(users)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def create(user):
        try:
            barrier.wait(timeout=10)
            batch = batch_create(roster=roster, by=user)
            outcomes.append(f"created {batch.payments.count()}")
        except RuleViolation as exc:
            outcomes.append(exc.code)
        finally:
            connections.close_all()  # each thread had its own connection

    threads = [threading.Thread(target=create, args=(users[u],)) for u in ("payer", "approver2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert sorted(outcomes) == ["already_paid", "created 4"] or sorted(outcomes) == ["created 4", "nothing_to_pay"]
    assert Payment.objects.count() == 4
    assert PaymentBatch.objects.count() == 1  # the refused batch was rolled back with its payments
    assert connection.vendor == "postgresql"
