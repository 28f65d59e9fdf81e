"""Packets are made by the worker after payment (a deferred post-order action), and expire in chunks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fissionmall.campaigns.packets import service
from fissionmall.core.outbox import job
from fissionmall.core.runtime import Runtime
from fissionmall.core.schedule import in_chunks, sweep


@job(service.CREATE_JOB)
async def create_for_order(runtime: Runtime, payload: dict[str, Any]) -> None:
    async with runtime.sessionmaker() as session:
        await service.create_for_order(session, runtime, int(payload["merchant_id"]), int(payload["subject_id"]))
        await session.commit()


@sweep("packets.expire")
async def expire(runtime: Runtime, now: datetime) -> int:
    return await in_chunks(runtime.sessionmaker, lambda session: service.expire(session, now), service.CHUNK)
