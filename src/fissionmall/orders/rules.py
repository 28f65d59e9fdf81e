"""Pure order maths: what is due now, under which trade number, which payment a refund goes back through, what each
line cost, and what a refund takes from each line and gives back of the credit and points that paid for it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from fissionmall.core.money import allocate, share_of, spread

Stage = Literal["full", "deposit", "balance"]


def payment_due(status: str, total_fen: int, paid_fen: int, deposit_fen: int | None) -> tuple[Stage, int]:
    """The stage the shopper pays next and its amount: the whole total, a deposit, or the balance after it."""
    if status == "balance_due":
        return "balance", total_fen - paid_fen
    if deposit_fen is not None:
        return "deposit", deposit_fen
    return "full", total_fen


def trade_no(order_no: str, stage: Stage) -> str:
    """The provider's reference for one payment of an order: the order number, suffixed for a balance."""
    return f"{order_no}B" if stage == "balance" else order_no


def payments_of(order_no: str, paid_fen: int, deposit_fen: int | None) -> list[tuple[str, int]]:
    """(trade number, amount) of every payment the order has received, newest first."""
    if deposit_fen is not None and paid_fen > deposit_fen:
        return [(trade_no(order_no, "balance"), paid_fen - deposit_fen), (order_no, deposit_fen)]
    return [(order_no, paid_fen)] if paid_fen else []


def split_refund(amount: int, payments: list[tuple[str, int]], taken: dict[str, int]) -> list[tuple[str, int]]:
    """Spread a refund over the payments, newest first, each up to what is not yet refunded through it.

    `taken` is what earlier refunds already claimed per trade number. The parts sum to `amount` exactly;
    the caller has checked that the order has that much left to refund.
    """
    parts: list[tuple[str, int]] = []
    left = amount
    for number, paid in payments:
        part = min(left, paid - taken.get(number, 0))
        if part > 0:
            parts.append((number, part))
            left -= part
    if left:
        raise ValueError(f"{left} fen of the refund has no payment to go back through")
    return parts


class PricedLine(Protocol):
    """An order line as priced: a checkout line or a stored order item."""

    @property
    def sku_id(self) -> int: ...

    @property
    def unit_price_fen(self) -> int: ...

    @property
    def quantity(self) -> int: ...


def adjustment_parts(lines: Sequence[PricedLine], adjustments: Sequence[Mapping[str, Any]]) -> list[list[int]]:
    """Each adjustment's part on every line, in the adjustments' order: as stored (`line_shares`), or, for one stored
    without (a later price change, an order priced before parts were kept), split over what the lines cost at that
    point."""
    cash = [line.unit_price_fen * line.quantity for line in lines]
    found = []
    for adjustment in adjustments:
        parts = list(adjustment.get("line_shares") or spread(int(adjustment["amount_fen"]), cash))
        cash = [cost + part for cost, part in zip(cash, parts, strict=True)]
        found.append(parts)
    return found


def line_cash(lines: Sequence[PricedLine], adjustments: Sequence[Mapping[str, Any]]) -> list[int]:
    """What each line costs the shopper after every adjustment. The parts sum to the order's total exactly."""
    cash = [line.unit_price_fen * line.quantity for line in lines]
    for parts in adjustment_parts(lines, adjustments):
        cash = [cost + part for cost, part in zip(cash, parts, strict=True)]
    return cash


@dataclass(frozen=True)
class OrderLines:
    """An order's lines as its refunds see them: each line's SKU, its cash as priced, and its parts of the shop
    credit and of the points' worth that paid for it (each sums to what the order used)."""

    sku_ids: list[int]
    cash: list[int]
    credit: list[int]
    points_fen: list[int]


def order_lines(items: Sequence[PricedLine], adjustments: Sequence[Mapping[str, Any]]) -> OrderLines:
    """The lines of an order from its items (in line order) and its adjustments (kind, amount_fen, line_shares)."""
    parts = adjustment_parts(items, adjustments)

    def paid_with(kind: str) -> list[int]:
        taken = [0] * len(items)
        for adjustment, shares in zip(adjustments, parts, strict=True):
            if adjustment["kind"] == kind:
                taken = [paid - share for paid, share in zip(taken, shares, strict=True)]
        return taken

    return OrderLines(sku_ids=[item.sku_id for item in items], cash=line_cash(items, adjustments),
                      credit=paid_with("wallet"), points_fen=paid_with("points"))


def points_by_line(points_spent: int, points_fen: Sequence[int], cash: Sequence[int]) -> list[int]:
    """The points an order spent, split over its lines as the fen they took off were; points spent without a points
    line (a points-mall price) by what each line costs in cash."""
    return allocate(points_spent, points_fen) if any(points_fen) else spread(points_spent, cash)


def refund_parts(amount_fen: int, left: Sequence[int], line: int | None) -> list[int]:
    """A refund's part on each line: all of it on the line asked for, or, for a refund of the order, spread over the
    lines by what each has left to refund, exactly (so no line ever gives back more than its cash)."""
    if line is not None:
        return [amount_fen if i == line else 0 for i in range(len(left))]
    return allocate(amount_fen, left)


def refunds_by_line(cash: Sequence[int], refunds: Sequence[tuple[int, Sequence[int] | None]]) -> list[list[int]]:
    """Each refund's (amount, stored parts) part on every line, in the order the refunds were made: as stored, or, for
    one made before parts were kept, spread over what the lines had left after the refunds before it."""
    left = list(cash)
    found = []
    for amount, stored in refunds:
        parts = list(stored) if stored is not None else refund_parts(amount, left, None)
        left = [rest - part for rest, part in zip(left, parts, strict=True)]
        found.append(parts)
    return found


def benefit_returned(benefit: Sequence[int], cash: Sequence[int], refunded: Sequence[int]) -> int:
    """How much of a benefit that paid for the lines (credit, points) has come back once `refunded` of each line's
    cash was refunded: each line's part in the same share as its cash, rounded down."""
    return sum(share_of(part, done, paid) for part, paid, done in zip(benefit, cash, refunded, strict=True) if paid > 0)


def benefit_due(benefit: Sequence[int], cash: Sequence[int], before: Sequence[int], after: Sequence[int], *,
                closing: bool) -> int:
    """What a refund gives back of a benefit, as the lines' refunded cash goes from `before` to `after`: the growth of
    each line's share, or, for the refund that completes the order's, all the rest (a line no cash paid for returns
    its part then)."""
    given = benefit_returned(benefit, cash, before)
    return (sum(benefit) if closing else benefit_returned(benefit, cash, after)) - given


NOT_SAVED = frozenset({"wallet", "gift_voucher"})
"""Adjustments that pay with money the customer already had (shop credit, a voucher bought): not money saved."""


@dataclass(frozen=True)
class Savings:
    """What a paid order saved, for its show-off card (晒单): the price before and after, and each saving."""

    before_fen: int
    after_fen: int
    lines: list[tuple[str, int]]
    """(name, fen saved), largest first; a merchant's own price change is named generically (its name is staff
    text, not meant for strangers)."""


def savings(items_fen: int, adjustments: Sequence[tuple[str, str, int]]) -> Savings:
    """From the (kind, name, amount) adjustments of an order: its discounts, grouped by name; charges (shipping)
    raise the price before; shop credit and gift vouchers are neither."""
    by_name: dict[str, int] = {}
    charges = 0
    for kind, name, amount in adjustments:
        if amount > 0:
            charges += amount
        elif amount < 0 and kind not in NOT_SAVED:
            label = "商家优惠" if kind == "merchant_adjustment" else name
            by_name[label] = by_name.get(label, 0) - amount
    lines = sorted(by_name.items(), key=lambda line: (-line[1], line[0]))
    before = items_fen + charges
    return Savings(before_fen=before, after_fen=before - sum(by_name.values()), lines=lines)
