"""The worker pays the monthly dividend pool on each merchant's pay day: each merchant's computing in a transaction
of its own, the crediting in chunks, each a short transaction, resumable."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fissionmall.core.runtime import Runtime
from fissionmall.core.schedule import sweep
from fissionmall.loyalty.dividend import service


@sweep("loyalty.dividend")
async def dividend(runtime: Runtime, now: datetime) -> int:
    """On each merchant's pay day, compute last month's pool once; credit what is computed."""
    async with runtime.sessionmaker() as session:
        due = await service.due_on(session, now)
    for merchant_id in due:
        async with runtime.sessionmaker() as session:
            await service.compute_last_month(session, now, merchant_id)
            await session.commit()
    async with runtime.sessionmaker() as session:
        waiting = await service.runs_to_credit(session)
    return sum([await credit(runtime, run_id) for run_id in waiting])


async def credit(runtime: Runtime, run_id: int, *, chunk: int = service.CHUNK,
                 progress: Callable[[int], None] = lambda _: None) -> int:
    """Credit a computed run in chunks, each its own short transaction; the shares credited."""
    done = 0
    while True:
        async with runtime.sessionmaker() as session:
            covered = await service.credit_chunk(session, runtime.clock, run_id, chunk)
            await session.commit()
        if covered == 0:
            return done
        done += covered
        progress(covered)
