"""The worker earns points on completed orders, reviews and posts, and expires old points."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fissionmall.core.outbox import job
from fissionmall.core.runtime import Runtime
from fissionmall.core.schedule import in_chunks, sweep
from fissionmall.loyalty.points import service


@job(service.EARN_JOB)
async def earn_for_orders(runtime: Runtime, payload: dict[str, Any]) -> None:
    async with runtime.sessionmaker() as session:
        await service.earn_for_orders(session, runtime.clock.now(), payload)
        await session.commit()


@sweep("points.expire")
async def expire_points(runtime: Runtime, now: datetime) -> int:
    return await in_chunks(runtime.sessionmaker, lambda session: service.expire(session, runtime.clock.now()),
                           service.CHUNK)


@job(service.REVIEW_JOB)
async def earn_for_review(runtime: Runtime, payload: dict[str, Any]) -> None:
    async with runtime.sessionmaker() as session:
        await service.earn_for_review(session, runtime.clock.now(), payload)
        await session.commit()


@job(service.POST_JOB)
async def earn_for_post(runtime: Runtime, payload: dict[str, Any]) -> None:
    async with runtime.sessionmaker() as session:
        await service.earn_for_post(session, runtime.clock.now(), payload)
        await session.commit()
