"""Pure order maths: what is due now, under which trade number, and which payment a refund goes back through."""

from __future__ import annotations

from typing import Literal

from fissionmall.core.money import share_of

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


def returned_share(paid_fen: int, refunded_fen: int, benefit_fen: int, returned_fen: int) -> int:
    """How much more of a non-cash payment (credit, points) goes back now that `refunded_fen` of the `paid_fen`
    cash has been refunded in all: the same share, rounded down, so the last refund returns the rest exactly."""
    if paid_fen <= 0:
        return benefit_fen - returned_fen
    return share_of(benefit_fen, refunded_fen, paid_fen) - returned_fen
