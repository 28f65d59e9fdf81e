from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from fissionmall.core.deps import IdempotentDep, SessionDep, ShopperDep
from fissionmall.core.errors import DomainError, NotFound, Unauthorized
from fissionmall.core.metrics import NOTIFICATIONS
from fissionmall.core.payment_provider import InvalidNotification
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
    """Provider callbacks: verified on the raw body, applied once, acknowledged as WeChat Pay expects."""
    handler = runtime.providers.get(provider)
    if handler is None:
        raise NotFound("unknown_provider", f"no payment provider {provider!r} on this server")
    try:
        notice = handler.parse_notification(request.headers, await request.body())
    except InvalidNotification as exc:
        runtime.log.warning("notification_rejected", provider=provider, reason=exc.reason)
        NOTIFICATIONS.labels(provider, "rejected").inc()
        raise Unauthorized("invalid_notification", f"notification rejected: {exc.reason}") from None
    try:
        outcome = await service.apply_notice(session, runtime, provider, notice)
    except DomainError:
        NOTIFICATIONS.labels(provider, "refused").inc()
        raise
    NOTIFICATIONS.labels(provider, outcome).inc()
    return JSONResponse({"code": "SUCCESS", "message": outcome})
