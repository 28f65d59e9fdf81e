"""The community (社区): reviews (评价) of what a customer bought, posts (晒单 and plain posts) with likes and
comments, follows between customers, shoppers' reports and the merchant's moderation settings.

Reviews, posts and comments are moderated alike: each carries `hidden_at/by/reason` (hidden from every shopper list
and count), `report_count` and `queued` (waiting in the merchant's moderation queue)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.db.base import Base, Id, TenantIdMixin, same_merchant, tenant_key


class Moderated:
    """What moderation keeps on a review, a post or a comment."""

    hidden_at: Mapped[datetime | None]
    """Set when staff hid the item, or when a keyword rule held it for review: a hidden item is shown to no shopper
    and counted nowhere."""
    hidden_by: Mapped[int | None] = mapped_column(Id)
    """The staff member who hid it; None with `hidden_at` set: held by a keyword rule, waiting for review."""
    hidden_reason: Mapped[str | None] = mapped_column(String(200))
    report_count: Mapped[int] = mapped_column(default=0)
    """Distinct customers who reported it."""


class Review(Moderated, TenantIdMixin, Base):
    __tablename__ = "reviews"
    __table_args__ = (
        *tenant_key(),
        same_merchant("order_id", "orders"),
        same_merchant("product_id", "products"),
        same_merchant("customer_id", "customers"),
        same_merchant("hidden_by", "staff"),
        UniqueConstraint("order_id", "product_id", "merchant_id"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),
        Index("ix_reviews_product", "product_id", "id"),
        Index("ix_reviews_merchant", "merchant_id", "id"),
    )

    merchant_id: Mapped[int] = mapped_column(Id)
    order_id: Mapped[int] = mapped_column(Id)
    product_id: Mapped[int] = mapped_column(Id)
    customer_id: Mapped[int] = mapped_column(Id)
    rating: Mapped[int]
    text: Mapped[str] = mapped_column(Text, default="")
    images: Mapped[list[Any]]
    """Image URLs, at most nine."""
    nickname: Mapped[str] = mapped_column(String(64), default="")
    """The reviewer's name as it was when they wrote: reviews are shown without another lookup."""
    created_at: Mapped[datetime]


class Post(Moderated, TenantIdMixin, Base):
    """A post (帖子): a 晒单 of a product from the customer's received order, or a plain post; text and images."""

    __tablename__ = "posts"
    __table_args__ = (
        *tenant_key(referenced=True),
        same_merchant("customer_id", "customers"),
        same_merchant("order_id", "orders"),
        same_merchant("product_id", "products"),
        same_merchant("hidden_by", "staff"),
        CheckConstraint("like_count >= 0", name="like_count_not_negative"),
        CheckConstraint("comment_count >= 0", name="comment_count_not_negative"),
        Index("ix_posts_merchant", "merchant_id", "id"),
        Index("ix_posts_customer", "merchant_id", "customer_id", "id"),
        Index("ix_posts_product", "merchant_id", "product_id", "id"),
        Index("ix_posts_hot", "merchant_id", "hot", "id"),
    )

    merchant_id: Mapped[int] = mapped_column(Id)
    customer_id: Mapped[int] = mapped_column(Id)
    nickname: Mapped[str] = mapped_column(String(64), default="")
    order_id: Mapped[int | None] = mapped_column(Id)
    """The received order a 晒单 shows off; None for a plain post."""
    product_id: Mapped[int | None] = mapped_column(Id)
    text: Mapped[str] = mapped_column(Text, default="")
    images: Mapped[list[Any]]
    """Image URLs (uploaded through /community/media), at most nine."""
    like_count: Mapped[int] = mapped_column(default=0)
    comment_count: Mapped[int] = mapped_column(default=0)
    """Shown comments only: hiding a comment takes it out of the count, showing it puts it back."""
    hot: Mapped[int] = mapped_column(BigInteger, default=0)
    """The popularity score (热门): likes and comments, decayed by age (rules.hot_score); kept with the counts."""
    created_at: Mapped[datetime]
    published_at: Mapped[datetime | None]
    """When shoppers first saw it (at once, or when staff showed a post a keyword held): points and tasks follow."""


class PostLike(TenantIdMixin, Base):
    """One like per customer per post (the unique key decides, however many taps race)."""

    __tablename__ = "post_likes"
    __table_args__ = (
        *tenant_key(),
        same_merchant("post_id", "posts"),
        same_merchant("customer_id", "customers"),
        UniqueConstraint("post_id", "customer_id", "merchant_id"),
    )

    merchant_id: Mapped[int] = mapped_column(Id)
    post_id: Mapped[int] = mapped_column(Id)
    customer_id: Mapped[int] = mapped_column(Id)
    created_at: Mapped[datetime]


class PostComment(Moderated, TenantIdMixin, Base):
    """A comment (评论) on a post: plain text, moderated like posts."""

    __tablename__ = "post_comments"
    __table_args__ = (
        *tenant_key(),
        same_merchant("post_id", "posts"),
        same_merchant("customer_id", "customers"),
        same_merchant("hidden_by", "staff"),
        Index("ix_post_comments_post", "merchant_id", "post_id", "id"),
    )

    merchant_id: Mapped[int] = mapped_column(Id)
    post_id: Mapped[int] = mapped_column(Id)
    customer_id: Mapped[int] = mapped_column(Id)
    nickname: Mapped[str] = mapped_column(String(64), default="")
    text: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime]


class Follow(TenantIdMixin, Base):
    """A customer follows another (关注): the 关注 feed shows the posts of those followed."""

    __tablename__ = "follows"
    __table_args__ = (
        *tenant_key(),
        same_merchant("follower_id", "customers"),
        same_merchant("followee_id", "customers"),
        UniqueConstraint("follower_id", "followee_id", "merchant_id"),
        CheckConstraint("follower_id <> followee_id", name="not_self"),
        Index("ix_follows_followee", "merchant_id", "followee_id"),
    )

    merchant_id: Mapped[int] = mapped_column(Id)
    follower_id: Mapped[int] = mapped_column(Id)
    followee_id: Mapped[int] = mapped_column(Id)
    created_at: Mapped[datetime]


class ContentReport(TenantIdMixin, Base):
    """A shopper's report (举报) of a review, post or comment: once per customer per item."""

    __tablename__ = "content_reports"
    __table_args__ = (
        *tenant_key(),
        same_merchant("customer_id", "customers"),
        UniqueConstraint("item_type", "item_id", "customer_id", "merchant_id"),
        CheckConstraint("item_type IN ('review', 'post', 'comment')", name="item_type"),
    )

    merchant_id: Mapped[int] = mapped_column(Id)
    item_type: Mapped[str] = mapped_column(String(10))
    item_id: Mapped[int] = mapped_column(Id)
    customer_id: Mapped[int] = mapped_column(Id)
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class CommunitySettings(TenantIdMixin, Base):
    """The merchant's moderation rules: words that hold a post or comment for review, and how many reports queue
    an item."""

    __tablename__ = "community_settings"
    __table_args__ = (*tenant_key(),)

    merchant_id: Mapped[int] = mapped_column(Id, ForeignKey("merchants.id"), unique=True)
    keywords: Mapped[list[Any]]
    report_threshold: Mapped[int] = mapped_column(default=3)
    updated_at: Mapped[datetime]


class ModerationTicket(TenantIdMixin, Base):
    """An item waiting in the merchant's moderation queue (审核队列): held by a keyword rule, or reported by
    `report_threshold` customers. Staff deciding (hide or show) takes it out; the item keeps who decided, when and
    why, and the audit log the change."""

    __tablename__ = "moderation_queue"
    __table_args__ = (
        *tenant_key(),
        UniqueConstraint("item_type", "item_id", "merchant_id"),
        CheckConstraint("item_type IN ('review', 'post', 'comment')", name="item_type"),
        CheckConstraint("cause IN ('keyword', 'reports')", name="cause"),
        Index("ix_moderation_queue_merchant", "merchant_id", "id"),
    )

    merchant_id: Mapped[int] = mapped_column(Id)
    item_type: Mapped[str] = mapped_column(String(10))
    item_id: Mapped[int] = mapped_column(Id)
    cause: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime]
