from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from fissionmall.core.deps import (
    ClockDep,
    IdempotentDep,
    OrdersAdjuster,
    OrdersReader,
    OrdersShipper,
    RefundsDecider,
    SessionDep,
    ShopperDep,
)
from fissionmall.core.schemas import RowId
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.orders import refunds, service
from fissionmall.orders.schemas import OrderOut, OrderPage, PriceAdjustmentIn, RefundIn, Ship

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: orders"])
admin = APIRouter(route_class=TransactionalRoute, tags=["admin: orders"], prefix="/admin")


@router.get("/orders", response_model=OrderPage)
async def my_orders(shopper: ShopperDep, session: SessionDep, status: str | None = None, cursor: str | None = None,
                    limit: int = Query(20, ge=1, le=100)) -> OrderPage:
    return await service.list_orders(session, shopper.merchant_id, customer_id=shopper.customer_id, status=status,
                                     cursor=cursor, limit=limit)


@router.get("/orders/{order_id}", response_model=OrderOut)
async def my_order(order_id: RowId, shopper: ShopperDep, session: SessionDep) -> OrderOut:
    return await service.get_order(session, shopper.merchant_id, order_id, customer_id=shopper.customer_id)


@router.post("/orders/{order_id}/cancel", response_model=OrderOut)
async def cancel(order_id: RowId, shopper: ShopperDep, session: SessionDep, clock: ClockDep) -> OrderOut:
    return await service.cancel(session, clock, shopper, order_id)


@router.post("/orders/{order_id}/receive", response_model=OrderOut)
async def receive(order_id: RowId, shopper: ShopperDep, session: SessionDep, clock: ClockDep) -> OrderOut:
    return await service.receive(session, clock, shopper, order_id)


@router.post("/orders/{order_id}/refunds", response_model=OrderOut, status_code=201)
async def request_refund(order_id: RowId, body: RefundIn, shopper: ShopperDep, session: SessionDep,
                         idempotent: IdempotentDep, clock: ClockDep) -> OrderOut | JSONResponse:
    return await idempotent(lambda: refunds.request_refund(session, clock, shopper, order_id, body), by=shopper,
                            body=body, status_code=201)


@admin.get("/orders", response_model=OrderPage)
async def orders(staff: OrdersReader, session: SessionDep, status: str | None = None, cursor: str | None = None,
                 limit: int = Query(20, ge=1, le=100)) -> OrderPage:
    return await service.list_orders(session, staff.merchant_id, customer_id=None, status=status, cursor=cursor,
                                     limit=limit)


@admin.get("/orders/{order_id}", response_model=OrderOut)
async def order(order_id: RowId, staff: OrdersReader, session: SessionDep) -> OrderOut:
    return await service.get_order(session, staff.merchant_id, order_id)


@admin.post("/orders/{order_id}/ship", response_model=OrderOut)
async def ship(order_id: RowId, body: Ship, staff: OrdersShipper, session: SessionDep, clock: ClockDep) -> OrderOut:
    return await service.ship(session, clock, staff, order_id, body)


@admin.post("/orders/{order_id}/adjustments", response_model=OrderOut, status_code=201)
async def adjust_price(order_id: RowId, body: PriceAdjustmentIn, staff: OrdersAdjuster,
                       session: SessionDep) -> OrderOut:
    return await service.adjust_price(session, staff, order_id, body)


@admin.post("/orders/{order_id}/refunds", response_model=OrderOut, status_code=201)
async def merchant_refund(order_id: RowId, body: RefundIn, staff: RefundsDecider, session: SessionDep,
                          idempotent: IdempotentDep, clock: ClockDep) -> OrderOut | JSONResponse:
    return await idempotent(lambda: refunds.merchant_refund(session, clock, staff, order_id, body), by=staff,
                            body=body, status_code=201)


@admin.post("/refunds/{refund_id}/approve", response_model=OrderOut)
async def approve_refund(refund_id: RowId, staff: RefundsDecider, session: SessionDep, clock: ClockDep) -> OrderOut:
    return await refunds.decide_refund(session, clock, staff, refund_id, approve=True)


@admin.post("/refunds/{refund_id}/reject", response_model=OrderOut)
async def reject_refund(refund_id: RowId, staff: RefundsDecider, session: SessionDep, clock: ClockDep) -> OrderOut:
    return await refunds.decide_refund(session, clock, staff, refund_id, approve=False)
