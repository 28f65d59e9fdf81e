"""Shoppers of one merchant, identified by mini-program openid (or a dev-login id)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.db.base import Base, Id, IdMixin


class Customer(IdMixin, Base):
    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("merchant_id", "openid"),)

    merchant_id: Mapped[int] = mapped_column(Id, ForeignKey("merchants.id"))
    openid: Mapped[str] = mapped_column(String(64))
    unionid: Mapped[str | None] = mapped_column(String(64))
    nickname: Mapped[str] = mapped_column(String(64), default="")
    avatar_url: Mapped[str] = mapped_column(String(300), default="")
    inviter_id: Mapped[int | None] = mapped_column(Id, ForeignKey("customers.id"))
    """Who brought this customer (the sharer of the link they first arrived through)."""
    acquired_by_share_id: Mapped[int | None] = mapped_column(Id)
    depth: Mapped[int] = mapped_column(default=0)
    """Cascade depth: 0 for organic customers, inviter's depth + 1 otherwise."""
    first_paid_at: Mapped[datetime | None]
    """A customer is new until their first paid order."""
    created_at: Mapped[datetime]
