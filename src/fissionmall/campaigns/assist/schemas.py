from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from fissionmall.campaigns.helping.schemas import HelperReward, HelpOut, HelpRules
from fissionmall.campaigns.schemas import TOP_PRIZE_CAP_FEN
from fissionmall.core.schemas import RowId
from fissionmall.core.splits import SplitRule


class AssistSettings(HelpRules, HelperReward):
    """An assist red packet campaign (助力拆红包): K helpers open a packet; prizes come from a pool split in
    advance; every number here is published before launch (P3)."""

    helpers_needed: int = Field(default=4, ge=1, le=20)
    pool_fen: int = Field(ge=1, le=1_000_000_000)
    """The whole prize pool, paid as shop credit; never overspent."""
    winners: int = Field(ge=1, le=100_000)
    """How many prizes the pool is split into."""
    split: SplitRule | None = "line_segment"
    """How the pool is split: line_segment or double_mean (random, at least min_prize_fen each), or None for
    equal prizes."""
    min_prize_fen: int = Field(default=1, ge=1, le=TOP_PRIZE_CAP_FEN)
    win_percent: int = Field(default=100, ge=1, le=100)
    """The chance an opened packet wins, while prizes last."""
    duration_minutes: int = Field(default=24 * 60, ge=5, le=7 * 24 * 60)
    per_customer_limit: int = Field(default=3, ge=1, le=100)
    """Packets one customer may open in the campaign."""

    @field_validator("min_prize_fen")
    @classmethod
    def _pool_covers(cls, minimum: int, info: ValidationInfo) -> int:
        pool, winners = info.data.get("pool_fen"), info.data.get("winners")
        if pool is not None and winners is not None and pool < winners * minimum:
            raise ValueError(f"a pool of {pool} fen cannot give {winners} prizes of at least {minimum} fen")
        return minimum


class OpenPacket(BaseModel):
    campaign_id: RowId


class PacketOut(BaseModel):
    id: int
    campaign_id: int
    customer_id: int
    status: str
    helpers_needed: int
    helps_done: int
    helps_remaining: int
    outcome: str | None
    prize_fen: int
    expires_at: datetime
    seconds_left: int
    helpers: list[HelpOut]
    rules: list[str]


class AssistCampaignOut(BaseModel):
    """What P3 asks a prize campaign to publish before launch."""

    id: int
    name: str
    status: str
    organiser: str
    helpers_needed: int
    pool_fen: int
    winners: int
    split: str | None
    min_prize_fen: int
    max_prize_fen: int
    win_percent: int
    prizes_left: int
    ends_at: datetime
    rules: list[str]


class AssistRowOut(BaseModel):
    """One assist packet as its merchant follows it: helps so far, and what it gave once opened."""

    id: int
    customer_id: int
    nickname: str
    status: str
    helps_done: int
    helpers_needed: int
    outcome: str | None
    prize_fen: int
    created_at: datetime
    expires_at: datetime
    seconds_left: int


class AssistPage(BaseModel):
    items: list[AssistRowOut]
    next_cursor: str | None
