"""The worker's order sweeps: payment timeouts, lapsed balances, auto-receive, auto-complete. Chunked, idempotent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.runtime import Runtime
from fissionmall.core.schedule import Sweep, in_chunks, sweep
from fissionmall.orders import service


def _chunked(step: Callable[[AsyncSession, datetime], Awaitable[int]]) -> Sweep:
    async def run(runtime: Runtime, now: datetime) -> int:
        return await in_chunks(runtime.sessionmaker, lambda session: step(session, now), service.CHUNK)

    return run


cancel_unpaid = sweep("orders.cancel_unpaid")(_chunked(service.cancel_unpaid))


@sweep("orders.lapse_balances")
async def lapse_balances(runtime: Runtime, now: datetime) -> int:
    """Each campaign's deposit rule may refund, which reads the clock: the one sweep that takes it."""
    return await in_chunks(runtime.sessionmaker, lambda session: service.lapse_balances(session, runtime.clock, now),
                           service.CHUNK)


auto_receive = sweep("orders.auto_receive")(_chunked(service.auto_receive))
auto_complete = sweep("orders.auto_complete")(_chunked(service.auto_complete))
