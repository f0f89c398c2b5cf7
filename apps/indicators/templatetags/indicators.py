from decimal import Decimal

from django import template

from apps.indicators.formatting import display_value, shown_reading, shown_value

register = template.Library()


@register.filter
def shown(value: Decimal | None, indicator=None) -> str:
    """A stored value as officials read it: rounded half-up to 2 decimals, a count as a whole number."""
    if value == "":  # no reading (an empty lookup in a template)
        return "—"
    return shown_value(value, indicator or None)


@register.filter
def reading(value, indicator=None) -> str:
    """A stored reading as shown: "不适用" for an indicator that does not apply to the period, else ``shown``."""
    if value == "":
        return "—"
    return shown_reading(value or None, indicator or None)


@register.filter
def signed(value: Decimal | None, indicator=None) -> str:
    if value is None or value == "":
        return "—"
    if indicator is not None and getattr(indicator, "is_count", False):
        return f"{int(value):+,}"
    rounded = display_value(value)
    return f"+{rounded:,.2f}" if rounded > 0 else f"{rounded:,.2f}"


@register.filter
def amount(value: Decimal | None) -> str:
    """A numerator or denominator: a whole number without decimals, otherwise up to 2 decimals (16.5, 3000)."""
    if value is None or value == "":
        return "—"
    rounded = display_value(value)
    return f"{int(rounded):,}" if rounded == rounded.to_integral_value() else f"{rounded.normalize():,}"
