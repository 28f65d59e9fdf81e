"""The worker's order sweeps: payment timeouts, lapsed balances, auto-receive, auto-complete. Chunked, idempotent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.schedule import Sweep, in_chunks, sweep
from fissionmall.orders import service


def _chunked(step: Callable[[AsyncSession, Any, datetime], Awaitable[int]]) -> Sweep:
    async def run(runtime: Any, now: datetime) -> int:
        return await in_chunks(runtime.sessionmaker, lambda session: step(session, runtime, now), service.CHUNK)

    return run


cancel_unpaid = sweep("orders.cancel_unpaid")(_chunked(service.cancel_unpaid))
lapse_balances = sweep("orders.lapse_balances")(_chunked(service.lapse_balances))
auto_receive = sweep("orders.auto_receive")(_chunked(service.auto_receive))
auto_complete = sweep("orders.auto_complete")(_chunked(service.auto_complete))
