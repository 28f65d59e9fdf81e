"""The monthly dividend pool (分红池) in its lawful form: points only from the member's own net spending."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.db.base import Base, Id, TenantIdMixin, same_merchant, tenant_key


class DividendPlan(TenantIdMixin, Base):
    __tablename__ = "dividend_plans"
    __table_args__ = (*tenant_key(),)

    merchant_id: Mapped[int] = mapped_column(Id, ForeignKey("merchants.id"), unique=True)
    enabled: Mapped[bool] = mapped_column(default=False)
    pool_bp: Mapped[int]
    """The pool: this share (basis points) of the month's net sales."""
    levels: Mapped[list[Any]]
    """[{min_spend_fen, points}]: the activity level a member's own net spend in the month reaches."""
    threshold_points: Mapped[int]
    pay_day: Mapped[int]
    """Day of the next month the pool is paid (1–28); 28 when `pay_on_last_day`."""
    pay_on_last_day: Mapped[bool] = mapped_column(default=False, server_default=false())
    """Paid on the next month's last day (月末: the 28th, 29th, 30th or 31st), whatever `pay_day` says."""
    updated_at: Mapped[datetime]


class DividendRun(TenantIdMixin, Base):
    """One month's pool, computed once (unique per merchant and month) and credited in chunks."""

    __tablename__ = "dividend_runs"
    __table_args__ = (*tenant_key(referenced=True), UniqueConstraint("merchant_id", "month"),
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


class DividendShare(TenantIdMixin, Base):
    __tablename__ = "dividend_shares"
    __table_args__ = (*tenant_key(), same_merchant("run_id", "dividend_runs"),
                      UniqueConstraint("run_id", "customer_id", "merchant_id"),
                      Index("ix_dividend_shares_run_customer_amount", "run_id", "customer_id", "amount_fen"))

    merchant_id: Mapped[int] = mapped_column(Id)
    run_id: Mapped[int] = mapped_column(Id)
    customer_id: Mapped[int] = mapped_column(Id)
    spend_fen: Mapped[int]
    points: Mapped[int]
    amount_fen: Mapped[int]
