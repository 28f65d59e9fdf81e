"""Every query about groups. Seats are taken by one guarded UPDATE; nothing is read-then-written."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns.groupbuy.models import BuyingGroup, GroupOrder
from fissionmall.campaigns.groupbuy.states import GROUP_STATES, GroupStatus
from fissionmall.core.states import transition
from fissionmall.customers.models import Customer
from fissionmall.db.sql import Prebuilt, table
from fissionmall.orders.models import OrderItem

_GROUPS, _ENTRIES = table(BuyingGroup), table(GroupOrder)
_ADD_ENTRY = Prebuilt(lambda insert: insert(_ENTRIES).on_conflict_do_nothing().returning(_ENTRIES.c.order_id))
_ENTRY = select(GroupOrder).where(GroupOrder.order_id == bindparam("order_id"))
_GROUP = select(BuyingGroup).where(BuyingGroup.merchant_id == bindparam("merchant_id"),
                                   BuyingGroup.id == bindparam("group_id")).execution_options(populate_existing=True)
_OPEN_GROUP = insert(_GROUPS).returning(_GROUPS.c.id)
_TAKE_SEAT = (
    update(_GROUPS)
    .where(_GROUPS.c.id == bindparam("group_id"), _GROUPS.c.status == GroupStatus.OPEN,
           _GROUPS.c.paid_count < _GROUPS.c.size,
           _GROUPS.c.expires_at > bindparam("now", type_=_GROUPS.c.expires_at.type))
    .values(paid_count=_GROUPS.c.paid_count + 1)
    .returning(_GROUPS.c.paid_count, _GROUPS.c.size)
)


async def add_group_order(session: AsyncSession, **values: Any) -> bool:
    """False when the customer already holds an active order in that group (the unique index decides)."""
    return (await session.execute(_ADD_ENTRY(session), values)).first() is not None


async def group_order(session: AsyncSession, order_id: int) -> GroupOrder:
    return (await session.execute(_ENTRY, dict(order_id=order_id))).scalar_one()


async def group_orders(session: AsyncSession, order_ids: Sequence[int]) -> list[GroupOrder]:
    statement = select(GroupOrder).where(GroupOrder.order_id.in_(order_ids))
    return list((await session.execute(statement.execution_options(populate_existing=True))).scalars())


async def group_of(session: AsyncSession, merchant_id: int, group_id: int) -> BuyingGroup | None:
    return (await session.execute(_GROUP, dict(merchant_id=merchant_id, group_id=group_id))).scalar_one_or_none()


async def open_group(session: AsyncSession, **values: Any) -> int:
    group_id: int = (await session.execute(_OPEN_GROUP, values)).scalar_one()
    return group_id


async def take_seat(session: AsyncSession, group_id: int, now: datetime) -> tuple[int, int] | None:
    """(seat number, size) if a seat was free in an open, unexpired group; None otherwise."""
    row = (await session.execute(_TAKE_SEAT, dict(group_id=group_id, now=now))).first()
    return (row[0], row[1]) if row else None


_SEAT = update(_ENTRIES).where(_ENTRIES.c.order_id == bindparam("entry")).values(seat_no=bindparam("seat"))
_LEAD = (update(_ENTRIES).where(_ENTRIES.c.order_id == bindparam("entry"))
         .values(group_id=bindparam("opened"), is_leader=True, seat_no=1))


async def set_seat(session: AsyncSession, order_id: int, seat_no: int) -> None:
    """The member's seat (a Core UPDATE: `seated` and `group_orders` re-read entries with populate_existing)."""
    await session.execute(_SEAT, dict(entry=order_id, seat=seat_no))


async def lead(session: AsyncSession, order_id: int, group_id: int) -> None:
    """The leader's entry takes seat 1 of the group it opened."""
    await session.execute(_LEAD, dict(entry=order_id, opened=group_id))


async def close_groups(session: AsyncSession, group_ids: Sequence[int], to: GroupStatus, at: datetime) -> list[int]:
    """Close those groups still open, in one statement: the ids closed."""
    return await transition(session, GROUP_STATES, BuyingGroup, group_ids, to, values={"closed_at": at})


async def seated(session: AsyncSession, group_ids: Sequence[int]) -> list[GroupOrder]:
    """The seated members of these groups, in one query."""
    statement = (
        select(GroupOrder).where(GroupOrder.group_id.in_(group_ids), GroupOrder.seat_no.is_not(None),
                                 GroupOrder.active)
        .order_by(GroupOrder.group_id, GroupOrder.seat_no)
    )
    return list((await session.execute(statement.execution_options(populate_existing=True))).scalars())


Choice = tuple[int | None, int | None, str]
"""What a member chose: the product, the SKU and the title of their order's one line."""


async def members(session: AsyncSession, group_ids: Sequence[int]) -> list[tuple[GroupOrder, str, str, Choice]]:
    """Seated members of several groups with their names, avatars and what each chose (their order's line: a group
    order has exactly one), in one query."""
    statement = (
        select(GroupOrder, Customer.nickname, Customer.avatar_url, OrderItem.product_id, OrderItem.sku_id,
               OrderItem.title)
        .join(Customer, Customer.id == GroupOrder.customer_id)
        .outerjoin(OrderItem, (OrderItem.order_id == GroupOrder.order_id)
                   & (OrderItem.merchant_id == GroupOrder.merchant_id))
        .where(GroupOrder.group_id.in_(group_ids), GroupOrder.seat_no.is_not(None), GroupOrder.active)
        .order_by(GroupOrder.group_id, GroupOrder.seat_no)
    )
    return [(row[0], row[1], row[2], (row[3], row[4], row[5] or ""))
            for row in (await session.execute(statement)).all()]


async def open_groups(session: AsyncSession, campaign_id: int, now: datetime, limit: int) -> list[BuyingGroup]:
    """Open groups closest to filling first: strangers help them succeed (凑团)."""
    statement = (
        select(BuyingGroup)
        .where(BuyingGroup.campaign_id == campaign_id, BuyingGroup.status == GroupStatus.OPEN,
               BuyingGroup.expires_at > now)
        .order_by((BuyingGroup.size - BuyingGroup.paid_count), BuyingGroup.expires_at)
        .limit(limit)
    )
    return list((await session.execute(statement)).scalars())


async def due_groups(session: AsyncSession, now: datetime, limit: int) -> list[BuyingGroup]:
    statement = (
        select(BuyingGroup).where(BuyingGroup.status == GroupStatus.OPEN, BuyingGroup.expires_at <= now)
        .order_by(BuyingGroup.expires_at).limit(limit)
    )
    return list((await session.execute(statement)).scalars())


async def deactivate(session: AsyncSession, order_ids: Sequence[int]) -> None:
    await session.execute(update(GroupOrder).where(GroupOrder.order_id.in_(order_ids)).values(active=False))


async def group_page(session: AsyncSession, merchant_id: int, campaign_id: int, status: str | None,
                     before_id: int | None, limit: int) -> list[BuyingGroup]:
    """A campaign's groups, newest first, a page at a time (keyset on id; ix_buying_groups_campaign_status_id)."""
    statement = select(BuyingGroup).where(BuyingGroup.merchant_id == merchant_id,
                                          BuyingGroup.campaign_id == campaign_id)
    if status is not None:
        statement = statement.where(BuyingGroup.status == status)
    if before_id is not None:
        statement = statement.where(BuyingGroup.id < before_id)
    return list((await session.execute(statement.order_by(BuyingGroup.id.desc()).limit(limit))).scalars())
