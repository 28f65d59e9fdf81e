"""Every query about bargains. Each help's step is one guarded statement that also locks the bargain row."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns.bargain.models import Bargain
from fissionmall.campaigns.bargain.states import BARGAIN_STATES, OPEN, BargainStatus
from fissionmall.core.states import transition
from fissionmall.customers.models import Customer
from fissionmall.db.sql import table

_BARGAINS = table(Bargain)


async def insert_bargain(session: AsyncSession, **values: Any) -> Bargain:
    return (await session.execute(insert(Bargain).values(**values).returning(Bargain))).scalar_one()


_BARGAIN_OF = select(Bargain).where(Bargain.merchant_id == bindparam("merchant_id"), Bargain.id == bindparam(
    "bargain_id")).execution_options(populate_existing=True)


async def bargain_of(session: AsyncSession, merchant_id: int, bargain_id: int) -> Bargain | None:
    return (await session.execute(_BARGAIN_OF, {"merchant_id": merchant_id, "bargain_id": bargain_id})
            ).scalar_one_or_none()


_TAKE_STEP = (
    update(Bargain)
    .where(Bargain.id == bindparam("bargain_id"), Bargain.status == BargainStatus.ONGOING,
           Bargain.helps_done < Bargain.helps_needed,
           Bargain.expires_at > bindparam("now", type_=Bargain.expires_at.type), Bargain.order_id.is_(None))
    .values(helps_done=Bargain.helps_done + 1)
    .returning(Bargain.helps_done, Bargain.price_fen, Bargain.floor_price_fen, Bargain.schedule)
    .execution_options(synchronize_session=False)  # the loaded bargain is refreshed by the price update next
)
_SET_PRICE = (
    update(Bargain)
    .where(Bargain.id == bindparam("bargain_id"),  # the step just taken holds it ongoing, where the floor is reached
           BARGAIN_STATES.guard(Bargain.status, BargainStatus.REACHED_FLOOR))
    .values(price_fen=bindparam("price"), status=bindparam("new_status"))
    .returning(Bargain).execution_options(populate_existing=True, synchronize_session=False)
)


async def take_step(session: AsyncSession, bargain_id: int, now: datetime) -> tuple[int, int, int, list[int]] | None:
    """Claim the next cut: (its number, price before it, floor, schedule), or None if no cut is left, the time
    ran out, or an order is buying it at its current price. The row stays locked by this transaction until it
    commits, so the price update that follows is not a stale write."""
    row = (await session.execute(_TAKE_STEP, {"bargain_id": bargain_id, "now": now})).first()
    return (row[0], row[1], row[2], list(row[3])) if row else None


async def set_price(session: AsyncSession, bargain_id: int, price_fen: int, status: BargainStatus) -> Bargain:
    """The bargain after its cut, as the row now stands (no read back)."""
    result = await session.execute(_SET_PRICE, {"bargain_id": bargain_id, "price": price_fen, "new_status": status})
    return result.scalar_one()


async def attach_order(session: AsyncSession, bargain_id: int, order_id: int, now: datetime) -> bool:
    result = await session.execute(
        update(Bargain)
        .where(Bargain.id == bargain_id, Bargain.order_id.is_(None), Bargain.status.in_(OPEN),
               Bargain.expires_at > now)
        .values(order_id=order_id))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def purchased(session: AsyncSession, order_id: int) -> None:
    await session.execute(update(Bargain).where(
        Bargain.order_id == order_id, BARGAIN_STATES.guard(Bargain.status, BargainStatus.PURCHASED),
    ).values(status=BargainStatus.PURCHASED))


async def detach_orders(session: AsyncSession, order_ids: Sequence[int]) -> None:
    """Orders cancelled or refunded before the bargain was bought: it may be bought again while it lasts."""
    await session.execute(update(Bargain).where(Bargain.order_id.in_(order_ids), Bargain.status.in_(OPEN))
                          .values(order_id=None))


async def expire_due(session: AsyncSession, now: datetime, limit: int) -> list[Bargain]:
    """One chunk of bargains whose time ran out and that no order is buying, moved to expired."""
    due = select(Bargain.id).where(Bargain.status.in_(OPEN), Bargain.expires_at <= now, Bargain.order_id.is_(None))
    ids = list((await session.execute(due.order_by(Bargain.expires_at).limit(limit))).scalars())
    expired = await transition(session, BARGAIN_STATES, _BARGAINS, ids, BargainStatus.EXPIRED,
                               where=[_BARGAINS.c.order_id.is_(None)])
    if not expired:
        return []
    statement = select(Bargain).where(Bargain.id.in_(expired)).execution_options(populate_existing=True)
    return list((await session.execute(statement)).scalars())


async def bargain_page(session: AsyncSession, merchant_id: int, campaign_id: int, status: str | None,
                       before_id: int | None, limit: int) -> list[tuple[Bargain, str]]:
    """A campaign's bargains with their initiators' nicknames, newest first (keyset on id)."""
    statement = (select(Bargain, Customer.nickname).join(Customer, Customer.id == Bargain.customer_id)
                 .where(Bargain.merchant_id == merchant_id, Bargain.campaign_id == campaign_id))
    if status is not None:
        statement = statement.where(Bargain.status == status)
    if before_id is not None:
        statement = statement.where(Bargain.id < before_id)
    rows = await session.execute(statement.order_by(Bargain.id.desc()).limit(limit))
    return [(row[0], row[1]) for row in rows.all()]
