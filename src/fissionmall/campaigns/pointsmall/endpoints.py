from __future__ import annotations

from fastapi import APIRouter

from fissionmall.campaigns.pointsmall import service
from fissionmall.campaigns.pointsmall.schemas import MallItemOut, RedeemIn, RedeemOut
from fissionmall.core.deps import IdempotentDep, SessionDep, ShopperDep
from fissionmall.core.runtime import RuntimeDep
from fissionmall.core.schemas import RowId
from fissionmall.core.transaction import TransactionalRoute

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: points mall"])


@router.get("/points-mall", response_model=list[MallItemOut])
async def items(shopper: ShopperDep, session: SessionDep, runtime: RuntimeDep):
    """What points buy now, with the stock left."""
    return await service.items(session, runtime, shopper.merchant_id)


@router.post("/points-mall/{campaign_id}/redeem", response_model=RedeemOut, status_code=201)
async def redeem(campaign_id: RowId, body: RedeemIn, shopper: ShopperDep, session: SessionDep,
                 idempotent: IdempotentDep, runtime: RuntimeDep):
    """Exchange points: a coupon at once, or goods as an order (pay its cash part and shipping, if any)."""
    return await idempotent(lambda: service.redeem(session, runtime, shopper, campaign_id, body), by=shopper, body=body,
                            status_code=201)
