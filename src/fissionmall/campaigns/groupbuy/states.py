"""Buying group states: a group is open until it fills (succeeded) or its time runs out (failed, or succeeded when
the campaign auto-completes it). DOMAIN.md § Group buying."""

from __future__ import annotations

from enum import StrEnum

from fissionmall.core.states import StateMachine


class GroupStatus(StrEnum):
    OPEN = "open"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


S = GroupStatus

TRANSITIONS: dict[GroupStatus, frozenset[GroupStatus]] = {
    S.OPEN: frozenset({S.SUCCEEDED, S.FAILED}),
    S.SUCCEEDED: frozenset(),
    S.FAILED: frozenset(),
}

GROUP_STATES = StateMachine(TRANSITIONS)
