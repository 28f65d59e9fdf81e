"""The worker re-evaluates every member's level once a day."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fissionmall.core.schedule import sweep
from fissionmall.loyalty.levels import service


@sweep("loyalty.levels")
async def levels_daily(runtime: Any, now: datetime) -> int:
    return await service.daily(runtime, now)
