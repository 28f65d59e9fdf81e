from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from fissionmall.core.schemas import RowId
from fissionmall.fraud.schemas import VelocityLimits


class HelpRules(BaseModel):
    """What every help-driven mechanic lets the merchant set about helpers (COMPLIANCE F1–F4)."""

    helps_per_helper_per_day: int = Field(default=3, ge=1, le=50)
    """How many records of this campaign one customer may help per day."""
    new_helpers_only: bool = False
    """Only customers who have never paid may help (F2)."""
    self_help: bool = False
    """Whether initiators may help their own record; off unless the campaign says so openly (F1)."""
    velocity: VelocityLimits = Field(default_factory=VelocityLimits)
    high_risk: Literal["minimum", "nothing"] = "nothing"
    """What a high-risk customer (risk rank ≥ 3) gets where a prize or reward of cash value is due (F4)."""


class HelpOut(BaseModel):
    seq: int
    helper_id: int
    nickname: str
    avatar_url: str
    amount_fen: int
    new_helper: bool
    created_at: datetime


class Budget(BaseModel):
    """What a campaign may grant in credit, in all and per day (COMPLIANCE F5)."""

    total_fen: int = Field(ge=1, le=1_000_000_000)
    daily_fen: int | None = Field(default=None, ge=1, le=1_000_000_000)


class Gift(BaseModel):
    """A prize or reward other than shop credit: a coupon of one of the merchant's templates (issued through the
    coupons service, against the template's own stock), or one unit of a SKU given free (a goods prize, ordered at
    no price through checkout). `stock` is how many this campaign gives of it (F5: funded, never over)."""

    kind: Literal["coupon", "goods"]
    coupon_template_id: RowId | None = None
    product_id: RowId | None = None
    sku_id: RowId | None = None
    stock: int = Field(ge=1, le=1_000_000)

    @model_validator(mode="after")
    def _named(self) -> Gift:
        if self.kind == "coupon" and (self.coupon_template_id is None or self.product_id or self.sku_id):
            raise ValueError("a coupon gift names its coupon_template_id, and no product")
        if self.kind == "goods" and (self.product_id is None or self.sku_id is None or self.coupon_template_id):
            raise ValueError("a goods gift names its product_id and sku_id, and no coupon")
        return self


class GiftOut(BaseModel):
    """What one gift was: a coupon (ref: the coupon's id) or goods (ref: the goods prize's id), and its name."""

    kind: str
    ref: int
    name: str


class HelperReward(BaseModel):
    """What each helper earns (bargains, assist packets), after the risk check (high-risk helpers get nothing):
    shop credit paid from its own budget, and/or a gift (a coupon or goods) from its own stock (F5)."""

    helper_reward_fen: int = Field(default=0, ge=0, le=1_000_000)
    reward_budget: Budget | None = Field(default=None, validate_default=True)
    helper_gift: Gift | None = None
    """A coupon or goods each helper is given while its stock lasts."""

    @field_validator("reward_budget")
    @classmethod
    def _funded(cls, budget: Budget | None, info: ValidationInfo) -> Budget | None:
        if info.data.get("helper_reward_fen") and budget is None:
            raise ValueError("a helper reward needs a reward_budget (COMPLIANCE F5)")
        return budget


class GoodsPrizeOut(BaseModel):
    """A SKU a customer won or was given: ordered once, at no price, through checkout (campaign kind "prize")."""

    id: int
    campaign_id: int
    product_id: int
    sku_id: int
    title: str
    status: str
    """unclaimed (order it), ordered (an unpaid or paid order holds it), or redeemed (paid, shipping)."""
    order_id: int | None
    source_type: str
    created_at: datetime
