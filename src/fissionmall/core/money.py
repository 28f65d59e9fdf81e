"""Money is an integer number of fen; rates are basis points or whole percents. One place for every rounding.

Each function says which way it rounds and so in whose favour; callers pick the one whose direction their rule
needs instead of writing the arithmetic inline.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from fractions import Fraction

Fen = int
BASIS_POINTS = 10_000
PERCENT = 100
FEN_PER_YUAN = 100

_YUAN = re.compile(r"(?P<sign>-?)(?P<whole>\d+)(?:\.(?P<cents>\d{1,2}))?")


def yuan(amount_fen: Fen) -> str:
    """Format fen for people: 1234 -> '12.34'."""
    sign = "-" if amount_fen < 0 else ""
    whole, cents = divmod(abs(amount_fen), FEN_PER_YUAN)
    return f"{sign}{whole}.{cents:02d}"


def whole_yuan(amount_fen: Fen) -> int:
    """The whole yuan in an amount, the odd fen dropped (rounded down: what earns per-yuan rewards)."""
    return amount_fen // FEN_PER_YUAN


def fen_from_yuan(text: str) -> Fen:
    """Parse a yuan amount as people write it ('12', '12.3', '-0.05') exactly, without a float; more than two
    decimals is refused (ValueError) rather than rounded, in nobody's favour."""
    match = _YUAN.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a yuan amount with at most two decimals: {text!r}")
    amount = int(match["whole"]) * FEN_PER_YUAN + int((match["cents"] or "0").ljust(2, "0"))
    return -amount if match["sign"] else amount


def apply_rate(amount_fen: Fen, rate_bp: int) -> Fen:
    """amount × rate in basis points, rounded down: in the payer's favour (a commission, a pool, a fee)."""
    if rate_bp < 0:
        raise ValueError("rate must not be negative")
    return (amount_fen * rate_bp) // BASIS_POINTS


def percent_of(amount_fen: Fen, percent: int) -> Fen:
    """amount × percent / 100, rounded down: a discount or a deposit never takes a fen more than its rate says
    (in the merchant's favour for a discount, the shopper's for a deposit)."""
    if percent < 0:
        raise ValueError("percent must not be negative")
    return (amount_fen * percent) // PERCENT


def share_of(amount_fen: Fen, part_fen: Fen, whole_fen: Fen) -> Fen:
    """amount × part / whole (part capped at whole), rounded down: the running share of a benefit or commission
    that follows a running refund, so the last refund settles exactly the rest and nothing is given twice."""
    if whole_fen <= 0:
        raise ValueError("whole must be positive")
    return amount_fen * min(part_fen, whole_fen) // whole_fen


def per_unit_rounded_up(amount_fen: Fen, units: int) -> Fen:
    """The amount of one of `units` equal parts, rounded up: the most any one part of an even split can be."""
    if units < 1:
        raise ValueError("units must be at least 1")
    return -(-amount_fen // units)


def rate_bp_from_percent(percent: float | int | str) -> Fraction:
    """A percent as typed (2.5, '12.75') as an exact number of basis points, without float error."""
    return Fraction(str(percent)) * (BASIS_POINTS // PERCENT)


def allocate(total_fen: Fen, weights: Sequence[int]) -> list[Fen]:
    """Split total by weights with the largest-remainder method: parts sum exactly to total, and each part is
    within one fen of its exact share (in nobody's favour).

    Ties go to the earlier weight, so the split is deterministic.
    """
    if total_fen < 0:
        raise ValueError("total must not be negative")
    if not weights or any(w < 0 for w in weights):
        raise ValueError("weights must be non-negative and not empty")
    weight_sum = sum(weights)
    if weight_sum == 0:
        raise ValueError("weights must not all be zero")
    floors = [total_fen * w // weight_sum for w in weights]
    remainders = [total_fen * w % weight_sum for w in weights]
    short = total_fen - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:short]:
        floors[i] += 1
    return floors


def spread(amount_fen: Fen, line_costs: Sequence[Fen]) -> list[Fen]:
    """An order-wide amount (shipping, points, credit, a later price change) over the lines by what each costs,
    exactly; by equal parts when every line is free. Negative amounts are spread as discounts."""
    weights = list(line_costs) if any(cost > 0 for cost in line_costs) else [1] * len(line_costs)
    parts = allocate(abs(amount_fen), [max(0, weight) for weight in weights])
    return [-part for part in parts] if amount_fen < 0 else parts
