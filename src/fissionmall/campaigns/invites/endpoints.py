from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns.invites import service
from fissionmall.campaigns.invites.schemas import InviteProgressOut
from fissionmall.core.auth import Shopper, current_shopper
from fissionmall.db.session import TransactionalRoute, get_session

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: invite rewards"])


@router.get("/invite-campaigns/{campaign_id}/mine", response_model=InviteProgressOut)
async def my_invites(campaign_id: int, shopper: Shopper = Depends(current_shopper),
                     session: AsyncSession = Depends(get_session)):
    """The inviter's page: the rules, each friend who came through them and what they earned."""
    return await service.progress(session, shopper, campaign_id)
