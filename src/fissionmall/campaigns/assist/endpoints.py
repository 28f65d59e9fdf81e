from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns.assist import service
from fissionmall.campaigns.assist.schemas import AssistCampaignOut, OpenPacket, PacketOut
from fissionmall.core.auth import Shopper, current_shopper, optional_shopper
from fissionmall.core.idempotency import run_idempotent
from fissionmall.core.schemas import RowId
from fissionmall.db.session import TransactionalRoute, get_session
from fissionmall.fraud.schemas import ClientInfo, client_info
from fissionmall.merchants import service as merchants

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: assist red packets"])


@router.get("/assist-campaigns/{campaign_id}", response_model=AssistCampaignOut)
async def campaign(campaign_id: RowId, request: Request, merchant: str | None = None,
                   shopper: Shopper | None = Depends(optional_shopper), session: AsyncSession = Depends(get_session)):
    """Prizes, amounts, count, odds, conditions and organiser, published before anyone takes part (P3)."""
    merchant_id = await merchants.merchant_for_visitor(session, request.app.state.runtime, shopper, merchant)
    return await service.campaign_view(session, merchant_id, campaign_id)


@router.post("/assists", response_model=PacketOut, status_code=201)
async def open_packet(body: OpenPacket, request: Request, shopper: Shopper = Depends(current_shopper),
                      client: ClientInfo = Depends(client_info), session: AsyncSession = Depends(get_session)):
    runtime = request.app.state.runtime
    return await run_idempotent(request, session, principal=shopper.principal, body=body, now=runtime.clock.now(),
                                status_code=201,
                                action=lambda: service.open_packet(session, runtime, shopper, body, client))


@router.get("/assists/{packet_id}", response_model=PacketOut)
async def packet(packet_id: RowId, request: Request, merchant: str | None = None,
                 shopper: Shopper | None = Depends(optional_shopper), session: AsyncSession = Depends(get_session)):
    runtime = request.app.state.runtime
    merchant_id = await merchants.merchant_for_visitor(session, runtime, shopper, merchant)
    return await service.view(session, runtime, merchant_id, packet_id)


@router.post("/assists/{packet_id}/helps", response_model=PacketOut, status_code=201)
async def help_open(packet_id: RowId, request: Request, shopper: Shopper = Depends(current_shopper),
                    client: ClientInfo = Depends(client_info), session: AsyncSession = Depends(get_session)):
    runtime = request.app.state.runtime
    return await run_idempotent(request, session, principal=shopper.principal, body=None, now=runtime.clock.now(),
                                status_code=201,
                                action=lambda: service.help_open(session, runtime, shopper, packet_id, client))
