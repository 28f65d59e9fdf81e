from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

from fissionmall.core.schemas import RowId


class Address(BaseModel):
    name: str = Field(min_length=1, max_length=30)
    phone: str = Field(pattern=r"^\+?[0-9\-]{5,20}$")
    region: str = Field(default="", max_length=60)
    detail: str = Field(min_length=1, max_length=200)


class LineIn(BaseModel):
    sku_id: RowId
    quantity: int = Field(ge=1, le=99)


class CampaignChoice(BaseModel):
    """Buy through a campaign: e.g. {"kind": "group", "campaign_id": 3} opens a group, with "target_id" joins one."""

    kind: str = Field(min_length=1, max_length=20)
    campaign_id: RowId
    target_id: RowId | None = None


class PlaceOrder(BaseModel):
    items: list[LineIn] = Field(min_length=1, max_length=20)
    address: Address
    store_id: RowId | None = None
    note: str = Field(default="", max_length=200)
    share_code: str | None = Field(default=None, max_length=32)
    """The share link the shopper came through, for attribution."""
    campaign: CampaignChoice | None = None
    wallet_fen: int = Field(default=0, ge=0, le=100_000_000)
    """Shop credit to pay with (余额抵扣); taken when the order is placed, given back if it is not kept."""
    points: int = Field(default=0, ge=0, le=100_000_000)
    """Points to pay with, at the merchant's rate, up to its share of the order."""
    voucher_id: RowId | None = None
    """A gift voucher the shopper holds, redeemed online on one unit of its product."""
    coupon_ids: list[RowId] = Field(default_factory=list, max_length=5)
    """Coupons and social discount credits to use, applied in this order (see docs/checkout.md)."""

    @field_validator("coupon_ids")
    @classmethod
    def _once(cls, ids: list[int]) -> list[int]:
        if len(set(ids)) != len(ids):
            raise ValueError("each coupon may be chosen once")
        return ids

    @field_validator("items")
    @classmethod
    def _distinct(cls, items: list[LineIn]) -> list[LineIn]:
        if len({i.sku_id for i in items}) != len(items):
            raise ValueError("each SKU may appear once; add to its quantity instead")
        return items


class ItemOut(BaseModel):
    sku_id: int
    product_id: int
    title: str
    unit_price_fen: int
    quantity: int


class AdjustmentOut(BaseModel):
    kind: str
    name: str
    amount_fen: int


class CouponOffer(BaseModel):
    coupon_id: int
    name: str
    saving_fen: int


class CheckoutOut(BaseModel):
    """A priced cart: every adjustment explained, and the coupons that would save money on it."""

    items_fen: int
    adjustments: list[AdjustmentOut]
    total_fen: int
    best_coupon: CouponOffer | None
    coupon_offers: list[CouponOffer]
    """Each usable coupon that applies to this cart on its own, best first."""


class RefundOut(BaseModel):
    id: int
    refund_no: str
    sku_id: int | None
    """The line refunded; None for a refund of the order, spread over its lines."""
    amount_fen: int
    reason: str
    status: str
    requested_by: str
    created_at: datetime


class OrderOut(BaseModel):
    id: int
    order_no: str
    kind: str
    campaign_id: int | None
    status: str
    customer_id: int
    store_id: int | None
    items_fen: int
    total_fen: int
    deposit_fen: int | None
    """Paid first when the campaign takes a deposit; the rest (total − deposit) once it succeeds."""
    paid_fen: int
    refunded_fen: int
    items: list[ItemOut]
    adjustments: list[AdjustmentOut]
    refunds: list[RefundOut]
    address: dict[str, Any]
    note: str
    carrier: str | None
    tracking_no: str | None
    created_at: datetime
    pay_before: datetime | None
    """The deadline of what is due now: the payment, or the balance after a deposit."""
    paid_at: datetime | None
    shipped_at: datetime | None
    received_at: datetime | None
    closed_at: datetime | None


class OrderPage(BaseModel):
    items: list[OrderOut]
    next_cursor: str | None


class Ship(BaseModel):
    carrier: str = Field(min_length=1, max_length=40)
    tracking_no: str = Field(min_length=4, max_length=60, pattern=r"^[A-Za-z0-9\-]+$")


class RefundIn(BaseModel):
    sku_id: RowId | None = None
    """Refund one line of the order, the line of this SKU (an order has one line per SKU); omit for the order."""
    amount_fen: RowId | None = None
    """Omit for everything still refundable (of the line, or of the order)."""
    reason: str = Field(min_length=1, max_length=200)


class PriceAdjustmentIn(BaseModel):
    """A merchant's price change on an unpaid order (改价): negative is a discount."""

    amount_fen: int = Field(ge=-100_000_000, le=100_000_000)
    name: str = Field(min_length=1, max_length=100)

    @field_validator("amount_fen")
    @classmethod
    def _not_zero(cls, amount: int) -> int:
        if amount == 0:
            raise ValueError("an adjustment of 0 changes nothing")
        return amount
