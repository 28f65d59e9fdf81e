"""The monthly dividend pool (分红池) in its lawful form: points only from the member's own net spending."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.db.base import Base, Id, IdMixin


class DividendPlan(IdMixin, Base):
    __tablename__ = "dividend_plans"

    merchant_id: Mapped[int] = mapped_column(Id, ForeignKey("merchants.id"), unique=True)
    enabled: Mapped[bool] = mapped_column(default=False)
    pool_bp: Mapped[int]
    """The pool: this share (basis points) of the month's net sales."""
    levels: Mapped[list[Any]]
    """[{min_spend_fen, points}]: the activity level a member's own net spend in the month reaches."""
    threshold_points: Mapped[int]
    pay_day: Mapped[int]
    """Day of the next month the pool is paid (1–28)."""
    updated_at: Mapped[datetime]


class DividendRun(IdMixin, Base):
    """One month's pool, computed once (unique per merchant and month) and credited in chunks."""

    __tablename__ = "dividend_runs"
    __table_args__ = (UniqueConstraint("merchant_id", "month"),
                      CheckConstraint("status IN ('computed', 'credited')", name="status"))

    merchant_id: Mapped[int] = mapped_column(Id)
    month: Mapped[str] = mapped_column(String(7))
    net_sales_fen: Mapped[int] = mapped_column(BigInteger)
    """A month of a large merchant's sales passes what 32 bits hold."""
    pool_fen: Mapped[int] = mapped_column(BigInteger)
    members: Mapped[int]
    total_points: Mapped[int] = mapped_column(BigInteger)
    credited_upto: Mapped[int] = mapped_column(Id, default=0)
    """Shares are credited in customer-id order; this is the last one credited (a restart resumes after it)."""
    status: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class DividendShare(IdMixin, Base):
    __tablename__ = "dividend_shares"
    __table_args__ = (UniqueConstraint("run_id", "customer_id"), Index("ix_dividend_shares_run_customer_amount",
                                                                      "run_id", "customer_id", "amount_fen"))

    merchant_id: Mapped[int] = mapped_column(Id)
    run_id: Mapped[int] = mapped_column(Id, ForeignKey("dividend_runs.id"))
    customer_id: Mapped[int] = mapped_column(Id)
    spend_fen: Mapped[int]
    points: Mapped[int]
    amount_fen: Mapped[int]


class PointsConfig(IdMixin, Base):
    """How a merchant's points are earned and spent."""

    __tablename__ = "points_configs"

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
    updated_at: Mapped[datetime]


class PointsEntry(IdMixin, Base):
    """Append-only. An earning is a bucket with its own expiry; spending and expiry draw the oldest first."""

    __tablename__ = "points_entries"
    __table_args__ = (
        UniqueConstraint("customer_id", "kind", "source_type", "source_id"),
        CheckConstraint("remaining >= 0", name="remaining_not_negative"),
        Index("ix_points_entries_buckets", "customer_id", "expires_at"),
        Index("ix_points_entries_expiry", "expires_at", "remaining"),
    )

    merchant_id: Mapped[int] = mapped_column(Id)
    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customers.id"))
    points: Mapped[int]
    """Positive: earned; negative: spent or expired."""
    remaining: Mapped[int] = mapped_column(default=0)
    """For an earning: what is left of it to spend."""
    kind: Mapped[str] = mapped_column(String(20))
    source_type: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[int] = mapped_column(Id)
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class PointsBalance(IdMixin, Base):
    __tablename__ = "points_balances"
    __table_args__ = (CheckConstraint("balance >= 0", name="balance_not_negative"),)

    merchant_id: Mapped[int] = mapped_column(Id)
    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customers.id"), unique=True)
    balance: Mapped[int] = mapped_column(default=0)
    last_checkin: Mapped[str | None] = mapped_column(String(10))
    streak: Mapped[int] = mapped_column(default=0)


class LevelPlan(IdMixin, Base):
    """Membership levels (会员等级): what spending earns a level, and what the level gives."""

    __tablename__ = "level_plans"

    merchant_id: Mapped[int] = mapped_column(Id, ForeignKey("merchants.id"), unique=True)
    basis: Mapped[str] = mapped_column(String(12))
    """cumulative (all money kept so far) or monthly (last month's)."""
    levels: Mapped[list[Any]]
    """[{level, name, min_spend_fen, discount_percent, free_shipping, points_multiplier_percent}]"""
    updated_at: Mapped[datetime]


class MemberLevel(IdMixin, Base):
    __tablename__ = "member_levels"

    merchant_id: Mapped[int] = mapped_column(Id)
    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customers.id"), unique=True)
    level: Mapped[int]
    spend_fen: Mapped[int] = mapped_column(BigInteger)
    evaluated_at: Mapped[datetime]


class LoyaltyTask(IdMixin, Base):
    """A task (任务) the merchant sets: what counts, how often it can be done, and its reward. Progress comes from
    events: a friend registering or buying for the first time, a friend's click on a share (never the share
    itself: COMPLIANCE S1), a check-in streak, a review written."""

    __tablename__ = "loyalty_tasks"
    __table_args__ = (
        CheckConstraint("kind IN ('invite_registered', 'friend_first_purchase', 'share_click', 'checkin_streak', "
                        "'review')", name="kind"),
        CheckConstraint("period IN ('once', 'daily', 'weekly')", name="period"),
        CheckConstraint("target >= 1", name="target_positive"),
        Index("ix_loyalty_tasks_merchant_kind", "merchant_id", "kind", "active"),
    )

    merchant_id: Mapped[int] = mapped_column(Id, ForeignKey("merchants.id"))
    name: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(30))
    period: Mapped[str] = mapped_column(String(10))
    target: Mapped[int]
    reward_points: Mapped[int] = mapped_column(default=0)
    reward_template_id: Mapped[int | None] = mapped_column(Id, ForeignKey("coupon_templates.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class TaskProgress(IdMixin, Base):
    """A customer's count on a task in one period (the day or ISO week in China time, or 'once'); rewarded once."""

    __tablename__ = "task_progress"
    __table_args__ = (UniqueConstraint("task_id", "customer_id", "period_key"),
                      Index("ix_task_progress_customer", "customer_id", "period_key"))

    merchant_id: Mapped[int] = mapped_column(Id)
    task_id: Mapped[int] = mapped_column(Id, ForeignKey("loyalty_tasks.id"))
    customer_id: Mapped[int] = mapped_column(Id, ForeignKey("customers.id"))
    period_key: Mapped[str] = mapped_column(String(10))
    count: Mapped[int] = mapped_column(default=0)
    rewarded_at: Mapped[datetime | None]


class TaskHit(IdMixin, Base):
    """What counted once toward a progress: a friend, a day. The same friend's second click counts nothing."""

    __tablename__ = "task_hits"
    __table_args__ = (UniqueConstraint("progress_id", "subject_id"),)

    progress_id: Mapped[int] = mapped_column(Id, ForeignKey("task_progress.id"))
    subject_id: Mapped[int] = mapped_column(Id)
