from __future__ import annotations

from fastapi import APIRouter

from fissionmall.campaigns.invites import service
from fissionmall.campaigns.invites.schemas import InviteCampaignOut, InviteProgressOut
from fissionmall.core.deps import ClockDep, OptionalShopperDep, ReplicaSessionDep, SessionDep, ShopperDep
from fissionmall.core.runtime import RuntimeDep
from fissionmall.core.schemas import RowId
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.merchants import service as merchants

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: invite rewards"])


@router.get("/invite-campaigns", response_model=list[InviteCampaignOut])
async def live(shopper: OptionalShopperDep, session: ReplicaSessionDep, runtime: RuntimeDep,
               merchant: str | None = None) -> list[InviteCampaignOut]:
    """The invite campaigns running now: what an invite link (share target "invite") promises."""
    merchant_id = await merchants.merchant_for_visitor(session, runtime.settings, shopper, merchant)
    return await service.live(session, runtime.clock, merchant_id)


@router.get("/invites/mine", response_model=list[InviteProgressOut])
async def my_live_invites(shopper: ShopperDep, session: SessionDep, clock: ClockDep) -> list[InviteProgressOut]:
    """The inviter's progress in every invite campaign running now."""
    return await service.my_live(session, clock, shopper)


@router.get("/invite-campaigns/{campaign_id}", response_model=InviteCampaignOut)
async def campaign(campaign_id: RowId, shopper: OptionalShopperDep, session: ReplicaSessionDep, runtime: RuntimeDep,
                   merchant: str | None = None) -> InviteCampaignOut:
    """The published rules: what a friend must do, the reward, how many friends count."""
    merchant_id = await merchants.merchant_for_visitor(session, runtime.settings, shopper, merchant)
    return await service.campaign_view(session, merchant_id, campaign_id)


@router.get("/invite-campaigns/{campaign_id}/mine", response_model=InviteProgressOut)
async def my_invites(campaign_id: RowId, shopper: ShopperDep, session: SessionDep) -> InviteProgressOut:
    """The inviter's page: the rules, each friend who came through them and what they earned."""
    return await service.progress(session, shopper, campaign_id)
