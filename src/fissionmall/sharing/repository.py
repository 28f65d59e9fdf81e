"""Every query about shares."""

from __future__ import annotations

from sqlalchemy import select
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
