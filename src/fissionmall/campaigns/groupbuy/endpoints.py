from __future__ import annotations

from fastapi import APIRouter, Query

from fissionmall.campaigns.groupbuy import service
from fissionmall.campaigns.groupbuy.schemas import GroupCampaignOut, GroupOut, GroupPage
from fissionmall.campaigns.groupbuy.states import GroupStatus
from fissionmall.core.deps import ClockDep, OptionalShopperDep, OrdersReader, ReplicaSessionDep, SessionDep
from fissionmall.core.runtime import RuntimeDep
from fissionmall.core.schemas import RowId
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.merchants import service as merchants

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: group buying"])


@router.get("/group-campaigns/{campaign_id}", response_model=GroupCampaignOut)
async def campaign(campaign_id: RowId, shopper: OptionalShopperDep, session: ReplicaSessionDep, runtime: RuntimeDep,
                   merchant: str | None = None) -> GroupCampaignOut:
    """Prices and the published rules: size, time to fill, refund on failure, auto-complete."""
    merchant_id = await merchants.merchant_for_visitor(session, runtime.settings, shopper, merchant)
    return await service.campaign_view(session, merchant_id, campaign_id)


@router.get("/group-campaigns/{campaign_id}/groups", response_model=list[GroupOut])
async def open_groups(campaign_id: RowId, shopper: OptionalShopperDep, session: ReplicaSessionDep, runtime: RuntimeDep,
                      merchant: str | None = None) -> list[GroupOut]:
    merchant_id = await merchants.merchant_for_visitor(session, runtime.settings, shopper, merchant)
    return await service.open_groups(session, runtime.clock, merchant_id, campaign_id)


@router.get("/groups/{group_id}", response_model=GroupOut)
async def group(group_id: RowId, shopper: OptionalShopperDep, session: SessionDep, runtime: RuntimeDep,
                merchant: str | None = None) -> GroupOut:
    merchant_id = await merchants.merchant_for_visitor(session, runtime.settings, shopper, merchant)
    return await service.group_view(session, runtime.clock, merchant_id, group_id)


@router.get("/admin/campaigns/{campaign_id}/groups", response_model=GroupPage, tags=["admin: campaigns"])
async def campaign_groups(campaign_id: RowId, staff: OrdersReader, session: SessionDep, clock: ClockDep,
                          status: GroupStatus | None = None, cursor: str | None = None,
                          limit: int = Query(20, ge=1, le=50)) -> GroupPage:
    """The groups of one of the merchant's group buys, newest first: members, places left, time left."""
    return await service.campaign_groups(session, clock, staff.merchant_id, campaign_id, status, cursor, limit)
