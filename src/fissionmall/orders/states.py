"""Order states and the transitions allowed between them (DOMAIN.md, Orders)."""

from __future__ import annotations

from enum import StrEnum

from fissionmall.core.states import StateMachine


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    BALANCE_DUE = "balance_due"
    """A deposit is paid and the campaign succeeded: the balance is due by `due_at`."""
    TO_SHIP = "to_ship"
    SHIPPED = "shipped"
    RECEIVED = "received"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDING = "refunding"
    REFUNDED = "refunded"


S = OrderStatus

REFUNDABLE = frozenset({S.TO_SHIP, S.SHIPPED, S.RECEIVED})
"""States from which a shopper or merchant can refund: paid and out of the campaign's hands (an order waiting for
its group, or with a balance due, is refunded only by its campaign's published rules), and not past the after-sale
window."""

TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING_PAYMENT: frozenset({S.PAID, S.CANCELLED}),
    # virtual goods (gift vouchers) are delivered by the payment itself
    S.PAID: frozenset({S.TO_SHIP, S.BALANCE_DUE, S.COMPLETED, S.REFUNDING}),
    # a lapsed balance forfeits the deposit (cancelled) or returns it (refunding), as the campaign published
    S.BALANCE_DUE: frozenset({S.TO_SHIP, S.REFUNDING, S.CANCELLED}),
    S.TO_SHIP: frozenset({S.SHIPPED, S.REFUNDING}),
    S.SHIPPED: frozenset({S.RECEIVED, S.REFUNDING}),
    S.RECEIVED: frozenset({S.COMPLETED, S.REFUNDING}),
    # a partial or rejected refund returns the order to where it was (resume_status), not a request's move
    S.REFUNDING: frozenset({S.REFUNDED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
    S.REFUNDED: frozenset(),
}


ORDER_STATES = StateMachine(TRANSITIONS)
can_move = ORDER_STATES.can_move


class RefundStatus(StrEnum):
    REQUESTED = "requested"
    """A shopper's request, awaiting the merchant's decision."""
    PROCESSING = "processing"
    """Approved, or issued by the merchant or a campaign: the provider is paying it back."""
    SUCCEEDED = "succeeded"
    REJECTED = "rejected"


R = RefundStatus

REFUND_MOVES: dict[RefundStatus, frozenset[RefundStatus]] = {
    R.REQUESTED: frozenset({R.PROCESSING, R.REJECTED}),
    # only the provider's notification completes a refund, once
    R.PROCESSING: frozenset({R.SUCCEEDED}),
    R.SUCCEEDED: frozenset(),
    R.REJECTED: frozenset(),
}

REFUND_STATES = StateMachine(REFUND_MOVES)
