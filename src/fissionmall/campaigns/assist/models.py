"""Assist red packets (助力拆红包): a customer's packet opens when K friends have helped, and pays a prize fixed
in advance out of the campaign's pool."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.db.base import Base, Id, TenantIdMixin, same_merchant, tenant_key


class AssistPacket(TenantIdMixin, Base):
    __tablename__ = "assist_packets"
    __table_args__ = (
        *tenant_key(),
        same_merchant("campaign_id", "campaigns"),
        same_merchant("customer_id", "customers"),
        CheckConstraint("status IN ('open', 'opened', 'expired')", name="status"),
        CheckConstraint("helps_done >= 0 AND helps_done <= helpers_needed", name="helps_in_range"),
        Index("ix_assist_packets_status_expires", "status", "expires_at"),
        Index("ix_assist_packets_campaign_status_id", "campaign_id", "status", "id"),
    )

    merchant_id: Mapped[int] = mapped_column(Id)
    campaign_id: Mapped[int] = mapped_column(Id)
    customer_id: Mapped[int] = mapped_column(Id)
    helpers_needed: Mapped[int]
    helps_done: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(10), default="open")
    outcome: Mapped[str | None] = mapped_column(String(20))
    """Once opened: won, lost (the odds), pool_empty, or withheld (high risk, as published)."""
    prize_seq: Mapped[int | None]
    prize_fen: Mapped[int] = mapped_column(default=0)
    rank: Mapped[int | None]
    """越拆越多: which of its owner's opened packets in the campaign this is, as one capped counter counted it."""
    gift_kind: Mapped[str | None] = mapped_column(String(10))
    """A coupon or goods prize: its kind, the coupon's or goods prize's id, and its name as given."""
    gift_ref: Mapped[int | None] = mapped_column(Id)
    gift_name: Mapped[str | None] = mapped_column(String(100))
    owner_device_id: Mapped[str | None] = mapped_column(String(64))
    owner_ip: Mapped[str | None] = mapped_column(String(45))
    """Where the owner opened it from, for the risk check when the last friend opens it."""
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    opened_at: Mapped[datetime | None]
