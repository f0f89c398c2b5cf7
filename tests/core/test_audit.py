"""The audit trail: who changed what, when, with before and after, for any tracked record."""

import pghistory
import pytest
from pghistory.models import Events

from apps.areas.models import Area
from tests.conftest import COUNTY, TOWNSHIP_A, VILLAGE_A


def test_a_change_through_the_admin_is_recorded_with_user_and_path(client, make_user):
    admin = make_user("root", COUNTY, "county_admin", is_staff=True)
    admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    url = f"/admin/areas/area/{VILLAGE_A}/change/"
    response = client.post(url, {"code": VILLAGE_A, "name": "南潘庄村", "level": "village", "parent": TOWNSHIP_A})
    assert response.status_code == 302, response.content.decode()[:2000]

    event = Events.objects.tracks(Area(code=VILLAGE_A)).filter(pgh_label="update").get()
    assert event.pgh_diff == {"name": ["南潘庄村委会", "南潘庄村"]}
    assert event.pgh_context["user"] == admin.pk
    assert event.pgh_context["url"] == url

    history = client.get(f"/history/areas.Area/{VILLAGE_A}/")
    page = history.content.decode()
    assert history.status_code == 200
    assert "修改" in page and "南潘庄村委会" in page and "南潘庄村" in page and str(admin) in page

    # The admin's change page links to the event history of the record (pghistory admin).
    change_page = client.get(url).content.decode()
    assert f"obj=areas.Area:{VILLAGE_A}" in change_page


def test_changes_outside_a_request_carry_the_context_given(areas):
    with pghistory.context(import_job=17, reason="区划调整"):
        Area.objects.filter(code=VILLAGE_A).update(name="新名")
    event = Events.objects.tracks(Area(code=VILLAGE_A)).filter(pgh_label="update").get()
    assert event.pgh_context["import_job"] == 17
    assert event.pgh_context["reason"] == "区划调整"


def test_bulk_writes_are_recorded_too(areas):
    Area.objects.filter(parent_id=TOWNSHIP_A).update(name="改名")
    assert Events.objects.tracks(*Area.objects.filter(parent_id=TOWNSHIP_A)).filter(pgh_label="update").count() == 40


@pytest.mark.parametrize("path", ["/history/nosuch.Model/1/", "/history/sessions.Session/x/", "/history/areas/1/"])
def test_history_of_unknown_or_unscoped_models_is_a_404(client, township_clerk, path):
    client.force_login(township_clerk)
    assert client.get(path).status_code == 404


def test_user_history_never_shows_the_password(areas, make_user):
    user = make_user("someone", TOWNSHIP_A, "township_clerk")
    user.set_password("Another-Secret-99")
    user.save()
    for event in Events.objects.tracks(user):
        assert "password" not in event.pgh_data
