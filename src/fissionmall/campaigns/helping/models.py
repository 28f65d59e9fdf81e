"""A friend's help on someone's record (a bargain, an assist packet): once per helper per record; and the goods a
campaign gives as a prize or a helper's reward."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String, UniqueConstraint
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


class GoodsPrize(TenantIdMixin, Base):
    """One unit of a SKU given free (赠品) by a campaign, as a prize or a helper's reward: once per source (the packet
    or the help that earned it); the customer orders it through checkout at no price, one order at a time."""

    __tablename__ = "goods_prizes"
    __table_args__ = (
        *tenant_key(),
        same_merchant("campaign_id", "campaigns"),
        same_merchant("customer_id", "customers"),
        UniqueConstraint("source_type", "source_id", "merchant_id"),
        CheckConstraint("status IN ('unclaimed', 'ordered', 'redeemed')", name="status"),
        CheckConstraint("(status = 'unclaimed') = (order_id IS NULL)", name="order_when_ordered"),
        Index("ix_goods_prizes_customer", "customer_id", "status"),
        Index("ix_goods_prizes_order", "order_id"),
    )

    merchant_id: Mapped[int] = mapped_column(Id)
    campaign_id: Mapped[int] = mapped_column(Id)
    customer_id: Mapped[int] = mapped_column(Id)
    product_id: Mapped[int] = mapped_column(Id)
    sku_id: Mapped[int] = mapped_column(Id)
    source_type: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[int] = mapped_column(Id)
    status: Mapped[str] = mapped_column(String(10), default="unclaimed")
    order_id: Mapped[int | None] = mapped_column(Id)
    created_at: Mapped[datetime]
