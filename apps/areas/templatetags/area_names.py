"""``{{ code|area_label:area_names }}``: a 12-digit code with its name, from the dict a view built with
``apps.areas.selectors.area_labels`` (one query per page, never one per code)."""

from django import template

register = template.Library()


@register.filter
def area_label(code: str, labels: dict | None) -> str:
    if not code:
        return ""
    return (labels or {}).get(code, code)
