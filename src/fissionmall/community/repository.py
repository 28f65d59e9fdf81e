"""Every query about reviews."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
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
    statement = (select(Review).where(Review.merchant_id == merchant_id, Review.product_id == product_id,
                                      Review.hidden_at.is_(None))
                 .order_by(Review.id.desc()).limit(limit))
    return list((await session.execute(statement)).scalars())


async def summary(session: AsyncSession, merchant_id: int, product_id: int) -> tuple[int, float | None]:
    statement = select(func.count(), func.avg(Review.rating)).where(
        Review.merchant_id == merchant_id, Review.product_id == product_id, Review.hidden_at.is_(None))
    count, average = (await session.execute(statement)).one()
    return int(count), round(float(average), 2) if average is not None else None


async def reviewed_products(session: AsyncSession, order_id: int) -> set[int]:
    return set((await session.execute(select(Review.product_id).where(Review.order_id == order_id))).scalars())


async def review_of(session: AsyncSession, merchant_id: int, review_id: int) -> Review | None:
    statement = select(Review).where(Review.merchant_id == merchant_id, Review.id == review_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def for_moderation(session: AsyncSession, merchant_id: int, *, hidden: bool | None, rating: int | None,
                         product_id: int | None, before_id: int | None, limit: int) -> list[Review]:
    """The merchant's reviews newest first, one keyset page (the merchant's or the product's index serves it)."""
    statement = select(Review).where(Review.merchant_id == merchant_id).order_by(Review.id.desc()).limit(limit)
    if hidden is not None:
        statement = statement.where(Review.hidden_at.is_not(None) if hidden else Review.hidden_at.is_(None))
    if rating is not None:
        statement = statement.where(Review.rating == rating)
    if product_id is not None:
        statement = statement.where(Review.product_id == product_id)
    if before_id is not None:
        statement = statement.where(Review.id < before_id)
    return list((await session.execute(statement)).scalars())


async def set_hidden(session: AsyncSession, review_id: int, *, at: datetime | None, by: int | None,
                     reason: str | None) -> None:
    await session.execute(update(Review).where(Review.id == review_id)
                          .values(hidden_at=at, hidden_by=by, hidden_reason=reason))
