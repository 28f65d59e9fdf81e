"""Every query about reviews."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.community.models import Review
from fissionmall.db.sql import insert_ignoring_conflicts


async def add(session: AsyncSession, **values: Any) -> int | None:
    """The new review's id, or None when this order's product was reviewed already (the unique key decides)."""
    result = await session.execute(insert_ignoring_conflicts(session, Review).values(**values).returning(Review.id))
    return result.scalar()


async def review(session: AsyncSession, review_id: int) -> Review:
    return (await session.execute(select(Review).where(Review.id == review_id))).scalar_one()


async def of_product(session: AsyncSession, merchant_id: int, product_id: int, limit: int) -> list[Review]:
    statement = (select(Review).where(Review.merchant_id == merchant_id, Review.product_id == product_id)
                 .order_by(Review.id.desc()).limit(limit))
    return list((await session.execute(statement)).scalars())


async def summary(session: AsyncSession, merchant_id: int, product_id: int) -> tuple[int, float | None]:
    statement = select(func.count(), func.avg(Review.rating)).where(Review.merchant_id == merchant_id,
                                                                    Review.product_id == product_id)
    count, average = (await session.execute(statement)).one()
    return int(count), round(float(average), 2) if average is not None else None


async def reviewed_products(session: AsyncSession, order_id: int) -> set[int]:
    return set((await session.execute(select(Review.product_id).where(Review.order_id == order_id))).scalars())
