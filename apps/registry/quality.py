"""The data-quality lists (数据质量清单) as stored findings, refreshed set-based.

Recomputing the lists on every view meant self-joins over the whole registry per page (16 requests/s on the
make-run county). Each list's rule is one queryset in ``selectors.QUALITY_RULES``; a refresh turns each into
one ``INSERT … SELECT`` into ``QualityFinding``, and the page reads those findings through the area scope.

When a refresh is due: every write to persons, births, marriages and moves — forms, corrections, the API,
the admin and bulk imports (COPY) alike — advances one PostgreSQL sequence, ``registry_quality_changes``,
from a statement-level trigger (a sequence is outside transactions, so concurrent writers never wait on it).
Celery beat asks every minute whether the counter moved past the one the last refresh saw
(``quality_refresh_if_changed``); an import asks right away when it commits. A merge refreshes the two
records' findings at once, so the pair leaves the list the clerk came from.
"""

from __future__ import annotations

import time

from django.db import connection, transaction
from django.utils import timezone

from apps.core import pagecache
from apps.registry.models import QualityFinding, QualityRefresh
from apps.registry.selectors import QUALITY_RULES

CHANGES_SEQUENCE = "registry_quality_changes"
_LOCK = 7_202_612  # pg advisory lock: one refresh at a time


def registry_changes() -> int:
    """The registry's change counter now."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT last_value FROM {CHANGES_SEQUENCE}")  # noqa: S608 (a constant)
        return cursor.fetchone()[0]


def _findings_write(key: str, *, object_ids: list[int] | None, now) -> int:
    spec = QUALITY_RULES[key]
    qs = spec.rule(spec.model.objects.all())
    if object_ids is not None:
        qs = qs.filter(pk__in=object_ids)
    sql, params = qs.values_list("pk", "village_id", spec.date_field).query.sql_with_params()
    table = QualityFinding._meta.db_table
    with connection.cursor() as cursor:
        if object_ids is None:
            cursor.execute(f"DELETE FROM {table} WHERE list_key = %s", [key])  # noqa: S608
        else:
            cursor.execute(f"DELETE FROM {table} WHERE list_key = %s AND object_id = ANY(%s)", [key, object_ids])  # noqa: S608
        cursor.execute(
            f"INSERT INTO {table} (list_key, object_id, village_id, event_date, found_at)"  # noqa: S608
            f" SELECT %s, f.object_id, f.village_id, f.event_date, %s"
            f" FROM ({sql}) AS f(object_id, village_id, event_date)",
            [key, now, *params],
        )
        return cursor.rowcount


@transaction.atomic
def quality_findings_refresh() -> dict[str, int]:
    """Rebuilds every list from the registry as it is now: one DELETE and one INSERT … SELECT per list."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
    started, seen, now = time.monotonic(), registry_changes(), timezone.now()
    counts = {key: _findings_write(key, object_ids=None, now=now) for key in QUALITY_RULES}
    QualityRefresh.objects.all().delete()
    QualityRefresh.objects.create(refreshed_at=now, change_seen=seen, seconds=time.monotonic() - started)
    pagecache.bump("registry")
    return counts


@transaction.atomic
def quality_findings_refresh_objects(*, key: str, object_ids: list[int]) -> int:
    """Rebuilds one list's findings for some records only (the same rule, called with their ids)."""
    return _findings_write(key, object_ids=list(object_ids), now=timezone.now())


def quality_refresh_due() -> bool:
    """Never refreshed, or registry writes since the last refresh began."""
    last = QualityRefresh.objects.order_by("-refreshed_at").first()
    return last is None or registry_changes() > last.change_seen


def quality_refresh_if_changed() -> dict[str, int] | None:
    """The beat's call: refreshes only when something was written since the last refresh."""
    return quality_findings_refresh() if quality_refresh_due() else None
