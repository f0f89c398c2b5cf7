"""How stored values are shown: rates rounded half-up to 2 decimals for display only (DESIGN §6)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from apps.indicators.catalogue import Indicator

NOT_APPLICABLE = "不适用"


def display_value(value: Decimal | None, places: int = 2) -> Decimal | None:
    """Rates are rounded half-up to 2 decimals for display only (DESIGN §6)."""
    if value is None:
        return None
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def shown_value(value: Decimal | None, indicator: Indicator | None = None) -> str:
    """A value as officials read it on a page: a count as a whole number, a rate to 2 decimals, "—" for none."""
    if value is None:
        return "—"
    if indicator is not None and indicator.is_count:
        return f"{int(value):,}"
    return f"{display_value(value):,.2f}"


def shown_reading(reading, indicator: Indicator | None = None) -> str:
    """A stored reading (``selectors.IndicatorReading`` or None) as shown: "不适用" when the indicator does not
    apply to the period (出生政策符合率 after 2021), otherwise ``shown_value``."""
    if reading is not None and reading.not_applicable:
        return NOT_APPLICABLE
    return shown_value(reading.value if reading is not None else None, indicator)
