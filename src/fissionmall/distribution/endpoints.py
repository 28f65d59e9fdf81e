from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.auth import Shopper, StaffMember, current_shopper, staff_with
from fissionmall.core.errors import NotFound
from fissionmall.core.idempotency import run_idempotent
from fissionmall.core.schemas import RowId
from fissionmall.db.session import TransactionalRoute, get_session
from fissionmall.distribution import rules, service, withdrawals
from fissionmall.distribution.plans import LintReport, Plan
from fissionmall.distribution.schemas import (
    ConfigIn,
    ConfigOut,
    DecisionIn,
    DistributorOut,
    GradeIn,
    IdentityIn,
    MyDistributionOut,
    PayeeOut,
    PresetOut,
    WithdrawalIn,
    WithdrawalOut,
)

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: distribution"])
admin = APIRouter(route_class=TransactionalRoute, tags=["admin: distribution"], prefix="/admin")
owner = staff_with("merchant.write")
reader = staff_with("orders.read")
finance = staff_with("payouts.decide")
WithdrawalStatus = Literal["requested", "approved", "paid", "rejected"]
DistributorStatus = Literal["pending", "approved", "rejected"]


@router.post("/distributors", response_model=DistributorOut, status_code=201)
async def apply(request: Request, shopper: Shopper = Depends(current_shopper),
                session: AsyncSession = Depends(get_session)):
    """Apply to become a distributor: approved at once or reviewed, as the merchant set."""
    return await service.apply(session, request.app.state.runtime, shopper)


@router.get("/distributors/me", response_model=MyDistributionOut)
async def mine(shopper: Shopper = Depends(current_shopper), session: AsyncSession = Depends(get_session)):
    return await service.mine(session, shopper)


@router.put("/distributors/me/identity", response_model=PayeeOut)
async def identity(body: IdentityIn, request: Request, shopper: Shopper = Depends(current_shopper),
                   session: AsyncSession = Depends(get_session)):
    """Real name and resident ID number, checked, before any withdrawal (COMPLIANCE F6)."""
    return await withdrawals.register_identity(session, request.app.state.runtime, shopper, body)


@router.post("/distributors/me/withdrawals", response_model=WithdrawalOut, status_code=201)
async def withdraw(body: WithdrawalIn, request: Request, shopper: Shopper = Depends(current_shopper),
                   session: AsyncSession = Depends(get_session)):
    """Take settled commission out: reviewed by the merchant (unless they turned review off), then transferred."""
    runtime = request.app.state.runtime
    return await run_idempotent(request, session, principal=shopper.principal, body=body, now=runtime.clock.now(),
                                status_code=201, action=lambda: withdrawals.request(session, runtime, shopper, body))


@router.get("/distributors/me/withdrawals", response_model=list[WithdrawalOut])
async def my_withdrawals(shopper: Shopper = Depends(current_shopper), session: AsyncSession = Depends(get_session)):
    return await withdrawals.mine(session, shopper)


@admin.get("/withdrawals", response_model=list[WithdrawalOut])
async def merchant_withdrawals(status: WithdrawalStatus | None = None, staff: StaffMember = Depends(finance),
                               session: AsyncSession = Depends(get_session)):
    return await withdrawals.for_merchant(session, staff, status)


@admin.post("/withdrawals/{withdrawal_id}/approve", response_model=WithdrawalOut)
async def approve_withdrawal(withdrawal_id: RowId, request: Request, staff: StaffMember = Depends(finance),
                             session: AsyncSession = Depends(get_session)):
    """Approve: the worker transfers the money through the payment provider."""
    return await withdrawals.decide(session, request.app.state.runtime, staff, withdrawal_id, True, None)


@admin.post("/withdrawals/{withdrawal_id}/reject", response_model=WithdrawalOut)
async def reject_withdrawal(withdrawal_id: RowId, body: DecisionIn, request: Request,
                            staff: StaffMember = Depends(finance), session: AsyncSession = Depends(get_session)):
    return await withdrawals.decide(session, request.app.state.runtime, staff, withdrawal_id, False, body.reason)


@admin.put("/distribution", response_model=ConfigOut)
async def configure(body: ConfigIn, request: Request, staff: StaffMember = Depends(owner),
                    session: AsyncSession = Depends(get_session)):
    """The switch, the rates per grade and level, binding; linted before it is saved."""
    return await service.configure(session, request.app.state.runtime, staff, body)


@admin.get("/distribution", response_model=ConfigOut)
async def config(staff: StaffMember = Depends(reader), session: AsyncSession = Depends(get_session)):
    return await service.config(session, staff)


@admin.get("/distributors", response_model=list[DistributorOut])
async def distributors(status: DistributorStatus | None = None, staff: StaffMember = Depends(reader),
                       session: AsyncSession = Depends(get_session)):
    """Distributors and applications, newest first (`?status=pending`: those waiting for review)."""
    return await service.for_merchant(session, staff, status)


@admin.patch("/distributors/{customer_id}", response_model=DistributorOut)
async def regrade(customer_id: RowId, body: GradeIn, staff: StaffMember = Depends(owner),
                  session: AsyncSession = Depends(get_session)):
    """Move a distributor to another grade (its rates apply from the next payment)."""
    return await service.regrade(session, staff, customer_id, body.grade)


@admin.post("/distributors/{customer_id}/{decision}", response_model=DistributorOut)
async def decide(customer_id: RowId, decision: str, request: Request, staff: StaffMember = Depends(owner),
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
