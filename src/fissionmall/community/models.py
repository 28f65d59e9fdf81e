"""Reviews (评价) of what a customer bought, once per product of an order, after delivery."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.db.base import Base, Id, TenantIdMixin, same_merchant, tenant_key


class Review(TenantIdMixin, Base):
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
    hidden_at: Mapped[datetime | None]
    """Set when staff hid the review (moderation): a hidden review is shown to no shopper and counted in no rating."""
    hidden_by: Mapped[int | None] = mapped_column(Id)
    hidden_reason: Mapped[str | None] = mapped_column(String(200))
