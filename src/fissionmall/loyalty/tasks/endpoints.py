"""Tasks: the shopper's progress in each, and the merchant's tasks."""

from __future__ import annotations

from fastapi import APIRouter

from fissionmall.core.deps import ClockDep, MerchantWriter, OrdersReader, SessionDep, ShopperDep
from fissionmall.core.schemas import RowId
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.loyalty import ADMIN_TAG, SHOPPER_TAG
from fissionmall.loyalty.tasks import service
from fissionmall.loyalty.tasks.schemas import MyTaskOut, TaskIn, TaskOut, TaskPatch

router = APIRouter(route_class=TransactionalRoute, tags=[SHOPPER_TAG])
admin = APIRouter(route_class=TransactionalRoute, tags=[ADMIN_TAG], prefix="/admin")


@router.get("/tasks", response_model=list[MyTaskOut])
async def my_tasks(clock: ClockDep, shopper: ShopperDep, session: SessionDep) -> list[MyTaskOut]:
    """The mall's tasks and how far the customer is in each one's current period."""
    return await service.mine(session, clock.now(), shopper)


@admin.post("/tasks", response_model=TaskOut, status_code=201)
async def create_task(body: TaskIn, clock: ClockDep, staff: MerchantWriter, session: SessionDep) -> TaskOut:
    return await service.create(session, clock.now(), staff, body)


@admin.get("/tasks", response_model=list[TaskOut])
async def tasks(staff: OrdersReader, session: SessionDep) -> list[TaskOut]:
    return await service.for_merchant(session, staff)


@admin.patch("/tasks/{task_id}", response_model=TaskOut)
async def patch_task(task_id: RowId, body: TaskPatch, staff: MerchantWriter,
                     session: SessionDep) -> TaskOut:
    """Switch a task off (progress is kept) or on again."""
    return await service.patch(session, staff, task_id, body)
