"""The worker expires coupons past their validity, in chunks."""

from __future__ import annotations

from datetime import datetime

from fissionmall.core.runtime import Runtime
from fissionmall.core.schedule import in_chunks, sweep
from fissionmall.coupons import service


@sweep("coupons.expire")
async def expire(runtime: Runtime, now: datetime) -> int:
    return await in_chunks(runtime.sessionmaker, lambda session: service.expire(session, runtime.clock.now()),
                           service.CHUNK)
