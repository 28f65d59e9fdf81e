"""The worker settles expired groups in chunks."""

from __future__ import annotations

from datetime import datetime

from fissionmall.campaigns.groupbuy import service
from fissionmall.core.runtime import Runtime
from fissionmall.core.schedule import in_chunks, sweep


@sweep("groupbuy.settle_expired")
async def settle_expired(runtime: Runtime, now: datetime) -> int:
    return await in_chunks(runtime.sessionmaker, lambda session: service.settle_expired(session, runtime),
                           service.CHUNK)
