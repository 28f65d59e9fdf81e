"""The worker expires coupons past their validity, in chunks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fissionmall.core.schedule import in_chunks, sweep
from fissionmall.coupons import service


@sweep("coupons.expire")
async def expire(runtime: Any, now: datetime) -> int:
    return await in_chunks(runtime, lambda session: service.expire(session, runtime), service.CHUNK)
