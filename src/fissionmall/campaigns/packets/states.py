"""Coupon packet states: open until its last slot is claimed (finished) or its time runs out (DOMAIN.md § Share
coupons)."""

from __future__ import annotations

from enum import StrEnum

from fissionmall.core.states import StateMachine


class PacketStatus(StrEnum):
    OPEN = "open"
    FINISHED = "finished"
    EXPIRED = "expired"


S = PacketStatus

TRANSITIONS: dict[PacketStatus, frozenset[PacketStatus]] = {
    S.OPEN: frozenset({S.FINISHED, S.EXPIRED}),
    S.FINISHED: frozenset(),
    S.EXPIRED: frozenset(),
}

PACKET_STATES = StateMachine(TRANSITIONS)
