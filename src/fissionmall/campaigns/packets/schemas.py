from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from fissionmall.campaigns.helping.schemas import Budget, HelpRules
from fissionmall.core.schemas import RowId
from fissionmall.core.splits import SplitRule


class PacketSettings(HelpRules):
    """A packet of coupons given with each paid order: M slots whose amounts are fixed when it is created. Used
    by share coupons (the buyer shares, friends claim, the luckiest slot is marked) and social discount credit
    (the buyer and friends claim credits for their next purchase)."""

    template_id: RowId
    """The coupon every slot issues (threshold, validity, scope, stacking); each slot has its own amount."""
    slots: int = Field(ge=1, le=100)
    total_fen: int = Field(ge=1, le=10_000_000)
    split: SplitRule | None = "line_segment"
    """line_segment or double_mean (random), or None for equal amounts."""
    min_fen: int = Field(default=1, ge=1, le=10_000_000)
    max_fen: int | None = Field(default=None, ge=1, le=10_000_000, validate_default=True)
    min_order_fen: int = Field(default=0, ge=0, le=100_000_000)
    """Orders paid below this get no packet."""
    duration_hours: int = Field(default=24, ge=1, le=30 * 24)
    self_help: bool = True
    """The buyer may claim a slot of their own packet."""
    sharer_reward_after: int | None = Field(default=None, ge=1, le=100)
    """The buyer earns `sharer_reward_fen` once this many friends have claimed (a friend's act, never the share)."""
    sharer_reward_fen: int = Field(default=0, ge=0, le=1_000_000)
    reward_budget: Budget | None = Field(default=None, validate_default=True)

    @field_validator("max_fen")
    @classmethod
    def _fits(cls, maximum: int | None, info: ValidationInfo) -> int | None:
        total, slots, minimum = info.data.get("total_fen"), info.data.get("slots"), info.data.get("min_fen")
        if total is None or slots is None or minimum is None:
            return maximum
        if total < slots * minimum:
            raise ValueError(f"{total} fen cannot fill {slots} slots of at least {minimum} fen")
        if maximum is not None and (maximum < minimum or slots * maximum < total):
            raise ValueError(f"{slots} slots of at most {maximum} fen cannot make {total} fen")
        return maximum

    @field_validator("reward_budget")
    @classmethod
    def _funded(cls, budget: Budget | None, info: ValidationInfo) -> Budget | None:
        if info.data.get("sharer_reward_fen") and (budget is None or not info.data.get("sharer_reward_after")):
            raise ValueError("a sharer reward needs sharer_reward_after and a reward_budget (COMPLIANCE F5)")
        return budget


class ClaimOut(BaseModel):
    seq: int
    customer_id: int
    nickname: str
    avatar_url: str
    amount_fen: int
    luckiest: bool
    created_at: datetime


class PacketOut(BaseModel):
    id: int
    campaign_id: int
    kind: str
    order_id: int
    owner_id: int
    status: str
    slots: int
    slots_left: int
    expires_at: datetime
    claims: list[ClaimOut]
    coupon_name: str
    threshold_fen: int
    rules: list[str]


class PacketRowOut(BaseModel):
    """One packet as its merchant follows it: the order it came with, and how many of its slots were claimed."""

    id: int
    owner_id: int
    nickname: str
    order_id: int
    status: str
    slots: int
    claimed: int
    friends_claimed: int
    created_at: datetime
    expires_at: datetime
    seconds_left: int


class PacketPage(BaseModel):
    items: list[PacketRowOut]
    next_cursor: str | None
