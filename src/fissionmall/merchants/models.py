"""Merchants (brands), their stores (branches sharing one catalog) and staff."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.db.base import Base, Id, IdMixin, TenantIdMixin, same_merchant, tenant_key


class Merchant(IdMixin, Base):
    __tablename__ = "merchants"
    __table_args__ = (
        CheckConstraint("payment_timeout_minutes BETWEEN 1 AND 1440", name="payment_timeout"),
        CheckConstraint("auto_receive_days BETWEEN 1 AND 30", name="auto_receive"),
        CheckConstraint("after_sale_days BETWEEN 0 AND 30", name="after_sale"),
    )

    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    payment_timeout_minutes: Mapped[int] = mapped_column(default=30)
    auto_receive_days: Mapped[int] = mapped_column(default=10)
    """Shipped orders count as received this many days after shipping (自动确认收货)."""
    after_sale_days: Mapped[int] = mapped_column(default=7)
    """Received orders complete after this after-sale window."""
    shipping_fee_fen: Mapped[int] = mapped_column(default=0)
    free_shipping_over_fen: Mapped[int | None]
    """Goods (after discounts) worth at least this ship free; None: never by amount."""
    coupons_on_campaign_orders: Mapped[bool] = mapped_column(default=False)
    """Whether coupons stack on group and bargain prices."""
    restore_coupons_on_refund: Mapped[bool] = mapped_column(default=True)
    """Whether a fully refunded order gives its coupons back (while they are still valid)."""
    wechat_appid: Mapped[str | None] = mapped_column(String(40))
    wechat_secret: Mapped[str | None] = mapped_column(String(80))
    """The mini-program's credentials (jscode2session)."""
    wechat_oa_appid: Mapped[str | None] = mapped_column(String(40))
    wechat_oa_secret: Mapped[str | None] = mapped_column(String(80))
    """The official account's (公众号) credentials: web authorization (snsapi_base) of the shopper pages opened in
    WeChat."""
    created_at: Mapped[datetime]


class Store(TenantIdMixin, Base):
    """A branch (门店): orders and in-store verifications are attributed to one."""

    __tablename__ = "stores"
    __table_args__ = (*tenant_key(referenced=True),)

    merchant_id: Mapped[int] = mapped_column(Id, ForeignKey("merchants.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(300), default="")
    active: Mapped[bool] = mapped_column(default=True)


class Staff(TenantIdMixin, Base):
    __tablename__ = "staff"
    __table_args__ = (
        *tenant_key(referenced=True),
        UniqueConstraint("merchant_id", "username"),
        CheckConstraint("role IN ('owner', 'operator', 'finance', 'support')", name="role"),
    )

    merchant_id: Mapped[int] = mapped_column(Id, ForeignKey("merchants.id"))
    username: Mapped[str] = mapped_column(String(60))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True)
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    """Every token carries the version it was issued under; raising it ends all of this member's sessions."""


class AuditEntry(TenantIdMixin, Base):
    """Who did what to the merchant's account, from where, and when (操作日志): sign-ins, failed ones included, and
    every successful staff write (`core/audit.py`). Append-only; read newest first, by staff member or action."""

    __tablename__ = "audit_log"
    __table_args__ = (
        *tenant_key(),
        same_merchant("staff_id", "staff"),
        Index("ix_audit_log_merchant_time", "merchant_id", "occurred_at"),
        Index("ix_audit_log_merchant_id", "merchant_id", "id"),
        Index("ix_audit_log_merchant_staff", "merchant_id", "staff_id", "id"),
        Index("ix_audit_log_merchant_action", "merchant_id", "action", "id"),
    )

    merchant_id: Mapped[int] = mapped_column(Id, ForeignKey("merchants.id"))
    staff_id: Mapped[int | None] = mapped_column(Id)
    """Who acted (or, for a failed sign-in, whose account was tried); None when nobody is known."""
    action: Mapped[str] = mapped_column(String(120))
    """`staff.login`, … or the route of a staff write, e.g. `POST /admin/orders/{order_id}/ship`."""
    subject: Mapped[str] = mapped_column(String(120))
    """What was acted on, e.g. `staff:12`, or the username a sign-in named."""
    detail: Mapped[dict[str, Any]]
    """What changed (`before` and `after`), or why a sign-in failed; never a password or its hash."""
    source_ip: Mapped[str | None] = mapped_column(String(45))
    occurred_at: Mapped[datetime]


class LoginFailure(TenantIdMixin, Base):
    """Recent failed sign-ins per account or per source address, for the back-off (used when no Redis is set)."""

    __tablename__ = "login_failures"
    __table_args__ = (*tenant_key(), UniqueConstraint("merchant_id", "key"))

    merchant_id: Mapped[int] = mapped_column(Id)
    """The merchant the sign-ins named, 0 when there is no such merchant."""
    key: Mapped[str] = mapped_column(String(120))
    """`account:<username>` or `address:<ip>`."""
    failures: Mapped[int]
    last_failed_at: Mapped[datetime]
