"""Shares: a customer's link to a target (product, group, bargain…), the root of attribution."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.db.base import Base, Id, TenantIdMixin, same_merchant, tenant_key


class Share(TenantIdMixin, Base):
    __tablename__ = "shares"
    __table_args__ = (*tenant_key(), same_merchant("sharer_id", "customers"),
                      UniqueConstraint("merchant_id", "sharer_id", "target_type", "target_id"))

    merchant_id: Mapped[int] = mapped_column(Id, ForeignKey("merchants.id"))
    sharer_id: Mapped[int] = mapped_column(Id)
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int] = mapped_column(Id)
    campaign_id: Mapped[int | None] = mapped_column(Id)
    depth: Mapped[int]
    """The sharer's own cascade depth; whoever arrives through this share is depth + 1."""
    created_at: Mapped[datetime]
