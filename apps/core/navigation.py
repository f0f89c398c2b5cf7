"""The main navigation, filtered by role. Apps add their entries in ``AppConfig.ready``."""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: tuple[str, ...] = ()  # empty: every signed-in user
    order: int = 100


_ITEMS: list[NavItem] = []


def nav_register(item: NavItem) -> None:
    if item not in _ITEMS:
        _ITEMS.append(item)


def nav_items_for(user) -> list[dict]:
    if not user.is_authenticated:
        return []
    items = []
    for item in sorted(_ITEMS, key=lambda i: i.order):
        if item.roles and not user.has_role(*item.roles):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        items.append({"label": item.label, "url": url})
    return items
