"""Coupon packets given with a paid order: share coupons (分享券) and social discount credit (社交立减金)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.db.base import Base, Id, TenantIdMixin, same_merchant, tenant_key


class CouponPacket(TenantIdMixin, Base):
    __tablename__ = "coupon_packets"
    __table_args__ = (
        *tenant_key(),
        same_merchant("campaign_id", "campaigns"),
        same_merchant("order_id", "orders"),
        same_merchant("owner_id", "customers"),
        UniqueConstraint("campaign_id", "order_id", "merchant_id"),
        CheckConstraint("status IN ('open', 'finished', 'expired')", name="status"),
        CheckConstraint("friends_claimed >= 0", name="friends_not_negative"),
        Index("ix_coupon_packets_status_expires", "status", "expires_at"),
        Index("ix_coupon_packets_owner", "owner_id"),
        Index("ix_coupon_packets_campaign_status_id", "campaign_id", "status", "id"),
    )

    merchant_id: Mapped[int] = mapped_column(Id)
    campaign_id: Mapped[int] = mapped_column(Id)
    kind: Mapped[str] = mapped_column(String(20))
    order_id: Mapped[int] = mapped_column(Id)
    owner_id: Mapped[int] = mapped_column(Id)
    slots: Mapped[int]
    friends_claimed: Mapped[int] = mapped_column(default=0)
    """Claims by others than the owner: what the sharer's reward counts."""
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
