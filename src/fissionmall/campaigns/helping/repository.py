"""Every query about helps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns.helping.models import GoodsPrize, Help
from fissionmall.customers.models import Customer
from fissionmall.db.sql import insert_ignoring_conflicts


async def insert_help(session: AsyncSession, **values: Any) -> int | None:
    """The help's id, or None when this helper already helped this record (the unique key decides)."""
    result = await session.execute(insert_ignoring_conflicts(session, Help).values(**values).returning(Help.id))
    return result.scalar()


async def settle(session: AsyncSession, help_id: int, seq: int, amount_fen: int) -> None:
    await session.execute(update(Help).where(Help.id == help_id).values(seq=seq, amount_fen=amount_fen))


async def helps_of(session: AsyncSession, target_type: str, target_ids: Sequence[int]) -> list[tuple[Help, str, str]]:
    """Every help on these records, with the helper's name and avatar, in order."""
    statement = (
        select(Help, Customer.nickname, Customer.avatar_url).join(Customer, Customer.id == Help.helper_id)
        .where(Help.target_type == target_type, Help.target_id.in_(target_ids)).order_by(Help.target_id, Help.seq)
    )
    return [(h, nickname, avatar) for h, nickname, avatar in (await session.execute(statement)).all()]


async def insert_goods_prize(session: AsyncSession, **values: Any) -> int | None:
    """The goods prize's id, or None when its source already gave one (the unique key decides)."""
    result = await session.execute(
        insert_ignoring_conflicts(session, GoodsPrize).values(**values).returning(GoodsPrize.id))
    return result.scalar()


async def goods_prize_of(session: AsyncSession, merchant_id: int, prize_id: int) -> GoodsPrize | None:
    statement = (select(GoodsPrize).where(GoodsPrize.merchant_id == merchant_id, GoodsPrize.id == prize_id)
                 .execution_options(populate_existing=True))
    return (await session.execute(statement)).scalar_one_or_none()


async def goods_prizes_of(session: AsyncSession, merchant_id: int, customer_id: int) -> list[GoodsPrize]:
    statement = (select(GoodsPrize).where(GoodsPrize.merchant_id == merchant_id,
                                          GoodsPrize.customer_id == customer_id).order_by(GoodsPrize.id.desc()))
    return list((await session.execute(statement)).scalars())


async def hold_goods_prize(session: AsyncSession, prize_id: int, customer_id: int, order_id: int) -> bool:
    """The prize passes to this order only if still unclaimed: one order at a time holds it."""
    result = await session.execute(
        update(GoodsPrize).where(GoodsPrize.id == prize_id, GoodsPrize.customer_id == customer_id,
                                 GoodsPrize.status == "unclaimed")
        .values(status="ordered", order_id=order_id).returning(GoodsPrize.id))
    return result.scalar() is not None


async def redeem_goods_prizes(session: AsyncSession, order_id: int) -> None:
    await session.execute(update(GoodsPrize).where(GoodsPrize.order_id == order_id, GoodsPrize.status == "ordered")
                          .values(status="redeemed"))


async def free_goods_prizes(session: AsyncSession, order_ids: Sequence[int]) -> None:
    """Orders cancelled unpaid or refunded in full: their goods prizes can be ordered again."""
    await session.execute(update(GoodsPrize).where(GoodsPrize.order_id.in_(order_ids))
                          .values(status="unclaimed", order_id=None))
