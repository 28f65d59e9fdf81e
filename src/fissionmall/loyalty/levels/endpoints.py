"""Membership levels: the member's standing, and the merchant's plan."""

from __future__ import annotations

from fastapi import APIRouter

from fissionmall.core.deps import ClockDep, MerchantWriter, SessionDep, ShopperDep
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.loyalty import ADMIN_TAG, SHOPPER_TAG
from fissionmall.loyalty.levels import service
from fissionmall.loyalty.levels.schemas import LevelPlanIn, MembershipOut

router = APIRouter(route_class=TransactionalRoute, tags=[SHOPPER_TAG])
admin = APIRouter(route_class=TransactionalRoute, tags=[ADMIN_TAG], prefix="/admin")


@router.get("/membership", response_model=MembershipOut)
async def membership(shopper: ShopperDep, session: SessionDep) -> MembershipOut:
    """The member's level, what it gives, and how far the next one is."""
    return await service.mine(session, shopper)


@admin.put("/levels", response_model=LevelPlanIn)
async def configure_levels(body: LevelPlanIn, clock: ClockDep, staff: MerchantWriter,
                           session: SessionDep) -> LevelPlanIn:
    """Levels by own spending; every member is re-evaluated at once, then daily by the worker."""
    return await service.save_plan(session, clock, staff, body)
