"""Liveness of what the app needs: PostgreSQL, Redis and at least one Celery worker."""

from __future__ import annotations

import logging

import redis
from celery import Celery
from django.db import connection
from django.db.utils import Error as DatabaseError
from kombu.exceptions import KombuError

logger = logging.getLogger(__name__)


def check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True}
    except DatabaseError as exc:
        logger.warning("health: database unreachable: %s", exc.__class__.__name__)
        return {"ok": False, "error": "database unreachable"}


def check_redis(url: str) -> dict:
    try:
        redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1).ping()
        return {"ok": True}
    except (redis.RedisError, OSError) as exc:
        logger.warning("health: redis unreachable: %s", exc.__class__.__name__)
        return {"ok": False, "error": "redis unreachable"}


def check_celery(app: Celery, broker_url: str, timeout: float = 1.5) -> dict:
    try:
        with app.connection_for_write(broker_url) as conn:
            conn.ensure_connection(max_retries=1, timeout=1)
            replies = app.control.ping(timeout=timeout, connection=conn)
    except (OSError, redis.RedisError, KombuError) as exc:
        logger.warning("health: celery broker unreachable: %s", exc.__class__.__name__)
        return {"ok": False, "workers": 0, "error": "broker unreachable"}
    if not replies:
        return {"ok": False, "workers": 0, "error": "no worker answered"}
    return {"ok": True, "workers": len(replies)}
