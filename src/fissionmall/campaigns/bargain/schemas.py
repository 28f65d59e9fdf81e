from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from fissionmall.campaigns.helping.schemas import HelperReward, HelpOut, HelpRules
from fissionmall.core.money import percent_of
from fissionmall.core.schemas import RowId

MAX_PRICE_FEN = 100_000_000


class BargainSettings(HelpRules, HelperReward):
    """Everything a merchant sets on a bargain campaign (砍价); checked so that every plan can be honest (P1, P2)."""

    product_id: RowId
    sku_id: RowId
    start_price_fen: int = Field(ge=1, le=MAX_PRICE_FEN)
    floor_price_fen: int = Field(ge=0, le=MAX_PRICE_FEN)
    """May be 0: "free" (砍到 0 元)."""
    self_cut_percent: int = Field(default=0, ge=0, le=50)
    """The initiator's own first cut, as a share of (start − floor)."""
    helps_needed: int = Field(ge=1, le=100)
    """Exactly this many friends' cuts take the price to the floor."""
    duration_minutes: int = Field(default=24 * 60, ge=5, le=7 * 24 * 60)
    buy_at: Literal["current", "floor"] = "current"
    """Buy at the price reached so far at any time, or only once at the floor."""
    per_customer_limit: int = Field(default=1, ge=1, le=100)
    """Bargains one customer may start in this campaign."""
    new_helper_bonus_fen: int = Field(default=0, ge=0, le=MAX_PRICE_FEN)
    """A disclosed extra cut by a helper who has never bought here; never below the floor, never a change of
    the schedule (the floor may then come before the N-th friend)."""

    @field_validator("floor_price_fen")
    @classmethod
    def _below_start(cls, floor: int, info: ValidationInfo) -> int:
        start = info.data.get("start_price_fen")
        if start is not None and floor >= start:
            raise ValueError("floor_price_fen must be below start_price_fen")
        return floor

    @field_validator("helps_needed")
    @classmethod
    def _reachable(cls, needed: int, info: ValidationInfo) -> int:
        start, floor = info.data.get("start_price_fen"), info.data.get("floor_price_fen")
        if start is None or floor is None:
            return needed
        left = start - floor - percent_of(start - floor, info.data.get("self_cut_percent", 0))
        if left < needed:
            raise ValueError(f"{needed} cuts of at least 1 fen need {needed} fen between the price after the "
                             f"initiator's cut and the floor; there are {left} (P2: a bargain must be reachable)")
        return needed


class StartBargain(BaseModel):
    campaign_id: RowId


class BargainOut(BaseModel):
    """The bargain page: price, cuts so far (who, how much), helps remaining, and the proof of the schedule."""

    id: int
    campaign_id: int
    customer_id: int
    sku_id: int
    status: str
    start_price_fen: int
    floor_price_fen: int
    self_cut_fen: int
    price_fen: int
    helps_needed: int
    helps_done: int
    helps_remaining: int
    """At most this many more friends are needed (the floor may come sooner with new-helper bonuses)."""
    progress_percent: int
    """Share of the way to the floor, rounded down: never overstated."""
    can_buy: bool
    expires_at: datetime
    seconds_left: int
    cuts: list[HelpOut]
    schedule_hash: str
    schedule: list[int] | None
    """Revealed with the salt once the bargain is over."""
    salt: str | None
    rules: list[str]


class BargainCampaignOut(BaseModel):
    id: int
    name: str
    status: str
    product_id: int
    sku_id: int
    start_price_fen: int
    floor_price_fen: int
    helps_needed: int
    duration_minutes: int
    buy_at: str
    ends_at: datetime
    rules: list[str]


class BargainRowOut(BaseModel):
    """One bargain as its merchant follows it: who started it, the cuts so far and the price reached."""

    id: int
    customer_id: int
    nickname: str
    sku_id: int
    status: str
    start_price_fen: int
    floor_price_fen: int
    price_fen: int
    cut_fen: int
    """Cut so far (the initiator's own cut and every friend's)."""
    helps_done: int
    helps_needed: int
    order_id: int | None
    created_at: datetime
    expires_at: datetime
    seconds_left: int


class BargainPage(BaseModel):
    items: list[BargainRowOut]
    next_cursor: str | None
