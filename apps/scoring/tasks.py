"""Celery tasks of scoring: they only call services (STYLE: Saleor/Sentry)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from apps.scoring.services import assessments_recompute


@shared_task(name="scoring.recompute", acks_late=True, soft_time_limit=10 * 60, time_limit=15 * 60)
def recompute(year: int | None = None) -> dict:
    """Rescores every open assessment of ``year`` (default: this year) from the latest indicator snapshots,
    so the projected scores (预计得分) follow new snapshots. Idempotent: the same snapshots give the same
    scores."""
    year = year or timezone.localdate().year
    return {"year": year, "assessments": assessments_recompute(year=year)}
