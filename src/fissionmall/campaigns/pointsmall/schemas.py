from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from fissionmall.core.schemas import RowId
from fissionmall.coupons.schemas import CouponOut
from fissionmall.orders.schemas import Address, OrderOut


class PointsMallSettings(BaseModel):
    """An item of the points mall (积分商城): goods (one SKU, delivered as an order) or a coupon, for points and
    optionally some cash. The campaign's stock cap is the item's stock."""

    reward: Literal["goods", "coupon"]
    points: int = Field(ge=1, le=10_000_000)
    cash_fen: int = Field(default=0, ge=0, le=10_000_000)
    """Paid with the points (积分 + 现金); goods only."""
    product_id: RowId | None = None
    sku_id: RowId | None = None
    coupon_template_id: RowId | None = None
    per_customer_limit: int = Field(default=1, ge=1, le=100)

    @model_validator(mode="after")
    def _one_reward(self) -> PointsMallSettings:
        if self.reward == "goods" and (self.product_id is None or self.sku_id is None):
            raise ValueError("goods name their product_id and sku_id")
        if self.reward == "coupon" and (self.coupon_template_id is None or self.cash_fen):
            raise ValueError("a coupon names its coupon_template_id and costs points only")
        return self


class RedeemIn(BaseModel):
    address: Address | None = None
    """Where goods go (required for goods)."""


class RedeemOut(BaseModel):
    order: OrderOut | None = None
    """Goods: the order, to pay (cash and shipping, if any) like any other; points are already taken."""
    coupon: CouponOut | None = None


class MallItemOut(BaseModel):
    campaign_id: int
    name: str
    reward: str
    points: int
    cash_fen: int
    product_id: int | None
    stock_left: int | None
    per_customer_limit: int
