"""Side effects outside the database, written in the same transaction and retried until done.

Jobs are claimed with a lease (`locked_until`) by a short statement that skips rows other workers
hold (`FOR UPDATE SKIP LOCKED` on PostgreSQL), then run outside that statement's transaction, so no
lock is ever held across a network call. A worker that dies loses its lease and the job runs again:
every handler must be idempotent at the receiver. A job that fails MAX_ATTEMPTS times in a row is parked as
`dead` with its last error, logged at error level (`job_dead`), counted in /readyz and /metrics, and run again
only when an operator requeues it (`fissionmall jobs dead`, `fissionmall jobs retry`): nothing is dropped.

On PostgreSQL, a transaction that queued jobs is committed by `commit_and_wake`, which then sends one NOTIFY on
CHANNEL, so a waiting worker wakes at once; a job queued for later is found by `next_due`, and the worker's poll finds
whatever no notification announced. The NOTIFY is a statement of its own after the commit, not part of the
transaction: PostgreSQL serializes the commits of transactions that notify (a lock on its notification queue, held
until the commit is flushed), and a request that holds a campaign's or a SKU's row must not wait for that queue.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Index, String, Text, UniqueConstraint, Update, and_, case, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.core.logging import get_logger
from fissionmall.core.runtime import Runtime
from fissionmall.db.base import Base, Id, TenantIdMixin, tenant_key
from fissionmall.db.sql import insert_ignoring_conflicts

MAX_ATTEMPTS = 30
"""About 20 hours of retries: 2 s doubling to an hour between attempts."""
CHANNEL = "outbox_jobs"
"""The PostgreSQL notification channel of queued jobs."""
QUEUED = "fissionmall.jobs_queued"
"""Marks a session whose transaction queued jobs (`session.info`): its commit wakes the workers."""
NO_MERCHANT = 0
"""The merchant_id of a job that works for no merchant."""


class OutboxJob(TenantIdMixin, Base):
    __tablename__ = "outbox_jobs"
    __table_args__ = (*tenant_key(), UniqueConstraint("dedupe_key", "merchant_id"),
                      Index("ix_outbox_jobs_due", "status", "run_at"))

    merchant_id: Mapped[int] = mapped_column(Id)
    """The merchant the job works for; NO_MERCHANT for a job of none (the sandbox provider's deliveries)."""
    kind: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]]
    dedupe_key: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    run_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]


JobHandler = Callable[[Runtime, dict[str, Any]], Awaitable[None]]
"""(runtime, payload) -> None; raising means: try again later."""

HANDLERS: dict[str, JobHandler] = {}


def job(kind: str) -> Callable[[JobHandler], JobHandler]:
    def register(handler: JobHandler) -> JobHandler:
        if kind in HANDLERS:
            raise RuntimeError(f"job kind {kind!r} registered twice")
        HANDLERS[kind] = handler
        return handler

    return register


async def enqueue(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any],
    *,
    now: datetime,
    merchant_id: int,
    dedupe_key: str | None = None,
    delay: timedelta = timedelta(0),
) -> None:
    """Queue a job in the caller's transaction; a repeated dedupe_key queues nothing."""
    values = dict(kind=kind, payload=payload, merchant_id=merchant_id, dedupe_key=dedupe_key,
                  run_at=now + delay, created_at=now, status="pending", attempts=0)
    statement = insert_ignoring_conflicts(session, OutboxJob) if dedupe_key else insert(OutboxJob)
    await session.execute(statement.values(**values))
    session.info[QUEUED] = True


async def enqueue_many(session: AsyncSession, kind: str, jobs: Sequence[tuple[dict[str, Any], str, int]], *,
                       now: datetime) -> None:
    """A chunk's jobs in one statement: (payload, dedupe_key, merchant_id) each; a repeated key queues nothing."""
    if jobs:
        await session.execute(insert_ignoring_conflicts(session, OutboxJob), [
            dict(kind=kind, payload=payload, merchant_id=merchant_id, dedupe_key=key, run_at=now, created_at=now,
                 status="pending", attempts=0) for payload, key, merchant_id in jobs])
        session.info[QUEUED] = True


async def commit_and_wake(session: AsyncSession) -> None:
    """Commit; if the transaction queued jobs, wake the waiting workers (PostgreSQL's NOTIFY, in a statement of its
    own once the jobs are visible). A failed wake-up is logged, not raised: the jobs are committed, and the workers'
    poll finds them."""
    queued = session.info.pop(QUEUED, False)
    await session.commit()
    engine = session.bind
    if not queued or not isinstance(engine, AsyncEngine) or engine.dialect.name != "postgresql":
        return
    try:
        async with engine.connect() as connection:
            awake = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await awake.exec_driver_sql(f"NOTIFY {CHANNEL}")
    except Exception as exc:  # noqa: BLE001  (the commit stands; only the wake-up is lost)
        get_logger().warning("workers_not_woken", error=str(exc))


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int


async def claim_due(session: AsyncSession, *, now: datetime, limit: int, lease: timedelta) -> list[ClaimedJob]:
    due = (
        select(OutboxJob.id)
        .where(OutboxJob.status == "pending", OutboxJob.run_at <= now,
               or_(OutboxJob.locked_until.is_(None), OutboxJob.locked_until < now))
        .order_by(OutboxJob.run_at, OutboxJob.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    rows = await session.execute(
        update(OutboxJob)
        .where(OutboxJob.id.in_(due))
        .values(locked_until=now + lease, attempts=OutboxJob.attempts + 1)
        .returning(OutboxJob.id, OutboxJob.kind, OutboxJob.payload, OutboxJob.attempts)
    )
    return [ClaimedJob(*row) for row in rows.all()]


async def next_due(session: AsyncSession) -> datetime | None:
    """When the earliest pending job may be claimed: its `run_at`, or the end of the lease another worker holds on
    it; None when nothing is pending."""
    claimable = case((OutboxJob.locked_until > OutboxJob.run_at, OutboxJob.locked_until), else_=OutboxJob.run_at)
    due: datetime | None = await session.scalar(select(func.min(claimable)).where(OutboxJob.status == "pending"))
    return due


async def run_due_jobs(runtime: Runtime, sessionmaker: async_sessionmaker[AsyncSession], *, now: datetime,
                       limit: int = 100) -> int:
    """Claim and run one batch of due jobs; returns how many were claimed."""
    lease = timedelta(seconds=runtime.settings.job_lease_seconds)
    async with sessionmaker() as session:
        claimed = await claim_due(session, now=now, limit=limit, lease=lease)
        await session.commit()
    for claimed_job in claimed:
        handler = HANDLERS.get(claimed_job.kind)
        error: str | None = None
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {claimed_job.kind!r}")
            await handler(runtime, claimed_job.payload)
        except Exception as exc:  # a job's failure must not stop the others
            error = f"{type(exc).__name__}: {exc}"[:2000]
            runtime.log.warning("job_failed", job_id=claimed_job.id, kind=claimed_job.kind, error=error)
        async with sessionmaker() as session:
            finished = await session.execute(finish_statement(claimed_job, error, now))
            await session.commit()
        if error is not None and is_last_attempt(claimed_job) and finished.rowcount == 1:  # type: ignore[attr-defined]
            runtime.log.error("job_dead", job_id=claimed_job.id, kind=claimed_job.kind,
                              attempts=claimed_job.attempts, error=error)
    return len(claimed)


def is_last_attempt(claimed_job: ClaimedJob) -> bool:
    return claimed_job.attempts >= MAX_ATTEMPTS


def finish_statement(claimed_job: ClaimedJob, error: str | None, now: datetime) -> Update:
    mine = and_(OutboxJob.id == claimed_job.id, OutboxJob.attempts == claimed_job.attempts)
    if error is None:
        return update(OutboxJob).where(mine).values(status="done", done_at=now, locked_until=None)
    if is_last_attempt(claimed_job):  # parked; run_at then says when it died
        return update(OutboxJob).where(mine).values(status="dead", run_at=now, locked_until=None, last_error=error)
    backoff = timedelta(seconds=min(2 ** claimed_job.attempts, 3600))
    return (update(OutboxJob).where(mine)
            .values(status="pending", run_at=now + backoff, locked_until=None, last_error=error))
