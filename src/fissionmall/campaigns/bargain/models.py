"""A customer's bargain (砍价) on one SKU: its cut schedule is fixed when it starts, and friends take the cuts
in order, one each."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.db.base import Base, Id, JsonDoc, TenantIdMixin, same_merchant, tenant_key


class Bargain(TenantIdMixin, Base):
    __tablename__ = "bargains"
    __table_args__ = (
        *tenant_key(),
        same_merchant("campaign_id", "campaigns"),
        same_merchant("customer_id", "customers"),
        same_merchant("sku_id", "skus"),
        CheckConstraint("status IN ('ongoing', 'reached_floor', 'purchased', 'expired')", name="status"),
        CheckConstraint("price_fen >= floor_price_fen AND price_fen <= start_price_fen", name="price_in_range"),
        CheckConstraint("helps_done >= 0 AND helps_done <= helps_needed", name="helps_in_range"),
        Index("ix_bargains_status_expires", "status", "expires_at"),
        Index("ix_bargains_campaign_customer", "campaign_id", "customer_id"),
        Index("ix_bargains_campaign_status_id", "campaign_id", "status", "id"),
    )

    merchant_id: Mapped[int] = mapped_column(Id)
    campaign_id: Mapped[int] = mapped_column(Id)
    customer_id: Mapped[int] = mapped_column(Id)
    sku_id: Mapped[int] = mapped_column(Id)
    start_price_fen: Mapped[int]
    floor_price_fen: Mapped[int]
    self_cut_fen: Mapped[int]
    """The initiator's own first cut, taken when the bargain starts (disclosed; not one of the N)."""
    price_fen: Mapped[int]
    helps_needed: Mapped[int]
    helps_done: Mapped[int] = mapped_column(default=0)
    schedule: Mapped[list[int]] = mapped_column(JsonDoc)
    """The N cuts, in the order friends take them; fixed at the start."""
    salt: Mapped[str] = mapped_column(String(32))
    schedule_hash: Mapped[str] = mapped_column(String(64))
    """sha256 of salt and schedule, shown from the start; salt and schedule are shown once it is over, so anyone
    can check the schedule was not changed along the way."""
    status: Mapped[str] = mapped_column(String(20), default="ongoing")
    order_id: Mapped[int | None] = mapped_column(Id)
    """The order buying it now (one at a time); cleared if that order is cancelled."""
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
