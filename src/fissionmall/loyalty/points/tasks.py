"""The worker earns points on completed orders and on reviews, and expires old points."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fissionmall.core.outbox import job
from fissionmall.core.schedule import in_chunks, sweep
from fissionmall.loyalty.points import service


@job(service.EARN_JOB)
async def earn_for_orders(runtime: Any, payload: dict[str, Any]) -> None:
    await service.earn_for_orders(runtime, payload)


@sweep("points.expire")
async def expire_points(runtime: Any, now: datetime) -> int:
    return await in_chunks(runtime, lambda session: service.expire(session, runtime), service.CHUNK)


@job(service.REVIEW_JOB)
async def earn_for_review(runtime: Any, payload: dict[str, Any]) -> None:
    await service.earn_for_review(runtime, payload)
