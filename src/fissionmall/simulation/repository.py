"""A campaign's stored forecast: read, and written in place of an earlier one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.simulation.models import CampaignForecast


async def forecast(session: AsyncSession, merchant_id: int, campaign_id: int) -> CampaignForecast | None:
    return (await session.execute(select(CampaignForecast).where(
        CampaignForecast.merchant_id == merchant_id, CampaignForecast.campaign_id == campaign_id))).scalar_one_or_none()


async def store(session: AsyncSession, merchant_id: int, campaign_id: int, made_at: datetime, made_by: int,
                inputs: dict[str, Any], answer: dict[str, Any]) -> CampaignForecast:
    row = await forecast(session, merchant_id, campaign_id)
    if row is None:
        row = CampaignForecast(merchant_id=merchant_id, campaign_id=campaign_id)
        session.add(row)
    row.made_at, row.made_by, row.inputs, row.answer = made_at, made_by, inputs, answer
    await session.flush()
    return row
