"""Tasks: the shopper's progress in each, and the merchant's tasks."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.auth import Shopper, StaffMember, current_shopper, staff_with
from fissionmall.core.schemas import RowId
from fissionmall.db.session import TransactionalRoute, get_session
from fissionmall.loyalty import ADMIN_TAG, SHOPPER_TAG
from fissionmall.loyalty.tasks import service
from fissionmall.loyalty.tasks.schemas import MyTaskOut, TaskIn, TaskOut, TaskPatch

router = APIRouter(route_class=TransactionalRoute, tags=[SHOPPER_TAG])
admin = APIRouter(route_class=TransactionalRoute, tags=[ADMIN_TAG], prefix="/admin")
owner = staff_with("merchant.write")
reader = staff_with("orders.read")


@router.get("/tasks", response_model=list[MyTaskOut])
async def my_tasks(request: Request, shopper: Shopper = Depends(current_shopper),
                   session: AsyncSession = Depends(get_session)):
    """The mall's tasks and how far the customer is in each one's current period."""
    return await service.mine(session, request.app.state.runtime, shopper)


@admin.post("/tasks", response_model=TaskOut, status_code=201)
async def create_task(body: TaskIn, request: Request, staff: StaffMember = Depends(owner),
                      session: AsyncSession = Depends(get_session)):
    return await service.create(session, request.app.state.runtime, staff, body)


@admin.get("/tasks", response_model=list[TaskOut])
async def tasks(staff: StaffMember = Depends(reader), session: AsyncSession = Depends(get_session)):
    return await service.for_merchant(session, staff)


@admin.patch("/tasks/{task_id}", response_model=TaskOut)
async def patch_task(task_id: RowId, body: TaskPatch, staff: StaffMember = Depends(owner),
                     session: AsyncSession = Depends(get_session)):
    """Switch a task off (progress is kept) or on again."""
    return await service.patch(session, staff, task_id, body)
