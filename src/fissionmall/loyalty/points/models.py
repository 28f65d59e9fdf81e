"""The points ledger (积分): each merchant's points rules, the append-only buckets and the balance row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.db.base import Base, Id, TenantIdMixin, same_merchant, tenant_key


class PointsConfig(TenantIdMixin, Base):
    """How a merchant's points are earned and spent."""

    __tablename__ = "points_configs"
    __table_args__ = (*tenant_key(),)

    merchant_id: Mapped[int] = mapped_column(Id, ForeignKey("merchants.id"), unique=True)
    earn_per_yuan: Mapped[int]
    """Points per yuan actually paid, earned when the order completes (so refunds cannot be gamed)."""
    fen_per_100_points: Mapped[int]
    """What 100 points take off at checkout."""
    max_redeem_percent: Mapped[int]
    """At most this share of an order may be paid with points."""
    validity_days: Mapped[int]
    checkin_points: Mapped[int]
    streak_bonus: Mapped[int]
    """Extra points per consecutive day of check-in, up to `streak_cap` days."""
    streak_cap: Mapped[int]
    review_points: Mapped[int] = mapped_column(default=0)
    """Points for each review written (one per product of an order)."""
    post_points: Mapped[int] = mapped_column(default=0)
    """Points for each community post (晒单 or plain), once per post, when shoppers first see it."""
    post_daily_cap: Mapped[int] = mapped_column(default=3)
    """At most this many posts a day (China time) earn `post_points`."""
    updated_at: Mapped[datetime]


class PointsEntry(TenantIdMixin, Base):
    """Append-only. An earning is a bucket with its own expiry; spending and expiry draw the oldest first."""

    __tablename__ = "points_entries"
    __table_args__ = (
        *tenant_key(),
        same_merchant("customer_id", "customers"),
        UniqueConstraint("customer_id", "kind", "source_type", "source_id", "merchant_id",
                         name="uq_points_entries_source"),
        CheckConstraint("remaining >= 0", name="remaining_not_negative"),
        Index("ix_points_entries_buckets", "customer_id", "expires_at"),
        Index("ix_points_entries_expiry", "expires_at", "remaining"),
    )

    merchant_id: Mapped[int] = mapped_column(Id)
    customer_id: Mapped[int] = mapped_column(Id)
    points: Mapped[int]
    """Positive: earned; negative: spent or expired."""
    remaining: Mapped[int] = mapped_column(default=0)
    """For an earning: what is left of it to spend."""
    kind: Mapped[str] = mapped_column(String(20))
    source_type: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[int] = mapped_column(Id)
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class PointsBalance(TenantIdMixin, Base):
    __tablename__ = "points_balances"
    __table_args__ = (*tenant_key(), same_merchant("customer_id", "customers"),
                      UniqueConstraint("customer_id", "merchant_id"),
                      CheckConstraint("balance >= 0", name="balance_not_negative"))

    merchant_id: Mapped[int] = mapped_column(Id)
    customer_id: Mapped[int] = mapped_column(Id)
    balance: Mapped[int] = mapped_column(default=0)
    last_checkin: Mapped[str | None] = mapped_column(String(10))
    streak: Mapped[int] = mapped_column(default=0)
