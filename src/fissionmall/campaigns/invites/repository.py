"""Every query about invite rewards."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns.invites.models import InviteReward
from fissionmall.customers.models import Customer
from fissionmall.db.sql import insert_ignoring_conflicts


async def record(session: AsyncSession, **values: Any) -> int | None:
    """The reward's id, or None when this friend was already counted in this campaign."""
    result = await session.execute(
        insert_ignoring_conflicts(session, InviteReward).values(**values).returning(InviteReward.id))
    return result.scalar()


async def rewards_of(session: AsyncSession, campaign_id: int, inviter_id: int) -> list[tuple[InviteReward, str]]:
    statement = (select(InviteReward, Customer.nickname).join(Customer, Customer.id == InviteReward.invitee_id)
                 .where(InviteReward.campaign_id == campaign_id, InviteReward.inviter_id == inviter_id)
                 .order_by(InviteReward.id))
    return [(reward, nickname) for reward, nickname in (await session.execute(statement)).all()]


async def settle(session: AsyncSession, reward_id: int, outcome: str, amount_fen: int) -> None:
    await session.execute(update(InviteReward).where(InviteReward.id == reward_id)
                          .values(outcome=outcome, amount_fen=amount_fen))
