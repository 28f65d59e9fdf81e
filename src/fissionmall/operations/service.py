"""Probes and metrics for whoever runs the mall: is this process up, can it serve, what is it doing.

Readiness fails (503) on what stops requests from being served: the database out of reach, Redis out of reach when
REDIS_URL is set, or a schema other than the code's (a deploy that skipped `fissionmall migrate`). Dead jobs do
not fail it: taking the server out of the load balancer would not bring them back; they are reported, and counted
in /metrics, for an alert to pick up.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from fissionmall.core.runtime import Runtime
from fissionmall.jobs import service as jobs
from fissionmall.migrate import head_revision
from fissionmall.operations import repository

CHECK_SECONDS = 3.0
"""A dependency that has not answered by then is as good as down, for a probe that runs every few seconds."""


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, str]
    """Each dependency: ok, not configured, or what is wrong with it."""
    dead_jobs: int | None

    @property
    def failing(self) -> list[str]:
        return [name for name, state in self.checks.items() if state not in ("ok", "not configured")]


async def readiness(runtime: Runtime) -> Readiness:
    database, migrations, dead_jobs = await _database(runtime)
    return Readiness(checks={"database": database, "migrations": migrations,
                             "redis": await _redis(runtime.settings.redis_url)}, dead_jobs=dead_jobs)


async def _database(runtime: Runtime) -> tuple[str, str, int | None]:
    """(database, migrations, dead jobs): reachable, at the code's revision, and how many jobs died."""
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            async with runtime.engine.connect() as connection:
                revisions = await repository.schema_revisions(connection)
            async with runtime.sessionmaker() as session:
                state = await jobs.queue_state(session, now=runtime.clock.now())
    except Exception as exc:  # any failure to reach it is the answer, not an error of the probe
        runtime.log.warning("not_ready", check="database", error=f"{type(exc).__name__}: {exc}"[:300])
        return f"unreachable ({type(exc).__name__})", "unknown", None
    head = head_revision()
    migrations = "ok" if revisions == {head} else \
        f"database at {', '.join(sorted(revisions)) or 'no revision'}, code at {head}: run fissionmall migrate"
    return "ok", migrations, sum(state.dead.values())


async def _redis(url: str | None) -> str:
    if not url:
        return "not configured"
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_connect_timeout=CHECK_SECONDS, socket_timeout=CHECK_SECONDS)
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            await client.ping()
        return "ok"
    except Exception as exc:  # as above: unreachable is the answer
        return f"unreachable ({type(exc).__name__})"
    finally:
        await client.aclose()


class _Fixed:
    """A collector of metric families computed before the scrape (from the database, asynchronously)."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


async def metrics_text(runtime: Runtime) -> bytes:
    """This process's counters (or every server process's, in prometheus_client's multiprocess mode, which
    `fissionmall serve --workers N` turns on), then the job queue as the database has it now."""
    async with runtime.sessionmaker() as session:
        state = await jobs.queue_state(session, now=runtime.clock.now())
    due = GaugeMetricFamily("fissionmall_jobs_due", "Pending jobs due now (counted up to 100000).", value=state.due)
    oldest = GaugeMetricFamily("fissionmall_jobs_oldest_due_age_seconds",
                               "How long the longest-waiting due job has waited (0 when none is due).",
                               value=state.oldest_due_seconds)
    dead = GaugeMetricFamily("fissionmall_jobs_dead", "Jobs parked after their last retry, waiting for "
                                                      "`fissionmall jobs retry`.", labels=["kind"])
    for kind, count in sorted(state.dead.items()):
        dead.add_metric([kind], count)
    queue = CollectorRegistry(auto_describe=False)
    queue.register(_Fixed([due, oldest, dead]))
    return generate_latest(_process_registry()) + generate_latest(queue)


def _process_registry() -> CollectorRegistry:
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry
