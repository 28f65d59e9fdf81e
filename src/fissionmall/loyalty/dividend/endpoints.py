"""The dividend pool for the merchant: its plan, and a month's run computed on demand."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.auth import StaffMember, staff_with
from fissionmall.db.session import TransactionalRoute, get_session
from fissionmall.loyalty import ADMIN_TAG
from fissionmall.loyalty.dividend import service
from fissionmall.loyalty.dividend.schemas import DividendPlanIn, DividendPlanOut, RunIn, RunOut

admin = APIRouter(route_class=TransactionalRoute, tags=[ADMIN_TAG], prefix="/admin")
owner = staff_with("merchant.write")
reader = staff_with("orders.read")


@admin.put("/dividend", response_model=DividendPlanOut)
async def save_plan(body: DividendPlanIn, request: Request, staff: StaffMember = Depends(owner),
                    session: AsyncSession = Depends(get_session)):
    """The pool's share of net sales, the activity levels (own monthly spend → points), threshold, pay day."""
    return await service.save_plan(session, request.app.state.runtime, staff, body)


@admin.get("/dividend", response_model=DividendPlanOut)
async def plan(staff: StaffMember = Depends(reader), session: AsyncSession = Depends(get_session)):
    return await service.plan(session, staff)


@admin.post("/dividend/runs", response_model=RunOut, status_code=201)
async def compute(body: RunIn, request: Request, staff: StaffMember = Depends(owner),
                  session: AsyncSession = Depends(get_session)):
    """Compute a month's pool now (the worker credits it); each month once."""
    return await service.compute(session, request.app.state.runtime, staff.merchant_id, body.month)


@admin.get("/dividend/runs", response_model=list[RunOut])
async def runs(staff: StaffMember = Depends(reader), session: AsyncSession = Depends(get_session)):
    return await service.runs(session, staff)
