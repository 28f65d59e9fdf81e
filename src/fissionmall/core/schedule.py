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
