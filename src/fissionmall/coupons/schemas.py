from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from fissionmall.core.schemas import RowId

MAX_FEN = 100_000_000


class TemplateIn(BaseModel):
    """A coupon a merchant defines; every field checked (admin input is untrusted too)."""

    name: str = Field(min_length=1, max_length=60)
    kind: Literal["amount", "percent", "free_shipping"]
    amount_fen: int = Field(default=0, ge=0, le=MAX_FEN)
    percent_off: int = Field(default=0, ge=0, le=99)
    cap_fen: int | None = Field(default=None, ge=1, le=MAX_FEN)
    threshold_fen: int = Field(default=0, ge=0, le=MAX_FEN)
    scope: Literal["all", "categories", "products"] = "all"
    scope_ids: list[RowId] = Field(default_factory=list, max_length=200)
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    valid_days: int | None = Field(default=None, ge=1, le=3650)
    stock: int | None = Field(default=None, ge=1, le=100_000_000)
    per_customer_limit: int = Field(default=1, ge=1, le=1000)
    stackable: bool = False
    claimable: bool = True

    @field_validator("scope_ids")
    @classmethod
    def _scoped(cls, ids: list[int], info: ValidationInfo) -> list[int]:
        if (info.data.get("scope", "all") == "all") != (not ids):
            raise ValueError("scope_ids names the categories or products of a scoped coupon, and only then")
        return ids

    @model_validator(mode="after")
    def _face(self) -> TemplateIn:
        if self.kind == "amount" and self.amount_fen < 1:
            raise ValueError("an amount coupon needs amount_fen ≥ 1")
        if self.kind == "amount" and self.threshold_fen and self.amount_fen > self.threshold_fen:
            raise ValueError("an amount coupon may not be worth more than its threshold")
        if self.kind == "percent" and not 1 <= self.percent_off <= 99:
            raise ValueError("a percent coupon needs percent_off between 1 and 99")
        if (self.valid_days is None) == (self.valid_until is None):
            raise ValueError("give either valid_until (fixed dates) or valid_days (days from the claim)")
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self


class TemplateOut(TemplateIn):
    id: int
    issued: int
    status: str


class TemplatePatch(BaseModel):
    status: Literal["active", "paused", "ended"] | None = None
    stock: int | None = Field(default=None, ge=1, le=100_000_000)


class CouponOut(BaseModel):
    id: int
    template_id: int
    name: str
    kind: str
    amount_fen: int
    percent_off: int
    cap_fen: int | None
    threshold_fen: int
    stackable: bool
    status: str
    """available, locked (by an unpaid order), used, or expired."""
    order_id: int | None
    source_type: str
    valid_from: datetime
    valid_until: datetime
    claimed_at: datetime
