"""The worker settles expired groups in chunks, each chunk its own short transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fissionmall.campaigns.groupbuy import service
from fissionmall.core.schedule import sweep


@sweep("groupbuy.settle_expired")
async def settle_expired(runtime: Any, now: datetime) -> int:
    handled = 0
    while True:
        async with runtime.sessionmaker() as session:
            count = await service.settle_expired(session, runtime)
            await session.commit()
        handled += count
        if count < service.CHUNK:
            return handled
