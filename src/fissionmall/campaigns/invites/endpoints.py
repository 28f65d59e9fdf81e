from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns.invites import service
from fissionmall.campaigns.invites.schemas import InviteCampaignOut, InviteProgressOut
from fissionmall.core.auth import Shopper, current_shopper, optional_shopper
from fissionmall.core.schemas import RowId
from fissionmall.db.session import TransactionalRoute, get_session
from fissionmall.merchants import service as merchants

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: invite rewards"])


@router.get("/invite-campaigns/{campaign_id}", response_model=InviteCampaignOut)
async def campaign(campaign_id: RowId, request: Request, merchant: str | None = None,
                   shopper: Shopper | None = Depends(optional_shopper), session: AsyncSession = Depends(get_session)):
    """The published rules: what a friend must do, the reward, how many friends count."""
    merchant_id = await merchants.merchant_for_visitor(session, request.app.state.runtime, shopper, merchant)
    return await service.campaign_view(session, merchant_id, campaign_id)


@router.get("/invite-campaigns/{campaign_id}/mine", response_model=InviteProgressOut)
async def my_invites(campaign_id: RowId, shopper: Shopper = Depends(current_shopper),
                     session: AsyncSession = Depends(get_session)):
    """The inviter's page: the rules, each friend who came through them and what they earned."""
    return await service.progress(session, shopper, campaign_id)
