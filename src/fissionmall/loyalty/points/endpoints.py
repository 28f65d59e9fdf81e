"""Points for the shopper (balance, check-in) and their rules for the merchant."""

from __future__ import annotations

from fastapi import APIRouter

from fissionmall.core.deps import MerchantWriter, SessionDep, ShopperDep
from fissionmall.core.runtime import RuntimeDep
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.loyalty import ADMIN_TAG, SHOPPER_TAG
from fissionmall.loyalty.points import service
from fissionmall.loyalty.points.schemas import CheckinOut, PointsConfigIn, PointsOut

router = APIRouter(route_class=TransactionalRoute, tags=[SHOPPER_TAG])
admin = APIRouter(route_class=TransactionalRoute, tags=[ADMIN_TAG], prefix="/admin")


@router.get("/points", response_model=PointsOut)
async def my_points(runtime: RuntimeDep, shopper: ShopperDep,
                    session: SessionDep):
    return await service.mine(session, runtime, shopper)


@router.post("/points/checkin", response_model=CheckinOut, status_code=201)
async def checkin(runtime: RuntimeDep, shopper: ShopperDep,
                  session: SessionDep):
    """Daily check-in (签到): once a day, a bonus growing with the streak."""
    return await service.checkin(session, runtime, shopper)


@admin.put("/points", response_model=PointsConfigIn)
async def configure_points(body: PointsConfigIn, runtime: RuntimeDep, staff: MerchantWriter,
                           session: SessionDep):
    return await service.configure(session, runtime, staff, body)
