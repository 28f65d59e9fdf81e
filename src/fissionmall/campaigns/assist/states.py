"""Assist packet states: open until the last helper opens it, or its time runs out (DOMAIN.md § Assist red
packet)."""

from __future__ import annotations

from enum import StrEnum

from fissionmall.core.states import StateMachine


class AssistStatus(StrEnum):
    OPEN = "open"
    OPENED = "opened"
    EXPIRED = "expired"


S = AssistStatus

TRANSITIONS: dict[AssistStatus, frozenset[AssistStatus]] = {
    S.OPEN: frozenset({S.OPENED, S.EXPIRED}),
    S.OPENED: frozenset(),
    S.EXPIRED: frozenset(),
}

ASSIST_STATES = StateMachine(TRANSITIONS)
