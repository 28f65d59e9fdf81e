from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from fissionmall.campaigns.assist import service
from fissionmall.campaigns.assist.schemas import AssistCampaignOut, AssistPage, OpenPacket, PacketOut
from fissionmall.campaigns.assist.states import AssistStatus
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

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: assist red packets"])


@router.get("/assist-campaigns/{campaign_id}", response_model=AssistCampaignOut)
async def campaign(campaign_id: RowId, shopper: OptionalShopperDep, session: ReplicaSessionDep, runtime: RuntimeDep,
                   merchant: str | None = None) -> AssistCampaignOut:
    """Prizes, amounts, count, odds, conditions and organiser, published before anyone takes part (P3)."""
    merchant_id = await merchants.merchant_for_visitor(session, runtime.settings, shopper, merchant)
    return await service.campaign_view(session, merchant_id, campaign_id)


@router.post("/assists", response_model=PacketOut, status_code=201)
async def open_packet(body: OpenPacket, shopper: ShopperDep, client: ClientDep, session: SessionDep,
                      idempotent: IdempotentDep, runtime: RuntimeDep) -> PacketOut | JSONResponse:
    return await idempotent(lambda: service.open_packet(session, runtime, shopper, body, client), by=shopper, body=body,
                            status_code=201)


@router.get("/assists/{packet_id}", response_model=PacketOut)
async def packet(packet_id: RowId, shopper: OptionalShopperDep, session: SessionDep, runtime: RuntimeDep,
                 merchant: str | None = None) -> PacketOut:
    merchant_id = await merchants.merchant_for_visitor(session, runtime.settings, shopper, merchant)
    return await service.view(session, runtime.clock, merchant_id, packet_id)


@router.post("/assists/{packet_id}/helps", response_model=PacketOut, status_code=201)
async def help_open(packet_id: RowId, shopper: ShopperDep, client: ClientDep, session: SessionDep,
                    idempotent: IdempotentDep, runtime: RuntimeDep) -> PacketOut | JSONResponse:
    return await idempotent(lambda: service.help_open(session, runtime, shopper, packet_id, client), by=shopper,
                            body=None, status_code=201)


@router.get("/admin/campaigns/{campaign_id}/assist-packets", response_model=AssistPage, tags=["admin: campaigns"])
async def campaign_packets(campaign_id: RowId, staff: OrdersReader, session: SessionDep, clock: ClockDep,
                       status: AssistStatus | None = None, cursor: str | None = None,
                       limit: int = Query(20, ge=1, le=50)) -> AssistPage:
    """The packets of one of the merchant's assist campaigns, newest first: helps so far, prize."""
    return await service.campaign_packets(session, clock, staff.merchant_id, campaign_id, status, cursor, limit)
