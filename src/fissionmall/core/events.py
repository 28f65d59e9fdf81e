"""The append-only event log behind analytics: who did what, through whose share, how deep."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.core.outbox import enqueue
from fissionmall.db.base import Base, Id, TenantIdMixin, tenant_key
from fissionmall.db.sql import Direct, table


class Event(TenantIdMixin, Base):
    __tablename__ = "events"
    __table_args__ = (
        *tenant_key(),
        Index("ix_events_merchant_campaign_kind", "merchant_id", "campaign_id", "kind"),
        Index("ix_events_subject", "subject_type", "subject_id"),
    )

    merchant_id: Mapped[int] = mapped_column(Id)
    kind: Mapped[str] = mapped_column(String(30))
    campaign_id: Mapped[int | None] = mapped_column(Id)
    actor_id: Mapped[int | None] = mapped_column(Id)
    inviter_id: Mapped[int | None] = mapped_column(Id)
    depth: Mapped[int] = mapped_column(default=0)
    subject_type: Mapped[str] = mapped_column(String(20), default="")
    subject_id: Mapped[int | None] = mapped_column(Id)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    occurred_at: Mapped[datetime]


_EVENTS = table(Event)
_INSERT_EVENT = Direct(lambda _: insert(_EVENTS))
_INSERT_EVENT_RETURNING = Direct(lambda _: insert(_EVENTS).returning(_EVENTS.c.id))

Condition = Callable[[AsyncSession, int, int | None], Awaitable[bool]]
"""(session, merchant id, inviter id) -> whether the reaction is worth a job."""
REACTIONS: dict[str, list[tuple[str, Condition | None]]] = {}
"""Event kind → the outbox jobs that react to it (an invite reward, a coupon packet …), each with its condition."""


def react(event_kind: str, job_kind: str, *, when: Condition | None = None) -> None:
    """Queue a `job_kind` job, in the same transaction, whenever a `event_kind` event is written and `when` (a
    cheap check: an inviter, a live campaign of the kind) holds. Events a sweep records by the chunk
    (record_events) get one job per merchant and chunk instead, its payload listing the `subject_ids`."""
    REACTIONS.setdefault(event_kind, []).append((job_kind, when))


@dataclass(frozen=True)
class Happened:
    """One event of a chunk recorded at once."""

    merchant_id: int
    subject: tuple[str, int]
    actor_id: int | None = None
    inviter_id: int | None = None
    campaign_id: int | None = None
    data: dict[str, Any] | None = None


async def record_events(session: AsyncSession, kind: str, at: datetime, events: Sequence[Happened]) -> None:
    """A sweep's chunk of events of one kind in one statement, and one job per reaction and merchant for all of
    them: a chunk of a million-row job costs a few statements, not a few per row."""
    if not events:
        return
    await session.execute(insert(Event), [
        dict(merchant_id=e.merchant_id, kind=kind, occurred_at=at, actor_id=e.actor_id, inviter_id=e.inviter_id,
             depth=0, campaign_id=e.campaign_id, subject_type=e.subject[0], subject_id=e.subject[1],
             data=e.data or {})
        for e in events])
    by_merchant: dict[int, list[Happened]] = {}
    for e in events:
        by_merchant.setdefault(e.merchant_id, []).append(e)
    for job_kind, when in REACTIONS.get(kind, ()):
        for merchant_id, mine in by_merchant.items():
            if when is None or await when(session, merchant_id, None):
                await enqueue(session, job_kind, {"event": kind, "merchant_id": merchant_id,
                                                  "subject_type": mine[0].subject[0],
                                                  "subject_ids": [e.subject[1] for e in mine]},
                              now=at, merchant_id=merchant_id)


async def record_event(
    session: AsyncSession,
    *,
    merchant_id: int,
    kind: str,
    at: datetime,
    actor_id: int | None = None,
    inviter_id: int | None = None,
    depth: int = 0,
    campaign_id: int | None = None,
    subject: tuple[str, int] | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Write one event in the caller's transaction, so it exists exactly when the change does, with the jobs
    that react to it."""
    subject_type, subject_id = subject or ("", None)
    values = dict(merchant_id=merchant_id, kind=kind, occurred_at=at, actor_id=actor_id, inviter_id=inviter_id,
                  depth=depth, campaign_id=campaign_id, subject_type=subject_type, subject_id=subject_id,
                  data=data or {})
    reactions = REACTIONS.get(kind, ())
    if not reactions:
        await _INSERT_EVENT.rows(session, values)
        return
    event_id = await _INSERT_EVENT_RETURNING.scalar(session, values)
    for job_kind, when in reactions:
        if when is not None and not await when(session, merchant_id, inviter_id):
            continue
        await enqueue(session, job_kind, {"event": kind, "event_id": event_id, "merchant_id": merchant_id,
                                          "actor_id": actor_id, "subject_type": subject_type, "subject_id": subject_id},
                      now=at, merchant_id=merchant_id, dedupe_key=f"{job_kind}:{event_id}")


async def event_of(session: AsyncSession, event_id: int) -> Event | None:
    """The event a reaction job was queued for."""
    return await session.get(Event, event_id)


async def settled_bound(session: AsyncSession, after: int, chunk: int, settled_before: datetime) -> int:
    """The last id of the next range a reader of the log may take: at most `chunk` events after `after`, none written
    after `settled_before` (a transaction still open may yet commit a smaller id than the newest: the range stops
    short of the recent)."""
    ids = select(Event.id).where(Event.id > after).order_by(Event.id).limit(chunk).subquery()
    top = (await session.execute(select(func.max(ids.c.id)))).scalar()
    if top is None:
        return after
    young = (await session.execute(select(func.min(Event.id)).where(
        Event.id > after, Event.id <= top, Event.occurred_at > settled_before))).scalar()
    return int(young) - 1 if young is not None else int(top)
