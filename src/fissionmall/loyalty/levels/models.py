"""Membership levels (会员等级): the merchant's plan and each member's level as last evaluated."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.db.base import Base, Id, TenantIdMixin, same_merchant, tenant_key


class LevelPlan(TenantIdMixin, Base):
    """Membership levels (会员等级): what spending earns a level, and what the level gives."""

    __tablename__ = "level_plans"
    __table_args__ = (*tenant_key(),)

    merchant_id: Mapped[int] = mapped_column(Id, ForeignKey("merchants.id"), unique=True)
    basis: Mapped[str] = mapped_column(String(12))
    """cumulative (all money kept so far) or monthly (last month's)."""
    levels: Mapped[list[Any]]
    """[{level, name, min_spend_fen, discount_percent, free_shipping, points_multiplier_percent}]"""
    updated_at: Mapped[datetime]


class MemberLevel(TenantIdMixin, Base):
    __tablename__ = "member_levels"
    __table_args__ = (*tenant_key(), same_merchant("customer_id", "customers"),
                      UniqueConstraint("customer_id", "merchant_id"))

    merchant_id: Mapped[int] = mapped_column(Id)
    customer_id: Mapped[int] = mapped_column(Id)
    level: Mapped[int]
    spend_fen: Mapped[int] = mapped_column(BigInteger)
    evaluated_at: Mapped[datetime]
