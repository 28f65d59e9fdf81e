"""Every query about groups. Seats are taken by one guarded UPDATE; nothing is read-then-written."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns.groupbuy.models import BuyingGroup, GroupOrder
from fissionmall.customers.models import Customer
from fissionmall.db.sql import insert_ignoring_conflicts


async def add_group_order(session: AsyncSession, **values: Any) -> bool:
    """False when the customer already holds an active order in that group (the unique index decides)."""
    result = await session.execute(insert_ignoring_conflicts(session, GroupOrder).values(**values)
                                   .returning(GroupOrder.order_id))
    return result.first() is not None


async def group_order(session: AsyncSession, order_id: int) -> GroupOrder:
    return (await session.execute(select(GroupOrder).where(GroupOrder.order_id == order_id))).scalar_one()


async def group_orders(session: AsyncSession, order_ids: Sequence[int]) -> list[GroupOrder]:
    return list((await session.execute(select(GroupOrder).where(GroupOrder.order_id.in_(order_ids)))).scalars())


async def group_of(session: AsyncSession, merchant_id: int, group_id: int) -> BuyingGroup | None:
    statement = select(BuyingGroup).where(BuyingGroup.merchant_id == merchant_id, BuyingGroup.id == group_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def open_group(session: AsyncSession, **values: Any) -> int:
    return (await session.execute(insert(BuyingGroup).values(**values).returning(BuyingGroup.id))).scalar_one()


async def take_seat(session: AsyncSession, group_id: int, now: datetime) -> tuple[int, int] | None:
    """(seat number, size) if a seat was free in an open, unexpired group; None otherwise."""
    result = await session.execute(
        update(BuyingGroup)
        .where(BuyingGroup.id == group_id, BuyingGroup.status == "open", BuyingGroup.paid_count < BuyingGroup.size,
               BuyingGroup.expires_at > now)
        .values(paid_count=BuyingGroup.paid_count + 1)
        .returning(BuyingGroup.paid_count, BuyingGroup.size)
    )
    row = result.first()
    return (row[0], row[1]) if row else None


async def set_seat(session: AsyncSession, order_id: int, **values: Any) -> None:
    await session.execute(update(GroupOrder).where(GroupOrder.order_id == order_id).values(**values))


async def close_groups(session: AsyncSession, group_ids: Sequence[int], to: str, at: datetime) -> list[int]:
    """Close those groups still open, in one statement: the ids closed."""
    result = await session.execute(
        update(BuyingGroup).where(BuyingGroup.id.in_(group_ids), BuyingGroup.status == "open")
        .values(status=to, closed_at=at).returning(BuyingGroup.id)
    )
    return list(result.scalars())


async def seated(session: AsyncSession, group_ids: Sequence[int]) -> list[GroupOrder]:
    """The seated members of these groups, in one query."""
    statement = (
        select(GroupOrder).where(GroupOrder.group_id.in_(group_ids), GroupOrder.seat_no.is_not(None),
                                 GroupOrder.active)
        .order_by(GroupOrder.group_id, GroupOrder.seat_no)
    )
    return list((await session.execute(statement)).scalars())


async def members(session: AsyncSession, group_ids: Sequence[int]) -> list[tuple[GroupOrder, str, str]]:
    """Seated members of several groups with their names and avatars, in one query."""
    statement = (
        select(GroupOrder, Customer.nickname, Customer.avatar_url)
        .join(Customer, Customer.id == GroupOrder.customer_id)
        .where(GroupOrder.group_id.in_(group_ids), GroupOrder.seat_no.is_not(None), GroupOrder.active)
        .order_by(GroupOrder.group_id, GroupOrder.seat_no)
    )
    return [(row[0], row[1], row[2]) for row in (await session.execute(statement)).all()]


async def open_groups(session: AsyncSession, campaign_id: int, now: datetime, limit: int) -> list[BuyingGroup]:
    """Open groups closest to filling first: strangers help them succeed (凑团)."""
    statement = (
        select(BuyingGroup)
        .where(BuyingGroup.campaign_id == campaign_id, BuyingGroup.status == "open", BuyingGroup.expires_at > now)
        .order_by((BuyingGroup.size - BuyingGroup.paid_count), BuyingGroup.expires_at)
        .limit(limit)
    )
    return list((await session.execute(statement)).scalars())


async def due_groups(session: AsyncSession, now: datetime, limit: int) -> list[BuyingGroup]:
    statement = (
        select(BuyingGroup).where(BuyingGroup.status == "open", BuyingGroup.expires_at <= now)
        .order_by(BuyingGroup.expires_at).limit(limit)
    )
    return list((await session.execute(statement)).scalars())


async def deactivate(session: AsyncSession, order_ids: Sequence[int]) -> None:
    await session.execute(update(GroupOrder).where(GroupOrder.order_id.in_(order_ids)).values(active=False))
