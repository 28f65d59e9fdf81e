"""When the worker runs a job: at once when another session commits it (PostgreSQL's NOTIFY; SQLite's poll), at its
time when it was queued for later, still after its LISTEN connection was cut; and four worker processes share a pile
of jobs, each run exactly once, because a claim skips the jobs another worker's claim holds.

The PostgreSQL tests set the fallback poll to an hour: a job they see run was found through a notification or its
due time, never by polling."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from fissionmall.core.clock import SystemClock
from fissionmall.core.outbox import NO_MERCHANT, claim_due, commit_and_wake, enqueue, enqueue_many
from fissionmall.core.runtime import Runtime
from fissionmall.jobs.wakeups import LISTENER_NAME
from fissionmall.jobs.worker import run_forever
from tests.jobs.probe import PROBE, runs_in
from tests.support import rows, value

ROOT = Path(__file__).resolve().parents[2]
WAIT = 30.0
HOUR = 3600.0


@pytest.fixture
def clock() -> SystemClock:
    """The real time: the worker sleeps until a job's due time in real seconds."""
    return SystemClock()


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    return tmp_path / "runs"


async def until(condition: Callable[[], Awaitable[bool]], what: str, *, wait: float = WAIT) -> None:
    """A generous wait for something to happen; how long it takes is not what is tested."""
    deadline = time.monotonic() + wait
    while not await condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        await asyncio.sleep(0.02)


async def queue_probe(runtime: Runtime, runs: Path, n: int, *, delay: timedelta = timedelta(0)) -> None:
    """A probe job, committed by a session of its own."""
    async with runtime.sessionmaker() as session:
        await enqueue(session, PROBE, {"n": n, "runs": str(runs)}, now=runtime.clock.now(), delay=delay,
                      merchant_id=NO_MERCHANT)
        await commit_and_wake(session)


def done(runtime: Runtime, jobs: int) -> Callable[[], Awaitable[bool]]:
    """Run and marked done (a probe records its run before the worker marks it done)."""
    async def check() -> bool:
        return bool(await value(runtime, "SELECT count(*) FROM outbox_jobs WHERE status = 'done'") >= jobs)

    return check


@pytest.fixture
async def worker(runtime: Runtime) -> AsyncIterator[asyncio.Task[None]]:
    """`run_forever` in this process, with this test's settings; stopped at the end, and it must not have died."""
    stop = asyncio.Event()
    task = asyncio.create_task(run_forever(runtime, stop))
    yield task
    assert not task.done(), "the worker's loop ended on its own"
    stop.set()
    await asyncio.wait_for(task, WAIT)


async def test_a_committed_job_runs_and_a_job_queued_for_later_runs_at_its_time(runtime, runs, worker):
    """On either database with its default poll (SQLite: polling alone)."""
    await queue_probe(runtime, runs, 1)
    await until(done(runtime, 1), "the committed job")
    await queue_probe(runtime, runs, 2, delay=timedelta(seconds=1))
    await until(done(runtime, 2), "the job queued for a second later")
    assert sorted(runs_in(runs)) == [(1, os.getpid()), (2, os.getpid())]
    assert await rows(runtime, "SELECT status, attempts FROM outbox_jobs ORDER BY id") == [("done", 1), ("done", 1)]


async def listener_pids(runtime: Runtime) -> list[int]:
    return [pid for (pid,) in await rows(runtime, "SELECT pid FROM pg_stat_activity WHERE application_name = :name "
                                                  "AND query LIKE 'LISTEN%'", name=LISTENER_NAME)]


def listening(runtime: Runtime, but_not: int | None = None) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return any(pid != but_not for pid in await listener_pids(runtime))

    return check


async def idle_after_a_first_job(runtime: Runtime, runs: Path) -> None:
    """The worker listening, its start-up passes over (a first job run), then left a moment to fall asleep: with an
    hour's poll, a pass after this one is the work of a notification or of a due time."""
    await until(listening(runtime), "the worker's LISTEN connection")
    await queue_probe(runtime, runs, 0)
    await until(done(runtime, 1), "the first job")
    await asyncio.sleep(0.5)


@pytest.mark.postgres
@pytest.mark.parametrize("settings_overrides", [{"worker_poll_seconds": HOUR, "worker_sweep_seconds": HOUR}])
async def test_a_sleeping_worker_is_woken_by_a_commit_and_by_a_due_time(runtime, runs, worker):
    await idle_after_a_first_job(runtime, runs)
    await queue_probe(runtime, runs, 1)
    await until(done(runtime, 2), "the job, woken by its notification")
    await asyncio.sleep(0.5)
    await queue_probe(runtime, runs, 2, delay=timedelta(seconds=1))
    await until(done(runtime, 3), "the job queued for a second later, woken by its due time")
    assert sorted(n for n, _pid in runs_in(runs)) == [0, 1, 2]
    assert await value(runtime, "SELECT count(*) FROM outbox_jobs WHERE status = 'done' AND attempts = 1") == 3


@pytest.mark.postgres
@pytest.mark.parametrize("settings_overrides", [{"worker_poll_seconds": HOUR, "worker_sweep_seconds": HOUR}])
async def test_the_worker_listens_again_after_its_connection_is_terminated(runtime, runs, worker):
    await idle_after_a_first_job(runtime, runs)
    [cut] = await listener_pids(runtime)
    assert await value(runtime, "SELECT pg_terminate_backend(:pid)", pid=cut) is True
    await until(listening(runtime, but_not=cut), "a new LISTEN connection")
    await asyncio.sleep(0.5)  # the pass that follows reconnecting (for jobs committed meanwhile) is over
    await queue_probe(runtime, runs, 1)
    await until(done(runtime, 2), "the job, woken through the new connection")
    assert cut not in await listener_pids(runtime)


PILE = 2000
WORKERS = 4
START = 120.0
"""Importing the whole mall, then four workers connecting, on a busy 2-core machine, can take a while."""


@pytest.fixture
def probe_workers(database_url: str, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Four real `fissionmall worker` processes (the command line's, with the probe job registered), polling only
    hourly, in a process group of their own (led by the process that forked them); stopped at the end."""
    environment = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "wakeup-test-secret-key-0123456789abcdef",
                   "SANDBOX_KEY": "wakeup-test-sandbox-key-0123456789abcdef", "TEST_DEPLOYMENT": "true",
                   "LOG_LEVEL": "WARNING", "MEDIA_DIR": str(tmp_path / "media"), "PYTHONPATH": str(ROOT),
                   "WORKER_POLL_SECONDS": str(HOUR)}
    group = subprocess.Popen([sys.executable, "-m", "tests.jobs.probe", str(WORKERS)], env=environment, cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        yield group
    finally:
        os.killpg(group.pid, signal.SIGTERM)
        try:
            group.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            os.killpg(group.pid, signal.SIGKILL)
            group.wait()


@pytest.mark.postgres
async def test_four_worker_processes_run_every_job_of_a_pile_exactly_once(runtime, runs, probe_workers):
    """All four listening, a pile of jobs committed at once: every job claimed once, run once and done, none lost."""
    async def all_listening() -> bool:
        return len(await listener_pids(runtime)) == WORKERS

    await until(all_listening, "four LISTEN connections", wait=START)
    async with runtime.sessionmaker() as session:
        await enqueue_many(session, PROBE, [({"n": n, "runs": str(runs)}, f"probe:{n}", NO_MERCHANT)
                                            for n in range(PILE)], now=runtime.clock.now())
        await commit_and_wake(session)
    await until(done(runtime, PILE), "every job done")

    assert await all_listening(), "a worker died"
    assert await rows(runtime, "SELECT status, attempts, count(*) FROM outbox_jobs GROUP BY status, attempts") == [
        ("done", 1, PILE)]
    recorded = runs_in(runs)
    assert sorted(n for n, _pid in recorded) == list(range(PILE)), "a job was run twice, or not at all"
    workers = {pid for _n, pid in recorded}
    assert len(workers) <= WORKERS and {os.getpgid(pid) for pid in workers} == {probe_workers.pid}


@pytest.mark.postgres
async def test_a_claim_skips_the_jobs_another_workers_open_claim_holds(runtime):
    """The four-worker test's guarantee, without depending on timing: while one worker's claim is not yet committed,
    another worker's claim returns at once with the other jobs, never the same ones."""
    now = runtime.clock.now()
    async with runtime.sessionmaker() as session:
        await enqueue_many(session, PROBE, [({"n": n}, f"probe:{n}", NO_MERCHANT) for n in range(4)], now=now)
        await session.commit()
    lease = timedelta(minutes=1)
    async with runtime.sessionmaker() as first, runtime.sessionmaker() as second:
        held = await claim_due(first, now=now, limit=2, lease=lease)
        other = await asyncio.wait_for(claim_due(second, now=now, limit=10, lease=lease), WAIT)
        await second.commit()
        await first.commit()
    queued = [job_id for (job_id,) in await rows(runtime, "SELECT id FROM outbox_jobs ORDER BY id")]
    assert len(held) == 2 and len(other) == 2
    assert sorted(job.id for job in held + other) == queued
