"""The monthly dividend pool (DOMAIN.md § Team rewards and dividend pool, lawful form; COMPLIANCE D7).

Each member's activity level, and so their dividend points, comes from their *own* net spending in the month;
on the pay day, a set share of the month's net sales is split among members at or above the points threshold,
by points, exactly to the fen (largest remainder), and credited as shop credit. Computing is one set-based
statement; crediting goes in chunks, each its own transaction, resumable, so a million members never hold one
transaction for the whole run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.audit import note_before
from fissionmall.core.auth import Shopper, StaffMember
from fissionmall.core.clock import Clock
from fissionmall.core.errors import Conflict, InvalidInput, NotFound
from fissionmall.core.events import record_event
from fissionmall.core.money import apply_rate
from fissionmall.loyalty.dividend import repository
from fissionmall.loyalty.dividend.models import DividendPlan
from fissionmall.loyalty.dividend.schemas import (
    LAST_DAY,
    ActivityLevel,
    DividendPlanIn,
    DividendPlanOut,
    MyDividendOut,
    MyShareOut,
    RunOut,
)
from fissionmall.loyalty.dividend.states import RunStatus
from fissionmall.loyalty.rules import (
    PayDay,
    activity_level,
    month_of,
    month_window,
    next_month,
    pay_date,
    pay_day_due,
    previous_month,
)

CHUNK = 50_000


def _row_values(body: DividendPlanIn) -> dict[str, Any]:
    """The plan as its row keeps it: a month-end pay day is a flag (pay_day then holds 28, the earliest last day)."""
    values = body.model_dump(mode="json")
    last = values["pay_day"] == LAST_DAY
    return {**values, "pay_day": 28 if last else values["pay_day"], "pay_on_last_day": last}


def _pay_day(row: DividendPlan) -> PayDay:
    return LAST_DAY if row.pay_on_last_day else row.pay_day


def _plan_out(row: DividendPlan) -> DividendPlanOut:
    return DividendPlanOut(enabled=row.enabled, pool_bp=row.pool_bp,
                           levels=[ActivityLevel.model_validate(level) for level in row.levels],
                           threshold_points=row.threshold_points, pay_day=_pay_day(row), updated_at=row.updated_at)


async def save_plan(session: AsyncSession, now: datetime, staff: StaffMember, body: DividendPlanIn) -> DividendPlanOut:
    before = await plan_settings(session, staff.merchant_id)
    note_before(session, before.model_dump(mode="json") if before is not None else None)
    await repository.save_plan(session, staff.merchant_id, **_row_values(body), updated_at=now)
    return await plan(session, staff)


async def plan_settings(session: AsyncSession, merchant_id: int) -> DividendPlanIn | None:
    """The pool's settings as saved, None before it is set up (for a use case's audit row)."""
    found = await repository.plan_of(session, merchant_id)
    return DividendPlanIn.model_validate(_plan_out(found).model_dump(exclude={"updated_at"})) \
        if found is not None else None


async def plan(session: AsyncSession, staff: StaffMember) -> DividendPlanOut:
    found = await repository.plan_of(session, staff.merchant_id)
    if found is None:
        raise NotFound("dividend_not_configured", "no dividend pool has been set up")
    return _plan_out(found)


async def plan_view(session: AsyncSession, merchant_id: int) -> DividendPlanOut | None:
    """The plan as the console shows it (its pay day "last" where it is paid at month end); None before set up."""
    found = await repository.plan_of(session, merchant_id)
    return _plan_out(found) if found is not None else None


async def mine(session: AsyncSession, now: datetime, shopper: Shopper) -> MyDividendOut:
    """Where the merchant's pool is switched on: the member's activity level this month and their past shares."""
    found = await repository.plan_of(session, shopper.merchant_id)
    if found is None or not found.enabled:
        raise NotFound("dividend_not_configured", "this mall has no dividend pool")
    month = month_of(now)
    spend = await repository.spend_of(session, shopper.merchant_id, shopper.customer_id, *month_window(month))
    levels = [(int(level["min_spend_fen"]), int(level["points"])) for level in found.levels]
    reached = activity_level(levels, spend)
    upcoming = levels[reached] if reached < len(levels) else None
    points = levels[reached - 1][1] if reached else 0
    pay_day = _pay_day(found)
    return MyDividendOut(
        month=month, spend_fen=spend, level=reached, points=points,
        next_points=upcoming[1] if upcoming else None, next_needs_fen=upcoming[0] - spend if upcoming else None,
        threshold_points=found.threshold_points, qualified=points > 0 and points >= found.threshold_points,
        pool_bp=found.pool_bp, pay_day=pay_day, pay_date=pay_date(next_month(month), pay_day),
        rules=dividend_rules(found.pool_bp, pay_day, found.threshold_points),
        shares=[MyShareOut(month=month, spend_fen=share.spend_fen, points=share.points, amount_fen=share.amount_fen,
                           credited=status == RunStatus.CREDITED)
                for month, status, share in await repository.shares_of(session, shopper.customer_id, 12)])


def dividend_rules(pool_bp: int, pay_day: PayDay, threshold_points: int) -> list[str]:
    """The pool's rules as a member reads them."""
    pool = f"{pool_bp // 100}" if pool_bp % 100 == 0 else f"{pool_bp / 100:g}"
    when = "次月最后一天（月末）" if pay_day == LAST_DAY else f"次月 {pay_day} 日"
    return [f"每月拿出当月净销售额的 {pool}% 作为分红池，{when}按分红积分比例发放到钱包余额，精确到分。",
            "分红积分只由你本人当月的实付消费（扣除退款）决定，与邀请人数、团队业绩无关。",
            f"当月分红积分达到 {threshold_points} 分即可参与分配。" if threshold_points
            else "当月有分红积分即可参与分配。",
            "分红积分不能购买、不能兑换现金。"]


async def compute(session: AsyncSession, now: datetime, merchant_id: int, month: str) -> RunOut:
    """Open the month's run (once) and compute every share: they sum to the pool exactly."""
    plan_row = await repository.plan_of(session, merchant_id)
    if plan_row is None:
        raise NotFound("dividend_not_configured", "no dividend pool has been set up")
    start, end = month_window(month)
    if end > now:
        raise InvalidInput("month_not_over", f"{month} has not ended yet", field="month")
    net = await repository.net_sales(session, merchant_id, start, end)
    pool = apply_rate(net, plan_row.pool_bp)
    run_id = await repository.open_run(session, merchant_id=merchant_id, month=month, net_sales_fen=net,
                                       pool_fen=pool, members=0, total_points=0, credited_upto=0,
                                       status=RunStatus.COMPUTED, created_at=now)
    if run_id is None:
        raise Conflict("dividend_run_exists", f"the pool of {month} has been computed already")
    levels = [(int(level["min_spend_fen"]), int(level["points"])) for level in plan_row.levels]
    members, points = (0, 0) if pool == 0 else await repository.compute_shares(
        session, run_id, merchant_id, start, end, pool, levels, plan_row.threshold_points)
    await repository.set_totals(session, run_id, members=members, total_points=points,
                                pool_fen=pool if members else 0)
    await record_event(session, merchant_id=merchant_id, kind="dividend_computed", at=now,
                       subject=("dividend_run", run_id), data={"month": month, "pool_fen": pool, "members": members})
    run = await repository.run_of(session, merchant_id, month)
    assert run is not None
    return RunOut.model_validate(run, from_attributes=True)


async def credit_chunk(session: AsyncSession, clock: Clock, run_id: int, chunk: int) -> int:
    """Credit the run's next chunk of shares (the worker commits each); how many it covered, 0 once the run is
    credited in full (then marked so) or not waiting to be."""
    runs = [r for r in await repository.runs_to_credit(session) if r.id == run_id]
    if not runs:
        return 0
    covered = await repository.credit_chunk(session, runs[0], chunk, clock.now())
    if covered == 0:
        await repository.finish(session, run_id, clock.now())
    return covered


async def runs(session: AsyncSession, staff: StaffMember) -> list[RunOut]:
    return [RunOut.model_validate(r, from_attributes=True) for r in await repository.runs_of(session,
                                                                                            staff.merchant_id)]


async def due_on(session: AsyncSession, now: datetime) -> list[int]:
    """The merchants whose pay day has come this month."""
    return [p.merchant_id for p in await repository.enabled_plans(session) if pay_day_due(now, _pay_day(p))]


async def compute_last_month(session: AsyncSession, now: datetime, merchant_id: int) -> None:
    """Last month's pool, unless it is computed already."""
    month = previous_month(now)
    if await repository.run_of(session, merchant_id, month) is None:
        await compute(session, now, merchant_id, month)


async def runs_to_credit(session: AsyncSession) -> list[int]:
    return [r.id for r in await repository.runs_to_credit(session)]


# Reads the merchant console makes as the repository answers them (pages call domains through their services).
runs_of = repository.runs_of
