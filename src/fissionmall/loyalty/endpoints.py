from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.auth import Shopper, StaffMember, current_shopper, staff_with
from fissionmall.core.schemas import RowId
from fissionmall.db.session import TransactionalRoute, get_session
from fissionmall.loyalty import levels, missions, points, service
from fissionmall.loyalty.schemas import (
    CheckinOut,
    DividendPlanIn,
    DividendPlanOut,
    LevelPlanIn,
    MembershipOut,
    MyTaskOut,
    PointsConfigIn,
    PointsOut,
    RunIn,
    RunOut,
    TaskIn,
    TaskOut,
    TaskPatch,
)

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: points"])
admin = APIRouter(route_class=TransactionalRoute, tags=["admin: points and dividend pool"], prefix="/admin")
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


@router.get("/points", response_model=PointsOut)
async def my_points(request: Request, shopper: Shopper = Depends(current_shopper),
                    session: AsyncSession = Depends(get_session)):
    return await points.mine(session, request.app.state.runtime, shopper)


@router.post("/points/checkin", response_model=CheckinOut, status_code=201)
async def checkin(request: Request, shopper: Shopper = Depends(current_shopper),
                  session: AsyncSession = Depends(get_session)):
    """Daily check-in (签到): once a day, a bonus growing with the streak."""
    return await points.checkin(session, request.app.state.runtime, shopper)


@admin.put("/points", response_model=PointsConfigIn)
async def configure_points(body: PointsConfigIn, request: Request, staff: StaffMember = Depends(owner),
                           session: AsyncSession = Depends(get_session)):
    return await points.configure(session, request.app.state.runtime, staff, body)


@router.get("/membership", response_model=MembershipOut)
async def membership(shopper: Shopper = Depends(current_shopper), session: AsyncSession = Depends(get_session)):
    """The member's level, what it gives, and how far the next one is."""
    return await levels.mine(session, shopper)


@admin.put("/levels", response_model=LevelPlanIn)
async def configure_levels(body: LevelPlanIn, request: Request, staff: StaffMember = Depends(owner),
                           session: AsyncSession = Depends(get_session)):
    """Levels by own spending; every member is re-evaluated at once, then daily by the worker."""
    return await levels.save_plan(session, request.app.state.runtime, staff, body)


@router.get("/tasks", response_model=list[MyTaskOut])
async def my_tasks(request: Request, shopper: Shopper = Depends(current_shopper),
                   session: AsyncSession = Depends(get_session)):
    """The mall's tasks and how far the customer is in each one's current period."""
    return await missions.mine(session, request.app.state.runtime, shopper)


@admin.post("/tasks", response_model=TaskOut, status_code=201)
async def create_task(body: TaskIn, request: Request, staff: StaffMember = Depends(owner),
                      session: AsyncSession = Depends(get_session)):
    return await missions.create(session, request.app.state.runtime, staff, body)


@admin.get("/tasks", response_model=list[TaskOut])
async def tasks(staff: StaffMember = Depends(reader), session: AsyncSession = Depends(get_session)):
    return await missions.for_merchant(session, staff)


@admin.patch("/tasks/{task_id}", response_model=TaskOut)
async def patch_task(task_id: RowId, body: TaskPatch, staff: StaffMember = Depends(owner),
                     session: AsyncSession = Depends(get_session)):
    """Switch a task off (progress is kept) or on again."""
    return await missions.patch(session, staff, task_id, body)
