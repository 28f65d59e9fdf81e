"""The worker's order sweeps: payment timeouts, lapsed balances, auto-receive, auto-complete. Chunked, idempotent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.schedule import sweep
from fissionmall.orders import service


async def _in_chunks(runtime: Any, now: datetime,
                     step: Callable[[AsyncSession, Any, datetime], Awaitable[int]]) -> int:
    """Run `step` in one short transaction per chunk until nothing is due."""
    handled = 0
    while True:
        async with runtime.sessionmaker() as session:
            count = await step(session, runtime, now)
            await session.commit()
        handled += count
        if count < service.CHUNK:
            return handled


@sweep("orders.cancel_unpaid")
async def cancel_unpaid(runtime: Any, now: datetime) -> int:
    return await _in_chunks(runtime, now, service.cancel_unpaid)


@sweep("orders.auto_receive")
async def auto_receive(runtime: Any, now: datetime) -> int:
    return await _in_chunks(runtime, now, service.auto_receive)


@sweep("orders.auto_complete")
async def auto_complete(runtime: Any, now: datetime) -> int:
    return await _in_chunks(runtime, now, service.auto_complete)


@sweep("orders.lapse_balances")
async def lapse_balances(runtime: Any, now: datetime) -> int:
    return await _in_chunks(runtime, now, service.lapse_balances)
