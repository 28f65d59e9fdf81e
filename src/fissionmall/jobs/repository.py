"""Every query of the job queue that is not the worker's own claim: dead jobs, requeues, the queue's state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.outbox import OutboxJob

COUNT_CAP = 100_000
"""Counts stop here, so a scrape or a probe costs at most this many index entries however long the queue grows."""


async def dead_jobs(session: AsyncSession, *, limit: int) -> list[OutboxJob]:
    """Most recently dead first (a dead job's run_at is when its last attempt failed)."""
    statement = (select(OutboxJob).where(OutboxJob.status == "dead")
                 .order_by(OutboxJob.run_at.desc(), OutboxJob.id.desc()).limit(limit))
    return list((await session.execute(statement)).scalars())


async def status_of(session: AsyncSession, job_id: int) -> str | None:
    status: str | None = await session.scalar(select(OutboxJob.status).where(OutboxJob.id == job_id))
    return status


async def requeue_dead(session: AsyncSession, *, now: datetime, job_id: int | None = None) -> list[int]:
    """Dead jobs (one, or all) back to pending, due now, with a fresh set of attempts; guarded on `dead`, so a job
    that is pending, running or done is never touched. The ids requeued."""
    statement = (update(OutboxJob).where(OutboxJob.status == "dead")
                 .values(status="pending", run_at=now, locked_until=None, attempts=0)
                 .returning(OutboxJob.id))
    if job_id is not None:
        statement = statement.where(OutboxJob.id == job_id)
    return sorted((await session.execute(statement)).scalars())


async def capped_count(session: AsyncSession, *conditions: object) -> int:
    matching = select(OutboxJob.id).where(*conditions).limit(COUNT_CAP).subquery()  # type: ignore[arg-type]
    return int(await session.scalar(select(func.count()).select_from(matching)) or 0)


async def oldest_due(session: AsyncSession, *, now: datetime) -> datetime | None:
    """When the job that has waited longest was due (the due index answers it from one end)."""
    due: datetime | None = await session.scalar(
        select(func.min(OutboxJob.run_at)).where(OutboxJob.status == "pending", OutboxJob.run_at <= now))
    return due


async def dead_by_kind(session: AsyncSession) -> dict[str, int]:
    dead = select(OutboxJob.kind).where(OutboxJob.status == "dead").limit(COUNT_CAP).subquery()
    rows = await session.execute(select(dead.c.kind, func.count()).group_by(dead.c.kind))
    return {kind: count for kind, count in rows}
