from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from fissionmall.core.schemas import RowId
from fissionmall.customers.schemas import Address as Address  # where an order is shipped: the address book's shape


class CampaignChoice(BaseModel):
    """Buy through a campaign: e.g. {"kind": "group", "campaign_id": 3} opens a group, with "target_id" joins one."""

    kind: str = Field(min_length=1, max_length=20)
    campaign_id: RowId
    target_id: RowId | None = None
    payment: Literal["deposit", "full"] | None = None
    """Where the campaign lets the shopper choose (a group buy taking a deposit or full payment): a deposit now and
    the balance once it succeeds, or everything at once. Left out: the campaign's own way (a deposit, where it takes
    one). A way the campaign does not offer is refused (payment_not_offered)."""


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
