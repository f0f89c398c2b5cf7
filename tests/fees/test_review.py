"""需复核: a fee case whose birth the registry voids or corrects into policy is flagged for the fee officer,
never deleted, its money kept on the ledger (issue 12; DESIGN §7)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.areas.models import Area
from apps.fees.models import FeeCase
from apps.fees.selectors import fee_case_review_reason, fee_cases_needing_review
from apps.fees.services import fee_case_decide, payment_record
from apps.registry.services import birth_correct, birth_void, permit_issue
from tests.conftest import TOWNSHIP_A
from tests.fees.conftest import open_case

D = Decimal


@pytest.fixture
def paying_case(make_birth, fee_officer):
    case = open_case(make_birth(), fee_officer)
    case = fee_case_decide(
        case=case, decision_number="平抚决〔2013〕1号", decided_on=date(2013, 1, 10), amount=D("13000.00"),
        due_on=date(2013, 2, 10), by=fee_officer,
    )  # fmt: skip
    payment_record(
        case=case, receipt_number="No.1", amount=D("6500.00"), paid_on=date(2013, 1, 15), method="cash",
        by=fee_officer,
    )  # fmt: skip
    return FeeCase.objects.get(pk=case.pk)


def test_a_voided_birth_flags_its_case_and_keeps_the_money(paying_case, fee_officer, fee_officer_b, township_clerk):
    assert list(fee_cases_needing_review(user=fee_officer)) == []

    birth_void(birth=paying_case.birth, reason="重复录入", by=township_clerk)

    case = FeeCase.objects.get(pk=paying_case.pk)
    assert list(fee_cases_needing_review(user=fee_officer)) == [case]
    assert list(fee_cases_needing_review(user=fee_officer_b)) == []  # another township's officer
    assert case.collected_amount == D("6500.00") and case.payments.count() == 1
    assert fee_case_review_reason(case=case).endswith("作废（原因：重复录入）")


def test_a_birth_now_in_policy_flags_its_case(paying_case, fee_officer):
    birth = paying_case.birth
    # A second-birth approval found later covers the birth: the registry recomputes it as in policy.
    permit_issue(
        number="PS-2011-7", kind="second_birth_approval", wife=birth.mother, husband=None,
        issuing_township=Area.objects.get(code=TOWNSHIP_A), child_order=2, issued_on=date(2011, 6, 1),
        valid_until=None, issued_by="", by=None,
    )  # fmt: skip
    case = FeeCase.objects.get(pk=paying_case.pk)
    assert case.birth.policy_status == "in_policy"
    assert list(fee_cases_needing_review(user=fee_officer)) == [case]
    assert fee_case_review_reason(case=case) == "该出生经更正后按政策规则为政策内"


def test_a_correction_that_keeps_the_birth_out_of_policy_flags_nothing(paying_case, fee_officer):
    birth = paying_case.birth
    birth_correct(
        birth=birth, on=birth.date, sex="F", village=birth.village, father=None, permit=None,
        entered_on=birth.entered_on, reason="性别录错", by=None,
    )  # fmt: skip
    assert list(fee_cases_needing_review(user=fee_officer)) == []


def test_the_officer_sees_the_count_and_the_banner(paying_case, fee_officer, township_clerk, client):
    birth_void(birth=paying_case.birth, reason="重复录入", by=township_clerk)
    client.force_login(fee_officer)
    listing = client.get(reverse("fees:case_list")).content.decode()
    assert "需复核的案件：1件" in listing
    detail = client.get(reverse("fees:case_detail", args=[paying_case.pk])).content.decode()
    assert 'data-testid="case-review"' in detail and "作废（原因：重复录入）" in detail
    assert "6500.00" in detail
