from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.auth import Shopper, StaffMember, current_shopper, staff_with
from fissionmall.core.errors import NotFound
from fissionmall.db.session import TransactionalRoute, get_session
from fissionmall.distribution import rules, service
from fissionmall.distribution.plans import LintReport, Plan
from fissionmall.distribution.schemas import ConfigIn, ConfigOut, DistributorOut, MyDistributionOut, PresetOut

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: distribution"])
admin = APIRouter(route_class=TransactionalRoute, tags=["admin: distribution"], prefix="/admin")
owner = staff_with("merchant.write")
reader = staff_with("orders.read")


@router.post("/distributors", response_model=DistributorOut, status_code=201)
async def apply(request: Request, shopper: Shopper = Depends(current_shopper),
                session: AsyncSession = Depends(get_session)):
    """Apply to become a distributor: approved at once or reviewed, as the merchant set."""
    return await service.apply(session, request.app.state.runtime, shopper)


@router.get("/distributors/me", response_model=MyDistributionOut)
async def mine(shopper: Shopper = Depends(current_shopper), session: AsyncSession = Depends(get_session)):
    return await service.mine(session, shopper)


@admin.put("/distribution", response_model=ConfigOut)
async def configure(body: ConfigIn, request: Request, staff: StaffMember = Depends(owner),
                    session: AsyncSession = Depends(get_session)):
    """The switch, the rates per grade and level, binding; linted before it is saved."""
    return await service.configure(session, request.app.state.runtime, staff, body)


@admin.get("/distribution", response_model=ConfigOut)
async def config(staff: StaffMember = Depends(reader), session: AsyncSession = Depends(get_session)):
    return await service.config(session, staff)


@admin.post("/distributors/{customer_id}/{decision}", response_model=DistributorOut)
async def decide(customer_id: int, decision: str, request: Request, staff: StaffMember = Depends(owner),
                 session: AsyncSession = Depends(get_session)):
    if decision not in ("approve", "reject"):
        raise NotFound("not_found", f"no action {decision!r}")
    return await service.decide(session, request.app.state.runtime, staff, customer_id, decision == "approve")


@admin.post("/plans/lint", response_model=LintReport)
async def lint(plan: Plan, staff: StaffMember = Depends(reader)):
    """Any reward plan, judged by COMPLIANCE D1–D7, S1, S2: kept and refused parts, each finding with its rule."""
    return rules.lint(plan)


@admin.get("/plans/presets/3+9", response_model=PresetOut)
async def three_plus_nine(staff: StaffMember = Depends(reader)):
    """The seed's whole "3+9" plan through the linter: what is kept, what is refused, and why."""
    return service.preset_three_plus_nine()
