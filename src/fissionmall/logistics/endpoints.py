from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from fissionmall.core.deps import OrdersReader, OrdersShipper, SessionDep, ShopperDep
from fissionmall.core.runtime import RuntimeDep
from fissionmall.core.schemas import RowId
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.logistics import service
from fissionmall.logistics.providers.kuaidi100 import ANSWER_OK
from fissionmall.logistics.schemas import AdvanceOut, PushAnswer, TimelineOut

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: logistics"])
admin = APIRouter(route_class=TransactionalRoute, tags=["admin: logistics"], prefix="/admin")


@router.get("/orders/{order_id}/tracking", response_model=TimelineOut)
async def my_tracking(order_id: RowId, shopper: ShopperDep, session: SessionDep) -> TimelineOut:
    return await service.timeline(session, shopper.merchant_id, order_id, customer_id=shopper.customer_id)


@router.post("/sandbox/shipments/{order_id}/advance", status_code=202, response_model=AdvanceOut)
async def sandbox_advance(order_id: RowId, shopper: ShopperDep, session: SessionDep,
                          runtime: RuntimeDep) -> AdvanceOut:
    return await service.sandbox_advance(session, runtime, shopper, order_id)


@router.post("/logistics/notify/{provider}", response_model=PushAnswer)
async def push(provider: str, request: Request, session: SessionDep, runtime: RuntimeDep) -> JSONResponse:
    """A logistics provider's push (Kuaidi100's 推送: a form of `param` and `sign`), acknowledged as it expects."""
    outcome = await service.receive_push(session, runtime, provider, service.read_form(await request.body()))
    return JSONResponse({**ANSWER_OK, "message": f"成功 ({outcome})"})


@admin.get("/orders/{order_id}/tracking", response_model=TimelineOut)
async def tracking(order_id: RowId, staff: OrdersReader, session: SessionDep) -> TimelineOut:
    return await service.timeline(session, staff.merchant_id, order_id)


@admin.post("/orders/{order_id}/tracking/refresh", response_model=TimelineOut)
async def refresh(order_id: RowId, staff: OrdersShipper, session: SessionDep, runtime: RuntimeDep) -> TimelineOut:
    return await service.refresh(session, runtime, staff.merchant_id, order_id)
