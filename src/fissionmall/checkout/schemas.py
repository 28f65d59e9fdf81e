"""What a shopper sends to place or preview an order, and what a preview answers."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from fissionmall.core.schemas import RowId
from fissionmall.orders.schemas import Address, AdjustmentOut, CampaignChoice


class LineIn(BaseModel):
    sku_id: RowId
    quantity: int = Field(ge=1, le=99)


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


class CouponOffer(BaseModel):
    coupon_id: int
    name: str
    saving_fen: int


class PaymentChoiceOut(BaseModel):
    """A way to pay the campaign lets the shopper choose (campaign.payment), in the shopper's words."""

    payment: str
    title: str
    detail: str
    """What is paid now, what later, and what happens to the money if the group fails or the balance is not paid."""
    chosen: bool


class CheckoutOut(BaseModel):
    """A priced cart: every adjustment explained, and the coupons that would save money on it."""

    items_fen: int
    adjustments: list[AdjustmentOut]
    total_fen: int
    deposit_fen: int | None
    """Paid now when the campaign takes a deposit (the rest once it succeeds); such an order takes no benefits."""
    best_coupon: CouponOffer | None
    coupon_offers: list[CouponOffer]
    """Each usable coupon that applies to this cart on its own, best first."""
    payment_choices: list[PaymentChoiceOut] = []
    """Where the campaign lets the shopper choose how to pay (a deposit or in full): each way, the one priced here
    marked chosen; empty when there is one way."""
