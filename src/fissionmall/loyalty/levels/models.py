"""Membership levels (会员等级): the merchant's plan and each member's level as last evaluated."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.db.base import Base, Id, IdMixin


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
