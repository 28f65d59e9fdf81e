"""Money is an integer number of fen; rates are basis points. One place for every rounding."""

from __future__ import annotations

from collections.abc import Sequence

Fen = int
BASIS_POINTS = 10_000


def yuan(amount_fen: Fen) -> str:
    """Format fen for people: 1234 -> '12.34'."""
    sign = "-" if amount_fen < 0 else ""
    whole, cents = divmod(abs(amount_fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def apply_rate(amount_fen: Fen, rate_bp: int) -> Fen:
    """amount × rate, rounded half down to the fen, in the payer's favour."""
    if rate_bp < 0:
        raise ValueError("rate must not be negative")
    return (amount_fen * rate_bp) // BASIS_POINTS


def allocate(total_fen: Fen, weights: Sequence[int]) -> list[Fen]:
    """Split total by weights with the largest-remainder method: parts sum exactly to total.

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
