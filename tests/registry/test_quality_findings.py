"""The data-quality lists are stored findings (issue 16): the page reads what the last refresh found, a
refresh happens when the registry's change counter moved (any write path, bulk SQL included) — by the beat
task in a REAL Celery worker, and at once when an import commits or a clerk merges a pair."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from apps.accounts.services import user_create
from apps.areas.models import Area
from apps.areas.services import areas_load_csv
from apps.imports import services as import_services
from apps.imports.models import ImportMode, ImportStatus
from apps.imports.tasks import import_run
from apps.registry.models import Person, QualityFinding, QualityList
from apps.registry.quality import quality_findings_refresh, quality_refresh_due, quality_refresh_if_changed
from apps.registry.tasks import quality_refresh_task
from tests.conftest import AREAS_CSV, COUNTY, PASSWORD
from tests.imports.test_self_healing import _persons_csv
from tests.imports.test_tasks import wait_finished
from tests.registry.test_views import new_person, url


def _counts(response) -> dict[str, int]:
    return {s["key"]: s["page"].paginator.count for s in response.context["sections"]}


def test_the_page_shows_the_last_refresh_and_a_write_makes_one_due(client, areas, township_clerk):
    new_person("周同名", "M", date(1970, 5, 5))
    new_person("周同名", "M", date(1970, 5, 5), with_id=False)
    client.force_login(township_clerk)
    first = client.get(url("quality"))  # a new installation's first view makes the first refresh
    assert _counts(first)["duplicates"] == 2
    assert "清单统计时间" in first.content.decode()
    assert not quality_refresh_due()
    assert quality_refresh_if_changed() is None  # nothing written since: the beat does nothing

    new_person("周同名", "M", date(1970, 5, 5), with_id=False)  # a third record, after the refresh
    assert quality_refresh_due()
    stale = client.get(url("quality"))
    assert _counts(stale)["duplicates"] == 2
    assert "此后登记数据已有变更" in stale.content.decode()

    assert quality_refresh_if_changed()[QualityList.DUPLICATES] == 3
    assert _counts(client.get(url("quality")))["duplicates"] == 3


def test_a_bulk_sql_write_advances_the_change_counter(areas):
    person = new_person("吴一", "F", date(1990, 1, 1))
    quality_findings_refresh()
    assert not quality_refresh_due()
    Person.objects.filter(pk=person.pk).update(name="吴二")  # no model save, no signal: the trigger sees it
    assert quality_refresh_due()


def test_the_page_reads_stored_findings_in_a_bounded_number_of_queries(
    client, areas, township_clerk, django_assert_max_num_queries
):
    for n in range(30):
        new_person(f"郑{n}", "F", date(1980, 1, 1 + n % 28))
        new_person(f"郑{n}", "F", date(1980, 1, 1 + n % 28), with_id=False)
    quality_findings_refresh()
    client.force_login(township_clerk)
    # session, user, refresh state, change counter, then per list a count and a page: never a query per row
    with django_assert_max_num_queries(20):
        response = client.get(url("quality"))
    assert _counts(response)["duplicates"] == 60
    assert response.content.decode().count('data-testid="duplicate-row"') == 50  # one page


@pytest.fixture
def county_admin(transactional_db, celery_worker, shared_media):
    areas_load_csv(text=AREAS_CSV.read_text(encoding="utf-8"))
    return user_create(
        username="xian_admin", password=PASSWORD, area=Area.objects.get(code=COUNTY), roles=["county_admin"]
    )


def test_the_beat_task_refreshes_in_a_real_worker_only_when_something_changed(client, county_admin):
    new_person("冯同名", "F", date(1985, 3, 3))
    new_person("冯同名", "F", date(1985, 3, 3), with_id=False)
    counts = quality_refresh_task.delay().get(timeout=60)
    assert counts[QualityList.DUPLICATES] == 2
    assert quality_refresh_task.delay().get(timeout=60) is None  # nothing written since
    client.force_login(county_admin)
    page = client.get(reverse("registry:quality"))
    assert _counts(page)["duplicates"] == 2


def test_an_import_refreshes_the_lists_as_it_commits(county_admin, tmp_path):
    # Each row of the clean sample twice, under two ID numbers: every imported person has a namesake twin.
    sheet = _persons_csv(tmp_path, copies=2)
    with open(sheet, "rb") as fileobj:
        job = import_services.import_job_create(
            kind="persons", fileobj=fileobj, file_name=sheet.name, user=county_admin, mode=ImportMode.VALID_ROWS,
            dry_run=False,
        )  # fmt: skip
    import_run.delay(job.pk)
    job = wait_finished(job.pk)
    assert job.status == ImportStatus.COMMITTED, job.message
    twins = Person.objects.filter(merged_into__isnull=True).count()
    assert twins > 0
    assert QualityFinding.objects.filter(list_key=QualityList.DUPLICATES).count() == twins
    assert not quality_refresh_due()
