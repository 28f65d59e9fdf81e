from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns.bargain import service
from fissionmall.campaigns.bargain.schemas import BargainCampaignOut, BargainOut, StartBargain
from fissionmall.core.auth import Shopper, current_shopper, optional_shopper
from fissionmall.core.idempotency import run_idempotent
from fissionmall.core.schemas import RowId
from fissionmall.db.session import TransactionalRoute, get_session
from fissionmall.fraud.schemas import ClientInfo, client_info
from fissionmall.merchants import service as merchants

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: bargaining"])


@router.get("/bargain-campaigns/{campaign_id}", response_model=BargainCampaignOut)
async def campaign(campaign_id: RowId, request: Request, merchant: str | None = None,
                   shopper: Shopper | None = Depends(optional_shopper), session: AsyncSession = Depends(get_session)):
    """The published rules before anyone starts: N, floor, deadline, limits (P1)."""
    merchant_id = await merchants.merchant_for_visitor(session, request.app.state.runtime, shopper, merchant)
    return await service.campaign_view(session, merchant_id, campaign_id)


@router.post("/bargains", response_model=BargainOut, status_code=201)
async def start(body: StartBargain, request: Request, shopper: Shopper = Depends(current_shopper),
                session: AsyncSession = Depends(get_session)):
    runtime = request.app.state.runtime
    return await run_idempotent(request, session, principal=shopper.principal, body=body, now=runtime.clock.now(),
                                status_code=201, action=lambda: service.start(session, runtime, shopper, body))


@router.get("/bargains/{bargain_id}", response_model=BargainOut)
async def bargain(bargain_id: RowId, request: Request, merchant: str | None = None,
                  shopper: Shopper | None = Depends(optional_shopper), session: AsyncSession = Depends(get_session)):
    runtime = request.app.state.runtime
    merchant_id = await merchants.merchant_for_visitor(session, runtime, shopper, merchant)
    return await service.view(session, runtime, merchant_id, bargain_id)


@router.post("/bargains/{bargain_id}/helps", response_model=BargainOut, status_code=201)
async def help_cut(bargain_id: RowId, request: Request, shopper: Shopper = Depends(current_shopper),
                   client: ClientInfo = Depends(client_info), session: AsyncSession = Depends(get_session)):
    """A friend's cut: explicit, logged in, once per bargain (S3, F1)."""
    runtime = request.app.state.runtime
    return await run_idempotent(request, session, principal=shopper.principal, body=None, now=runtime.clock.now(),
                                status_code=201,
                                action=lambda: service.help_cut(session, runtime, shopper, bargain_id, client))
