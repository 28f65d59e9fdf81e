"""The dividend pool: the member's standing in it; for the merchant, its plan and a month's run computed on demand."""

from __future__ import annotations

from fastapi import APIRouter

from fissionmall.core.deps import ClockDep, MerchantWriter, OrdersReader, SessionDep, ShopperDep
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.loyalty import ADMIN_TAG, SHOPPER_TAG
from fissionmall.loyalty.dividend import service
from fissionmall.loyalty.dividend.schemas import DividendPlanIn, DividendPlanOut, MyDividendOut, RunIn, RunOut

router = APIRouter(route_class=TransactionalRoute, tags=[SHOPPER_TAG])
admin = APIRouter(route_class=TransactionalRoute, tags=[ADMIN_TAG], prefix="/admin")


@router.get("/dividend/me", response_model=MyDividendOut)
async def mine(clock: ClockDep, shopper: ShopperDep, session: SessionDep) -> MyDividendOut:
    """The member's activity level and dividend points this month (own net spend only), and past shares."""
    return await service.mine(session, clock.now(), shopper)


@admin.put("/dividend", response_model=DividendPlanOut)
async def save_plan(body: DividendPlanIn, clock: ClockDep, staff: MerchantWriter,
                    session: SessionDep) -> DividendPlanOut:
    """The pool's share of net sales, the activity levels (own monthly spend → points), threshold, pay day."""
    return await service.save_plan(session, clock.now(), staff, body)


@admin.get("/dividend", response_model=DividendPlanOut)
async def plan(staff: OrdersReader, session: SessionDep) -> DividendPlanOut:
    return await service.plan(session, staff)


@admin.post("/dividend/runs", response_model=RunOut, status_code=201)
async def compute(body: RunIn, clock: ClockDep, staff: MerchantWriter,
                  session: SessionDep) -> RunOut:
    """Compute a month's pool now (the worker credits it); each month once."""
    return await service.compute(session, clock.now(), staff.merchant_id, body.month)


@admin.get("/dividend/runs", response_model=list[RunOut])
async def runs(staff: OrdersReader, session: SessionDep) -> list[RunOut]:
    return await service.runs(session, staff)
