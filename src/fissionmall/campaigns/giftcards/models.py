"""Gift vouchers (礼券): bought with money, sent to a friend by a one-time link, redeemed once, online or in a
store."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.db.base import Base, Id, TenantIdMixin, same_merchant, tenant_key


class Voucher(TenantIdMixin, Base):
    __tablename__ = "vouchers"
    __table_args__ = (
        *tenant_key(),
        same_merchant("campaign_id", "campaigns"),
        same_merchant("order_id", "orders"),
        same_merchant("buyer_id", "customers"),
        same_merchant("holder_id", "customers"),
        UniqueConstraint("code", "merchant_id"),
        CheckConstraint("status IN ('active', 'sent', 'locked', 'redeemed', 'expired', 'refunded')", name="status"),
        Index("ix_vouchers_holder", "holder_id", "status"),
        Index("ix_vouchers_status_claim", "status", "claim_deadline"),
        Index("ix_vouchers_status_until", "status", "valid_until"),
        Index("ix_vouchers_order", "order_id"),
        Index("ix_vouchers_redeemed_order", "redeemed_order_id"),
        Index("ix_vouchers_merchant_redeemed", "merchant_id", "redeemed_at"),
    )

    merchant_id: Mapped[int] = mapped_column(Id)
    campaign_id: Mapped[int] = mapped_column(Id)
    order_id: Mapped[int] = mapped_column(Id)
    """The order that bought it (and is refunded for it if it expires unused)."""
    buyer_id: Mapped[int] = mapped_column(Id)
    holder_id: Mapped[int] = mapped_column(Id)
    name: Mapped[str] = mapped_column(String(100))
    product_id: Mapped[int] = mapped_column(Id)
    value_fen: Mapped[int]
    price_fen: Mapped[int]
    code: Mapped[str] = mapped_column(String(16))
    """The verification code staff scan or type in a store."""
    status: Mapped[str] = mapped_column(String(10), default="active")
    claim_token_hash: Mapped[str | None] = mapped_column(String(64))
    claim_deadline: Mapped[datetime | None]
    redeemed_order_id: Mapped[int | None] = mapped_column(Id)
    redeemed_store_id: Mapped[int | None] = mapped_column(Id)
    redeemed_by_staff: Mapped[int | None] = mapped_column(Id)
    redeemed_at: Mapped[datetime | None]
    valid_until: Mapped[datetime]
    created_at: Mapped[datetime]
