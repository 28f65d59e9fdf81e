"""Bargain states: ongoing → reached_floor → purchased, or → expired (DOMAIN.md § Bargaining)."""

from __future__ import annotations

from enum import StrEnum

from fissionmall.core.states import StateMachine


class BargainStatus(StrEnum):
    ONGOING = "ongoing"
    REACHED_FLOOR = "reached_floor"
    PURCHASED = "purchased"
    EXPIRED = "expired"


S = BargainStatus

TRANSITIONS: dict[BargainStatus, frozenset[BargainStatus]] = {
    # buy-at-current-price campaigns sell a bargain before it reaches its floor
    S.ONGOING: frozenset({S.REACHED_FLOOR, S.PURCHASED, S.EXPIRED}),
    S.REACHED_FLOOR: frozenset({S.PURCHASED, S.EXPIRED}),
    S.PURCHASED: frozenset(),
    S.EXPIRED: frozenset(),
}

BARGAIN_STATES = StateMachine(TRANSITIONS)

OPEN = BARGAIN_STATES.sources(S.PURCHASED)
"""A bargain that can still be bought (and so can still expire)."""
