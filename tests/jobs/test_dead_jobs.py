"""A job that fails every retry is parked as dead, loudly, never dropped: listed by the service and by
`fissionmall jobs dead`, requeued by `fissionmall jobs retry`, then applied exactly once. Only a dead job can be
requeued."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from structlog.testing import capture_logs
from typer.testing import CliRunner

from fissionmall.cli import app as cli
from fissionmall.core.errors import Conflict, NotFound
from fissionmall.core.outbox import MAX_ATTEMPTS, enqueue, job
from fissionmall.core.runtime import Runtime
from fissionmall.jobs import service
from fissionmall.jobs.worker import tick
from tests.support import rows, value

FLAKY = "tests.flaky_payout"
broken = {"now": True}
applied: list[dict[str, Any]] = []


@job(FLAKY)
async def flaky_payout(_runtime: Any, payload: dict[str, Any]) -> None:
    """Stands for a provider call that keeps failing until someone fixes the cause."""
    if broken["now"]:
        raise ConnectionError("provider unreachable")
    applied.append(payload)


@pytest.fixture
def clock():
    """Starts at the real time: `fissionmall jobs retry` requeues with the system clock, and the requeued job must
    be due for this test's worker ticks."""
    from fissionmall.core.clock import FrozenClock

    return FrozenClock(datetime.now(UTC))


@pytest.fixture(autouse=True)
def _reset() -> None:
    broken["now"] = True
    applied.clear()


def command(runtime: Runtime, *args: str) -> Any:
    """`fissionmall <args>` in-process (in a thread: the command runs its own event loop) against the test
    database."""
    environment = {"DATABASE_URL": runtime.settings.database_url, "SECRET_KEY": "cli-test-secret-" + "x" * 32,
                   "SANDBOX_KEY": "cli-test-sandbox-key-" + "y" * 32, "TEST_DEPLOYMENT": "true", "COLUMNS": "200",
                   "NO_COLOR": "1"}
    return asyncio.to_thread(CliRunner().invoke, cli, list(args), env=environment)


async def queue_flaky(runtime: Runtime, refund_no: str) -> int:
    async with runtime.sessionmaker() as session:
        await enqueue(session, FLAKY, {"refund_no": refund_no}, now=runtime.clock.now(), merchant_id=7,
                      dedupe_key=f"flaky:{refund_no}")
        await session.commit()
    job_id: int = await value(runtime, "SELECT id FROM outbox_jobs WHERE dedupe_key = :k", k=f"flaky:{refund_no}")
    return job_id


async def fail_every_retry(runtime: Runtime, clock: Any) -> None:
    for _ in range(MAX_ATTEMPTS):
        await tick(runtime)
        clock.advance(hours=1)  # past every backoff (at most an hour)


async def test_a_job_past_its_retries_is_dead_listed_requeued_and_applied_once(runtime, clock):
    job_id = await queue_flaky(runtime, "O1R1")
    with capture_logs() as logs:
        await fail_every_retry(runtime, clock)
    assert await rows(runtime, "SELECT status, attempts, last_error FROM outbox_jobs WHERE id = :i", i=job_id) == [
        ("dead", MAX_ATTEMPTS, "ConnectionError: provider unreachable")]
    dead_logs = [entry for entry in logs if entry["event"] == "job_dead"]
    assert [(e["log_level"], e["job_id"], e["kind"]) for e in dead_logs] == [("error", job_id, FLAKY)]
    assert sum(entry["event"] == "job_failed" for entry in logs) == MAX_ATTEMPTS

    # parked: further ticks leave it alone, and nothing was applied
    await tick(runtime)
    assert await value(runtime, "SELECT attempts FROM outbox_jobs WHERE id = :i", i=job_id) == MAX_ATTEMPTS
    assert applied == []

    async with runtime.sessionmaker() as session:
        [dead] = await service.list_dead(session)
    assert (dead.id, dead.kind, dead.merchant_id, dead.attempts) == (job_id, FLAKY, 7, MAX_ATTEMPTS)
    assert dead.last_error == "ConnectionError: provider unreachable"

    listed = await command(runtime, "jobs", "dead")
    assert listed.exit_code == 0, listed.output
    assert FLAKY in listed.stdout and "ConnectionError: provider unreachable" in listed.stdout
    assert str(job_id) in listed.stdout and str(MAX_ATTEMPTS) in listed.stdout

    broken["now"] = False  # the cause is fixed
    requeued = await command(runtime, "jobs", "retry", str(job_id))
    assert requeued.exit_code == 0, requeued.output
    assert await rows(runtime, "SELECT status, attempts, locked_until FROM outbox_jobs WHERE id = :i", i=job_id) == [
        ("pending", 0, None)]

    await tick(runtime)
    clock.advance(hours=1)
    await tick(runtime)
    assert applied == [{"refund_no": "O1R1"}]
    assert await value(runtime, "SELECT status FROM outbox_jobs WHERE id = :i", i=job_id) == "done"
    assert "no dead jobs" in (await command(runtime, "jobs", "dead")).output


async def test_only_a_dead_job_can_be_retried(runtime, clock):
    """A pending or done job requeued would run twice; an unknown id is named. Each refusal exits 2 and changes
    nothing."""
    pending_id = await queue_flaky(runtime, "O2R1")
    before = await rows(runtime, "SELECT * FROM outbox_jobs ORDER BY id")
    for job_id, code in ((pending_id, "job_not_dead"), (pending_id + 1000, "job_not_found")):
        answer = await command(runtime, "jobs", "retry", str(job_id))
        assert answer.exit_code == 2, answer.output
        assert code in answer.output
    async with runtime.sessionmaker() as session:
        with pytest.raises(Conflict):
            await service.retry(session, pending_id, now=clock.now())
        with pytest.raises(NotFound):
            await service.retry(session, pending_id + 1000, now=clock.now())
    assert await rows(runtime, "SELECT * FROM outbox_jobs ORDER BY id") == before
    assert (await command(runtime, "jobs", "retry")).exit_code == 2  # neither an id nor --all


async def test_retry_all_requeues_every_dead_job_and_nothing_else(runtime, clock):
    first, second = await queue_flaky(runtime, "O3R1"), await queue_flaky(runtime, "O3R2")
    await fail_every_retry(runtime, clock)
    pending = await queue_flaky(runtime, "O3R3")
    listed = await command(runtime, "jobs", "dead")
    assert str(first) in listed.stdout and str(second) in listed.stdout
    answer = await command(runtime, "jobs", "retry", "--all")
    assert answer.exit_code == 0, answer.output
    assert "2 dead jobs requeued" in answer.output
    assert await rows(runtime, "SELECT id, status, attempts FROM outbox_jobs ORDER BY id") == [
        (first, "pending", 0), (second, "pending", 0), (pending, "pending", 0)]
    assert "no dead jobs" in (await command(runtime, "jobs", "dead")).output
