"""The worker folds new events into the analytics tables, a chunk per transaction, after the stored watermark."""

from __future__ import annotations

from datetime import datetime

from fissionmall.analytics import service
from fissionmall.core.runtime import Runtime
from fissionmall.core.schedule import in_chunks, sweep


@sweep("analytics.fold")
async def fold(runtime: Runtime, now: datetime) -> int:
    return await in_chunks(runtime.sessionmaker, lambda session: service.catch_up(session, runtime.clock.now()),
                           service.CHUNK)
