"""Payments of orders and the inbox that makes every provider notification apply once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.db.base import Base, Id, IdMixin, TenantIdMixin, same_merchant, tenant_key


class Payment(TenantIdMixin, Base):
    __tablename__ = "payments"
    __table_args__ = (
        *tenant_key(),
        same_merchant("order_id", "orders"),
        UniqueConstraint("out_trade_no", "merchant_id"),
        CheckConstraint("status IN ('pending', 'succeeded', 'closed')", name="status"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("stage IN ('full', 'deposit', 'balance')", name="stage"),
        UniqueConstraint("order_id", "stage", "merchant_id"),
    )

    merchant_id: Mapped[int] = mapped_column(Id)
    order_id: Mapped[int] = mapped_column(Id)
    stage: Mapped[str] = mapped_column(String(10), default="full")
    """An order is paid in full, or by a deposit and later a balance: one payment per stage."""
    provider: Mapped[str] = mapped_column(String(20))
    out_trade_no: Mapped[str] = mapped_column(String(32))
    amount_fen: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), default="pending")
    transaction_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]


class NotificationInbox(TenantIdMixin, Base):
    """Every provider notification once: a repeat hits the unique key and changes nothing."""

    __tablename__ = "payment_notifications"
    __table_args__ = (*tenant_key(), UniqueConstraint("provider", "event_id", "merchant_id"))

    merchant_id: Mapped[int] = mapped_column(Id)
    """The merchant of the payment or refund it names: a repeat names the same one, so the key still holds it once."""
    provider: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime]


class SandboxRefund(IdMixin, Base):
    """The sandbox provider's own memory of refunds, so it answers retries as WeChat Pay would."""

    __tablename__ = "sandbox_refunds"

    out_refund_no: Mapped[str] = mapped_column(String(40), unique=True)
    out_trade_no: Mapped[str] = mapped_column(String(32))
    amount_fen: Mapped[int]
    created_at: Mapped[datetime]


class SandboxTransfer(IdMixin, Base):
    """The sandbox provider's memory of payouts to customers, one per bill number as WeChat Pay keeps them."""

    __tablename__ = "sandbox_transfers"

    out_bill_no: Mapped[str] = mapped_column(String(32), unique=True)
    openid: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int]
    created_at: Mapped[datetime]
