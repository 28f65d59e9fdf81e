"""Tasks (任务): what the merchant sets, and each customer's progress toward it, one hit per friend or day."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.db.base import Base, Id, TenantIdMixin, same_merchant, tenant_key


class LoyaltyTask(TenantIdMixin, Base):
    """A task (任务) the merchant sets: what counts, how often it can be done, and its reward. Progress comes from
    events: a friend registering or buying for the first time, a friend's click on a share (never the share
    itself: COMPLIANCE S1), a check-in streak, a review written, a community post."""

    __tablename__ = "loyalty_tasks"
    __table_args__ = (
        *tenant_key(referenced=True),
        same_merchant("reward_template_id", "coupon_templates"),
        CheckConstraint("kind IN ('invite_registered', 'friend_first_purchase', 'share_click', 'checkin_streak', "
                        "'review', 'post')", name="kind"),
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
    reward_template_id: Mapped[int | None] = mapped_column(Id)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class TaskProgress(TenantIdMixin, Base):
    """A customer's count on a task in one period (the day or ISO week in China time, or 'once'); rewarded once."""

    __tablename__ = "task_progress"
    __table_args__ = (*tenant_key(referenced=True), same_merchant("task_id", "loyalty_tasks"),
                      same_merchant("customer_id", "customers"),
                      UniqueConstraint("task_id", "customer_id", "period_key", "merchant_id"),
                      Index("ix_task_progress_customer", "customer_id", "period_key"))

    merchant_id: Mapped[int] = mapped_column(Id)
    task_id: Mapped[int] = mapped_column(Id)
    customer_id: Mapped[int] = mapped_column(Id)
    period_key: Mapped[str] = mapped_column(String(10))
    count: Mapped[int] = mapped_column(default=0)
    rewarded_at: Mapped[datetime | None]


class TaskHit(TenantIdMixin, Base):
    """What counted once toward a progress: a friend, a day. The same friend's second click counts nothing."""

    __tablename__ = "task_hits"
    __table_args__ = (*tenant_key(), same_merchant("progress_id", "task_progress"),
                      UniqueConstraint("progress_id", "subject_id", "merchant_id"))

    merchant_id: Mapped[int] = mapped_column(Id)
    progress_id: Mapped[int] = mapped_column(Id)
    subject_id: Mapped[int] = mapped_column(Id)
