"""Every query of points: the merchant's points rules, the buckets drawn and expired oldest first, the guarded
balance, check-in, and what completed orders kept."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.db.sql import insert_ignoring_conflicts
from fissionmall.loyalty.points.models import PointsBalance, PointsConfig, PointsEntry
from fissionmall.orders.models import Order


async def points_config(session: AsyncSession, merchant_id: int) -> PointsConfig | None:
    statement = select(PointsConfig).where(PointsConfig.merchant_id == merchant_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def save_points_config(session: AsyncSession, merchant_id: int, **values: Any) -> None:
    await session.execute(insert_ignoring_conflicts(session, PointsConfig).values(merchant_id=merchant_id, **values))
    await session.execute(update(PointsConfig).where(PointsConfig.merchant_id == merchant_id).values(**values))


async def _move_balance(session: AsyncSession, merchant_id: int, customer_id: int, points: int) -> None:
    await session.execute(insert_ignoring_conflicts(session, PointsBalance).values(
        merchant_id=merchant_id, customer_id=customer_id, balance=0, streak=0))
    await session.execute(update(PointsBalance).where(PointsBalance.customer_id == customer_id)
                          .values(balance=PointsBalance.balance + points))


async def add_entry(session: AsyncSession, **values: Any) -> bool:
    result = await session.execute(insert_ignoring_conflicts(session, PointsEntry).values(**values)
                                   .returning(PointsEntry.id))
    return result.scalar() is not None


async def add_bucket(session: AsyncSession, **values: Any) -> bool:
    """A new earning and its balance, once per (customer, kind, source)."""
    if not await add_entry(session, **values):
        return False
    await _move_balance(session, values["merchant_id"], values["customer_id"], values["points"])
    return True


async def take_balance(session: AsyncSession, customer_id: int, points: int) -> bool:
    result = await session.execute(update(PointsBalance).where(PointsBalance.customer_id == customer_id,
                                                               PointsBalance.balance >= points)
                                   .values(balance=PointsBalance.balance - points))
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


async def draw_buckets(session: AsyncSession, customer_id: int, points: int, at: datetime) -> None:
    """Take `points` from the customer's live buckets, soonest to expire first. The balance row was taken by a
    guarded update just before, so this customer's buckets are not drawn by anyone else meanwhile."""
    statement = (select(PointsEntry).where(PointsEntry.customer_id == customer_id, PointsEntry.remaining > 0,
                                           PointsEntry.expires_at > at)
                 .order_by(PointsEntry.expires_at, PointsEntry.id).with_for_update())
    left = points
    for bucket in (await session.execute(statement.execution_options(populate_existing=True))).scalars():
        take = min(left, bucket.remaining)
        await session.execute(update(PointsEntry).where(PointsEntry.id == bucket.id)
                              .values(remaining=PointsEntry.remaining - take))
        left -= take
        if not left:
            return
    raise RuntimeError(f"customer {customer_id}: balance and buckets disagree by {left} points")


async def _expire(session: AsyncSession, buckets: list[PointsEntry], at: datetime) -> None:
    for bucket in buckets:
        left, customer_id, merchant_id, bucket_id = bucket.remaining, bucket.customer_id, bucket.merchant_id, bucket.id
        result = await session.execute(update(PointsEntry).where(PointsEntry.id == bucket_id, PointsEntry.remaining > 0)
                                       .values(remaining=0).returning(PointsEntry.id))
        if result.first() is None:
            continue
        await add_entry(session, merchant_id=merchant_id, customer_id=customer_id, points=-left, remaining=0,
                        kind="expired", source_type="points", source_id=bucket_id, expires_at=None, created_at=at)
        await session.execute(update(PointsBalance).where(PointsBalance.customer_id == customer_id)
                              .values(balance=PointsBalance.balance - left))


async def expire_buckets(session: AsyncSession, customer_id: int, at: datetime) -> None:
    statement = (select(PointsEntry).where(PointsEntry.customer_id == customer_id, PointsEntry.remaining > 0,
                                           PointsEntry.expires_at <= at).with_for_update())
    await _expire(session, list((await session.execute(statement.execution_options(populate_existing=True)))
                                .scalars()), at)


async def expire_all(session: AsyncSession, at: datetime, limit: int) -> int:
    statement = (select(PointsEntry).where(PointsEntry.remaining > 0, PointsEntry.expires_at <= at)
                 .order_by(PointsEntry.id).limit(limit).with_for_update(skip_locked=True))
    buckets = list((await session.execute(statement.execution_options(populate_existing=True))).scalars())
    await _expire(session, buckets, at)
    return len(buckets)


async def points_balance(session: AsyncSession, customer_id: int) -> int:
    statement = select(PointsBalance.balance).where(PointsBalance.customer_id == customer_id)
    return int((await session.execute(statement)).scalar() or 0)


async def balance_row(session: AsyncSession, customer_id: int) -> tuple[int, str | None, int]:
    statement = select(PointsBalance.balance, PointsBalance.last_checkin, PointsBalance.streak).where(
        PointsBalance.customer_id == customer_id)
    row = (await session.execute(statement)).first()
    return (int(row[0]), row[1], int(row[2])) if row else (0, None, 0)


async def entries_of(session: AsyncSession, customer_id: int, limit: int) -> list[PointsEntry]:
    statement = (select(PointsEntry).where(PointsEntry.customer_id == customer_id)
                 .order_by(PointsEntry.id.desc()).limit(limit))
    return list((await session.execute(statement)).scalars())


async def checkin_days(session: AsyncSession, customer_id: int, month: str) -> list[int]:
    """The days of `month` (YYYY-MM) checked in: a check-in's bucket is keyed by its day as YYYYMMDD."""
    first = int(month.replace("-", "")) * 100
    statement = (select(PointsEntry.source_id).where(
        PointsEntry.customer_id == customer_id, PointsEntry.kind == "checkin", PointsEntry.source_type == "checkin",
        PointsEntry.source_id > first, PointsEntry.source_id <= first + 31).order_by(PointsEntry.source_id))
    return [int(day) - first for day in (await session.execute(statement)).scalars()]


async def spent_on(session: AsyncSession, order_id: int) -> int:
    statement = select(func.coalesce(-func.sum(PointsEntry.points), 0)).where(
        PointsEntry.kind == "spent", PointsEntry.source_type == "order", PointsEntry.source_id == order_id)
    return int((await session.execute(statement)).scalar_one())


async def check_in(session: AsyncSession, merchant_id: int, customer_id: int, today: str,
                   yesterday: str) -> int | None:
    """Mark today's check-in: the new streak, or None if the customer already checked in today."""
    await session.execute(insert_ignoring_conflicts(session, PointsBalance).values(
        merchant_id=merchant_id, customer_id=customer_id, balance=0, streak=0))
    result = await session.execute(
        update(PointsBalance)
        .where(PointsBalance.customer_id == customer_id,
               (PointsBalance.last_checkin.is_(None)) | (PointsBalance.last_checkin != today))
        .values(streak=case((PointsBalance.last_checkin == yesterday, PointsBalance.streak + 1), else_=1),
                last_checkin=today)
        .returning(PointsBalance.streak))
    return result.scalar()


async def kept_by_orders(session: AsyncSession, order_ids: list[int]) -> list[tuple[int, int, int]]:
    """(order, customer, money kept) of those orders that are completed."""
    statement = select(Order.id, Order.customer_id, Order.paid_fen - Order.refunded_fen).where(
        Order.id.in_(order_ids), Order.status == "completed").order_by(Order.id)
    return [(int(a), int(b), int(c)) for a, b, c in (await session.execute(statement)).all()]
