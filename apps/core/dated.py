"""Policy numbers are data with effective dates (DESIGN §1): every rule table has ``valid_from`` and an
optional ``valid_to`` (inclusive). This is the one definition of "in force on a day" for all of them."""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet


def in_force(qs: QuerySet, day: date) -> QuerySet:
    """The rows of ``qs`` in force on ``day``."""
    return qs.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day), valid_from__lte=day)
