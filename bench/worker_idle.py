"""Benchmark: what an idle `fissionmall worker` costs, and how soon it runs a job another process queues.

    .venv/bin/python -m bench.worker_idle [--seconds 60] [--samples 10] [--database postgresql|sqlite ...]

For each database (a fresh, migrated PostgreSQL database and a fresh SQLite file; nothing else in them) it starts a
real `fissionmall worker` process, then:

1. wake latency: queues `--samples` jobs one at a time from this process, each committed on its own at a random
   moment, and reads how long each waited: from just before its insert to the moment the worker claimed it (the
   job's `done_at`, which is the claiming pass's time). The job is a real kind that finds nothing to do
   (task progress for an event that does not exist), so the figure is the wait, not the work;
2. idle: leaves the worker alone for `--seconds` and reads from /proc the CPU it used over that time, and the CPU of
   the PostgreSQL backends serving that database (its pool and, where it listens, its LISTEN connection), as a
   share of one core.

Nothing here is a test: no figure fails anything.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from bench import database, dataset, machine
from bench.server import OUT, System

URLS = {
    "postgresql": "postgresql+asyncpg://postgres@127.0.0.1:5432/fm_worker_idle",
    "sqlite": f"sqlite+aiosqlite:///{OUT / 'worker_idle.db'}",
}
NO_OP_JOB = ("loyalty.task_progress", '{"event_id": 0}')
"""A real job kind that reads one row, finds no event and is done: what it costs to run is nothing to speak of."""
QUEUE = "INSERT INTO outbox_jobs (merchant_id, kind, payload, status, attempts, run_at, created_at) " \
        "VALUES (0, $1, $2, 'pending', 0, $3, $3) RETURNING id"
console = Console(width=None if sys.stdout.isatty() else 120)


@dataclass(frozen=True)
class Figures:
    database: str
    worker: float
    """Share of one core used by the worker process over the idle time."""
    backends: float | None
    """The same for the PostgreSQL backends of the database; None on SQLite (a library inside the worker)."""
    latencies: list[float]


async def queue_and_wait(db: database.Database) -> float:
    """Seconds from just before the insert to the worker's claim of the job."""
    before = datetime.now(UTC)
    job_id = await db.value(QUEUE, *NO_OP_JOB, before)
    deadline = time.monotonic() + 120
    while (done_at := await db.value("SELECT done_at FROM outbox_jobs WHERE id = $1", job_id)) is None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the worker did not run job {job_id} within 120 s: see {OUT / 'worker.log'}")
        await asyncio.sleep(0.005)
    if isinstance(done_at, str):  # SQLite keeps naive UTC text
        done_at = datetime.fromisoformat(done_at).replace(tzinfo=UTC)
    return float((done_at - before).total_seconds())


async def wake_latencies(url: str, samples: int) -> list[float]:
    db = await database.connect(url)
    try:
        await queue_and_wait(db)  # the first waits for the worker's start-up: not counted
        latencies = []
        for _ in range(samples):
            await asyncio.sleep(random.uniform(0.2, 1.7))  # land anywhere in a polling period
            latencies.append(await queue_and_wait(db))
        return latencies
    finally:
        await db.close()


class Backends:
    """The backends serving one database, listed through a connection to another (so this one is not among them)."""

    def __init__(self, url: str) -> None:
        self.name = url.rsplit("/", 1)[1]
        self.admin_dsn = url.replace("postgresql+asyncpg", "postgresql").rsplit("/", 1)[0] + "/postgres"

    async def pids(self) -> set[int]:
        admin = await asyncpg.connect(self.admin_dsn)
        try:
            return {row["pid"] for row in await admin.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1", self.name)}
        finally:
            await admin.close()


async def idle_cpu(worker_pid: int, backends: Backends | None, seconds: float) -> tuple[float, float | None]:
    backend_pids = await backends.pids() if backends else set()
    before, started = machine.processes(), time.monotonic()
    with Progress(TextColumn("  idle"), BarColumn(), TextColumn("{task.completed:.0f}/{task.total:.0f} s"),
                  TimeRemainingColumn(), console=console, transient=True) as progress:
        task = progress.add_task("idle", total=seconds)
        while (elapsed := time.monotonic() - started) < seconds:
            progress.update(task, completed=elapsed)
            await asyncio.sleep(min(1.0, seconds - elapsed))
    after, wall = machine.processes(), time.monotonic() - started
    backend_pids |= await backends.pids() if backends else set()

    def spent(pid: int) -> float:
        if pid not in after:
            return 0.0  # ended during the phase: its last CPU is lost (the bench says how many ended)
        return after[pid].cpu_seconds - (before[pid].cpu_seconds if pid in before else 0.0)

    ended = [pid for pid in backend_pids if pid not in after]
    if ended:
        console.print(f"  [yellow]{len(ended)} backend(s) ended during the idle phase; their CPU is not counted")
    return spent(worker_pid) / wall, (sum(spent(pid) for pid in backend_pids) / wall if backends else None)


async def measure(name: str, seconds: float, samples: int) -> Figures:
    url = URLS[name]
    console.print(f"[bold]{name}[/]: a fresh database ({url}), one `fissionmall worker`")
    await dataset.create(url)
    system = System(url, redis_url=None)
    try:
        system.start_worker()
        worker = system.processes[0]
        latencies = await wake_latencies(url, samples)
        console.print(f"  wake latency over {samples} jobs: median {statistics.median(latencies) * 1000:.0f} ms, "
                      f"max {max(latencies) * 1000:.0f} ms")
        backends = None if database.is_sqlite(url) else Backends(url)
        worker_share, backend_share = await idle_cpu(worker.pid, backends, seconds)
        if worker.poll() is not None:
            raise RuntimeError(f"the worker exited with {worker.returncode}: see {OUT / 'worker.log'}")
    finally:
        system.stop()
    return Figures(name, worker_share, backend_share, latencies)


def report(figures: list[Figures], seconds: float) -> None:
    table = Table(title=f"An idle worker over {seconds:.0f} s (CPU as % of one core), and its wake latency")
    for column in ("database", "worker process", "PostgreSQL backends", "total", "wake median", "wake max"):
        table.add_column(column, justify="left" if column == "database" else "right")
    for each in figures:
        total = each.worker + (each.backends or 0.0)
        table.add_row(each.database, f"{each.worker:.2%}", "in the worker" if each.backends is None
                      else f"{each.backends:.2%}", f"{total:.2%}",
                      f"{statistics.median(each.latencies) * 1000:.0f} ms", f"{max(each.latencies) * 1000:.0f} ms")
    console.print(table)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.worker_idle", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="idle time measured (default: %(default)s)")
    parser.add_argument("--samples", type=int, default=10, help="jobs queued for the wake latency (default: "
                                                                 "%(default)s)")
    parser.add_argument("--database", choices=list(URLS), action="append",
                        help="the databases measured, in order (default: both)")
    return parser.parse_args()


async def main(options: argparse.Namespace) -> None:
    figures = [await measure(name, options.seconds, options.samples) for name in options.database or list(URLS)]
    report(figures, options.seconds)


if __name__ == "__main__":
    asyncio.run(main(arguments()))
