"""Membership levels (会员等级): a member's level follows their own spending (all of it, or last month's), and
gives a discount, free shipping and a points multiplier at checkout, and early access to campaigns. Levels give
discounts, never the right to earn (COMPLIANCE D3). Re-evaluated for every member by one statement, daily by the
worker and whenever the plan changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import counters
from fissionmall.core.audit import note_before
from fissionmall.core.auth import Shopper, StaffMember
from fissionmall.core.clock import Clock
from fissionmall.core.errors import NotFound
from fissionmall.loyalty.levels import repository
from fissionmall.loyalty.levels.models import LevelPlan
from fissionmall.loyalty.levels.schemas import Level, LevelPlanIn, MembershipOut
from fissionmall.loyalty.rules import month_window, previous_month


async def save_plan(session: AsyncSession, clock: Clock, staff: StaffMember, body: LevelPlanIn) -> LevelPlanIn:
    note_before(session, await repository.level_plan(session, staff.merchant_id), LevelPlanIn.model_fields)
    await repository.save_level_plan(session, staff.merchant_id, **body.model_dump(mode="json"),
                                     updated_at=clock.now())
    await evaluate(session, staff.merchant_id, body, clock.now())
    return body


async def evaluate(session: AsyncSession, merchant_id: int, plan: LevelPlanIn, now: datetime) -> int:
    start, end = month_window(previous_month(now)) if plan.basis == "monthly" else (None, None)
    return await repository.evaluate_levels(session, merchant_id, [(lv.min_spend_fen, lv.level) for lv in plan.levels],
                                            start, end, now)


async def benefits(session: AsyncSession, merchant_id: int, customer_id: int) -> Level | None:
    """The customer's level and what it gives, or None."""
    plan = await repository.level_plan(session, merchant_id)
    if plan is None:
        return None
    number, _ = await repository.member_level(session, customer_id)
    return _level(plan.levels, number)


async def multipliers(session: AsyncSession, merchant_id: int, customer_ids: list[int]) -> dict[int, int]:
    """Each customer's points multiplier (percent), for a chunk of customers: the plan read once, their levels in
    one query."""
    plan = await repository.level_plan(session, merchant_id)
    if plan is None:
        return {customer_id: 100 for customer_id in customer_ids}
    numbers = await repository.member_levels(session, customer_ids)
    chosen = {customer_id: _level(plan.levels, numbers.get(customer_id, 0)) for customer_id in customer_ids}
    return {customer_id: level.points_multiplier_percent if level else 100 for customer_id, level in chosen.items()}


def _level(levels: list[Any], number: int) -> Level | None:
    """The level by its number; a member never evaluated (number 0) has what spending nothing reaches."""
    found = [Level.model_validate(lv) for lv in levels]
    if number == 0:
        return next((lv for lv in reversed(found) if lv.min_spend_fen == 0), None)
    return next((lv for lv in found if lv.level == number), None)


async def mine(session: AsyncSession, shopper: Shopper) -> MembershipOut:
    plan = await repository.level_plan(session, shopper.merchant_id)
    if plan is None:
        raise NotFound("levels_not_configured", "this mall has no membership levels")
    number, spend = await repository.member_level(session, shopper.customer_id)
    levels = [Level.model_validate(lv) for lv in plan.levels]
    current = _level(plan.levels, number)
    number = current.level if current else 0
    upcoming = next((lv for lv in levels if lv.min_spend_fen > spend), None)
    return MembershipOut(level=number, name=current.name if current else None, spend_fen=spend,
                         discount_percent=current.discount_percent if current else 0,
                         free_shipping=current.free_shipping if current else False,
                         points_multiplier_percent=current.points_multiplier_percent if current else 100,
                         early_access_hours=current.early_access_hours if current else 0,
                         next_level=upcoming.name if upcoming else None,
                         next_needs_fen=upcoming.min_spend_fen - spend if upcoming else None)


async def plans(session: AsyncSession) -> list[LevelPlan]:
    return await repository.level_plans(session)


async def evaluate_once_a_day(session: AsyncSession, plan: LevelPlan, now: datetime) -> int:
    """Re-evaluate a merchant's members unless done today (a read, not a write, on every other tick); how many."""
    marker, day = f"levels:{plan.merchant_id}", counters.day_of(now)
    if await counters.used(session, marker, day) or not await counters.take(session, plan.merchant_id, marker, day, 1):
        return 0
    return await evaluate(session, plan.merchant_id, LevelPlanIn.model_validate(plan, from_attributes=True), now)


async def level_names(session: AsyncSession, merchant_id: int, customer_ids: list[int]) -> dict[int, str]:
    """Each customer's level name, for a page of customers: the plan read once, their levels in one query (none
    when the mall has no levels)."""
    plan = await repository.level_plan(session, merchant_id)
    if plan is None or not customer_ids:
        return {}
    numbers = await repository.member_levels(session, customer_ids)
    named = {customer_id: _level(plan.levels, numbers.get(customer_id, 0)) for customer_id in customer_ids}
    return {customer_id: level.name for customer_id, level in named.items() if level is not None}


# Reads the merchant console makes as the repository answers them (pages call domains through their services).
level_plan = repository.level_plan
