"""Campaign states and the moves between them: draft → active ⇄ paused → ended (DOMAIN.md, ARCHITECTURE.md)."""

from __future__ import annotations

from enum import StrEnum

from fissionmall.core.states import StateMachine


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


S = CampaignStatus

TRANSITIONS: dict[CampaignStatus, frozenset[CampaignStatus]] = {
    S.DRAFT: frozenset({S.ACTIVE, S.ENDED}),
    S.ACTIVE: frozenset({S.PAUSED, S.ENDED}),
    S.PAUSED: frozenset({S.ACTIVE, S.ENDED}),
    S.ENDED: frozenset(),
}

CAMPAIGN_STATES = StateMachine(TRANSITIONS)

EDITABLE = frozenset({S.DRAFT, S.PAUSED})
"""A campaign's settings change only while no shopper can act on it: before it goes live, or paused."""
