"""Points for the shopper (balance, check-in) and their rules for the merchant."""

from __future__ import annotations

from fastapi import APIRouter

from fissionmall.core.deps import ClockDep, MerchantWriter, SessionDep, ShopperDep
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.loyalty import ADMIN_TAG, SHOPPER_TAG
from fissionmall.loyalty.points import service
from fissionmall.loyalty.points.schemas import CheckinOut, PointsConfigIn, PointsOut

router = APIRouter(route_class=TransactionalRoute, tags=[SHOPPER_TAG])
admin = APIRouter(route_class=TransactionalRoute, tags=[ADMIN_TAG], prefix="/admin")


@router.get("/points", response_model=PointsOut)
async def my_points(clock: ClockDep, shopper: ShopperDep, session: SessionDep) -> PointsOut:
    return await service.mine(session, clock.now(), shopper)


@router.post("/points/checkin", response_model=CheckinOut, status_code=201)
async def checkin(clock: ClockDep, shopper: ShopperDep, session: SessionDep) -> CheckinOut:
    """Daily check-in (签到): once a day, a bonus growing with the streak."""
    return await service.checkin(session, clock.now(), shopper)


@admin.put("/points", response_model=PointsConfigIn)
async def configure_points(body: PointsConfigIn, clock: ClockDep, staff: MerchantWriter,
                           session: SessionDep) -> PointsConfigIn:
    return await service.configure(session, clock.now(), staff, body)
