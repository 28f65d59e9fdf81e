from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from fissionmall.core.deps import IdempotentDep, SessionDep, ShopperDep
from fissionmall.core.runtime import RuntimeDep
from fissionmall.core.schemas import RowId
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.payments import service
from fissionmall.payments.schemas import PayOut

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: payments"])


@router.post("/orders/{order_id}/pay", response_model=PayOut)
async def pay(order_id: RowId, shopper: ShopperDep, session: SessionDep, idempotent: IdempotentDep,
              runtime: RuntimeDep) -> PayOut | JSONResponse:
    return await idempotent(lambda: service.pay(session, runtime, shopper, order_id), by=shopper,
                            body={"order_id": order_id}, status_code=200)


@router.post("/sandbox/payments/{payment_id}/complete", status_code=202, response_model=None)
async def sandbox_complete(payment_id: RowId, shopper: ShopperDep, session: SessionDep,
                           runtime: RuntimeDep) -> dict[str, str]:
    await service.sandbox_complete(session, runtime.providers, shopper, payment_id)
    return {"status": "notification queued"}


@router.post("/payments/notify/{provider}")
async def notify(provider: str, request: Request, session: SessionDep, runtime: RuntimeDep) -> JSONResponse:
    """Provider callbacks, acknowledged as WeChat Pay expects."""
    outcome = await service.receive_notification(session, runtime, provider, request.headers, await request.body())
    return JSONResponse({"code": "SUCCESS", "message": outcome})
