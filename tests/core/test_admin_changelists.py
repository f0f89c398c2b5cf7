"""Admin changelists name the relations they join: with ``list_select_related = False`` and a foreign key in
``list_display``, Django follows every non-null foreign key recursively, and on the subsidies payment list
that was a join of some thirty tables that PostgreSQL spent minutes planning."""

from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db.models import ForeignKey


def test_every_changelist_showing_a_foreign_key_names_its_select_related():
    offenders = []
    for model, model_admin in admin.site._registry.items():
        if not model.__module__.startswith("apps."):
            continue  # third-party admins (tokens, pghistory) are not ours to tune
        shows_fk = False
        for name in model_admin.get_list_display(request=None):
            try:
                shows_fk |= isinstance(model._meta.get_field(name), ForeignKey)
            except (FieldDoesNotExist, TypeError):
                continue
        if shows_fk and model_admin.list_select_related in (False, True):
            offenders.append(model._meta.label)
    assert offenders == []
