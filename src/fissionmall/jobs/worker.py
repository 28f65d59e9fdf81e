"""The worker: runs the sweeps on their own cadence, and the outbox's jobs as soon as they are due. Several may run
at once, on as many hosts as wanted: jobs are claimed with a lease (core/outbox.py)."""

from __future__ import annotations

import asyncio
import importlib

from fissionmall.core.outbox import next_due, run_due_jobs
from fissionmall.core.runtime import Runtime
from fissionmall.core.schedule import SWEEPS
from fissionmall.jobs.wakeups import job_wakeups
from fissionmall.mechanics import MECHANICS, install

SHORTEST_PAUSE = 0.1


def load_task_modules() -> None:
    """Install the mechanics, then import every domain's tasks so their sweeps and job handlers register."""
    install()
    for each in MECHANICS:
        if each.tasks is not None:
            importlib.import_module(each.tasks)
    import fissionmall.analytics.tasks  # noqa: F401
    import fissionmall.coupons.tasks  # noqa: F401
    import fissionmall.distribution.tasks  # noqa: F401
    import fissionmall.logistics.tasks  # noqa: F401
    import fissionmall.loyalty.dividend.tasks  # noqa: F401
    import fissionmall.loyalty.levels.tasks  # noqa: F401
    import fissionmall.loyalty.points.tasks  # noqa: F401
    import fissionmall.loyalty.tasks.tasks  # noqa: F401
    import fissionmall.orders.tasks  # noqa: F401
    import fissionmall.payments.providers.sandbox  # noqa: F401
    import fissionmall.payments.tasks  # noqa: F401
    import fissionmall.recommend.tasks  # noqa: F401


async def tick(runtime: Runtime, *, max_batches: int = 50) -> dict[str, int]:
    """One whole pass: sweeps first (they may queue jobs), then jobs until none is due or the cap is hit."""
    report = await run_sweeps(runtime)
    report["jobs"] = (await run_jobs(runtime, max_batches=max_batches))[0]
    return report


async def run_sweeps(runtime: Runtime) -> dict[str, int]:
    load_task_modules()
    now = runtime.clock.now()
    return {name: await sweep(runtime, now) for name, sweep in SWEEPS.items()}


async def run_jobs(runtime: Runtime, *, max_batches: int = 50) -> tuple[int, bool]:
    """Due jobs, batch after batch, until none is due or `max_batches` ran; how many, and whether the cap was hit
    (the queue may hold more)."""
    load_task_modules()
    jobs = 0
    for _ in range(max_batches):
        claimed = await run_due_jobs(runtime, runtime.sessionmaker, now=runtime.clock.now())
        jobs += claimed
        if claimed == 0:
            return jobs, False
    return jobs, True


async def seconds_to_next_job(runtime: Runtime) -> float | None:
    """Until the earliest pending job may be claimed (0 or less: now); None when nothing is pending. One cheap read:
    what an idle worker does at each poll."""
    async with runtime.sessionmaker() as session:
        due = await next_due(session)
    return None if due is None else (due - runtime.clock.now()).total_seconds()


def pause_before(next_job: float | None, longest: float) -> float:
    """Sleep until the next job is due (a retry, a delayed job, another worker's lease running out), at most
    `longest`; never less than SHORTEST_PAUSE, so a due job that another transaction holds locked is looked at again
    shortly rather than in a busy loop."""
    return max(SHORTEST_PAUSE, longest if next_job is None else min(next_job, longest))


async def run_forever(runtime: Runtime, stop: asyncio.Event) -> None:
    """Sweeps every WORKER_SWEEP_SECONDS; jobs as soon as they are due: woken at once by a committed job on
    PostgreSQL, at the due time of the earliest one queued for later, and after WORKER_POLL_SECONDS at the latest
    (the fallback, and SQLite's only way)."""
    settings, log = runtime.settings, runtime.log
    clock = asyncio.get_running_loop().time
    log.info("worker_started", poll=settings.worker_poll_every, sweep=settings.worker_sweep_seconds)
    next_sweep = clock()
    async with job_wakeups(runtime) as wakeups:
        while not stop.is_set():
            pause = settings.worker_poll_every
            try:
                report: dict[str, int] = {}
                if clock() >= next_sweep:
                    next_sweep = clock() + settings.worker_sweep_seconds
                    report = await run_sweeps(runtime)
                next_job = await seconds_to_next_job(runtime)
                more = False
                if next_job is not None and next_job <= 0:
                    report["jobs"], more = await run_jobs(runtime)
                    next_job = await seconds_to_next_job(runtime)
                if any(report.values()):
                    log.info("worker_pass", **report)
                pause = 0 if more else pause_before(next_job, min(pause, next_sweep - clock()))
            except Exception as exc:  # the loop must outlive a bad pass; the next one retries
                log.exception("worker_pass_failed", error=str(exc))
            await wakeups.wait(pause, stop)
    log.info("worker_stopped")
