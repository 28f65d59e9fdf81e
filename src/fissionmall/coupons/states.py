"""Coupon and coupon template states (DOMAIN.md § Coupons)."""

from __future__ import annotations

from enum import StrEnum

from fissionmall.core.states import StateMachine


class CouponStatus(StrEnum):
    AVAILABLE = "available"
    LOCKED = "locked"
    """Held by an unpaid order."""
    USED = "used"
    EXPIRED = "expired"


class TemplateStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


C = CouponStatus
T = TemplateStatus

COUPON_TRANSITIONS: dict[CouponStatus, frozenset[CouponStatus]] = {
    C.AVAILABLE: frozenset({C.LOCKED, C.EXPIRED}),
    # the order is paid, or not kept
    C.LOCKED: frozenset({C.USED, C.AVAILABLE}),
    # an order refunded in full gives its coupon back
    C.USED: frozenset({C.AVAILABLE}),
    C.EXPIRED: frozenset(),
}

TEMPLATE_TRANSITIONS: dict[TemplateStatus, frozenset[TemplateStatus]] = {
    T.ACTIVE: frozenset({T.PAUSED, T.ENDED}),
    T.PAUSED: frozenset({T.ACTIVE, T.ENDED}),
    T.ENDED: frozenset(),
}

COUPON_STATES = StateMachine(COUPON_TRANSITIONS)
TEMPLATE_STATES = StateMachine(TEMPLATE_TRANSITIONS)
