"""Every query about shares."""

from __future__ import annotations

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.customers.models import Customer
from fissionmall.db.sql import insert_ignoring_conflicts
from fissionmall.sharing.models import Share


async def upsert(session: AsyncSession, **values: object) -> Share:
    """One share per (sharer, target): sharing again returns the same link."""
    await session.execute(insert_ignoring_conflicts(session, Share).values(**values))
    statement = select(Share).where(
        Share.merchant_id == values["merchant_id"], Share.sharer_id == values["sharer_id"],
        Share.target_type == values["target_type"], Share.target_id == values["target_id"],
    )
    return (await session.execute(statement)).scalar_one()


async def with_sharer(session: AsyncSession, share_id: int) -> tuple[Share, str] | None:
    statement = (
        select(Share, Customer.nickname)
        .join(Customer, Customer.id == Share.sharer_id)
        .where(Share.id == share_id)
    )
    row = (await session.execute(statement)).first()
    return (row[0], row[1]) if row else None


async def reach_of(session: AsyncSession, merchant_id: int, campaign_ids: list[int]) -> tuple[int, int, int, int]:
    """Simple counts over the campaigns' shares: shares made, distinct sharers, customers who arrived through
    them, and how many of those shared in turn."""
    if not campaign_ids:
        return 0, 0, 0, 0
    shares = select(Share.id, Share.sharer_id).where(Share.merchant_id == merchant_id,
                                                    Share.campaign_id.in_(campaign_ids)).subquery()
    made, sharers = (await session.execute(
        select(func.count(shares.c.id), func.count(distinct(shares.c.sharer_id))))).one()
    brought = select(Customer.id).where(Customer.merchant_id == merchant_id,
                                        Customer.acquired_by_share_id.in_(select(shares.c.id))).subquery()
    acquired = (await session.execute(select(func.count()).select_from(brought))).scalar_one()
    passed_on = (await session.execute(select(func.count(distinct(shares.c.sharer_id))).where(
        shares.c.sharer_id.in_(select(brought.c.id))))).scalar_one()
    return int(made), int(sharers), int(acquired), int(passed_on)
