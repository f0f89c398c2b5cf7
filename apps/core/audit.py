"""Reads of the audit trail (pghistory events) for one record, with who/where and masked personal fields.

Models name their personal fields in ``masked_fields = {"field": masking_function}``; the history shows them
masked to roles that may not see full identifiers, exactly as the record's own page does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pghistory
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from pghistory.models import Events


def tracked():
    """Audit every insert, update and delete (pghistory trackers are per model: new instances each time)."""
    return pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())


def audit_context(by=None, **extra):
    """The audit context (who, why, which job) of a write, inside a web request or outside one (commands,
    tasks, imports): every service wraps its writes in it; ``None`` values are left out."""
    values = {k: v for k, v in extra.items() if v not in (None, "")}
    if by is not None:
        values["user"] = by.pk
    return pghistory.context(**values)


LABELS = {"insert": "新建", "update": "修改", "delete": "删除"}


@dataclass
class AuditEntry:
    at: datetime
    action: str
    user: str
    url: str
    import_job: str | None
    reason: str | None
    changes: list[tuple[str, object, object]]  # (field label, before, after)
    subject: str = ""  # which record, when one list shows the history of several


def _field_label(model: type[models.Model], name: str) -> str:
    try:
        return str(model._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:  # a field dropped since the event was written
        return name


OUTSIDE_APPLICATION = "应用外修改"


def _actor(context: dict | None, names: dict) -> str:
    """Who made a change: the user; "系统" for the application's own jobs and commands (a context without a
    user); "应用外修改" for a write with no context at all, i.e. SQL run directly against the database."""
    if context is None:
        return OUTSIDE_APPLICATION
    if not context.get("user"):
        return "系统"
    return names.get(context["user"], "（已删除用户）")


def history_for(*, obj: models.Model, user) -> list[AuditEntry]:
    """Every tracked change of ``obj``, newest first. The caller has already checked ``obj`` is visible."""
    return history_for_objects(objs=[obj], user=user)


def history_for_objects(*, objs: list[models.Model], user, subject=None) -> list[AuditEntry]:
    """Every tracked change of several records of one model (one query), newest first; ``subject(obj)``
    names the record on each entry. The caller has already checked the records are visible."""
    if not objs:
        return []
    model = type(objs[0])
    by_pk = {str(o.pk): o for o in objs}
    masked = getattr(model, "masked_fields", {}) if not getattr(user, "may_see_full_ids", False) else {}
    events = list(Events.objects.tracks(objs).order_by("-pgh_created_at", "-pgh_id"))
    user_ids = {e.pgh_context.get("user") for e in events if e.pgh_context and e.pgh_context.get("user")}
    names = {u.pk: str(u) for u in get_user_model().objects.filter(pk__in=user_ids)}

    choices = {f.attname: dict(f.flatchoices) for f in model._meta.concrete_fields if getattr(f, "flatchoices", None)}

    def shown(field: str, value):
        if field in masked and value:
            return masked[field](value)
        if field in choices and value in choices[field]:
            return choices[field][value]  # "农业", not "agricultural"
        return value

    entries = []
    for event in events:
        context = event.pgh_context or {}
        action = event.pgh_label
        if event.pgh_diff:
            changes = [
                (_field_label(model, f), shown(f, before), shown(f, after))
                for f, (before, after) in event.pgh_diff.items()
            ]
        else:
            changes = [(_field_label(model, f), None, shown(f, v)) for f, v in (event.pgh_data or {}).items()]
        entries.append(
            AuditEntry(
                at=event.pgh_created_at,
                action=LABELS.get(action, action),
                user=_actor(event.pgh_context, names),
                url=context.get("url", ""),
                import_job=context.get("import_job"),
                reason=context.get("reason"),
                changes=changes,
                subject=subject(by_pk[str(event.pgh_obj_id)]) if subject and str(event.pgh_obj_id) in by_pk else "",
            )
        )
    return entries


# The audit cannot be erased: every pghistory event table refuses UPDATE and DELETE from the application's
# database role (a row trigger that raises), and the shared context table refuses DELETE (pghistory updates a
# context row while a request or job adds events to it). Installed by the core migration for the tables that
# exist then and, after every `migrate`, for any event table added since (post_migrate, see CoreConfig).
APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION core_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '审计记录不可修改或删除 (% on %)', TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$;
"""
APPEND_ONLY_TRIGGER = "core_audit_append_only"


def event_tables() -> list[str]:
    """The table of every pghistory event model of the project."""
    from django.apps import apps
    from pghistory.models import Event

    return sorted({m._meta.db_table for m in apps.get_models() if issubclass(m, Event) and not m._meta.proxy})


def protect_event_tables(connection) -> list[str]:
    """Install the append-only trigger on every existing event table that lacks it; returns the event tables.
    Idempotent and cheap when nothing is missing (it runs after every migrate and every test flush)."""
    from pghistory.models import Context

    existing = set(connection.introspection.table_names())
    tables = [t for t in event_tables() if t in existing]
    context_table = Context._meta.db_table
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT event_object_table FROM information_schema.triggers WHERE trigger_name = %s",
            [APPEND_ONLY_TRIGGER],
        )
        protected = {row[0] for row in cursor.fetchall()}
        missing = [t for t in tables if t not in protected]
        context_missing = context_table in existing and context_table not in protected
        if not missing and not context_missing:
            return tables
        cursor.execute(APPEND_ONLY_FUNCTION)
        for table in missing:
            cursor.execute(
                f"CREATE OR REPLACE TRIGGER {APPEND_ONLY_TRIGGER} BEFORE UPDATE OR DELETE ON {qn(table)} "
                "FOR EACH ROW EXECUTE FUNCTION core_audit_append_only()"
            )
        if context_missing:
            cursor.execute(
                f"CREATE OR REPLACE TRIGGER {APPEND_ONLY_TRIGGER} BEFORE DELETE ON {qn(context_table)} "
                "FOR EACH ROW EXECUTE FUNCTION core_audit_append_only()"
            )
    return tables
