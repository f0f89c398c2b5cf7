"""Celery tasks of the registry: they only call services (STYLE)."""

from __future__ import annotations

from celery import shared_task

from apps.registry import quality


@shared_task(name="registry.quality_refresh", acks_late=True, soft_time_limit=10 * 60, time_limit=12 * 60)
def quality_refresh_task() -> dict[str, int] | None:
    """Every minute (celery beat) and after an import commits: the data-quality lists, when the registry changed.
    Idempotent: a second run with nothing written since does nothing."""
    return quality.quality_refresh_if_changed()
