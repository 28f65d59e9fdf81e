"""Order states and the transitions allowed between them (DOMAIN.md, Orders)."""

from __future__ import annotations

from enum import StrEnum


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    TO_SHIP = "to_ship"
    SHIPPED = "shipped"
    RECEIVED = "received"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDING = "refunding"
    REFUNDED = "refunded"


S = OrderStatus

REFUNDABLE = frozenset({S.PAID, S.TO_SHIP, S.SHIPPED, S.RECEIVED})
"""States from which a refund can be asked for: paid and not past the after-sale window."""

TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING_PAYMENT: frozenset({S.PAID, S.CANCELLED}),
    S.PAID: frozenset({S.TO_SHIP, S.REFUNDING}),
    S.TO_SHIP: frozenset({S.SHIPPED, S.REFUNDING}),
    S.SHIPPED: frozenset({S.RECEIVED, S.REFUNDING}),
    S.RECEIVED: frozenset({S.COMPLETED, S.REFUNDING}),
    # a partial or rejected refund returns the order to where it was (resume_status), not a request's move
    S.REFUNDING: frozenset({S.REFUNDED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
    S.REFUNDED: frozenset(),
}


def can_move(current: str, target: OrderStatus) -> bool:
    return target in TRANSITIONS.get(OrderStatus(current), frozenset())
