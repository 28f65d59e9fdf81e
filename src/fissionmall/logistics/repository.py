"""Every query of parcel tracking."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.db.sql import insert_ignoring_conflicts
from fissionmall.logistics.models import ShipmentEvent, ShipmentTrack


async def add_track(session: AsyncSession, values: dict[str, Any]) -> ShipmentTrack:
    """The order's parcel, followed once: a repeated follow finds the first row."""
    await session.execute(insert_ignoring_conflicts(session, ShipmentTrack).values(**values))
    return (await session.execute(select(ShipmentTrack).where(ShipmentTrack.order_id == values["order_id"]))
            ).scalar_one()


async def track_of(session: AsyncSession, merchant_id: int, order_id: int) -> ShipmentTrack | None:
    statement = select(ShipmentTrack).where(ShipmentTrack.merchant_id == merchant_id,
                                            ShipmentTrack.order_id == order_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def tracks_by_number(session: AsyncSession, provider: str, tracking_no: str) -> list[ShipmentTrack]:
    """Every parcel this provider follows under this number (one, unless two orders were given the same number)."""
    statement = (select(ShipmentTrack).where(ShipmentTrack.tracking_no == tracking_no,
                                             ShipmentTrack.provider == provider).order_by(ShipmentTrack.id))
    return list((await session.execute(statement)).scalars())


async def record_events(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[str]:
    """Insert the steps not stored yet, in one statement; the status of each one written. The unique (order, digest)
    key absorbs every repeat, however concurrent: a step another transaction is writing waits for it, then is
    skipped."""
    if not rows:
        return []
    result = await session.execute(insert_ignoring_conflicts(session, ShipmentEvent).values(list(rows))
                                   .returning(ShipmentEvent.status))
    return [str(status) for status in result.scalars()]


async def update_track(session: AsyncSession, track_id: int, **values: Any) -> None:
    await session.execute(update(ShipmentTrack).where(ShipmentTrack.id == track_id).values(**values))


async def newest_status(session: AsyncSession, order_id: int) -> str | None:
    statement = (select(ShipmentEvent.status).where(ShipmentEvent.order_id == order_id)
                 .order_by(ShipmentEvent.happened_at.desc(), ShipmentEvent.id.desc()).limit(1))
    return (await session.execute(statement)).scalar_one_or_none()


async def events_of(session: AsyncSession, merchant_id: int, order_id: int) -> list[ShipmentEvent]:
    """The order's steps, newest first."""
    statement = (select(ShipmentEvent).where(ShipmentEvent.merchant_id == merchant_id,
                                             ShipmentEvent.order_id == order_id)
                 .order_by(ShipmentEvent.happened_at.desc(), ShipmentEvent.id.desc()))
    return list((await session.execute(statement)).scalars())


async def due_for_poll(session: AsyncSession, now: datetime, limit: int) -> list[ShipmentTrack]:
    statement = (select(ShipmentTrack).where(ShipmentTrack.next_poll_at <= now, ShipmentTrack.finished_at.is_(None))
                 .order_by(ShipmentTrack.next_poll_at).limit(limit))
    return list((await session.execute(statement)).scalars())
