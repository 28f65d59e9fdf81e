from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from fissionmall.campaigns.packets import service
from fissionmall.campaigns.packets.schemas import PacketOut, PacketPage
from fissionmall.campaigns.packets.states import PacketStatus
from fissionmall.core.deps import ClockDep, IdempotentDep, OptionalShopperDep, OrdersReader, SessionDep, ShopperDep
from fissionmall.core.runtime import RuntimeDep
from fissionmall.core.schemas import RowId
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.customers.schemas import ClientDep
from fissionmall.merchants import service as merchants

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: coupon packets"])


@router.get("/orders/{order_id}/packets", response_model=list[PacketOut])
async def order_packets(order_id: RowId, shopper: ShopperDep, session: SessionDep, clock: ClockDep) -> list[PacketOut]:
    """The packets a paid order brought, ready to share (made by the worker just after payment)."""
    return await service.packets_for_order(session, clock, shopper, order_id)


@router.get("/packets/{packet_id}", response_model=PacketOut)
async def packet(packet_id: RowId, shopper: OptionalShopperDep, session: SessionDep, runtime: RuntimeDep,
                 merchant: str | None = None) -> PacketOut:
    merchant_id = await merchants.merchant_for_visitor(session, runtime.settings, shopper, merchant)
    return await service.view(session, runtime.clock, merchant_id, packet_id)


@router.post("/packets/{packet_id}/claims", response_model=PacketOut, status_code=201)
async def claim(packet_id: RowId, shopper: ShopperDep, client: ClientDep, session: SessionDep,
                idempotent: IdempotentDep, runtime: RuntimeDep) -> PacketOut | JSONResponse:
    return await idempotent(lambda: service.claim(session, runtime, shopper, packet_id, client), by=shopper, body=None,
                            status_code=201)


@router.get("/admin/campaigns/{campaign_id}/packets", response_model=PacketPage, tags=["admin: campaigns"])
async def campaign_packets(campaign_id: RowId, staff: OrdersReader, session: SessionDep, clock: ClockDep,
                       status: PacketStatus | None = None, cursor: str | None = None,
                       limit: int = Query(20, ge=1, le=50)) -> PacketPage:
    """The packets of one of the merchant's share-coupon or credit campaigns, newest first: claims."""
    return await service.campaign_packets(session, clock, staff.merchant_id, campaign_id, status, cursor, limit)
