"""A campaign's stored forecast: read, and written in place of an earlier one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.db.sql import dialect_insert
from fissionmall.simulation.models import CampaignForecast


async def forecast(session: AsyncSession, merchant_id: int, campaign_id: int) -> CampaignForecast | None:
    return (await session.execute(select(CampaignForecast).where(
        CampaignForecast.merchant_id == merchant_id, CampaignForecast.campaign_id == campaign_id))).scalar_one_or_none()


async def store(session: AsyncSession, merchant_id: int, campaign_id: int, made_at: datetime, made_by: int,
                inputs: dict[str, Any], answer: dict[str, Any]) -> CampaignForecast:
    """One statement, in place of an earlier forecast: two first saves at once leave one row (the later), not a
    unique-key error."""
    values = dict(made_at=made_at, made_by=made_by, inputs=inputs, answer=answer)
    statement = dialect_insert(session, CampaignForecast).values(merchant_id=merchant_id, campaign_id=campaign_id,
                                                                **values)
    await session.execute(statement.on_conflict_do_update(index_elements=["campaign_id", "merchant_id"], set_=values))
    row = await forecast(session, merchant_id, campaign_id)
    assert row is not None  # just written, in this transaction
    await session.refresh(row)
    return row
