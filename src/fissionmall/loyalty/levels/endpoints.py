"""Membership levels: the member's standing, and the merchant's plan."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.auth import Shopper, StaffMember, current_shopper, staff_with
from fissionmall.db.session import TransactionalRoute, get_session
from fissionmall.loyalty import ADMIN_TAG, SHOPPER_TAG
from fissionmall.loyalty.levels import service
from fissionmall.loyalty.levels.schemas import LevelPlanIn, MembershipOut

router = APIRouter(route_class=TransactionalRoute, tags=[SHOPPER_TAG])
admin = APIRouter(route_class=TransactionalRoute, tags=[ADMIN_TAG], prefix="/admin")
owner = staff_with("merchant.write")


@router.get("/membership", response_model=MembershipOut)
async def membership(shopper: Shopper = Depends(current_shopper), session: AsyncSession = Depends(get_session)):
    """The member's level, what it gives, and how far the next one is."""
    return await service.mine(session, shopper)


@admin.put("/levels", response_model=LevelPlanIn)
async def configure_levels(body: LevelPlanIn, request: Request, staff: StaffMember = Depends(owner),
                           session: AsyncSession = Depends(get_session)):
    """Levels by own spending; every member is re-evaluated at once, then daily by the worker."""
    return await service.save_plan(session, request.app.state.runtime, staff, body)
