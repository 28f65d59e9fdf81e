"""Gift voucher states (DOMAIN.md § Gift vouchers): held (active), on its way to a friend (sent), held by an unpaid
order (locked), redeemed; unredeemed past its validity it expires and is refunded to the buyer."""

from __future__ import annotations

from enum import StrEnum

from fissionmall.core.states import StateMachine


class VoucherStatus(StrEnum):
    ACTIVE = "active"
    SENT = "sent"
    LOCKED = "locked"
    REDEEMED = "redeemed"
    EXPIRED = "expired"
    REFUNDED = "refunded"


S = VoucherStatus

TRANSITIONS: dict[VoucherStatus, frozenset[VoucherStatus]] = {
    S.ACTIVE: frozenset({S.SENT, S.LOCKED, S.REDEEMED, S.EXPIRED}),
    # claimed by the friend, or back to the sender at the claim deadline
    S.SENT: frozenset({S.ACTIVE, S.EXPIRED}),
    # the order is paid, or not kept
    S.LOCKED: frozenset({S.REDEEMED, S.ACTIVE}),
    # an order that redeemed it online and is not kept gives it back to its holder
    S.REDEEMED: frozenset({S.ACTIVE}),
    S.EXPIRED: frozenset({S.REFUNDED}),
    S.REFUNDED: frozenset(),
}

VOUCHER_STATES = StateMachine(TRANSITIONS)

USABLE = VOUCHER_STATES.sources(S.EXPIRED)
"""A voucher its holder still has in hand: it can be shown, and it expires at the end of its validity."""
