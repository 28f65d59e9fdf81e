"""What an operator does with the job queue: see the dead jobs, requeue them, read the queue's state.

A requeued job starts over with a fresh set of attempts (its retries and backoff from the beginning): a job dies only
after about a day of failures, so by the time someone requeues it the cause has usually been fixed, and it deserves
the full schedule again. Its last error stays on the row until its next attempt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.outbox import OutboxJob
from fissionmall.jobs import errors, repository


@dataclass(frozen=True)
class DeadJob:
    id: int
    kind: str
    merchant_id: int | None
    attempts: int
    last_error: str | None
    died_at: datetime


@dataclass(frozen=True)
class QueueState:
    due: int
    """Pending jobs due now (counted up to repository.COUNT_CAP)."""
    oldest_due_seconds: float
    """How long the longest-waiting due job has waited: 0 when none is due."""
    dead: dict[str, int]


async def list_dead(session: AsyncSession, *, limit: int = 200) -> list[DeadJob]:
    """Most recently dead first (a dead job's run_at is when it died)."""
    return [DeadJob(job.id, job.kind, job.merchant_id, job.attempts, job.last_error, job.run_at)
            for job in await repository.dead_jobs(session, limit=limit)]


async def retry(session: AsyncSession, job_id: int, *, now: datetime) -> None:
    """Requeue one dead job; any other job is refused (a pending or done job must not run again)."""
    if await repository.requeue_dead(session, now=now, job_id=job_id):
        return
    status = await repository.status_of(session, job_id)
    if status is None:
        raise errors.job_not_found(job_id)
    raise errors.job_not_dead(job_id, status)


async def retry_all(session: AsyncSession, *, now: datetime) -> list[int]:
    return await repository.requeue_dead(session, now=now)


async def queue_state(session: AsyncSession, *, now: datetime) -> QueueState:
    due = await repository.capped_count(session, OutboxJob.status == "pending", OutboxJob.run_at <= now)
    oldest = await repository.oldest_due(session, now=now)
    waited = (now - oldest).total_seconds() if oldest is not None else 0.0
    return QueueState(due=due, oldest_due_seconds=max(waited, 0.0), dead=await repository.dead_by_kind(session))
