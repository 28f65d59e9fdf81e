from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from fissionmall.campaigns.pointsmall.schemas import RedeemIn, RedeemOut
from fissionmall.checkout import service
from fissionmall.checkout.schemas import CheckoutOut, PlaceOrder
from fissionmall.core.deps import IdempotentDep, SessionDep, ShopperDep
from fissionmall.core.runtime import RuntimeDep
from fissionmall.core.schemas import RowId
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.orders.schemas import OrderOut

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: orders"])


@router.post("/orders", response_model=OrderOut, status_code=201)
async def place_order(body: PlaceOrder, shopper: ShopperDep, session: SessionDep, idempotent: IdempotentDep,
                      runtime: RuntimeDep) -> OrderOut | JSONResponse:
    return await idempotent(lambda: service.place_order(session, runtime, shopper, body), by=shopper, body=body,
                            status_code=201)


@router.post("/checkout/preview", response_model=CheckoutOut)
async def preview(body: PlaceOrder, shopper: ShopperDep, session: SessionDep, runtime: RuntimeDep) -> CheckoutOut:
    """Price a cart without placing it: every adjustment, the total, and the best coupon for it."""
    return await service.preview(session, runtime, shopper, body)


@router.post("/points-mall/{campaign_id}/redeem", response_model=RedeemOut, status_code=201,
             tags=["shopper: points mall"])
async def redeem(campaign_id: RowId, body: RedeemIn, shopper: ShopperDep, session: SessionDep,
                 idempotent: IdempotentDep, runtime: RuntimeDep) -> RedeemOut | JSONResponse:
    """Exchange points: a coupon at once, or goods as an order (pay its cash part and shipping, if any)."""
    return await idempotent(lambda: service.redeem_points(session, runtime, shopper, campaign_id, body), by=shopper,
                            body=body, status_code=201)

