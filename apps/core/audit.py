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
                user=names.get(context.get("user"), "系统" if not context.get("user") else "（已删除用户）"),
                url=context.get("url", ""),
                import_job=context.get("import_job"),
                reason=context.get("reason"),
                changes=changes,
                subject=subject(by_pk[str(event.pgh_obj_id)]) if subject and str(event.pgh_obj_id) in by_pk else "",
            )
        )
    return entries
