"""Periodic sweeps the worker runs each tick (expiries, auto-completion). Each must be idempotent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

Sweep = Callable[[Any, datetime], Awaitable[int]]
"""(runtime, now) -> rows handled."""

SWEEPS: dict[str, Sweep] = {}


def sweep(name: str) -> Callable[[Sweep], Sweep]:
    def register(function: Sweep) -> Sweep:
        SWEEPS[name] = function
        return function

    return register


async def in_chunks(runtime: Any, step: Callable[[Any], Awaitable[int]], chunk: int) -> int:
    """Run `step(session)` in one short transaction per chunk until a chunk comes back short: no sweep holds
    one transaction for the whole run."""
    handled = 0
    while True:
        async with runtime.sessionmaker() as session:
            count = await step(session)
            await session.commit()
        handled += count
        if count < chunk:
            return handled
