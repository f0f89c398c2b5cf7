"""The main navigation. Apps add their entries in ``AppConfig.ready``; an entry is offered to the roles that
may read its page's part in the role matrix (``apps.core.access``), the same check the page itself makes."""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from apps.core import access


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    order: int = 100
    # Ignored: the role matrix decides who sees an entry. Still accepted so that an entry registered with
    # roles (apps/imports) loads; drop it there when that app is next touched.
    roles: tuple[str, ...] = ()

    @property
    def part(self) -> str | None:
        namespace, _, name = self.url_name.rpartition(":")
        return access.page_part(namespace, name)


_ITEMS: list[NavItem] = []


def nav_register(item: NavItem) -> None:
    if item not in _ITEMS:
        _ITEMS.append(item)


def nav_items_for(user) -> list[dict]:
    if not user.is_authenticated:
        return []
    items = []
    for item in sorted(_ITEMS, key=lambda i: i.order):
        part = item.part
        if part is None or not access.may_read(user, part):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        items.append({"label": item.label, "url": url})
    return items
