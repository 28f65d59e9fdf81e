"""The worker re-evaluates every member's level once a day, each merchant in a transaction of its own."""

from __future__ import annotations

from datetime import datetime

from fissionmall.core.runtime import Runtime
from fissionmall.core.schedule import sweep
from fissionmall.loyalty.levels import service


@sweep("loyalty.levels")
async def levels_daily(runtime: Runtime, now: datetime) -> int:
    evaluated = 0
    async with runtime.sessionmaker() as session:
        plans = await service.plans(session)
    for plan in plans:
        async with runtime.sessionmaker() as session:
            evaluated += await service.evaluate_once_a_day(session, plan, now)
            await session.commit()
    return evaluated
