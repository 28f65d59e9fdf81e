"""The worker keeps the recommender's model up to date: each sweep folds the orders paid or refunded since the
watermark, a chunk of events per transaction."""

from __future__ import annotations

from datetime import datetime

from fissionmall.core.runtime import Runtime
from fissionmall.core.schedule import in_chunks, sweep
from fissionmall.recommend import service


@sweep("recommend.refresh")
async def refresh(runtime: Runtime, now: datetime) -> int:
    return await in_chunks(runtime.sessionmaker, lambda session: service.catch_up(session, runtime.clock.now()),
                           service.CHUNK)
