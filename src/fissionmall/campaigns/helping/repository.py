"""Every query about helps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns.helping.models import Help
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
