"""Periodic sweeps the worker runs each tick (expiries, auto-completion). Each must be idempotent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fissionmall.core.outbox import commit_and_wake
from fissionmall.core.runtime import Runtime

Sweep = Callable[[Runtime, datetime], Awaitable[int]]
"""(runtime, now) -> rows handled."""

SWEEPS: dict[str, Sweep] = {}


def sweep(name: str) -> Callable[[Sweep], Sweep]:
    def register(function: Sweep) -> Sweep:
        SWEEPS[name] = function
        return function

    return register


async def in_chunks(sessionmaker: async_sessionmaker[AsyncSession], step: Callable[[AsyncSession], Awaitable[int]],
                    chunk: int) -> int:
    """Run `step(session)` in one short transaction per chunk until a chunk comes back short: no sweep holds
    one transaction for the whole run."""
    handled = 0
    while True:
        async with sessionmaker() as session:
            count = await step(session)
            await commit_and_wake(session)  # other workers may take what a sweep queued
        handled += count
        if count < chunk:
            return handled
