"""Tasks (任务): invite a friend who registers, a friend's first purchase, a friend opening one's product share,
a check-in streak, reviews; once, daily or weekly; rewarded with points or a coupon exactly once per period.

Progress is driven by events: the worker reacts to each one, finds the step it makes (rules.step_of), counts each
friend or day once per period (a unique hit), and rewards whoever reaches the target first by one guarded update.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.audit import note_before
from fissionmall.core.auth import Shopper, StaffMember
from fissionmall.core.clock import Clock
from fissionmall.core.errors import Conflict, NotFound
from fissionmall.core.events import event_of, react
from fissionmall.coupons import service as coupons
from fissionmall.customers import service as customers
from fissionmall.customers.models import Customer
from fissionmall.loyalty.points import service as points
from fissionmall.loyalty.tasks import repository, rules
from fissionmall.loyalty.tasks.models import LoyaltyTask
from fissionmall.loyalty.tasks.schemas import MyTaskOut, TaskIn, TaskOut, TaskPatch

PROGRESS_JOB = "loyalty.task_progress"


class CouponRewardWaiting(Exception):
    """The reward coupon's template has no stock left: the job, and the reward, wait for a restock."""


async def create(session: AsyncSession, now: datetime, staff: StaffMember, body: TaskIn) -> TaskOut:
    if body.reward_points and await points.config_of(session, staff.merchant_id) is None:
        raise Conflict("points_not_configured", "set up points before rewarding tasks with them")
    if body.reward_template_id is not None:
        coupons.require_issuable(await coupons.require_template(session, staff.merchant_id, body.reward_template_id),
                                 now)
    task_id = await repository.add_task(session, merchant_id=staff.merchant_id, **body.model_dump(), created_at=now)
    return await _out(session, staff.merchant_id, task_id)


async def patch(session: AsyncSession, staff: StaffMember, task_id: int, body: TaskPatch) -> TaskOut:
    note_before(session, await _require(session, staff.merchant_id, task_id), ["active"])
    await repository.set_task_active(session, task_id, body.active)
    return await _out(session, staff.merchant_id, task_id)


async def for_merchant(session: AsyncSession, staff: StaffMember) -> list[TaskOut]:
    return [TaskOut.model_validate(t, from_attributes=True) for t in await repository.tasks(session,
                                                                                           staff.merchant_id)]


async def mine(session: AsyncSession, now: datetime, shopper: Shopper) -> list[MyTaskOut]:
    """Every active task with the customer's count in its current period."""
    active = await repository.tasks(session, shopper.merchant_id, active_only=True)
    keys = [(task.id, rules.period_key(task.period, now)) for task in active]
    progress = await repository.progress_of(session, shopper.customer_id, keys)
    return [MyTaskOut(task=TaskOut.model_validate(task, from_attributes=True), period_key=key,
                      count=min(progress[task.id].count, task.target) if task.id in progress else 0,
                      done=task.id in progress and progress[task.id].rewarded_at is not None)
            for task, (_, key) in zip(active, keys, strict=True)]


@dataclass(frozen=True)
class EventStep:
    """What an event makes: the step, the active tasks it counts toward, and the friend whose doing it was (who must
    pass the checks every reward of value asks, `fraud.judge_friend`, before any task advances)."""

    step: rules.Step
    tasks: list[LoyaltyTask]
    friend: Customer | None
    must_be_new: bool
    occurred_at: datetime


async def step_of_event(session: AsyncSession, event_id: int) -> EventStep | None:
    """The step an event makes toward active tasks; None when it makes none."""
    event = await event_of(session, event_id)
    if event is None:
        return None
    step = rules.step_of(event.kind, event.actor_id, event.inviter_id, event.data, event.occurred_at)
    if step is None:
        return None
    active = await repository.tasks(session, event.merchant_id, kind=rules.TASK_KINDS[event.kind], active_only=True)
    if not active:
        return None
    friend = await customers.get_customer(session, event.merchant_id, step.subject_id) \
        if event.kind in rules.FRIEND_EVENTS else None
    return EventStep(step, active, friend, event.kind != "click", event.occurred_at)


async def advance(session: AsyncSession, clock: Clock, made: EventStep) -> list[str]:
    """Advance every task the step counts toward, each in a savepoint of its own, so a coupon reward waiting for
    stock holds back (and retries) only its own task; what waits."""
    waiting: list[str] = []
    for task in made.tasks:
        try:
            async with session.begin_nested():
                await _advance(session, clock, task, made.step, made.occurred_at)
        except CouponRewardWaiting as reward:
            waiting.append(str(reward))
    return waiting


async def _advance(session: AsyncSession, clock: Clock, task: LoyaltyTask, step: rules.Step, at: datetime) -> None:
    progress = await repository.progress_id(session, task.merchant_id, task.id, step.customer_id,
                                            rules.period_key(task.period, at))
    if not await repository.add_hit(session, task.merchant_id, progress, step.subject_id):
        return
    count = await repository.advance(session, progress, step.streak)
    if count < task.target or not await repository.mark_rewarded(session, progress, task.target, clock.now()):
        return
    now = clock.now()
    if task.reward_points:
        config = await points.config_of(session, task.merchant_id)
        if config is not None:
            await points.earn(session, task.merchant_id, step.customer_id, task.reward_points, "task",
                              ("task_progress", progress), now, config.validity_days)
    if task.reward_template_id is not None:
        template = await coupons.require_template(session, task.merchant_id, task.reward_template_id)
        if not await coupons.issue(session, template, [step.customer_id], now, ("task", progress)):
            raise CouponRewardWaiting(f"task {task.id}: coupon template {template.id} has no stock")


async def _require(session: AsyncSession, merchant_id: int, task_id: int) -> LoyaltyTask:
    found = await repository.task(session, merchant_id, task_id)
    if found is None:
        raise NotFound("task_not_found", f"no task {task_id}")
    return found


async def _out(session: AsyncSession, merchant_id: int, task_id: int) -> TaskOut:
    return TaskOut.model_validate(await _require(session, merchant_id, task_id), from_attributes=True)


async def _tasks_on(session: AsyncSession, merchant_id: int, inviter_id: int | None) -> bool:
    return await repository.any_active_task(session, merchant_id)


for _event_kind in rules.TASK_KINDS:
    react(_event_kind, PROGRESS_JOB, when=_tasks_on)
