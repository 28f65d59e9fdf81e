from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns.packets import service
from fissionmall.campaigns.packets.schemas import PacketOut
from fissionmall.core.auth import Shopper, current_shopper, optional_shopper
from fissionmall.core.idempotency import run_idempotent
from fissionmall.core.schemas import RowId
from fissionmall.db.session import TransactionalRoute, get_session
from fissionmall.fraud.schemas import ClientInfo, client_info
from fissionmall.merchants import service as merchants

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: coupon packets"])


@router.get("/orders/{order_id}/packets", response_model=list[PacketOut])
async def order_packets(order_id: RowId, request: Request, shopper: Shopper = Depends(current_shopper),
                        session: AsyncSession = Depends(get_session)):
    """The packets a paid order brought, ready to share (made by the worker just after payment)."""
    return await service.packets_for_order(session, request.app.state.runtime, shopper, order_id)


@router.get("/packets/{packet_id}", response_model=PacketOut)
async def packet(packet_id: RowId, request: Request, merchant: str | None = None,
                 shopper: Shopper | None = Depends(optional_shopper), session: AsyncSession = Depends(get_session)):
    runtime = request.app.state.runtime
    merchant_id = await merchants.merchant_for_visitor(session, runtime, shopper, merchant)
    return await service.view(session, runtime, merchant_id, packet_id)


@router.post("/packets/{packet_id}/claims", response_model=PacketOut, status_code=201)
async def claim(packet_id: RowId, request: Request, shopper: Shopper = Depends(current_shopper),
                client: ClientInfo = Depends(client_info), session: AsyncSession = Depends(get_session)):
    runtime = request.app.state.runtime
    return await run_idempotent(request, session, principal=shopper.principal, body=None, now=runtime.clock.now(),
                                status_code=201,
                                action=lambda: service.claim(session, runtime, shopper, packet_id, client))
