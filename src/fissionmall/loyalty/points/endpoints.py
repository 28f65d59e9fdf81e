"""Points for the shopper (balance, check-in) and their rules for the merchant."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.auth import Shopper, StaffMember, current_shopper, staff_with
from fissionmall.db.session import TransactionalRoute, get_session
from fissionmall.loyalty import ADMIN_TAG, SHOPPER_TAG
from fissionmall.loyalty.points import service
from fissionmall.loyalty.points.schemas import CheckinOut, PointsConfigIn, PointsOut

router = APIRouter(route_class=TransactionalRoute, tags=[SHOPPER_TAG])
admin = APIRouter(route_class=TransactionalRoute, tags=[ADMIN_TAG], prefix="/admin")
owner = staff_with("merchant.write")


@router.get("/points", response_model=PointsOut)
async def my_points(request: Request, shopper: Shopper = Depends(current_shopper),
                    session: AsyncSession = Depends(get_session)):
    return await service.mine(session, request.app.state.runtime, shopper)


@router.post("/points/checkin", response_model=CheckinOut, status_code=201)
async def checkin(request: Request, shopper: Shopper = Depends(current_shopper),
                  session: AsyncSession = Depends(get_session)):
    """Daily check-in (签到): once a day, a bonus growing with the streak."""
    return await service.checkin(session, request.app.state.runtime, shopper)


@admin.put("/points", response_model=PointsConfigIn)
async def configure_points(body: PointsConfigIn, request: Request, staff: StaffMember = Depends(owner),
                           session: AsyncSession = Depends(get_session)):
    return await service.configure(session, request.app.state.runtime, staff, body)
