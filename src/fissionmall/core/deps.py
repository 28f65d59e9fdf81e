"""What an endpoint receives, named once: `session: SessionDep`, `shopper: ShopperDep`, `staff: OrdersReader` …

Every dependency here is a coroutine that does no I/O of its own (FastAPI runs a plain function in a worker thread,
a hop per request for no gain); the only read is the staff check's, which every staff route needs anyway.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.config import Settings
from fissionmall.core.auth import Shopper, StaffMember, current_shopper, current_staff, optional_shopper, staff_with
from fissionmall.core.clock import Clock
from fissionmall.core.idempotency import run_idempotent
from fissionmall.core.transaction import get_replica_session, get_session

SessionDep = Annotated[AsyncSession, Depends(get_session)]
"""The request's session, opened by TransactionalRoute, which commits or rolls it back at the edge."""
ReplicaSessionDep = Annotated[AsyncSession, Depends(get_replica_session)]
"""For a GET whose answer may lag the primary by a replica's delay (catalogue, campaign rules, analytics): a
read-only session on DATABASE_REPLICA_URL when it is set, the request's own session otherwise. Never for what a
shopper reads back after their own write; tests/db/test_replica_routing.py lists the routes that take it."""
ShopperDep = Annotated[Shopper, Depends(current_shopper)]
OptionalShopperDep = Annotated[Shopper | None, Depends(optional_shopper)]
StaffDep = Annotated[StaffMember, Depends(current_staff)]
"""Any staff member of the merchant, whatever the role; the aliases below also check the role's permission."""

CatalogWriter = Annotated[StaffMember, Depends(staff_with("catalog.write"))]
OrdersReader = Annotated[StaffMember, Depends(staff_with("orders.read"))]
OrdersShipper = Annotated[StaffMember, Depends(staff_with("orders.ship"))]
OrdersAdjuster = Annotated[StaffMember, Depends(staff_with("orders.adjust"))]
RefundsDecider = Annotated[StaffMember, Depends(staff_with("refunds.decide"))]
PayoutsDecider = Annotated[StaffMember, Depends(staff_with("payouts.decide"))]
MerchantWriter = Annotated[StaffMember, Depends(staff_with("merchant.write"))]
StaffWriter = Annotated[StaffMember, Depends(staff_with("staff.write"))]
ReviewModerator = Annotated[StaffMember, Depends(staff_with("reviews.moderate"))]
AuditReader = Annotated[StaffMember, Depends(staff_with("audit.read"))]


async def request_clock(request: Request) -> Clock:
    """The process's clock, for an endpoint whose use case needs only the time."""
    clock: Clock = request.app.state.runtime.clock
    return clock


ClockDep = Annotated[Clock, Depends(request_clock)]


async def request_settings(request: Request) -> Settings:
    """The process's settings, for an endpoint whose use case needs only them."""
    settings: Settings = request.app.state.runtime.settings
    return settings


SettingsDep = Annotated[Settings, Depends(request_settings)]


T = TypeVar("T")


@dataclass(frozen=True)
class Idempotent:
    """Runs a POST's use case once per Idempotency-Key (see `run_idempotent`): the endpoint says only what to run,
    for whom, with which body and status."""

    request: Request
    session: AsyncSession
    clock: Clock

    async def __call__(self, action: Callable[[], Awaitable[T]], *, by: Shopper | StaffMember, body: Any,
                       status_code: int) -> T | JSONResponse:
        return await run_idempotent(self.request, self.session, principal=by.principal, merchant_id=by.merchant_id,
                                    body=body, now=self.clock.now(), status_code=status_code, action=action)


async def idempotency(request: Request, session: SessionDep, clock: ClockDep) -> Idempotent:
    return Idempotent(request, session, clock)


IdempotentDep = Annotated[Idempotent, Depends(idempotency)]
