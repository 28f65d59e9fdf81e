"""The worker expires assist packets whose time ran out, in chunks."""

from __future__ import annotations

from datetime import datetime

from fissionmall.campaigns.assist import service
from fissionmall.core.runtime import Runtime
from fissionmall.core.schedule import in_chunks, sweep


@sweep("assist.expire")
async def expire(runtime: Runtime, now: datetime) -> int:
    return await in_chunks(runtime.sessionmaker, lambda session: service.expire(session, runtime.clock), service.CHUNK)
