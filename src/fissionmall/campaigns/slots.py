"""Amounts fixed in advance and handed out in order: an assist pool's prizes, a coupon packet's slots.

`fill` stores the split once; `take` gives the next one with a capped counter, so the n-th taker gets slot n,
exactly `count` are ever given, and no amount is given twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String, UniqueConstraint, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.core import counters
from fissionmall.db.base import Base, Id, TenantIdMixin, tenant_key


class PrizeSlot(TenantIdMixin, Base):
    __tablename__ = "prize_slots"
    __table_args__ = (*tenant_key(), UniqueConstraint("owner_type", "owner_id", "seq", "merchant_id"),
                      CheckConstraint("amount_fen > 0", name="positive"))

    merchant_id: Mapped[int] = mapped_column(Id)
    owner_type: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[int] = mapped_column(Id)
    seq: Mapped[int]
    amount_fen: Mapped[int]
    taken_by: Mapped[int | None] = mapped_column(Id)
    taken_at: Mapped[datetime | None]


def _key(owner: tuple[str, int]) -> str:
    return f"slots:{owner[0]}:{owner[1]}"


async def filled(session: AsyncSession, owner: tuple[str, int]) -> tuple[int, int]:
    """(slots, their sum)."""
    statement = select(func.count(), func.coalesce(func.sum(PrizeSlot.amount_fen), 0)).where(
        PrizeSlot.owner_type == owner[0], PrizeSlot.owner_id == owner[1])
    count, total = (await session.execute(statement)).one()
    return int(count), int(total)


async def fill(session: AsyncSession, merchant_id: int, owner: tuple[str, int], amounts: list[int]) -> None:
    await session.execute(insert(PrizeSlot), [
        {"merchant_id": merchant_id, "owner_type": owner[0], "owner_id": owner[1], "seq": seq, "amount_fen": amount}
        for seq, amount in enumerate(amounts, start=1)])


async def take(session: AsyncSession, merchant_id: int, owner: tuple[str, int], count: int, customer_id: int,
               at: datetime) -> tuple[int, int] | None:
    """The next slot (its number and amount), or None once all `count` are gone."""
    seq = await claim(session, merchant_id, owner, count)
    if seq is None:
        return None
    result = await session.execute(
        update(PrizeSlot).where(PrizeSlot.owner_type == owner[0], PrizeSlot.owner_id == owner[1],
                                PrizeSlot.seq == seq)
        .values(taken_by=customer_id, taken_at=at).returning(PrizeSlot.amount_fen))
    return seq, int(result.scalar_one())


async def claim(session: AsyncSession, merchant_id: int, owner: tuple[str, int], count: int) -> int | None:
    """The next place of `count` (1 for the first), where the amounts are not split in advance (an assist ladder's
    prizes are drawn as they are won), or None once all are gone."""
    return await counters.take(session, merchant_id, _key(owner), counters.TOTAL, count)


async def give_back(session: AsyncSession, owner: tuple[str, int]) -> None:
    """A claimed place that paid nothing (its pool or stock ran short) is free again."""
    await counters.give_back(session, _key(owner), counters.TOTAL)


async def taken(session: AsyncSession, owner: tuple[str, int]) -> int:
    return await counters.used(session, _key(owner), counters.TOTAL)


async def largest(session: AsyncSession, owner: tuple[str, int]) -> int | None:
    """The luckiest slot's number: the largest amount, the earliest on a tie; None when every slot holds the same
    amount (among equals nobody is luckiest)."""
    mine = (PrizeSlot.owner_type == owner[0], PrizeSlot.owner_id == owner[1])
    least = select(func.min(PrizeSlot.amount_fen)).where(*mine).scalar_subquery()
    statement = (select(PrizeSlot.seq).where(*mine, PrizeSlot.amount_fen > least)
                 .order_by(PrizeSlot.amount_fen.desc(), PrizeSlot.seq).limit(1))
    return (await session.execute(statement)).scalar()


async def taken_counts(session: AsyncSession, owner_type: str, owner_ids: list[int]) -> dict[int, int]:
    """How many slots of each owner were taken, in one query (an admin list's page of packets)."""
    statement = (select(PrizeSlot.owner_id, func.count()).where(
        PrizeSlot.owner_type == owner_type, PrizeSlot.owner_id.in_(owner_ids), PrizeSlot.taken_by.is_not(None))
        .group_by(PrizeSlot.owner_id))
    return {int(owner): int(n) for owner, n in (await session.execute(statement)).all()}
