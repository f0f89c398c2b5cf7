"""Page cache (页面缓存): the rendered pages whose data changes only at known moments, kept in Redis.

A page wrapped in ``cached_page(topics)`` is stored, for a GET by a signed-in user, under a key made of what the
page shows: the view, the path with its query string, the user (the navigation names them) with their area,
roles and superuser flag, the htmx headers, the local date (pages with overdue items change at midnight), the
language, and one version token per topic (a part of the data: ``registry``, ``fees``, ``indicators`` …).

Invalidation is by version: ``bump(topic)`` gives the topic a new random token, so every page stored under
the old one is never read again (and expires by itself). Tokens are random rather than counters so that a
token evicted from Redis can never come back to a value an older page was stored under. What bumps:

- every row saved or deleted through the ORM in a topic's app (``post_save``/``post_delete``/m2m signals),
  which covers the forms, the admin and the API;
- every successful write request (POST/PUT/PATCH/DELETE) by a signed-in user bumps all topics
  (``PageCacheWriteMiddleware``), which covers services that write with ``QuerySet.update`` or raw SQL;
- the set-based moments call ``bump`` themselves: a finished report run, a rescoring, a roster step, an
  import commit, a quality refresh, ``seed_demo``.

A bump happens at once and again when the transaction commits: the first makes the writing request (and a
test inside one transaction) see its change, the second closes the race with a reader that read the old
rows while the write was not yet committed and stored them under the token in force then.

The CSRF token in a stored page is replaced by a placeholder and filled in with the reader's token on every
hit (a cached form must post). Requests with pending messages are neither served from nor stored in the
cache. Written here rather than with ``django.views.decorators.cache.cache_page``: that one keys by URL and
headers only (not by the user's area and roles, nor by data versions) and stores the CSRF token verbatim.
"""

from __future__ import annotations

import functools
import hashlib
import re
import uuid
from collections.abc import Iterable

from django.apps import apps as django_apps
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpResponse
from django.middleware.csrf import _unmask_cipher_token, get_token
from django.utils import timezone, translation

# Every part of the data a page may show; a page names the ones it reads.
TOPICS = ("core", "areas", "accounts", "registry", "imports", "indicators", "scoring", "fees", "subsidies")
ALL = TOPICS
PAGE_SECONDS = 30 * 60  # a safety net only: invalidation is by version
_VERSION_PREFIX = "pagecache:v:"
_PAGE_PREFIX = "pagecache:p:"
_CSRF_PLACEHOLDER = "\x00csrf\x00"
_TOKEN_RE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])")
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _new_token() -> str:
    return uuid.uuid4().hex


def _bump_now(topics: Iterable[str]) -> None:
    cache.set_many({_VERSION_PREFIX + t: _new_token() for t in topics}, timeout=None)


def bump(*topics: str) -> None:
    """The data of ``topics`` changed: pages showing it are rendered anew (now and after the commit)."""
    topics = topics or ALL
    unknown = set(topics) - set(TOPICS)
    if unknown:
        raise ValueError(f"unknown page-cache topics: {sorted(unknown)}")
    _bump_now(topics)
    transaction.on_commit(lambda: _bump_now(topics))


def versions(topics: Iterable[str]) -> list[str]:
    """The current token of each topic (a missing one is created)."""
    keys = [_VERSION_PREFIX + t for t in topics]
    found = cache.get_many(keys)
    for key in keys:
        if key not in found:
            cache.add(key, _new_token(), timeout=None)
            found[key] = cache.get(key)
    return [found[k] for k in keys]


def _page_key(request, view_name: str, topics: tuple[str, ...]) -> str:
    user = request.user
    parts = [
        # Two databases may share one Redis (tests, a staging copy): their user ids must not meet.
        connection.settings_dict["NAME"],
        view_name,
        request.get_full_path(),
        str(user.pk),
        str(user.area_id),
        ",".join(sorted(user.roles or [])),
        str(user.is_superuser),
        request.headers.get("HX-Request", ""),
        request.headers.get("HX-Target", ""),
        timezone.localdate().isoformat(),
        translation.get_language() or "",
        *versions(topics),
    ]
    return _PAGE_PREFIX + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _without_csrf(content: str, secret: str | None) -> str:
    """The page with every masked form of the reader's CSRF secret replaced by the placeholder."""
    if not secret:
        return content
    return _TOKEN_RE.sub(
        lambda m: _CSRF_PLACEHOLDER if _unmask_cipher_token(m.group(0)) == secret else m.group(0), content
    )


def _cacheable_request(request) -> bool:
    user = getattr(request, "user", None)
    return (
        request.method == "GET"
        and user is not None
        and user.is_authenticated
        and not getattr(user, "must_change_password", False)
        and len(get_messages(request)) == 0
    )


def cached_page(*topics: str, seconds: int = PAGE_SECONDS):
    """View decorator: serve the page from the cache while the data of ``topics`` is unchanged (and for at
    most ``seconds``: a page with "new in the last days" counts moves on by the clock too)."""
    topics = tuple(topics) or ALL

    def decorator(view):
        view_name = f"{view.__module__}.{view.__qualname__}"

        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if not _cacheable_request(request):
                return view(request, *args, **kwargs)
            key = _page_key(request, view_name, topics)
            stored = cache.get(key)
            if stored is not None:
                content, content_type = stored
                if _CSRF_PLACEHOLDER in content:
                    content = content.replace(_CSRF_PLACEHOLDER, get_token(request))
                response = HttpResponse(content, content_type=content_type)
                response["X-Page-Cache"] = "hit"
                return response
            response = view(request, *args, **kwargs)
            content_type = response.get("Content-Type", "")
            if (
                response.status_code == 200
                and not response.streaming
                and content_type.startswith("text/html")
                and not response.cookies
                and not response.has_header("Content-Disposition")
            ):
                if hasattr(response, "render") and not response.is_rendered:
                    response.render()
                content = _without_csrf(response.content.decode(response.charset), request.META.get("CSRF_COOKIE"))
                cache.set(key, (content, content_type), seconds)
                response["X-Page-Cache"] = "miss"
            return response

        return wrapper

    return decorator


class PageCacheWriteMiddleware:
    """A successful write request by a signed-in user bumps every topic: services that write set-based
    (``QuerySet.update``, raw SQL) send no row signals, and a write request is rare next to the reads."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method in _WRITE_METHODS and response.status_code < 400:
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                bump()
        return response


def _topic_of(sender) -> str | None:
    label = getattr(getattr(sender, "_meta", None), "app_label", None)
    if label in TOPICS:
        return label
    return None


def _on_row_change(sender, **kwargs) -> None:
    topic = _topic_of(sender)
    if topic is not None:
        bump(topic)


def _on_m2m_change(sender, action, **kwargs) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        _on_row_change(kwargs["model"])
        _on_row_change(type(kwargs["instance"]))


def connect_signals() -> None:
    """Called from ``CoreConfig.ready``: every model of a topic's app bumps its topic when a row changes."""
    for model in django_apps.get_models():
        if _topic_of(model) is None:
            continue
        post_save.connect(_on_row_change, sender=model, dispatch_uid=f"pagecache-save-{model._meta.label}")
        post_delete.connect(_on_row_change, sender=model, dispatch_uid=f"pagecache-delete-{model._meta.label}")
    m2m_changed.connect(_on_m2m_change, dispatch_uid="pagecache-m2m")
