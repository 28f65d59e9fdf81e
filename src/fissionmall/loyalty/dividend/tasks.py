"""The worker pays the monthly dividend pool on each merchant's pay day."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fissionmall.core.schedule import sweep
from fissionmall.loyalty.dividend import service


@sweep("loyalty.dividend")
async def dividend(runtime: Any, now: datetime) -> int:
    return await service.pay_day(runtime, now)
