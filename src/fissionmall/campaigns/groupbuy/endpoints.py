from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns.groupbuy import service
from fissionmall.campaigns.groupbuy.schemas import GroupCampaignOut, GroupOut
from fissionmall.core.auth import Shopper, optional_shopper
from fissionmall.core.schemas import RowId
from fissionmall.db.session import TransactionalRoute, get_session
from fissionmall.merchants import service as merchants

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: group buying"])


@router.get("/group-campaigns/{campaign_id}", response_model=GroupCampaignOut)
async def campaign(campaign_id: RowId, request: Request, merchant: str | None = None,
                   shopper: Shopper | None = Depends(optional_shopper), session: AsyncSession = Depends(get_session)):
    """Prices and the published rules: size, time to fill, refund on failure, auto-complete."""
    merchant_id = await merchants.merchant_for_visitor(session, request.app.state.runtime, shopper, merchant)
    return await service.campaign_view(session, merchant_id, campaign_id)


@router.get("/group-campaigns/{campaign_id}/groups", response_model=list[GroupOut])
async def open_groups(campaign_id: RowId, request: Request, merchant: str | None = None,
                      shopper: Shopper | None = Depends(optional_shopper),
                      session: AsyncSession = Depends(get_session)):
    merchant_id = await merchants.merchant_for_visitor(session, request.app.state.runtime, shopper, merchant)
    return await service.open_groups(session, request.app.state.runtime, merchant_id, campaign_id)


@router.get("/groups/{group_id}", response_model=GroupOut)
async def group(group_id: RowId, request: Request, merchant: str | None = None,
                shopper: Shopper | None = Depends(optional_shopper), session: AsyncSession = Depends(get_session)):
    merchant_id = await merchants.merchant_for_visitor(session, request.app.state.runtime, shopper, merchant)
    return await service.group_view(session, request.app.state.runtime, merchant_id, group_id)
