"""The admin: amounts and conditions are data an admin edits; a bad condition list is refused with a message;
disability records (programme-side, the registry has none) are entered through the service."""

from datetime import date
from decimal import Decimal

from apps.subsidies.models import DisabilityRecord, ProgrammeRule
from tests.conftest import COUNTY


def _admin(client, make_user):
    user = make_user("root", COUNTY, "county_admin", is_staff=True)
    user.is_superuser = True
    user.save()
    client.force_login(user)
    return user


def test_admin_edits_a_rule_amount_and_refuses_unknown_conditions(client, make_user, programme):
    _admin(client, make_user)
    rule = ProgrammeRule.objects.get(programme=programme("childcare"))
    data = {
        "programme": rule.programme_id, "category": rule.category, "priority": 1, "valid_from": "2025-01-01",
        "valid_to": "", "amount": "350.00", "notice_days": 5, "source": "调整",
        "predicates": '[{"code": "age_under", "years": 3}, {"code": "alive"}]',
    }  # fmt: skip
    response = client.post(
        f"/admin/subsidies/programmerule/{rule.pk}/change/", {**data, "predicates": '[{"code": "rich"}]'}
    )
    assert response.status_code == 200
    assert "未知的资格条件" in response.content.decode()
    rule.refresh_from_db()
    assert rule.amount == Decimal("300.00")

    response = client.post(f"/admin/subsidies/programmerule/{rule.pk}/change/", data)
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.amount, rule.notice_days) == (Decimal("350.00"), 5)
    for path in ("/admin/subsidies/programme/", f"/admin/subsidies/programme/{rule.programme_id}/change/",
                 "/admin/subsidies/roster/", "/admin/subsidies/payment/", "/admin/subsidies/bankaccount/"):  # fmt: skip
        assert client.get(path).status_code == 200


def test_admin_enters_a_disability_record_through_the_service(client, make_user, make_family):
    user = _admin(client, make_user)
    family = make_family(father=date(1970, 1, 1), mother=date(1972, 1, 1), children=[("F", date(1995, 1, 1))])
    child = family.children[0]
    form = {"person": child.pk, "certificate_number": "13102519950101001", "grade": "2"}
    response = client.post("/admin/subsidies/disabilityrecord/add/", {**form, "recognised_on": "1990-01-01"})
    assert response.status_code == 200
    assert "认定日期应在出生日期之后、今天之前" in response.content.decode()
    response = client.post("/admin/subsidies/disabilityrecord/add/", {**form, "recognised_on": "2015-06-01"})
    assert response.status_code == 302
    record = DisabilityRecord.objects.get()
    assert (record.grade, record.village_id, record.created_by) == (2, child.village_id, user)
