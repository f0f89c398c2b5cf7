"""Pure scoring arithmetic (no database): an indicator item against its contract target, adjustments by kind.

Kept apart from ``services.py`` so that every rule of seed 004 can be read (and tested) on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from apps.core.errors import RuleViolation
from apps.scoring.models import POINTS, AdjustmentKind, AdjustmentRule, IndicatorScoring, TargetDirection

CENT = Decimal("0.01")
ZERO = Decimal("0")


MAX_POINTS = Decimal(10 ** (POINTS["max_digits"] - POINTS["decimal_places"])) - Decimal("0.01")


def round_points(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def fmt(value: Decimal | None) -> str:
    """A number as people write it: 95, 11.1, 6.3 (no trailing zeros), rounded half-up to 2 decimals for
    display only (DESIGN §6); comparisons with targets use the unrounded value."""
    if value is None:
        return "—"
    text = f"{value.quantize(CENT, rounding=ROUND_HALF_UP):f}".rstrip("0").rstrip(".")
    return text or "0"


@dataclass(frozen=True)
class IndicatorOutcome:
    points: Decimal
    met: bool


def target_met(*, value: Decimal, target: Decimal, direction: str) -> bool:
    return value <= target if direction == TargetDirection.AT_MOST else value >= target


def indicator_points(
    *, points: Decimal, scoring: str, floor: Decimal | None, value: Decimal, target: Decimal, direction: str
) -> IndicatorOutcome:
    """all_or_nothing: full points when the target is met, else 0. linear: full points at the target, 0 at
    ``floor``, linear between (the floor lies on the far side of the target: below it for "at least", above
    it for "at most")."""
    met = target_met(value=value, target=target, direction=direction)
    if met:
        return IndicatorOutcome(points, True)
    if scoring == IndicatorScoring.ALL_OR_NOTHING or floor is None or floor == target:
        return IndicatorOutcome(ZERO, False)
    fraction = (value - floor) / (target - floor)
    fraction = max(ZERO, min(Decimal(1), fraction))
    return IndicatorOutcome(round_points(points * fraction), False)


def adjustment_points(
    *, rule: AdjustmentRule, chosen_points: Decimal | None, cases: int, unreported_cases: int
) -> Decimal:
    """The points of one claim by the rule's kind (seed 004, L121–131)."""
    if rule.kind == AdjustmentKind.FIXED:
        return rule.points
    if rule.kind == AdjustmentKind.TIERED:
        if chosen_points is None or chosen_points not in rule.tiers:
            tiers = "、".join(fmt(t) for t in rule.tiers)
            raise RuleViolation(f"「{rule.name}」请选择分档：{tiers}分", field="chosen_points")
        return chosen_points
    if rule.kind == AdjustmentKind.RANGE:
        if chosen_points is None or not (rule.min_points <= chosen_points <= rule.max_points):
            raise RuleViolation(
                f"「{rule.name}」的分值须在{fmt(rule.min_points)}至{fmt(rule.max_points)}分之间", field="chosen_points"
            )
        return chosen_points
    # per_case: each case costs ``points``; a case the unit had not reported costs ``unreported_multiplier``
    # times as much ("未如实上报的加倍扣分", L130).
    if cases + unreported_cases < 1:
        raise RuleViolation(f"「{rule.name}」按例计分，请填写例数", field="cases")
    if unreported_cases and rule.unreported_multiplier is None:
        raise RuleViolation(f"「{rule.name}」不区分是否如实上报，请只填写例数", field="unreported_cases")
    multiplier = rule.unreported_multiplier or Decimal(1)
    points = round_points(rule.points * cases + rule.points * multiplier * unreported_cases)
    if points > MAX_POINTS:  # more than a points column holds: a typing error, not a deduction
        raise RuleViolation(
            f"「{rule.name}」按所填例数计得{fmt(points)}分，超出可记录的分值，请核对例数", field="cases"
        )
    return points
