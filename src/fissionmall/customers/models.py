"""Shoppers of one merchant, identified by mini-program openid (or a dev-login id)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.db.base import Base, Id, TenantIdMixin, same_merchant, tenant_key


class Customer(TenantIdMixin, Base):
    __tablename__ = "customers"
    __table_args__ = (*tenant_key(referenced=True), same_merchant("inviter_id", "customers"),
                      UniqueConstraint("merchant_id", "openid"),
                      Index("ix_customers_signup_device", "merchant_id", "signup_device_id"),
                      Index("ix_customers_merchant_created", "merchant_id", "created_at"),
                      Index("ix_customers_merchant_inviter", "merchant_id", "inviter_id", "id"))

    merchant_id: Mapped[int] = mapped_column(Id, ForeignKey("merchants.id"))
    openid: Mapped[str] = mapped_column(String(64))
    unionid: Mapped[str | None] = mapped_column(String(64))
    nickname: Mapped[str] = mapped_column(String(64), default="")
    avatar_url: Mapped[str] = mapped_column(String(300), default="")
    inviter_id: Mapped[int | None] = mapped_column(Id)
    """Who brought this customer (the sharer of the link they first arrived through)."""
    acquired_by_share_id: Mapped[int | None] = mapped_column(Id)
    depth: Mapped[int] = mapped_column(default=0)
    """Cascade depth: 0 for organic customers, inviter's depth + 1 otherwise."""
    signup_device_id: Mapped[str | None] = mapped_column(String(64))
    signup_ip: Mapped[str | None] = mapped_column(String(45))
    """Where the account was created: "new" also means no earlier account on the same device (F2)."""
    first_paid_at: Mapped[datetime | None]
    """A customer is new until their first paid order."""
    created_at: Mapped[datetime]


class SavedAddress(TenantIdMixin, Base):
    """A shopper's address book (收货地址): checkout offers the default one first."""

    __tablename__ = "customer_addresses"
    __table_args__ = (*tenant_key(), same_merchant("customer_id", "customers"),
                      Index("ix_customer_addresses_customer", "merchant_id", "customer_id"))

    merchant_id: Mapped[int] = mapped_column(Id, ForeignKey("merchants.id"))
    customer_id: Mapped[int] = mapped_column(Id)
    name: Mapped[str] = mapped_column(String(30))
    phone: Mapped[str] = mapped_column(String(20))
    region: Mapped[str] = mapped_column(String(60), default="")
    detail: Mapped[str] = mapped_column(String(200))
    is_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
