from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from fissionmall.core.audit import WRITES_NOTHING
from fissionmall.core.deps import (
    ClockDep,
    IdempotentDep,
    MerchantWriter,
    OrdersReader,
    PayoutsDecider,
    SessionDep,
    SettingsDep,
    ShopperDep,
)
from fissionmall.core.errors import NotFound
from fissionmall.core.schemas import RowId
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.distribution import presets, rules, service, withdrawals
from fissionmall.distribution.plans import LintReport, Plan
from fissionmall.distribution.schemas import (
    CommissionPage,
    ConfigIn,
    ConfigOut,
    DecisionIn,
    DistributorOut,
    GradeIn,
    IdentityIn,
    MyDistributionOut,
    PayeeOut,
    PresetAppliedOut,
    PresetApplyIn,
    PresetOut,
    TeamMemberOut,
    WithdrawalIn,
    WithdrawalOut,
)

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: distribution"])
admin = APIRouter(route_class=TransactionalRoute, tags=["admin: distribution"], prefix="/admin")
WithdrawalStatus = Literal["requested", "approved", "paid", "rejected"]
DistributorStatus = Literal["pending", "approved", "rejected"]
CommissionStatus = Literal["frozen", "settled"]


@router.post("/distributors", response_model=DistributorOut, status_code=201)
async def apply(shopper: ShopperDep, session: SessionDep, clock: ClockDep) -> DistributorOut:
    """Apply to become a distributor: approved at once or reviewed, as the merchant set."""
    return await service.apply(session, clock, shopper)


@router.get("/distributors/me", response_model=MyDistributionOut)
async def mine(shopper: ShopperDep, session: SessionDep) -> MyDistributionOut:
    return await service.mine(session, shopper)


@router.get("/distributors/me/team", response_model=list[TeamMemberOut])
async def my_team(shopper: ShopperDep, session: SessionDep) -> list[TeamMemberOut]:
    """The customers this one referred directly: masked names, when they joined, how many orders they paid."""
    return await service.team(session, shopper)


@router.put("/distributors/me/identity", response_model=PayeeOut)
async def identity(body: IdentityIn, shopper: ShopperDep, session: SessionDep, clock: ClockDep,
                   settings: SettingsDep) -> PayeeOut:
    """Real name and resident ID number, checked, before any withdrawal (COMPLIANCE F6)."""
    return await withdrawals.register_identity(session, clock.now(), settings.secret_key, shopper, body)


@router.post("/distributors/me/withdrawals", response_model=WithdrawalOut, status_code=201)
async def withdraw(body: WithdrawalIn, shopper: ShopperDep, session: SessionDep, idempotent: IdempotentDep,
                   clock: ClockDep) -> WithdrawalOut | JSONResponse:
    """Take settled commission out: reviewed by the merchant (unless they turned review off), then transferred."""
    return await idempotent(lambda: withdrawals.request(session, clock, shopper, body), by=shopper, body=body,
                            status_code=201)


@router.get("/distributors/me/withdrawals", response_model=list[WithdrawalOut])
async def my_withdrawals(shopper: ShopperDep, session: SessionDep) -> list[WithdrawalOut]:
    return await withdrawals.mine(session, shopper)


@admin.get("/withdrawals", response_model=list[WithdrawalOut])
async def merchant_withdrawals(staff: PayoutsDecider, session: SessionDep,
                               status: WithdrawalStatus | None = None) -> list[WithdrawalOut]:
    return await withdrawals.for_merchant(session, staff, status)


@admin.post("/withdrawals/{withdrawal_id}/approve", response_model=WithdrawalOut)
async def approve_withdrawal(withdrawal_id: RowId, staff: PayoutsDecider, session: SessionDep,
                             clock: ClockDep) -> WithdrawalOut:
    """Approve: the worker transfers the money through the payment provider."""
    return await withdrawals.decide(session, clock.now(), staff, withdrawal_id, True, None)


@admin.post("/withdrawals/{withdrawal_id}/reject", response_model=WithdrawalOut)
async def reject_withdrawal(withdrawal_id: RowId, body: DecisionIn, staff: PayoutsDecider, session: SessionDep,
                            clock: ClockDep) -> WithdrawalOut:
    return await withdrawals.decide(session, clock.now(), staff, withdrawal_id, False, body.reason)


@admin.put("/distribution", response_model=ConfigOut)
async def configure(body: ConfigIn, staff: MerchantWriter, session: SessionDep, clock: ClockDep) -> ConfigOut:
    """The switch, the rates per grade and level, binding; linted before it is saved."""
    return await service.configure(session, clock, staff, body)


@admin.get("/distribution", response_model=ConfigOut)
async def config(staff: OrdersReader, session: SessionDep) -> ConfigOut:
    return await service.config(session, staff)


@admin.get("/distributors", response_model=list[DistributorOut])
async def distributors(staff: OrdersReader, session: SessionDep,
                       status: DistributorStatus | None = None) -> list[DistributorOut]:
    """Distributors and applications, newest first (`?status=pending`: those waiting for review)."""
    return await service.for_merchant(session, staff, status)


@admin.patch("/distributors/{customer_id}", response_model=DistributorOut)
async def regrade(customer_id: RowId, body: GradeIn, staff: MerchantWriter, session: SessionDep) -> DistributorOut:
    """Move a distributor to another grade (its rates apply from the next payment)."""
    return await service.regrade(session, staff, customer_id, body.grade)


@admin.post("/distributors/{customer_id}/{decision}", response_model=DistributorOut)
async def decide(customer_id: RowId, decision: str, staff: MerchantWriter, session: SessionDep,
                 clock: ClockDep) -> DistributorOut:
    if decision not in ("approve", "reject"):
        raise NotFound("not_found", f"no action {decision!r}")
    return await service.decide(session, clock, staff, customer_id, decision == "approve")


@admin.get("/commissions", response_model=CommissionPage)
async def commissions(staff: OrdersReader, session: SessionDep, status: CommissionStatus | None = None,
                      distributor_id: RowId | None = None, cursor: str | None = None,
                      limit: int = Query(default=20, ge=1, le=50)) -> CommissionPage:
    """The commission ledger, newest first, a page at a time (`next_cursor`): by status (frozen, settled) and by
    distributor (their customer id). Reversals of refunded orders are negative entries."""
    return await service.commission_page(session, staff, status=status, distributor_id=distributor_id,
                                         cursor=cursor, limit=limit)


@admin.post("/plans/lint", response_model=LintReport, dependencies=[WRITES_NOTHING])
async def lint(plan: Plan, staff: OrdersReader) -> LintReport:
    """Any reward plan, judged by COMPLIANCE D1–D7, S1, S2: kept and refused parts, each finding with its rule."""
    return rules.lint(plan)


@admin.get("/plans/presets/3+9", response_model=PresetOut)
async def three_plus_nine(staff: OrdersReader) -> PresetOut:
    """The seed's whole "3+9" plan through the linter: what is kept, what is refused, and why."""
    return service.preset_three_plus_nine()


@admin.post("/plans/presets/3+9/apply", response_model=PresetAppliedOut)
async def apply_three_plus_nine(body: PresetApplyIn, staff: MerchantWriter, session: SessionDep,
                                clock: ClockDep) -> PresetAppliedOut:
    """Turn the kept part of "3+9" into live settings: the referral subsidies as commission rates (level 2 only
    with `level2_approval`), the own-spend activity level and the pool as the dividend plan. Refused rules never
    become settings."""
    return await presets.apply_three_plus_nine(session, clock, staff, body)
