"""Capped counters: one guarded statement takes `n` under a limit, per merchant, key and period.

One table serves every "at most so many" rule that is not a campaign's stock: helps per helper per day,
velocity windows when no Redis is configured (per merchant, as in Redis), and budgets in fen (per campaign, per day).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CheckConstraint, String, UniqueConstraint, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.db.base import Base, Id, TenantIdMixin, tenant_key
from fissionmall.db.sql import Direct, table

BUSINESS_OFFSET = timedelta(hours=8)
"""Days and hours are counted in China Standard Time, the shoppers' own calendar."""
TOTAL = "all"
"""The period of a counter that never resets (a campaign's whole budget)."""


class Counter(TenantIdMixin, Base):
    __tablename__ = "counters"
    __table_args__ = (*tenant_key(), UniqueConstraint("key", "period", "merchant_id"),
                      CheckConstraint("used >= 0", name="used_not_negative"))

    merchant_id: Mapped[int] = mapped_column(Id)
    key: Mapped[str] = mapped_column(String(120))
    period: Mapped[str] = mapped_column(String(16))
    used: Mapped[int] = mapped_column(default=0)


def day_of(at: datetime) -> str:
    return (at + BUSINESS_OFFSET).strftime("%Y-%m-%d")


def hour_of(at: datetime) -> str:
    return (at + BUSINESS_OFFSET).strftime("%Y-%m-%dT%H")


_COUNTERS = table(Counter)


def _taking(insert: Any) -> Any:
    new = insert(_COUNTERS).values(merchant_id=bindparam("merchant"), key=bindparam("name"),
                                   period=bindparam("when"), used=bindparam("n"))
    return new.on_conflict_do_update(
        index_elements=[_COUNTERS.c.key, _COUNTERS.c.period, _COUNTERS.c.merchant_id],
        set_={"used": _COUNTERS.c.used + new.excluded.used},
        where=_COUNTERS.c.used + new.excluded.used <= bindparam("limit")).returning(_COUNTERS.c.used)


_TAKE = Direct(_taking)


async def take(session: AsyncSession, merchant_id: int, key: str, period: str, limit: int, n: int = 1) -> int | None:
    """Add `n` unless that would pass `limit`: the new count (so the n-th taker knows it is n-th), or None.
    One upsert: the first taker creates the row, racers serialize on it, and none passes the limit."""
    if n > limit:
        return None
    used: int | None = await _TAKE.scalar(session, {"merchant": merchant_id, "name": key, "when": period, "n": n,
                                                    "limit": limit})
    return used


async def used(session: AsyncSession, key: str, period: str) -> int:
    statement = select(Counter.used).where(Counter.key == key, Counter.period == period)
    return int((await session.execute(statement)).scalar() or 0)


async def give_back(session: AsyncSession, key: str, period: str, n: int = 1) -> None:
    await session.execute(update(Counter).where(Counter.key == key, Counter.period == period)
                          .values(used=Counter.used - n))
