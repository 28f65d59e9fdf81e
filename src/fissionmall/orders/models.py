"""Orders, their items, the adjustments that explain their price, and refunds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.db.base import Base, Id, TenantIdMixin, same_merchant, tenant_key

LINE_TITLE_LENGTH = 220
"""An order line keeps "product title · SKU name", cut to this length (the two may be longer together)."""


class Order(TenantIdMixin, Base):
    __tablename__ = "orders"
    __table_args__ = (
        *tenant_key(referenced=True),
        same_merchant("store_id", "stores"),
        same_merchant("customer_id", "customers"),
        UniqueConstraint("order_no", "merchant_id"),
        CheckConstraint("total_fen >= 0", name="total_not_negative"),
        CheckConstraint("deposit_fen IS NULL OR (deposit_fen > 0 AND deposit_fen < total_fen)", name="deposit_part"),
        CheckConstraint("refunded_fen <= paid_fen AND refund_reserved_fen <= paid_fen", name="refund_cap"),
        CheckConstraint("refunded_fen >= 0 AND refund_reserved_fen >= refunded_fen", name="refund_order"),
        Index("ix_orders_status_due", "status", "due_at"),
        Index("ix_orders_merchant_customer", "merchant_id", "customer_id", "id"),
        Index("ix_orders_merchant_paid", "merchant_id", "paid_at"),
        Index("ix_orders_merchant_id", "merchant_id", "id"),
        Index("ix_orders_merchant_status", "merchant_id", "status", "id"),
        Index("ix_orders_merchant_created", "merchant_id", "created_at"),
    )

    merchant_id: Mapped[int] = mapped_column(Id, ForeignKey("merchants.id"))
    store_id: Mapped[int | None] = mapped_column(Id)
    customer_id: Mapped[int] = mapped_column(Id)
    order_no: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(20), default="normal")
    """normal orders ship once paid; campaign orders (e.g. a group) wait for their campaign."""
    campaign_id: Mapped[int | None] = mapped_column(Id, index=True)
    status: Mapped[str] = mapped_column(String(20))
    resume_status: Mapped[str | None] = mapped_column(String(20))
    """The status a partial refund returns the order to."""
    items_fen: Mapped[int]
    total_fen: Mapped[int]
    """What the customer pays: items_fen plus the sum of the adjustments."""
    deposit_fen: Mapped[int | None]
    """Set when the campaign takes a deposit first: the balance (total − deposit) is due once it succeeds."""
    paid_fen: Mapped[int] = mapped_column(default=0)
    refund_reserved_fen: Mapped[int] = mapped_column(default=0)
    """Refunds requested or in flight plus those done; guarded so it never passes paid_fen."""
    refunded_fen: Mapped[int] = mapped_column(default=0)
    address: Mapped[dict[str, Any]]
    note: Mapped[str] = mapped_column(String(200), default="")
    inviter_id: Mapped[int | None] = mapped_column(Id)
    share_id: Mapped[int | None] = mapped_column(Id)
    carrier: Mapped[str | None] = mapped_column(String(40))
    tracking_no: Mapped[str | None] = mapped_column(String(60))
    due_at: Mapped[datetime | None]
    """When the worker acts next: payment deadline, auto-receive, or end of the after-sale window."""
    created_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]
    shipped_at: Mapped[datetime | None]
    received_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    payment_started_at: Mapped[datetime | None]
    """Set when the shopper first asks to pay: from then on the price is fixed."""


class OrderItem(TenantIdMixin, Base):
    """A snapshot of what was bought, at the price of the moment."""

    __tablename__ = "order_items"
    __table_args__ = (*tenant_key(), same_merchant("order_id", "orders"), same_merchant("sku_id", "skus"),
                      CheckConstraint("quantity > 0", name="quantity_positive"))

    merchant_id: Mapped[int] = mapped_column(Id)
    order_id: Mapped[int] = mapped_column(Id, index=True)
    product_id: Mapped[int] = mapped_column(Id)
    sku_id: Mapped[int] = mapped_column(Id)
    title: Mapped[str] = mapped_column(String(LINE_TITLE_LENGTH))
    unit_price_fen: Mapped[int]
    quantity: Mapped[int]


class OrderAdjustment(TenantIdMixin, Base):
    """One line of the price explanation: a discount (negative) or a charge (positive)."""

    __tablename__ = "order_adjustments"
    __table_args__ = (*tenant_key(), same_merchant("order_id", "orders"))

    merchant_id: Mapped[int] = mapped_column(Id)
    order_id: Mapped[int] = mapped_column(Id, index=True)
    kind: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(100))
    amount_fen: Mapped[int]
    source_id: Mapped[int | None] = mapped_column(Id)
    created_by: Mapped[int | None] = mapped_column(Id)
    line_shares: Mapped[list[Any] | None]
    """Its part on each of the order's lines, in line order, as priced (orders.rules.line_cash reads them); None for a
    later change, split the same way when read."""


class Refund(TenantIdMixin, Base):
    __tablename__ = "refunds"
    __table_args__ = (
        *tenant_key(),
        same_merchant("order_id", "orders"),
        same_merchant("sku_id", "skus"),
        UniqueConstraint("refund_no", "merchant_id"),
        UniqueConstraint("order_id", "seq", "merchant_id"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("status IN ('requested', 'processing', 'succeeded', 'rejected')", name="status"),
        Index("ix_refunds_merchant_succeeded", "merchant_id", "succeeded_at"),
    )

    merchant_id: Mapped[int] = mapped_column(Id)
    order_id: Mapped[int] = mapped_column(Id, index=True)
    seq: Mapped[int]
    refund_no: Mapped[str] = mapped_column(String(40))
    """Deterministic (order number + sequence), reused on every retry so a refund happens once."""
    out_trade_no: Mapped[str] = mapped_column(String(32))
    """The payment the money goes back through: an order paid in two parts is refunded per part."""
    amount_fen: Mapped[int]
    sku_id: Mapped[int | None] = mapped_column(Id)
    """The order line refunded (an order has one line per SKU); None for a refund of the order."""
    line_shares: Mapped[list[Any] | None]
    """Its part of each of the order's lines, in line order: all on its line, or a refund of the order spread by
    what each line had left; None for a refund made before parts were kept, split the same way when read."""
    reason: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    requested_by: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    succeeded_at: Mapped[datetime | None]
