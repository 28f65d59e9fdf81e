"""The worker returns unclaimed gifts to their senders and refunds vouchers that expire unused."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fissionmall.campaigns.giftcards import service
from fissionmall.core.outbox import job
from fissionmall.core.runtime import Runtime
from fissionmall.core.schedule import in_chunks, sweep


@sweep("vouchers.return_unclaimed")
async def return_unclaimed(runtime: Runtime, now: datetime) -> int:
    return await in_chunks(runtime.sessionmaker, lambda session: service.return_unclaimed(session, now), service.CHUNK)


@sweep("vouchers.expire")
async def expire(runtime: Runtime, now: datetime) -> int:
    return await in_chunks(runtime.sessionmaker, lambda session: service.expire(session, runtime.clock), service.CHUNK)


@job(service.REFUND_JOB)
async def refund_expired(runtime: Runtime, payload: dict[str, Any]) -> None:
    async with runtime.sessionmaker() as session:
        await service.refund_expired(session, runtime.clock, int(payload["order_id"]))
        await session.commit()
