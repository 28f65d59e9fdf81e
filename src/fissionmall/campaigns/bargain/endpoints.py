from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from fissionmall.campaigns.bargain import service
from fissionmall.campaigns.bargain.schemas import BargainCampaignOut, BargainOut, BargainPage, StartBargain
from fissionmall.campaigns.bargain.states import BargainStatus
from fissionmall.core.deps import (
    ClockDep,
    IdempotentDep,
    OptionalShopperDep,
    OrdersReader,
    ReplicaSessionDep,
    SessionDep,
    ShopperDep,
)
from fissionmall.core.runtime import RuntimeDep
from fissionmall.core.schemas import RowId
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.customers.schemas import ClientDep
from fissionmall.merchants import service as merchants

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: bargaining"])


@router.get("/bargain-campaigns/{campaign_id}", response_model=BargainCampaignOut)
async def campaign(campaign_id: RowId, shopper: OptionalShopperDep, session: ReplicaSessionDep, runtime: RuntimeDep,
                   merchant: str | None = None) -> BargainCampaignOut:
    """The published rules before anyone starts: N, floor, deadline, limits (P1)."""
    merchant_id = await merchants.merchant_for_visitor(session, runtime.settings, shopper, merchant)
    return await service.campaign_view(session, merchant_id, campaign_id)


@router.post("/bargains", response_model=BargainOut, status_code=201)
async def start(body: StartBargain, shopper: ShopperDep, session: SessionDep, idempotent: IdempotentDep,
                runtime: RuntimeDep) -> BargainOut | JSONResponse:
    return await idempotent(lambda: service.start(session, runtime, shopper, body), by=shopper, body=body,
                            status_code=201)


@router.get("/bargains/{bargain_id}", response_model=BargainOut)
async def bargain(bargain_id: RowId, shopper: OptionalShopperDep, session: SessionDep, runtime: RuntimeDep,
                  merchant: str | None = None) -> BargainOut:
    merchant_id = await merchants.merchant_for_visitor(session, runtime.settings, shopper, merchant)
    return await service.view(session, runtime.clock, merchant_id, bargain_id)


@router.post("/bargains/{bargain_id}/helps", response_model=BargainOut, status_code=201)
async def help_cut(bargain_id: RowId, shopper: ShopperDep, client: ClientDep, session: SessionDep,
                   idempotent: IdempotentDep, runtime: RuntimeDep) -> BargainOut | JSONResponse:
    """A friend's cut: explicit, logged in, once per bargain (S3, F1)."""
    return await idempotent(lambda: service.help_cut(session, runtime, shopper, bargain_id, client), by=shopper,
                            body=None, status_code=201)


@router.get("/admin/campaigns/{campaign_id}/bargains", response_model=BargainPage, tags=["admin: campaigns"])
async def campaign_bargains(campaign_id: RowId, staff: OrdersReader, session: SessionDep, clock: ClockDep,
                       status: BargainStatus | None = None, cursor: str | None = None,
                       limit: int = Query(20, ge=1, le=50)) -> BargainPage:
    """The bargains of one of the merchant's campaigns, newest first: cuts so far, price reached."""
    return await service.campaign_bargains(session, clock, staff.merchant_id, campaign_id, status, cursor, limit)
