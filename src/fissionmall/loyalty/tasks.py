"""The worker pays the monthly dividend pool on each merchant's pay day, earns points on completed orders,
expires old points and advances customers' tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fissionmall.core.outbox import job
from fissionmall.core.schedule import in_chunks, sweep
from fissionmall.loyalty import levels, missions, points, service


@sweep("loyalty.dividend")
async def dividend(runtime: Any, now: datetime) -> int:
    return await service.pay_day(runtime, now)


@job(points.EARN_JOB)
async def earn_for_orders(runtime: Any, payload: dict[str, Any]) -> None:
    await points.earn_for_orders(runtime, payload)


@sweep("points.expire")
async def expire_points(runtime: Any, now: datetime) -> int:
    return await in_chunks(runtime, lambda session: points.expire(session, runtime), points.CHUNK)


@sweep("loyalty.levels")
async def levels_daily(runtime: Any, now: datetime) -> int:
    return await levels.daily(runtime, now)


@job(missions.PROGRESS_JOB)
async def task_progress(runtime: Any, payload: dict[str, Any]) -> None:
    await missions.on_event(runtime, payload)


@job(points.REVIEW_JOB)
async def earn_for_review(runtime: Any, payload: dict[str, Any]) -> None:
    await points.earn_for_review(runtime, payload)
