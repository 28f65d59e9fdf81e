from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns.pointsmall import service
from fissionmall.campaigns.pointsmall.schemas import MallItemOut, RedeemIn, RedeemOut
from fissionmall.core.auth import Shopper, current_shopper
from fissionmall.core.idempotency import run_idempotent
from fissionmall.core.schemas import RowId
from fissionmall.db.session import TransactionalRoute, get_session

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: points mall"])


@router.get("/points-mall", response_model=list[MallItemOut])
async def items(request: Request, shopper: Shopper = Depends(current_shopper),
                session: AsyncSession = Depends(get_session)):
    """What points buy now, with the stock left."""
    return await service.items(session, request.app.state.runtime, shopper.merchant_id)


@router.post("/points-mall/{campaign_id}/redeem", response_model=RedeemOut, status_code=201)
async def redeem(campaign_id: RowId, body: RedeemIn, request: Request, shopper: Shopper = Depends(current_shopper),
                 session: AsyncSession = Depends(get_session)):
    """Exchange points: a coupon at once, or goods as an order (pay its cash part and shipping, if any)."""
    runtime = request.app.state.runtime
    return await run_idempotent(request, session, principal=shopper.principal, body=body, now=runtime.clock.now(),
                                status_code=201,
                                action=lambda: service.redeem(session, runtime, shopper, campaign_id, body))
