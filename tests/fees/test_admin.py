"""The admin edits fee standards and parameters (data); cases and money are read-only there."""

from datetime import date
from decimal import Decimal

from pghistory.models import Events

from apps.fees.models import FeeEnd, FeeStandard
from apps.fees.services import fee_case_decide, payment_record
from tests.conftest import COUNTY
from tests.fees.conftest import open_case


def test_standards_are_editable_and_the_money_is_read_only(client, make_user, make_birth, fee_officer):
    admin_user = make_user("root", COUNTY, "county_admin", is_staff=True)
    admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    case = open_case(make_birth(), fee_officer)
    fee_case_decide(
        case=case, decision_number="平抚决1号", decided_on=date(2013, 1, 10), amount=Decimal("13000"),
        due_on=date(2013, 2, 10), by=fee_officer,
    )  # fmt: skip
    payment = payment_record(
        case=case, receipt_number="No.1", amount=Decimal("100"), paid_on=date(2013, 1, 15), method="cash",
        by=fee_officer,
    )  # fmt: skip
    standard = FeeStandard.objects.get()
    assert client.get(f"/admin/fees/feestandard/{standard.pk}/change/").status_code == 200
    for path in ("/admin/fees/feepolicy/", "/admin/fees/feecase/", "/admin/fees/payment/",
                 f"/admin/fees/payment/{payment.pk}/change/", f"/admin/fees/feecase/{case.pk}/change/"):  # fmt: skip
        assert client.get(path).status_code == 200, path
    assert client.get("/admin/fees/payment/add/").status_code == 403
    assert client.post(f"/admin/fees/payment/{payment.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.post(f"/admin/fees/payment/{payment.pk}/change/", {"amount": "1"}).status_code == 403
    payment.refresh_from_db()
    assert payment.amount == Decimal("100.00")


def test_the_fee_end_and_the_legal_basis_are_edited_in_the_admin(client, make_user, policy_data):
    admin_user = make_user("root", COUNTY, "county_admin", is_staff=True)
    admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    end = FeeEnd.objects.get()
    assert (end.ends_on, end.unsettled_outcome) == (date(2021, 7, 20), "terminate")
    for path in ("/admin/fees/feeend/", "/admin/fees/legalbasis/", "/admin/fees/feetermination/"):
        assert client.get(path).status_code == 200, path
    assert client.get("/admin/fees/feeend/add/").status_code == 403  # the fee ends once: one row
    response = client.post(
        f"/admin/fees/feeend/{end.pk}/change/",
        {"ends_on": "2021-07-20", "unsettled_outcome": "collect", "source": end.source},
    )
    assert response.status_code == 302
    end.refresh_from_db()
    assert end.unsettled_outcome == "collect"
    assert Events.objects.tracks(end).filter(pgh_label="update").exists()  # audited like every parameter
