from datetime import date

from apps.registry.models import BirthPolicyRule
from tests.conftest import COUNTY


def test_admin_edits_policy_rules_and_births_are_recomputed(client, make_user, make_person):
    from tests.registry.test_services import _birth

    admin_user = make_user("root", COUNTY, "county_admin", is_staff=True)
    admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    mother = make_person("沈月", "F", date(1985, 1, 1), hukou="non_agricultural")
    _birth(mother, date(2010, 5, 1))
    second = _birth(mother, date(2014, 5, 1))
    assert second.policy_status == "out_of_policy"

    response = client.post(
        "/admin/registry/birthpolicyrule/add/",
        {"name": "单独两孩", "valid_from": "2014-01-01", "valid_to": "2015-12-31", "hukou_type": "",
         "condition": "always", "children_allowed": "2", "source": "试点"},
    )  # fmt: skip
    assert response.status_code == 302
    assert BirthPolicyRule.objects.filter(name="单独两孩").exists()
    second.refresh_from_db()
    assert second.policy_status == "in_policy"

    for path in ("/admin/registry/person/", "/admin/registry/birth/", f"/admin/registry/person/{mother.pk}/change/"):
        assert client.get(path).status_code == 200
    assert client.get("/admin/registry/person/add/").status_code == 403
