"""Dividend run states: a month's pool is computed, then credited to the members once."""

from __future__ import annotations

from enum import StrEnum

from fissionmall.core.states import StateMachine


class RunStatus(StrEnum):
    COMPUTED = "computed"
    CREDITED = "credited"


S = RunStatus

TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    S.COMPUTED: frozenset({S.CREDITED}),
    S.CREDITED: frozenset(),
}

RUN_STATES = StateMachine(TRANSITIONS)
