"""Random money splits for prizes and packets: exact sums in integer fen, every part at least a minimum.

- double mean (二倍均值, WeChat red packets): each draw is uniform up to twice the mean of what is left, so the
  expected part is the same for every draw, but later parts vary more;
- line segment (线段切割): cut the total at random points; the parts are exchangeable, so the order of
  claiming does not matter at all.
"""

from __future__ import annotations

import random
from typing import Literal

from fissionmall.core.money import allocate, per_unit_rounded_up, yuan

SplitRule = Literal["double_mean", "line_segment"]


def _check(total: int, parts: int, minimum: int) -> None:
    if parts < 1 or minimum < 1 or total < parts * minimum:
        raise ValueError(f"cannot split {total} fen into {parts} parts of at least {minimum} fen")


def double_mean(total: int, parts: int, minimum: int, rng: random.Random) -> list[int]:
    _check(total, parts, minimum)
    left, amounts = total, []
    for remaining_parts in range(parts, 1, -1):
        ceiling = min(left - minimum * (remaining_parts - 1), 2 * left // remaining_parts)
        amount = rng.randint(minimum, max(minimum, ceiling))
        amounts.append(amount)
        left -= amount
    amounts.append(left)
    return amounts


def line_segment(total: int, parts: int, minimum: int, rng: random.Random) -> list[int]:
    _check(total, parts, minimum)
    free = total - parts * minimum
    cuts = sorted(rng.randint(0, free) for _ in range(parts - 1))
    edges = [0, *cuts, free]
    return [minimum + edges[i + 1] - edges[i] for i in range(parts)]


def capped(amounts: list[int], maximum: int, rng: random.Random) -> list[int]:
    """Bring every part down to `maximum`, handing each excess to parts with room, in random order: the sum and
    the minimum hold, and no part passes the cap (the caller has checked parts × maximum ≥ total)."""
    amounts = list(amounts)
    excess = sum(max(0, a - maximum) for a in amounts)
    amounts = [min(a, maximum) for a in amounts]
    order = list(range(len(amounts)))
    while excess:
        rng.shuffle(order)
        for i in order:
            give = min(excess, maximum - amounts[i], max(1, excess // len(amounts)))
            amounts[i] += give
            excess -= give
            if not excess:
                break
    return amounts


def split(rule: SplitRule | None, total: int, parts: int, minimum: int, rng: random.Random | None = None,
          maximum: int | None = None) -> list[int]:
    """`total` in `parts` by the rule, or equally (largest remainder) when there is none."""
    if rule is None:
        return allocate(total, [1] * parts)
    rng = rng or random.SystemRandom()
    if maximum is not None and parts * maximum < total:
        raise ValueError(f"{parts} parts of at most {maximum} fen cannot make {total} fen")
    amounts = (double_mean if rule == "double_mean" else line_segment)(total, parts, minimum, rng)
    return capped(amounts, maximum, rng) if maximum is not None else amounts


def largest_part(rule: SplitRule | None, total: int, parts: int, minimum: int, maximum: int | None = None) -> int:
    """The most one part can be under these terms, and a draw reaches it (every other part at the minimum, the
    cap taking the rest): what a promotion's top prize is (COMPLIANCE P3) and what its rules may promise."""
    if rule is None:
        return per_unit_rounded_up(total, parts)
    spread = total - minimum * (parts - 1)
    return min(spread, maximum) if maximum is not None else spread


def smallest_part(rule: SplitRule | None, total: int, parts: int, minimum: int, maximum: int | None = None) -> int:
    """The least one part can be, and a draw reaches it: the minimum, unless the other parts at their largest
    leave more than that (a cap binds from below too; one part is the whole total)."""
    if rule is None:
        return total // parts
    return max(minimum, total - largest_part(rule, total, parts, minimum, maximum) * (parts - 1))


def describe(rule: SplitRule | None, total: int, parts: int, minimum: int, maximum: int | None = None) -> str:
    """How the parts come out, as the shopper reads it: the range a draw can really reach, or the even amount,
    with the odd fen an even split gives to the earliest parts (largest remainder, earlier first)."""
    low, high = (smallest_part(rule, total, parts, minimum, maximum),
                 largest_part(rule, total, parts, minimum, maximum))
    if low == high:
        return f"每份 ¥{yuan(low)}，金额相同"
    if rule is None:
        return f"平均分配，每份 ¥{yuan(low)}，最先领取的 {total % parts} 份各多 ¥{yuan(high - low)}"
    return f"每份金额随机，最少 ¥{yuan(low)}，最多 ¥{yuan(high)}"
