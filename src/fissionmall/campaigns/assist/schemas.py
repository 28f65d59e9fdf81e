from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from fissionmall.campaigns.helping.schemas import Gift, GiftOut, HelperReward, HelpOut, HelpRules
from fissionmall.campaigns.schemas import TOP_PRIZE_CAP_FEN
from fissionmall.core.schemas import RowId
from fissionmall.core.splits import SplitRule


class PrizeRung(BaseModel):
    """One rung of a growing ladder (越拆越多): the prize of a customer's n-th opened packet in the campaign. Credit is
    drawn evenly between min_fen and max_fen (equal: a fixed amount) and paid from the pool; a coupon or goods is
    given from its own stock."""

    kind: Literal["credit", "coupon", "goods"] = "credit"
    min_fen: int = Field(default=0, ge=0, le=TOP_PRIZE_CAP_FEN)
    max_fen: int = Field(default=0, ge=0, le=1_000_000_000)
    coupon_template_id: RowId | None = None
    product_id: RowId | None = None
    sku_id: RowId | None = None
    stock: int | None = Field(default=None, ge=1, le=1_000_000)
    """Coupon or goods: how many of this rung's prize the campaign gives in all."""

    @model_validator(mode="after")
    def _one_prize(self) -> PrizeRung:
        if self.kind == "credit":
            if not 1 <= self.min_fen <= self.max_fen:
                raise ValueError("a credit rung needs 1 ≤ min_fen ≤ max_fen")
            if self.coupon_template_id or self.product_id or self.sku_id or self.stock:
                raise ValueError("a credit rung names no coupon, product or stock")
            return self
        if self.min_fen or self.max_fen:
            raise ValueError("a coupon or goods rung has no amount (min_fen and max_fen stay 0)")
        if self.stock is None:
            raise ValueError("a coupon or goods rung needs its stock: how many the campaign gives (COMPLIANCE F5)")
        self.gift()  # names its coupon, or its product and SKU
        return self

    def gift(self) -> Gift:
        assert self.stock is not None
        return Gift(kind="goods" if self.kind == "goods" else "coupon", coupon_template_id=self.coupon_template_id,
                    product_id=self.product_id, sku_id=self.sku_id, stock=self.stock)


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
    ladder: list[PrizeRung] | None = Field(default=None, min_length=1, max_length=10)
    """越拆越多: rung n is the prize of a customer's n-th opened packet (the last rung for every later one). Set, it
    replaces the split: credit is drawn per rung and paid from pool_fen, at most `winners` prizes in all."""

    @field_validator("min_prize_fen")
    @classmethod
    def _pool_covers(cls, minimum: int, info: ValidationInfo) -> int:
        pool, winners = info.data.get("pool_fen"), info.data.get("winners")
        if pool is not None and winners is not None and pool < winners * minimum:
            raise ValueError(f"a pool of {pool} fen cannot give {winners} prizes of at least {minimum} fen")
        return minimum

    @field_validator("ladder")
    @classmethod
    def _pool_pays_each_rung(cls, ladder: list[PrizeRung] | None, info: ValidationInfo) -> list[PrizeRung] | None:
        pool = info.data.get("pool_fen")
        short = [n for n, rung in enumerate(ladder or [], start=1) if rung.kind == "credit" and pool is not None
                 and rung.min_fen > pool]
        if short:
            raise ValueError(f"a pool of {pool} fen cannot pay the minimum of rung {short[0]}")
        return ladder


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
    rank: int | None
    """越拆越多: which of its owner's opened packets in the campaign this one is (1 for the first)."""
    gift: GiftOut | None
    """The prize when it is a coupon or goods."""
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
    pool_left_fen: int
    """What the pool can still pay in credit."""
    ladder: list[PrizeRung] | None
    ladder_prizes: list[str]
    """Each rung's prize in words (the coupon's or goods' name)."""
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
