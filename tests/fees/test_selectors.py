"""The ledger and the collection rate against a ledger computed by hand; scope; pinned query counts."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.fees.models import FeeCase, FeePolicy
from apps.fees.selectors import (
    births_awaiting_case,
    enforcement_referrals,
    fee_cases_visible_to,
    fee_collection_by_village,
    ledger_total,
    payments_visible_to,
    township_ledger,
)
from apps.fees.services import (
    fee_case_decide,
    fee_case_transfer,
    fee_case_withdraw,
    payment_record,
    payment_reverse,
    refund_record,
)
from tests.conftest import TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A, VILLAGE_B
from tests.fees.conftest import open_case

D = Decimal
VILLAGE_A2 = "131025100202"
YEAR_2013 = {"start": date(2013, 1, 1), "end": date(2013, 12, 31)}


def _decide(case, by, amount, number, on):
    return fee_case_decide(
        case=case, decision_number=number, decided_on=on, amount=D(amount), due_on=on + timedelta(days=30), by=by
    )


def _pay(case, by, amount, receipt, on):
    return payment_record(case=case, receipt_number=receipt, amount=D(amount), paid_on=on, method="cash", by=by)


@pytest.fixture
def county_ledger(make_birth, fee_officer, fee_officer_b, county_admin, areas):
    """Five cases, with the ledger an auditor would compute by hand for 2013:

    | case | village | township (home/finding) | decided (date)        | money                         | net    |
    | 1    | A       | A / A                   | 13,000 (2013-01-10)   | 13,000                        | 13,000 |
    | 2    | A2      | A / A                   | 20,000 (2013-03-01)   | 5,000 + 1,000 − 1,000 − 500   |  4,500 |
    | 3    | A       | B / A (transferred)     | 15,000 (2013-05-01)   | 10,000 (A's 10% share: 1,000) | 10,000 |
    | 4    | B       | B / B                   | 14,000 (2012-12-31)   | 14,000 — decided outside 2013 |        |
    | 5    | A       | A / A                   | withdrawn             |                               |        |
    """
    c1 = open_case(make_birth(name="甲"), fee_officer)
    _decide(c1, fee_officer, "13000.00", "平抚决1号", date(2013, 1, 10))
    _pay(c1, fee_officer, "13000.00", "P1", date(2013, 1, 20))

    c2 = open_case(make_birth(name="乙", village=VILLAGE_A2), fee_officer)
    _decide(c2, fee_officer, "20000.00", "平抚决2号", date(2013, 3, 1))
    _pay(c2, fee_officer, "5000.00", "P2", date(2013, 3, 5))
    wrong = _pay(c2, fee_officer, "1000.00", "P3", date(2013, 3, 6))
    payment_reverse(payment=wrong, reason="重复录入", on=date(2013, 3, 7), by=fee_officer)
    refund_record(
        case=c2, voucher_number="T1", amount=D("500.00"), refunded_on=date(2013, 4, 1), reason="复核减征",
        by=county_admin,
    )  # fmt: skip

    c3 = open_case(make_birth(name="丙"), fee_officer)
    fee_case_transfer(
        case=c3, to_township=areas[TOWNSHIP_B], reason="户籍在旺村镇", by=fee_officer, on=date(2013, 4, 1)
    )
    c3.refresh_from_db()
    _decide(c3, fee_officer_b, "15000.00", "旺抚决1号", date(2013, 5, 1))
    _pay(c3, fee_officer_b, "10000.00", "P4", date(2013, 5, 10))

    c4 = open_case(make_birth(name="丁", village=VILLAGE_B), fee_officer_b)
    _decide(c4, fee_officer_b, "14000.00", "旺抚决0号", date(2012, 12, 31))
    _pay(c4, fee_officer_b, "14000.00", "P5", date(2013, 1, 5))

    c5 = open_case(make_birth(name="戊"), fee_officer)
    _decide(c5, fee_officer, "13000.00", "平抚决3号", date(2013, 6, 1))
    fee_case_withdraw(case=c5, reason="复核为政策内", by=county_admin)
    return c1, c2, c3, c4, c5


def test_township_ledger_matches_the_hand_computed_ledger(county_ledger, county_admin, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = township_ledger(user=county_admin, **YEAR_2013)
    assert [(r.township, r.name, r.cases, r.decided, r.collected, r.share_out, r.share_in, r.kept) for r in rows] == [
        (TOWNSHIP_A, "平舒镇", 2, D("33000.00"), D("17500.00"), D("0.00"), D("1000.00"), D("18500.00")),
        (TOWNSHIP_B, "旺村镇", 1, D("15000.00"), D("10000.00"), D("1000.00"), D("0.00"), D("9000.00")),
    ]
    assert [r.rate for r in rows] == [D("53.03"), D("66.67")]
    total = ledger_total(rows=rows)
    assert (total.cases, total.decided, total.collected, total.rate) == (3, D("48000.00"), D("27500.00"), D("57.29"))
    # The transfer shares add up: what the townships keep is exactly what was collected.
    assert total.kept == total.collected and total.share_in == total.share_out == D("1000.00")


def test_a_township_sees_its_own_ledger_line(county_ledger, fee_officer):
    rows = township_ledger(user=fee_officer, **YEAR_2013)
    assert [(r.township, r.collected, r.share_in) for r in rows] == [(TOWNSHIP_A, D("17500.00"), D("1000.00"))]


def test_fee_collection_by_village_is_the_hand_computed_rate(county_ledger, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = fee_collection_by_village(**YEAR_2013)
    # By the birth's village: cases 1 and 3 in A, case 2 in A2; case 4 was decided in 2012; case 5 withdrawn.
    assert rows == [
        (VILLAGE_A, D("23000.00"), D("28000.00")),
        (VILLAGE_A2, D("4500.00"), D("20000.00")),
    ]
    assert fee_collection_by_village(start=date(2012, 1, 1), end=date(2012, 12, 31)) == [
        (VILLAGE_B, D("14000.00"), D("14000.00"))
    ]


def test_the_fee_collection_rate_lists_its_cases_from_the_same_records(county_ledger, county_admin):
    from apps.indicators.selectors import figure_records
    from apps.indicators.services import indicators_compute
    from tests.indicators.drill import assert_every_figure_lists_its_records

    c1, _c2, c3, _c4, _c5 = county_ledger
    run = indicators_compute(period="2013")
    areas = (VILLAGE_A, VILLAGE_A2, VILLAGE_B, TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A[:6] + "000000")
    listed = assert_every_figure_lists_its_records(run, county_admin, areas=areas, codes=["fee_collection_rate"])
    assert listed["fee_collection_rate"] > 0
    collected = figure_records(
        user=county_admin, run_id=run.pk, indicator_code="fee_collection_rate", area_code=VILLAGE_A, part="numerator"
    )
    # Village A: cases 1 and 3 (the transferred one, at the birth's village); 4 was decided in 2012, 5 withdrawn.
    assert sorted((r.record_id, r.weight) for r in collected.rows) == [
        (c1.pk, D("13000.00")),
        (c3.pk, D("10000.00")),
    ]
    assert all(r.link == f"/fees/cases/{r.record_id}/" for r in collected.rows)


def test_scope_a_transferred_case_is_seen_by_both_townships_and_nobody_else(
    county_ledger, fee_officer, fee_officer_b, make_user
):
    c1, c2, c3, c4, c5 = county_ledger
    assert set(fee_cases_visible_to(user=fee_officer).values_list("pk", flat=True)) == {c1.pk, c2.pk, c3.pk, c5.pk}
    assert set(fee_cases_visible_to(user=fee_officer_b).values_list("pk", flat=True)) == {c3.pk, c4.pk}
    village_leader = make_user("cunzhuren", VILLAGE_A2, "county_viewer")
    assert list(fee_cases_visible_to(user=village_leader).values_list("pk", flat=True)) == [c2.pk]
    # A clerk of the same village reads no fee case at all (the role matrix: clerks keep the registry).
    village_clerk = make_user("cun", VILLAGE_A2, "village_clerk")
    assert not fee_cases_visible_to(user=village_clerk).exists()
    assert set(payments_visible_to(user=fee_officer_b).values_list("receipt_number", flat=True)) == {"P4", "P5"}


def test_case_list_query_count_is_pinned(county_ledger, county_admin, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        cases = list(fee_cases_visible_to(user=county_admin))
        names = [(c.mother.name, c.home_township.name, c.village.name, c.birth.child.name) for c in cases]
    assert len(names) == 5


def test_births_awaiting_a_case(make_birth, fee_officer, fee_officer_b):
    birth = make_birth()
    last_day = date(2021, 7, 20)  # the fee's last day: a case may still be opened
    assert list(births_awaiting_case(user=fee_officer, today=last_day)) == [birth]
    assert list(births_awaiting_case(user=fee_officer_b, today=last_day)) == []
    # After the end the list is empty: no case may be opened (the birth stays out of policy in the registry).
    assert list(births_awaiting_case(user=fee_officer, today=date(2021, 7, 21))) == []
    assert list(births_awaiting_case(user=fee_officer, today=timezone.localdate())) == []
    open_case(birth, fee_officer)
    assert list(births_awaiting_case(user=fee_officer, today=last_day)) == []


def test_enforcement_referral_list_uses_the_configured_days(make_birth, fee_officer):
    today = date(2021, 7, 1)
    late = open_case(make_birth(name="晚缴"), fee_officer)
    _decide(late, fee_officer, "13000.00", "平抚决9号", today - timedelta(days=150))  # due 120 days ago
    recent = open_case(make_birth(name="新决定"), fee_officer)
    _decide(recent, fee_officer, "13000.00", "平抚决10号", today - timedelta(days=100))  # due 70 days ago
    assert [c.pk for c in enforcement_referrals(user=fee_officer, today=today)] == [late.pk]
    FeePolicy.objects.update(enforcement_after_days=60)
    assert [c.pk for c in enforcement_referrals(user=fee_officer, today=today)] == [late.pk, recent.pk]
    assert FeeCase.objects.count() == 2
    # After the fee's end nothing is referred, however overdue.
    assert list(enforcement_referrals(user=fee_officer, today=date(2021, 7, 21))) == []
    assert list(enforcement_referrals(user=fee_officer, today=timezone.localdate())) == []


def test_the_indicator_report_takes_the_collection_rate_from_the_ledger(county_ledger):
    """fee_collection_rate (DESIGN §6) in the quarterly snapshot: summed up the tree from the villages of the
    births, never averaged."""
    from apps.indicators.selectors import indicator_values_latest
    from apps.indicators.services import indicators_compute

    indicators_compute(period="2013")
    values = indicator_values_latest(period="2013", indicator_codes=["fee_collection_rate"])
    township_a = values[(TOWNSHIP_A, "fee_collection_rate")]
    assert (township_a.numerator, township_a.denominator) == (D("27500.00"), D("48000.00"))
    assert round(township_a.value, 2) == D("57.29")
    assert values[(VILLAGE_A, "fee_collection_rate")].numerator == D("23000.00")
    assert (TOWNSHIP_B, "fee_collection_rate") not in values  # case 3 was found in A: it counts where the birth is
