"""A friend's help on someone's record (a bargain, an assist packet): once per helper per record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.db.base import Base, Id, TenantIdMixin, same_merchant, tenant_key


class Help(TenantIdMixin, Base):
    __tablename__ = "helps"
    __table_args__ = (
        *tenant_key(),
        same_merchant("campaign_id", "campaigns"),
        same_merchant("helper_id", "customers"),
        UniqueConstraint("target_type", "target_id", "helper_id", "merchant_id"),
        Index("ix_helps_campaign_helper", "campaign_id", "helper_id"),
    )

    merchant_id: Mapped[int] = mapped_column(Id)
    campaign_id: Mapped[int] = mapped_column(Id)
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int] = mapped_column(Id)
    helper_id: Mapped[int] = mapped_column(Id)
    seq: Mapped[int]
    """This help's place on its record (1 for the first friend), as the record's own counter returned it."""
    amount_fen: Mapped[int] = mapped_column(default=0)
    """What the help did: the cut it made on a bargain (scheduled cut plus any new-helper bonus)."""
    new_helper: Mapped[bool]
    device_id: Mapped[str | None] = mapped_column(String(64))
    ip_range: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime]
