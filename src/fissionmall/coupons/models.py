"""Coupons: templates a merchant defines, and the coupons customers hold (claimed, or granted by a campaign)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.db.base import Base, Id, TenantIdMixin, same_merchant, tenant_key


class CouponTemplate(TenantIdMixin, Base):
    __tablename__ = "coupon_templates"
    __table_args__ = (
        *tenant_key(referenced=True),
        CheckConstraint("stock IS NULL OR issued <= stock", name="within_stock"),
        CheckConstraint("status IN ('active', 'paused', 'ended')", name="status"),
    )

    merchant_id: Mapped[int] = mapped_column(Id, ForeignKey("merchants.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(20))
    amount_fen: Mapped[int] = mapped_column(default=0)
    percent_off: Mapped[int] = mapped_column(default=0)
    cap_fen: Mapped[int | None]
    threshold_fen: Mapped[int] = mapped_column(default=0)
    scope: Mapped[str] = mapped_column(String(20), default="all")
    scope_ids: Mapped[list[Any]]
    valid_from: Mapped[datetime | None]
    valid_until: Mapped[datetime | None]
    valid_days: Mapped[int | None]
    """Valid this many days from the claim (instead of fixed dates)."""
    stock: Mapped[int | None]
    issued: Mapped[int] = mapped_column(default=0)
    per_customer_limit: Mapped[int] = mapped_column(default=1)
    stackable: Mapped[bool] = mapped_column(default=False)
    claimable: Mapped[bool] = mapped_column(default=True)
    """Customers may claim it themselves (领券中心); otherwise only campaigns grant it."""
    status: Mapped[str] = mapped_column(String(10), default="active")
    created_at: Mapped[datetime]


class Coupon(TenantIdMixin, Base):
    """A customer's coupon. Its face is copied from the template (a packet's coupon has its own amount)."""

    __tablename__ = "coupons"
    __table_args__ = (
        *tenant_key(),
        same_merchant("template_id", "coupon_templates"),
        same_merchant("customer_id", "customers"),
        CheckConstraint("status IN ('available', 'locked', 'used', 'expired')", name="status"),
        Index("ix_coupons_customer_status", "customer_id", "status"),
        Index("ix_coupons_status_until", "status", "valid_until"),
        Index("ix_coupons_order", "order_id"),
    )

    merchant_id: Mapped[int] = mapped_column(Id)
    template_id: Mapped[int] = mapped_column(Id)
    customer_id: Mapped[int] = mapped_column(Id)
    name: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(20))
    amount_fen: Mapped[int] = mapped_column(default=0)
    percent_off: Mapped[int] = mapped_column(default=0)
    cap_fen: Mapped[int | None]
    threshold_fen: Mapped[int] = mapped_column(default=0)
    stackable: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(10), default="available")
    order_id: Mapped[int | None] = mapped_column(Id)
    """The order it is locked by (unpaid) or was used on."""
    source_type: Mapped[str] = mapped_column(String(20), default="claim")
    source_id: Mapped[int | None] = mapped_column(Id)
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    claimed_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
