"""Incremental aggregates of the event log (数据分析): per campaign and share link, per hour; the people of a campaign;
its cascade tree, and the tree summed by depth and by cycle time; the orders it brought; and how far the log has been
read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.db.base import Base, Id, TenantIdMixin, tenant_key

CAMPAIGN_ROW = 0
"""The share_id of a campaign's own row in `analytics_hourly` (the sum over its share links and what came through
none)."""


class AnalyticsWatermark(Base):
    """The last event id folded into the aggregates: advanced in the same transaction as the rows it produced."""

    __tablename__ = "analytics_watermarks"

    name: Mapped[str] = mapped_column(String(30), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(BigInteger, default=0)


class CampaignHour(TenantIdMixin, Base):
    """One campaign's (share_id 0) or one share link's counts in one hour (hours since the epoch, UTC)."""

    __tablename__ = "analytics_hourly"
    __table_args__ = (*tenant_key(), UniqueConstraint("merchant_id", "campaign_id", "share_id", "hour"),)

    merchant_id: Mapped[int] = mapped_column(Id)
    campaign_id: Mapped[int] = mapped_column(Id)
    share_id: Mapped[int] = mapped_column(Id)
    hour: Mapped[int] = mapped_column(BigInteger)
    shares: Mapped[int] = mapped_column(default=0)
    sharers: Mapped[int] = mapped_column(default=0)
    """Customers sharing in this campaign for the first time in this hour (campaign rows only)."""
    clicks: Mapped[int] = mapped_column(default=0)
    unique_clickers: Mapped[int] = mapped_column(default=0)
    """Clickers seen for the first time (on this link, or in this campaign for its own row) in this hour."""
    acts: Mapped[int] = mapped_column(default=0)
    orders: Mapped[int] = mapped_column(default=0)
    paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    new_customers: Mapped[int] = mapped_column(default=0)
    """First purchases, through someone else's link, on the campaign's orders (新客)."""
    signups: Mapped[int] = mapped_column(default=0)
    cost_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    """Rewards, discounts and commissions given."""


class CampaignPerson(TenantIdMixin, Base):
    """A customer's first share and first click in a campaign, by event id (the funnel's distinct people)."""

    __tablename__ = "analytics_people"
    __table_args__ = (*tenant_key(), UniqueConstraint("merchant_id", "campaign_id", "customer_id"),)

    merchant_id: Mapped[int] = mapped_column(Id)
    campaign_id: Mapped[int] = mapped_column(Id)
    customer_id: Mapped[int] = mapped_column(Id)
    first_share_event: Mapped[int | None] = mapped_column(BigInteger)
    first_shared_at: Mapped[datetime | None]
    first_click_event: Mapped[int | None] = mapped_column(BigInteger)


class ShareClicker(TenantIdMixin, Base):
    """A customer who opened a share link, once per link, with the event of the first time."""

    __tablename__ = "analytics_share_clickers"
    __table_args__ = (*tenant_key(), UniqueConstraint("merchant_id", "share_id", "customer_id"),)

    merchant_id: Mapped[int] = mapped_column(Id)
    campaign_id: Mapped[int] = mapped_column(Id)
    share_id: Mapped[int] = mapped_column(Id)
    customer_id: Mapped[int] = mapped_column(Id)
    first_event: Mapped[int] = mapped_column(BigInteger)


class CampaignOrder(TenantIdMixin, Base):
    """An order placed in a campaign (not through the buyer's own link): its pay, refund and first-purchase events
    are counted for this campaign and share."""

    __tablename__ = "analytics_orders"
    __table_args__ = (*tenant_key(), UniqueConstraint("merchant_id", "order_id"),)

    merchant_id: Mapped[int] = mapped_column(Id)
    order_id: Mapped[int] = mapped_column(Id)
    campaign_id: Mapped[int] = mapped_column(Id)
    share_id: Mapped[int] = mapped_column(Id)
    customer_id: Mapped[int] = mapped_column(Id)
    discount_fen: Mapped[int] = mapped_column(BigInteger, default=0)


class CascadeEdge(TenantIdMixin, Base):
    """Who brought whom in a campaign (裂变树): the child's first act through the parent's share, its depth from the
    campaign's first sharers (depth 1 = brought by one of them), what it paid and whether it was a new customer."""

    __tablename__ = "analytics_edges"
    __table_args__ = (*tenant_key(), UniqueConstraint("merchant_id", "campaign_id", "child_id"),
                      Index("ix_analytics_edges_parent", "merchant_id", "campaign_id", "parent_id"),
                      Index("ix_analytics_edges_cycle", "merchant_id", "campaign_id", "cycle_seconds"),
                      Index("ix_analytics_edges_first_event", "first_event"))

    merchant_id: Mapped[int] = mapped_column(Id)
    campaign_id: Mapped[int] = mapped_column(Id)
    parent_id: Mapped[int] = mapped_column(Id)
    child_id: Mapped[int] = mapped_column(Id)
    depth: Mapped[int] = mapped_column(default=0)
    """0 until placed: then the parent's depth + 1 (1 when the parent was brought by no one)."""
    action: Mapped[str] = mapped_column(String(30))
    first_act_at: Mapped[datetime]
    first_event: Mapped[int] = mapped_column(BigInteger)
    cycle_seconds: Mapped[int | None]
    """From the parent's first share in the campaign to this first act."""
    paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    is_new: Mapped[bool] = mapped_column(default=False)


class CampaignDepth(TenantIdMixin, Base):
    """A campaign's cascade tree summed at one depth: what the campaign metrics read instead of the edges."""

    __tablename__ = "analytics_depths"
    __table_args__ = (*tenant_key(), UniqueConstraint("merchant_id", "campaign_id", "depth"),)

    merchant_id: Mapped[int] = mapped_column(Id)
    campaign_id: Mapped[int] = mapped_column(Id)
    depth: Mapped[int] = mapped_column()
    nodes: Mapped[int] = mapped_column(default=0)
    """Customers of the tree at this depth: the edges placed at it; at depth 0 the roots (parents of a depth-1 edge
    who are nobody's child)."""
    new_customers: Mapped[int] = mapped_column(default=0)
    """Of the edges at this depth, those whose child became a new customer."""
    sharers: Mapped[int] = mapped_column(default=0)
    """Customers who shared in the campaign whose own edge is at this depth (0: brought by no one)."""


class CycleBucket(TenantIdMixin, Base):
    """How many edges of a campaign's tree have a cycle time (parent's first share → child's first act) in one
    bucket: a minute below 48 hours, an hour from there (`rules.cycle_bucket`); keyed by the bucket's first second."""

    __tablename__ = "analytics_cycles"
    __table_args__ = (*tenant_key(), UniqueConstraint("merchant_id", "campaign_id", "start_seconds"),)

    merchant_id: Mapped[int] = mapped_column(Id)
    campaign_id: Mapped[int] = mapped_column(Id)
    start_seconds: Mapped[int] = mapped_column(BigInteger)
    edges: Mapped[int] = mapped_column(default=0)
