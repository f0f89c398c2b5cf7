"""The client's address, and a small per-address rate limit (django cache, i.e. Redis) for the login entries.

``X-Forwarded-For`` is only believed behind a trusted reverse proxy: with ``TRUSTED_PROXY_COUNT = N`` (N > 0) the
address is the N-th entry from the right of that header (the one our own proxy appended), so a client cannot
choose its address by sending the header itself. With N = 0 (the default: gunicorn reached directly) the header
is ignored and ``REMOTE_ADDR`` is the address.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache


def client_ip(request) -> str:
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    remote = request.META.get("REMOTE_ADDR", "") or ""
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < count:
        return remote  # not (fully) behind our proxies: the header is the client's own
    return forwarded[-count]


def rate_limited(request, *, scope: str, limit: int, window: int) -> bool:
    """Count one attempt of this address in ``scope``; True once more than ``limit`` attempts fell within the
    current ``window`` seconds (a fixed window: one counter per address, expiring with the window)."""
    key = f"ratelimit:{scope}:{client_ip(request)}"
    if cache.add(key, 1, timeout=window):
        return limit < 1
    try:
        return cache.incr(key) > limit
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window)
        return False


def login_rate_limited(request) -> bool:
    """The login form and the token endpoint share one per-address budget of attempts."""
    return rate_limited(
        request, scope="login", limit=settings.LOGIN_RATE_LIMIT, window=settings.LOGIN_RATE_WINDOW_SECONDS
    )


def rate_limit_reset(*, scope: str, address: str) -> None:
    cache.delete(f"ratelimit:{scope}:{address}")
