"""The start page's work list (工作台：待办事项): what is waiting for the signed-in user, each with a link.

``core`` is at the bottom of the app graph and imports no domain app. Each app contributes its own items the
way Django's admin finds ``admin.py`` modules: a module ``apps/<app>/worklist.py`` that defines
``items(user) -> list[WorkItem]``. A provider builds its items without querying; each item's ``count`` is a
callable that the start page calls only for the items the user's roles may open (one COUNT through the app's
area-scoped selectors each), so the page costs a bounded number of queries whatever the data.

"New since you last looked" (import results, data-quality entries) needs to know when the user last looked:
a link on the start page goes through ``core:worklist_open``, which records the time (``WorklistSeen``) and
redirects to the item's page; ``seen_at`` reads all of a user's times in one query per request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.apps import apps
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import module_has_submodule

from apps.core import access

if TYPE_CHECKING:
    from apps.accounts.models import User

MODULE = "worklist"


@dataclass
class WorkItem:
    """One line of the work list. ``key`` names it (``<app>.<what>``, for "seen" times and tests); ``count``
    is called only when the item is shown: ``None`` from it (or no ``count``) makes a standing link without a
    number; 0 hides the item. ``roles``: the roles the item is for (empty: every role that may open the
    link); the link's page must also be open to the user in the role matrix."""

    key: str
    title: str
    url_name: str
    query: dict[str, str] = field(default_factory=dict)
    kwargs: dict[str, object] = field(default_factory=dict)
    count: Callable[[], int | None] | None = None
    roles: frozenset[str] = frozenset()
    hint: str = ""  # one line under the title: what to do
    order: int = 100

    @property
    def url(self) -> str:
        url = reverse(self.url_name, kwargs=self.kwargs or None)
        return f"{url}?{urlencode(self.query)}" if self.query else url

    def is_for(self, user: User) -> bool:
        if self.roles and not (user.is_superuser or set(user.roles or ()) & self.roles):
            return False
        namespace, _, name = self.url_name.rpartition(":")
        return access.page_allowed(user, namespace, name)


@dataclass(frozen=True)
class ShownItem:
    key: str
    title: str
    hint: str
    count: int | None
    link: str  # through core:worklist_open, which records the visit


@cache
def providers() -> tuple[Callable[[User], list[WorkItem]], ...]:
    """``items`` of every installed app's ``worklist`` module, in INSTALLED_APPS order."""
    found = []
    for config in apps.get_app_configs():
        name = f"{config.name}.{MODULE}"
        if name != __name__ and module_has_submodule(config.module, MODULE):
            found.append(import_module(name).items)
    return tuple(found)


def items_for(user: User) -> list[WorkItem]:
    """Every item meant for ``user`` (roles and role matrix), counts not yet taken."""
    if not user.is_authenticated:
        return []
    out = [item for provider in providers() for item in provider(user) if item.is_for(user)]
    return sorted(out, key=lambda i: i.order)


def worklist_for(user: User) -> list[ShownItem]:
    """The start page's list: the items with work waiting (a count above 0) and the standing links."""
    shown = []
    for item in items_for(user):
        count = item.count() if item.count is not None else None
        if count == 0:
            continue
        link = reverse("core:worklist_open", kwargs={"key": item.key})
        shown.append(ShownItem(item.key, item.title, item.hint, count, link))
    return shown


def item_get(user: User, key: str) -> WorkItem | None:
    return next((i for i in items_for(user) if i.key == key), None)


# --- when the user last looked -----------------------------------------------------------------------------


def seen_at(user: User, key: str) -> datetime | None:
    """When ``user`` last opened item ``key`` from the start page (one query per request for all keys)."""
    cached = getattr(user, "_worklist_seen", None)
    if cached is None:
        from apps.core.models import WorklistSeen

        cached = dict(WorklistSeen.objects.filter(user_id=user.pk).values_list("key", "seen_at"))
        user._worklist_seen = cached
    return cached.get(key)


def new_since(user: User, key: str, *, window: timedelta) -> datetime:
    """The start of "new" for an item: the user's last look at it, but no further back than ``window``."""
    earliest = timezone.now() - window
    seen = seen_at(user, key)
    return max(seen, earliest) if seen else earliest


def seen_record(*, user: User, key: str) -> None:
    from apps.core.models import WorklistSeen

    WorklistSeen.objects.update_or_create(user_id=user.pk, key=key, defaults={"seen_at": timezone.now()})
    if hasattr(user, "_worklist_seen"):
        del user._worklist_seen
