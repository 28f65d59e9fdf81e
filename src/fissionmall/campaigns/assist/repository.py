"""Every query about assist packets and their pool."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns.assist.models import AssistPacket
from fissionmall.campaigns.assist.states import ASSIST_STATES, AssistStatus
from fissionmall.core.states import transition
from fissionmall.customers.models import Customer
from fissionmall.db.sql import table

_PACKETS = table(AssistPacket)

_PACKET_OF = select(AssistPacket).where(
    AssistPacket.merchant_id == bindparam("merchant_id"), AssistPacket.id == bindparam("packet_id")
).execution_options(populate_existing=True)
_TAKE_STEP = (
    update(AssistPacket)
    .where(AssistPacket.id == bindparam("packet_id"), AssistPacket.status == AssistStatus.OPEN,
           AssistPacket.helps_done < AssistPacket.helpers_needed,
           AssistPacket.expires_at > bindparam("now", type_=AssistPacket.expires_at.type))
    .values(helps_done=AssistPacket.helps_done + 1)
    .returning(AssistPacket).execution_options(populate_existing=True, synchronize_session=False)
)


async def insert_packet(session: AsyncSession, **values: Any) -> AssistPacket:
    return (await session.execute(insert(AssistPacket).values(**values).returning(AssistPacket))).scalar_one()


async def packet_of(session: AsyncSession, merchant_id: int, packet_id: int) -> AssistPacket | None:
    return (await session.execute(_PACKET_OF, {"merchant_id": merchant_id, "packet_id": packet_id})
            ).scalar_one_or_none()


async def take_step(session: AsyncSession, packet_id: int, now: datetime) -> AssistPacket | None:
    """One more helper on an open packet in time: the packet as it now stands (its helps_done is the helper's
    number), or None."""
    return (await session.execute(_TAKE_STEP, {"packet_id": packet_id, "now": now})).scalar_one_or_none()


async def mark_opened(session: AsyncSession, packet_id: int, now: datetime, outcome: str, prize_seq: int | None,
                      prize_fen: int, **prize: Any) -> AssistPacket:
    result = await session.execute(
        update(AssistPacket)
        .where(AssistPacket.id == packet_id,
               ASSIST_STATES.guard(AssistPacket.status, AssistStatus.OPENED))
        .values(status=AssistStatus.OPENED, opened_at=now, outcome=outcome, prize_seq=prize_seq, prize_fen=prize_fen,
                **prize)
        .returning(AssistPacket).execution_options(populate_existing=True))
    return result.scalar_one()


async def expire_due(session: AsyncSession, now: datetime, limit: int) -> list[AssistPacket]:
    due = select(AssistPacket.id).where(AssistPacket.status == AssistStatus.OPEN, AssistPacket.expires_at <= now)
    ids = list((await session.execute(due.order_by(AssistPacket.expires_at).limit(limit))).scalars())
    expired = await transition(session, ASSIST_STATES, _PACKETS, ids, AssistStatus.EXPIRED)
    if not expired:
        return []
    statement = select(AssistPacket).where(AssistPacket.id.in_(expired)).execution_options(populate_existing=True)
    return list((await session.execute(statement)).scalars())


async def packet_page(session: AsyncSession, merchant_id: int, campaign_id: int, status: str | None,
                      before_id: int | None, limit: int) -> list[tuple[AssistPacket, str]]:
    """A campaign's packets with their owners' nicknames, newest first (keyset on id)."""
    statement = (select(AssistPacket, Customer.nickname).join(Customer, Customer.id == AssistPacket.customer_id)
                 .where(AssistPacket.merchant_id == merchant_id, AssistPacket.campaign_id == campaign_id))
    if status is not None:
        statement = statement.where(AssistPacket.status == status)
    if before_id is not None:
        statement = statement.where(AssistPacket.id < before_id)
    rows = await session.execute(statement.order_by(AssistPacket.id.desc()).limit(limit))
    return [(row[0], row[1]) for row in rows.all()]
