from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from fissionmall.core.schemas import RowId

BEARER_MAX_FEN = 100_000
"""Single-purpose prepaid cards (COMPLIANCE P6): a bearer card holds at most ¥1,000 …"""
BEARER_MIN_DAYS = 3 * 365
"""… and is valid for at least three years; a named card holds at most ¥5,000."""
NAMED_MAX_FEN = 500_000


class GiftSettings(BaseModel):
    """A gift voucher for sale: what it buys, what it costs, how long it lasts (P6 limits checked here)."""

    product_id: RowId
    sku_id: RowId
    """The SKU the voucher is sold as (its stock is the vouchers' stock)."""
    price_fen: int = Field(ge=1, le=NAMED_MAX_FEN)
    value_fen: int = Field(ge=1, le=NAMED_MAX_FEN)
    """What it takes off one unit of the product when redeemed online (in a store: the product itself)."""
    named: bool = False
    """Named (记名) vouchers are tied to the holder; bearer (不记名) vouchers pass from hand to hand."""
    valid_days: int = Field(default=BEARER_MIN_DAYS, ge=1, le=10 * 365, validate_default=True)
    claim_days: int = Field(default=7, ge=1, le=30)
    """A sent voucher not claimed within this many days returns to the sender."""
    per_customer_limit: int = Field(default=10, ge=1, le=1000)

    @field_validator("valid_days")
    @classmethod
    def _prepaid_limits(cls, days: int, info: ValidationInfo) -> int:
        value, named = info.data.get("value_fen"), info.data.get("named", False)
        if value is None:
            return days
        if named and value > NAMED_MAX_FEN:
            raise ValueError("a named prepaid voucher may hold at most ¥5,000 (P6)")
        if not named and value > BEARER_MAX_FEN:
            raise ValueError("a bearer prepaid voucher may hold at most ¥1,000 (P6)")
        if not named and days < BEARER_MIN_DAYS:
            raise ValueError("a bearer prepaid voucher must be valid for at least three years (P6)")
        return days


class VoucherOut(BaseModel):
    id: int
    campaign_id: int
    name: str
    product_id: int
    value_fen: int
    status: str
    code: str | None
    """Shown to the holder only."""
    buyer_id: int
    holder_id: int
    claim_deadline: datetime | None
    valid_until: datetime
    redeemed_at: datetime | None
    redeemed_store_id: int | None


class SentOut(BaseModel):
    voucher: VoucherOut
    claim_link: str
    """One-time: the first friend to claim with it becomes the holder."""
    token: str


class GiftOut(BaseModel):
    """What a claim link offers the friend who opens it: the voucher and its sender, never its code."""

    voucher_id: int
    name: str
    product_id: int
    value_fen: int
    sender_id: int
    sender_nickname: str
    claim_deadline: datetime
    valid_until: datetime


class OfferOut(BaseModel):
    """A gift voucher on sale: what it is worth, what it costs, how long it lasts, as the shop's page shows it."""

    campaign_id: int
    name: str
    product_id: int
    sku_id: int
    price_fen: int
    value_fen: int
    named: bool
    valid_days: int
    claim_days: int
    per_customer_limit: int
    ends_at: datetime


class ClaimIn(BaseModel):
    token: str = Field(min_length=16, max_length=64)


class RedeemIn(BaseModel):
    code: str = Field(min_length=6, max_length=16, pattern=r"^[0-9]+$")
    store_id: RowId
