"""The load driver: N concurrent keep-alive connections, each taking the next customer's journey, in a process of
its own so that the bench's bookkeeping never competes with the measured path inside one interpreter.

A journey (bench/journeys.py) is a small async function of (caller, user, context) making one or more requests;
the driver times every request, keeps its status and problem code, and reports per request label. It also reports
its own CPU time, so a run can show that the driver was not the bottleneck.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import resource
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.machine import Usage
from bench.wire import Connection, Reply


@dataclass
class Stats:
    latencies_ms: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    """"201", "409 campaign_sold_out" …: the status and, for a refusal, its problem code."""

    def add(self, ms: float, reply: Reply) -> None:
        self.latencies_ms.append(ms)
        self.outcomes[f"{reply.status} {reply.code}".strip()] += 1

    def merge(self, other: Stats) -> None:
        self.latencies_ms.extend(other.latencies_ms)
        self.outcomes.update(other.outcomes)

    def ok(self) -> int:
        return sum(n for outcome, n in self.outcomes.items() if outcome.startswith("2"))


@dataclass
class Report:
    labels: dict[str, Stats]
    seconds: float
    journeys: int
    driver_cpu_seconds: float
    concurrency: int
    failures: list[str] = field(default_factory=list)
    """Journeys that raised (a broken connection, an unexpected answer shape): never hidden."""
    usage: Usage | None = None
    """Where the machine's CPU went meanwhile (filled in by the bench process)."""


class Recorder:
    def __init__(self) -> None:
        self.labels: dict[str, Stats] = {}

    def add(self, label: str, ms: float, reply: Reply) -> None:
        self.labels.setdefault(label, Stats()).add(ms, reply)


class WireCaller:
    """What a journey calls: one connection of the driver, timing each request under its label."""

    def __init__(self, connection: Connection, recorder: Recorder) -> None:
        self.connection, self.recorder = connection, recorder

    async def call(
        self, label: str, method: str, path: str, *, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Reply:
        started = time.perf_counter()
        reply = await self.connection.request(method, path, body, headers or {})
        self.recorder.add(label, (time.perf_counter() - started) * 1000, reply)
        return reply


@dataclass
class Load:
    """Everything the driver process needs, picklable: which journey, for whom, how many at once, where."""

    journey: str
    users: list[dict[str, Any]]
    concurrency: int
    host: str
    port: int
    context: dict[str, Any]


async def _drive(load: Load, done: Any) -> Report:
    from bench.journeys import JOURNEYS

    journey = JOURNEYS[load.journey]
    recorder = Recorder()
    queue = iter(load.users)
    failures: list[str] = []

    async def worker() -> None:
        connection = Connection(load.host, load.port)
        caller = WireCaller(connection, recorder)
        try:
            for user in queue:
                try:
                    await journey(caller, user, load.context)
                except Exception as exc:  # counted and shown; one broken journey must not stop the load
                    failures.append(f"{type(exc).__name__}: {exc}"[:200])
                    await connection.close()
                with done.get_lock():
                    done.value += 1
        finally:
            await connection.close()

    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(min(load.concurrency, len(load.users)) or 1)))
    seconds = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    return Report(
        labels=recorder.labels,
        seconds=seconds,
        journeys=len(load.users),
        driver_cpu_seconds=cpu,
        concurrency=load.concurrency,
        failures=failures,
    )


def _child(load: Load, done: Any, results: Any) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # the stdlib loop works too, at a higher cost per request
        pass
    results.put(asyncio.run(_drive(load, done)))


def run_load(load: Load, progress: Callable[[int], None] = lambda _: None) -> Report:
    """Run `load` in a fresh process and wait for its report, calling `progress(journeys done)` meanwhile."""
    context = multiprocessing.get_context("spawn")
    done = context.Value("q", 0)
    results = context.Queue()
    process = context.Process(target=_child, args=(load, done, results), daemon=True)
    process.start()
    try:
        while True:
            try:
                report: Report = results.get(timeout=0.25)
                break
            except Exception:  # queue.Empty: still running
                progress(done.value)
                if not process.is_alive():
                    raise RuntimeError(f"the driver process died (exit code {process.exitcode})") from None
        progress(done.value)
        return report
    finally:
        process.join(timeout=10)
