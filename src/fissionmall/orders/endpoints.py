from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.auth import Shopper, StaffMember, current_shopper, staff_with
from fissionmall.core.idempotency import run_idempotent
from fissionmall.core.schemas import RowId
from fissionmall.db.session import TransactionalRoute, get_session
from fissionmall.orders import refunds, service
from fissionmall.orders.schemas import CheckoutOut, OrderOut, OrderPage, PlaceOrder, PriceAdjustmentIn, RefundIn, Ship

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: orders"])
admin = APIRouter(route_class=TransactionalRoute, tags=["admin: orders"], prefix="/admin")


@router.post("/orders", response_model=OrderOut, status_code=201)
async def place_order(body: PlaceOrder, request: Request, shopper: Shopper = Depends(current_shopper),
                      session: AsyncSession = Depends(get_session)):
    runtime = request.app.state.runtime
    return await run_idempotent(request, session, principal=shopper.principal, body=body, now=runtime.clock.now(),
                                status_code=201,
                                action=lambda: service.place_order(session, runtime, shopper, body))


@router.post("/checkout/preview", response_model=CheckoutOut)
async def preview(body: PlaceOrder, request: Request, shopper: Shopper = Depends(current_shopper),
                  session: AsyncSession = Depends(get_session)):
    """Price a cart without placing it: every adjustment, the total, and the best coupon for it."""
    return await service.preview(session, request.app.state.runtime, shopper, body)


@router.get("/orders", response_model=OrderPage)
async def my_orders(status: str | None = None, cursor: str | None = None, limit: int = Query(20, ge=1, le=100),
                    shopper: Shopper = Depends(current_shopper), session: AsyncSession = Depends(get_session)):
    return await service.list_orders(session, shopper.merchant_id, customer_id=shopper.customer_id, status=status,
                                     cursor=cursor, limit=limit)


@router.get("/orders/{order_id}", response_model=OrderOut)
async def my_order(order_id: RowId, shopper: Shopper = Depends(current_shopper),
                   session: AsyncSession = Depends(get_session)):
    return await service.get_order(session, shopper.merchant_id, order_id, customer_id=shopper.customer_id)


@router.post("/orders/{order_id}/cancel", response_model=OrderOut)
async def cancel(order_id: RowId, request: Request, shopper: Shopper = Depends(current_shopper),
                 session: AsyncSession = Depends(get_session)):
    return await service.cancel(session, request.app.state.runtime, shopper, order_id)


@router.post("/orders/{order_id}/receive", response_model=OrderOut)
async def receive(order_id: RowId, request: Request, shopper: Shopper = Depends(current_shopper),
                  session: AsyncSession = Depends(get_session)):
    return await service.receive(session, request.app.state.runtime, shopper, order_id)


@router.post("/orders/{order_id}/refunds", response_model=OrderOut, status_code=201)
async def request_refund(order_id: RowId, body: RefundIn, request: Request,
                         shopper: Shopper = Depends(current_shopper), session: AsyncSession = Depends(get_session)):
    runtime = request.app.state.runtime
    return await run_idempotent(
        request, session, principal=shopper.principal, body=body, now=runtime.clock.now(), status_code=201,
        action=lambda: refunds.request_refund(session, runtime, shopper, order_id, body))


@admin.get("/orders", response_model=OrderPage)
async def orders(status: str | None = None, cursor: str | None = None, limit: int = Query(20, ge=1, le=100),
                 staff: StaffMember = Depends(staff_with("orders.read")), session: AsyncSession = Depends(get_session)):
    return await service.list_orders(session, staff.merchant_id, customer_id=None, status=status, cursor=cursor,
                                     limit=limit)


@admin.get("/orders/{order_id}", response_model=OrderOut)
async def order(order_id: RowId, staff: StaffMember = Depends(staff_with("orders.read")),
                session: AsyncSession = Depends(get_session)):
    return await service.get_order(session, staff.merchant_id, order_id)


@admin.post("/orders/{order_id}/ship", response_model=OrderOut)
async def ship(order_id: RowId, body: Ship, request: Request, staff: StaffMember = Depends(staff_with("orders.ship")),
               session: AsyncSession = Depends(get_session)):
    return await service.ship(session, request.app.state.runtime, staff, order_id, body)


@admin.post("/orders/{order_id}/adjustments", response_model=OrderOut, status_code=201)
async def adjust_price(order_id: RowId, body: PriceAdjustmentIn, request: Request,
                       staff: StaffMember = Depends(staff_with("orders.adjust")),
                       session: AsyncSession = Depends(get_session)):
    return await service.adjust_price(session, request.app.state.runtime, staff, order_id, body)


@admin.post("/orders/{order_id}/refunds", response_model=OrderOut, status_code=201)
async def merchant_refund(order_id: RowId, body: RefundIn, request: Request,
                          staff: StaffMember = Depends(staff_with("refunds.decide")),
                          session: AsyncSession = Depends(get_session)):
    runtime = request.app.state.runtime
    return await run_idempotent(
        request, session, principal=staff.principal, body=body, now=runtime.clock.now(), status_code=201,
        action=lambda: refunds.merchant_refund(session, runtime, staff, order_id, body))


@admin.post("/refunds/{refund_id}/approve", response_model=OrderOut)
async def approve_refund(refund_id: RowId, request: Request, staff: StaffMember = Depends(staff_with("refunds.decide")),
                         session: AsyncSession = Depends(get_session)):
    return await refunds.decide_refund(session, request.app.state.runtime, staff, refund_id, approve=True)


@admin.post("/refunds/{refund_id}/reject", response_model=OrderOut)
async def reject_refund(refund_id: RowId, request: Request, staff: StaffMember = Depends(staff_with("refunds.decide")),
                        session: AsyncSession = Depends(get_session)):
    return await refunds.decide_refund(session, request.app.state.runtime, staff, refund_id, approve=False)
