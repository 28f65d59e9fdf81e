"""Every query about coupon packets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns.packets.models import CouponPacket
from fissionmall.campaigns.packets.states import PACKET_STATES, PacketStatus
from fissionmall.core.states import transition
from fissionmall.customers.models import Customer
from fissionmall.db.sql import insert_ignoring_conflicts, table

_PACKETS = table(CouponPacket)


async def insert_packet(session: AsyncSession, **values: Any) -> int | None:
    """The new packet's id, or None if this order already has its packet from this campaign."""
    result = await session.execute(
        insert_ignoring_conflicts(session, CouponPacket).values(**values).returning(CouponPacket.id))
    return result.scalar()


async def packet_of(session: AsyncSession, merchant_id: int, packet_id: int) -> CouponPacket | None:
    statement = select(CouponPacket).where(CouponPacket.merchant_id == merchant_id, CouponPacket.id == packet_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def packets_of_order(session: AsyncSession, merchant_id: int, order_id: int) -> list[CouponPacket]:
    statement = select(CouponPacket).where(CouponPacket.merchant_id == merchant_id, CouponPacket.order_id == order_id)
    return list((await session.execute(statement.order_by(CouponPacket.id))).scalars())


async def count_friend(session: AsyncSession, packet_id: int) -> int:
    result = await session.execute(
        update(CouponPacket).where(CouponPacket.id == packet_id)
        .values(friends_claimed=CouponPacket.friends_claimed + 1).returning(CouponPacket.friends_claimed))
    return int(result.scalar_one())


async def finish(session: AsyncSession, packet_id: int) -> None:
    await transition(session, PACKET_STATES, CouponPacket, [packet_id], PacketStatus.FINISHED)  # the claim shows it


async def expire_due(session: AsyncSession, now: datetime, limit: int) -> int:
    due = select(CouponPacket.id).where(CouponPacket.status == PacketStatus.OPEN, CouponPacket.expires_at <= now)
    ids = list((await session.execute(due.limit(limit))).scalars())
    await transition(session, PACKET_STATES, _PACKETS, ids, PacketStatus.EXPIRED)
    return len(ids)


async def packet_page(session: AsyncSession, merchant_id: int, campaign_id: int, status: str | None,
                      before_id: int | None, limit: int) -> list[tuple[CouponPacket, str]]:
    """A campaign's packets with their owners' nicknames, newest first (keyset on id)."""
    statement = (select(CouponPacket, Customer.nickname).join(Customer, Customer.id == CouponPacket.owner_id)
                 .where(CouponPacket.merchant_id == merchant_id, CouponPacket.campaign_id == campaign_id))
    if status is not None:
        statement = statement.where(CouponPacket.status == status)
    if before_id is not None:
        statement = statement.where(CouponPacket.id < before_id)
    rows = await session.execute(statement.order_by(CouponPacket.id.desc()).limit(limit))
    return [(row[0], row[1]) for row in rows.all()]
