"""Payment states: a payment is pending until the provider's notification of success; an unpaid one may be closed.
The order's money status is derived from its payments, never set (STYLE.md)."""

from __future__ import annotations

from enum import StrEnum

from fissionmall.core.states import StateMachine


class PaymentStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    CLOSED = "closed"


S = PaymentStatus

TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    S.PENDING: frozenset({S.SUCCEEDED, S.CLOSED}),
    S.SUCCEEDED: frozenset(),
    S.CLOSED: frozenset(),
}

PAYMENT_STATES = StateMachine(TRANSITIONS)
