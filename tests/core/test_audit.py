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


def _event_tables_with_trigger(cursor, trigger: str) -> set[str]:
    cursor.execute("SELECT event_object_table FROM information_schema.triggers WHERE trigger_name = %s", [trigger])
    return {row[0] for row in cursor.fetchall()}


def test_every_event_table_refuses_update_and_delete(areas):
    from django.db import connection

    from apps.core.audit import APPEND_ONLY_TRIGGER, event_tables

    assert {"areas_areaevent", "registry_personevent", "fees_paymentevent", "subsidies_paymentevent"} <= set(
        event_tables()
    )
    with connection.cursor() as cursor:
        # Every table of the database that holds pghistory events, whichever app added it and when.
        cursor.execute(
            "SELECT DISTINCT table_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND column_name = 'pgh_created_at'"
        )
        in_database = {row[0] for row in cursor.fetchall()}
        protected = _event_tables_with_trigger(cursor, APPEND_ONLY_TRIGGER)
    assert len(in_database) >= 40 and set(event_tables()) == in_database
    assert in_database <= protected and "pghistory_context" in protected


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE areas_areaevent SET name = 'forged'",
        "DELETE FROM areas_areaevent",
        "DELETE FROM pghistory_context",
    ],
)
def test_the_applications_connection_cannot_alter_or_erase_audit_rows(areas, sql):
    from django.db import DatabaseError, connection, transaction

    with pghistory.context(reason="x"):
        Area.objects.filter(code=VILLAGE_A).update(name="新名")
    before = Events.objects.tracks(Area(code=VILLAGE_A)).count()
    with pytest.raises(DatabaseError, match="审计记录不可修改或删除"), transaction.atomic(), connection.cursor() as c:
        c.execute(sql)
    assert Events.objects.tracks(Area(code=VILLAGE_A)).count() == before
    # The ORM is refused the same way.
    with pytest.raises(DatabaseError), transaction.atomic():
        Area.pgh_event_models["update"].objects.all().delete()


def test_a_raw_update_outside_the_application_shows_as_such(client, make_user):
    from django.db import connection

    viewer = make_user("root", COUNTY, "county_admin")
    with connection.cursor() as cursor:  # as a DBA would, with no application context
        cursor.execute("UPDATE areas_area SET name = '私改' WHERE code = %s", [VILLAGE_A])
    with pghistory.context(reason="区划调整"):  # the application's own job: no user
        Area.objects.filter(code=VILLAGE_A).update(name="南潘庄村")

    from apps.core.audit import history_for

    entries = history_for(obj=Area.objects.get(code=VILLAGE_A), user=viewer)
    updates = [e for e in entries if e.action == "修改"]
    assert [e.user for e in updates] == ["系统", "应用外修改"]
    client.force_login(viewer)
    page = client.get(f"/history/areas.Area/{VILLAGE_A}/").content.decode()
    assert "应用外修改" in page and "私改" in page
