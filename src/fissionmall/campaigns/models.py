"""A campaign of any kind (group buying, bargaining …): its typed settings live as JSON on the row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.db.base import Base, Id, TenantIdMixin, same_merchant, tenant_key


class Campaign(TenantIdMixin, Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        *tenant_key(referenced=True),
        same_merchant("product_id", "products"),
        CheckConstraint("status IN ('draft', 'active', 'paused', 'ended')", name="status"),
        CheckConstraint("stock_cap IS NULL OR sold <= stock_cap", name="within_cap"),
        CheckConstraint("sold >= 0", name="sold_not_negative"),
        Index("ix_campaigns_merchant_kind_status", "merchant_id", "kind", "status"),
    )

    merchant_id: Mapped[int] = mapped_column(Id, ForeignKey("merchants.id"))
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), default="draft")
    settings: Mapped[dict[str, Any]]
    product_id: Mapped[int | None] = mapped_column(Id)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    stock_cap: Mapped[int | None]
    """Units the campaign may sell in all; claimed by one guarded UPDATE per unit sold."""
    sold: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]


class CampaignProduct(TenantIdMixin, Base):
    """A product a campaign sells besides its main one (`campaigns.product_id`): the other products of a
    multi-product group, so that each one's page lists the campaign too."""

    __tablename__ = "campaign_products"
    __table_args__ = (
        *tenant_key(),
        same_merchant("campaign_id", "campaigns"),
        same_merchant("product_id", "products"),
        UniqueConstraint("campaign_id", "product_id", "merchant_id"),
        Index("ix_campaign_products_product_id", "product_id", "merchant_id"),
    )

    merchant_id: Mapped[int] = mapped_column(Id)
    campaign_id: Mapped[int] = mapped_column(Id)
    product_id: Mapped[int] = mapped_column(Id)


class CampaignQuota(TenantIdMixin, Base):
    """How many of a campaign's per-customer allowance a customer has used; claimed under a guard."""

    __tablename__ = "campaign_quotas"
    __table_args__ = (
        *tenant_key(),
        same_merchant("campaign_id", "campaigns"),
        same_merchant("customer_id", "customers"),
        UniqueConstraint("campaign_id", "customer_id", "merchant_id"),
        CheckConstraint("used >= 0", name="used_not_negative"),
    )

    merchant_id: Mapped[int] = mapped_column(Id)
    campaign_id: Mapped[int] = mapped_column(Id)
    customer_id: Mapped[int] = mapped_column(Id)
    used: Mapped[int] = mapped_column(default=0)
