"""Every query of tasks: the merchant's tasks, and progress counted by unique hits and rewarded by one guarded
update."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.db.sql import Direct, insert_ignoring_conflicts, table
from fissionmall.loyalty.tasks.models import LoyaltyTask, TaskHit, TaskProgress

_TASKS = table(LoyaltyTask)
_ANY_ACTIVE_TASK = Direct(lambda _: select(_TASKS.c.id).where(_TASKS.c.merchant_id == bindparam("merchant_id"),
                                                              _TASKS.c.active).limit(1))


async def add_task(session: AsyncSession, **values: Any) -> int:
    return int((await session.execute(insert(LoyaltyTask).values(**values).returning(LoyaltyTask.id))).scalar_one())


async def task(session: AsyncSession, merchant_id: int, task_id: int) -> LoyaltyTask | None:
    statement = select(LoyaltyTask).where(LoyaltyTask.merchant_id == merchant_id, LoyaltyTask.id == task_id)
    return (await session.execute(statement.execution_options(populate_existing=True))).scalar_one_or_none()


async def tasks(session: AsyncSession, merchant_id: int, *, kind: str | None = None,
                active_only: bool = False) -> list[LoyaltyTask]:
    statement = select(LoyaltyTask).where(LoyaltyTask.merchant_id == merchant_id)
    if kind is not None:
        statement = statement.where(LoyaltyTask.kind == kind)
    if active_only:
        statement = statement.where(LoyaltyTask.active)
    return list((await session.execute(statement.order_by(LoyaltyTask.id))).scalars())


async def any_active_task(session: AsyncSession, merchant_id: int) -> bool:
    return await _ANY_ACTIVE_TASK.scalar(session, dict(merchant_id=merchant_id)) is not None


async def set_task_active(session: AsyncSession, task_id: int, active: bool) -> None:
    await session.execute(update(LoyaltyTask).where(LoyaltyTask.id == task_id).values(active=active))


async def progress_id(session: AsyncSession, merchant_id: int, task_id: int, customer_id: int, period_key: str) -> int:
    await session.execute(insert_ignoring_conflicts(session, TaskProgress).values(
        merchant_id=merchant_id, task_id=task_id, customer_id=customer_id, period_key=period_key, count=0))
    statement = select(TaskProgress.id).where(TaskProgress.task_id == task_id, TaskProgress.customer_id == customer_id,
                                              TaskProgress.period_key == period_key)
    return int((await session.execute(statement)).scalar_one())


async def add_hit(session: AsyncSession, merchant_id: int, progress: int, subject_id: int) -> bool:
    """Count a friend or a day once: False when it counted already."""
    result = await session.execute(insert_ignoring_conflicts(session, TaskHit).values(
        merchant_id=merchant_id, progress_id=progress, subject_id=subject_id).returning(TaskHit.id))
    return result.scalar() is not None


async def advance(session: AsyncSession, progress: int, streak: int | None) -> int:
    """One more, or the streak when it is longer than the count: the new count."""
    count = TaskProgress.count + 1 if streak is None else case((TaskProgress.count < streak, streak),
                                                               else_=TaskProgress.count)
    result = await session.execute(update(TaskProgress).where(TaskProgress.id == progress).values(count=count)
                                   .returning(TaskProgress.count))
    return int(result.scalar_one())


async def mark_rewarded(session: AsyncSession, progress: int, target: int, at: datetime) -> bool:
    """True exactly once per progress, for whoever reaches the target first."""
    result = await session.execute(update(TaskProgress).where(
        TaskProgress.id == progress, TaskProgress.rewarded_at.is_(None), TaskProgress.count >= target)
        .values(rewarded_at=at))
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


async def progress_of(session: AsyncSession, customer_id: int,
                      keys: list[tuple[int, str]]) -> dict[int, TaskProgress]:
    """task id → the customer's progress in the given period of each task."""
    if not keys:
        return {}
    statement = select(TaskProgress).where(TaskProgress.customer_id == customer_id,
                                           tuple_(TaskProgress.task_id, TaskProgress.period_key).in_(keys))
    return {p.task_id: p for p in (await session.execute(statement)).scalars()}
