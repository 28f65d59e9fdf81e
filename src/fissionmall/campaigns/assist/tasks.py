"""The worker expires assist packets whose time ran out, in chunks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fissionmall.campaigns.assist import service
from fissionmall.core.schedule import in_chunks, sweep


@sweep("assist.expire")
async def expire(runtime: Any, now: datetime) -> int:
    return await in_chunks(runtime.sessionmaker, lambda session: service.expire(session, runtime), service.CHUNK)
