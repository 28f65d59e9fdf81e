"""Distributor, commission and withdrawal states (DOMAIN.md § Distribution)."""

from __future__ import annotations

from enum import StrEnum

from fissionmall.core.states import StateMachine


class DistributorStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class CommissionStatus(StrEnum):
    FROZEN = "frozen"
    """Earned, inside the after-sale window: not yet withdrawable."""
    SETTLED = "settled"


class WithdrawalStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    PAID = "paid"
    REJECTED = "rejected"


D = DistributorStatus
C = CommissionStatus
W = WithdrawalStatus

DISTRIBUTOR_STATES = StateMachine({
    D.PENDING: frozenset({D.APPROVED, D.REJECTED}),
    D.APPROVED: frozenset(),
    D.REJECTED: frozenset(),
})

# a refund reverses a commission by a negative entry in the ledger, never by a move of the entry it reverses
COMMISSION_STATES = StateMachine({
    C.FROZEN: frozenset({C.SETTLED}),
    C.SETTLED: frozenset(),
})

# an approved withdrawal the payout provider refuses is rejected, and its amount is withdrawable again
WITHDRAWAL_STATES = StateMachine({
    W.REQUESTED: frozenset({W.APPROVED, W.REJECTED}),
    W.APPROVED: frozenset({W.PAID, W.REJECTED}),
    W.PAID: frozenset(),
    W.REJECTED: frozenset(),
})
