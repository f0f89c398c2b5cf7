"""Celery tasks of the subsidy app: they take ids and call services (STYLE: Saleor/Sentry)."""

from __future__ import annotations

import logging

from celery import shared_task

from apps.accounts.models import User
from apps.core.errors import RuleViolation
from apps.subsidies import services
from apps.subsidies.models import Programme

logger = logging.getLogger(__name__)


@shared_task(name="subsidies.generate_rosters", acks_late=True, soft_time_limit=240, time_limit=300)
def generate_rosters(programme_id: int, period: str, user_id: int | None) -> dict:
    """资格认定 of one programme and period over the county. Idempotent: a draft roster is rewritten with the
    same result; a roster already submitted is left alone (the service refuses)."""
    programme = Programme.objects.get(pk=programme_id)
    by = User.objects.filter(pk=user_id).first() if user_id else None
    try:
        written = services.rosters_generate(programme=programme, period=period, by=by)
    except RuleViolation as exc:
        logger.warning("roster generation %s %s refused: %s", programme.code, period, exc.code)
        return {"programme": programme.code, "period": period, "refused": exc.code}
    return {"programme": programme.code, "period": period, "entries": written}
