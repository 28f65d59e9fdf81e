"""The worker: each tick runs every sweep, then drains the outbox. Several may run at once."""

from __future__ import annotations

import asyncio
import contextlib
import importlib

from fissionmall.core.outbox import run_due_jobs
from fissionmall.core.runtime import Runtime
from fissionmall.core.schedule import SWEEPS
from fissionmall.mechanics import MECHANICS, install


def load_task_modules() -> None:
    """Install the mechanics, then import every domain's tasks so their sweeps and job handlers register."""
    install()
    for each in MECHANICS:
        if each.tasks is not None:
            importlib.import_module(each.tasks)
    import fissionmall.analytics.tasks  # noqa: F401
    import fissionmall.coupons.tasks  # noqa: F401
    import fissionmall.distribution.tasks  # noqa: F401
    import fissionmall.loyalty.dividend.tasks  # noqa: F401
    import fissionmall.loyalty.levels.tasks  # noqa: F401
    import fissionmall.loyalty.points.tasks  # noqa: F401
    import fissionmall.loyalty.tasks.tasks  # noqa: F401
    import fissionmall.orders.tasks  # noqa: F401
    import fissionmall.payments.providers.sandbox  # noqa: F401
    import fissionmall.payments.tasks  # noqa: F401


async def tick(runtime: Runtime, *, max_batches: int = 50) -> dict[str, int]:
    """One pass: sweeps first (they may queue jobs), then jobs until none is due or the cap is hit."""
    load_task_modules()
    now = runtime.clock.now()
    report = {name: await sweep(runtime, now) for name, sweep in SWEEPS.items()}
    jobs = 0
    for _ in range(max_batches):
        claimed = await run_due_jobs(runtime, runtime.sessionmaker, now=runtime.clock.now())
        jobs += claimed
        if claimed == 0:
            break
    report["jobs"] = jobs
    return report


async def run_forever(runtime: Runtime, stop: asyncio.Event) -> None:
    log = runtime.log
    log.info("worker_started", interval=runtime.settings.worker_interval_seconds)
    while not stop.is_set():
        try:
            report = await tick(runtime)
            if any(report.values()):
                log.info("worker_tick", **report)
        except Exception as exc:  # the loop must outlive a bad tick; the next one retries
            log.exception("worker_tick_failed", error=str(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=runtime.settings.worker_interval_seconds)
    log.info("worker_stopped")
