"""Tasks under real concurrency (PostgreSQL): many events of one customer's task handled at the same moment, each
handler or worker on its own connection.

Thirty friends registering, each event handled twice at once (a lease that ran out while the first run was still
going), under two tasks of the kind: each friend counts once, the count is exactly 30, and each task's reward is
given exactly once (one points entry, one coupon). Forty product clicks by twenty friends drained by six workers at
once: every job runs once and succeeds, the count is exactly 20 and the reward is given once.
"""

from __future__ import annotations

import asyncio

import pytest

from fissionmall.core.outbox import run_due_jobs
from fissionmall.core.runtime import Runtime
from fissionmall.jobs.worker import load_task_modules
from fissionmall.loyalty.tasks import tasks as missions
from tests.loyalty.test_points import configure
from tests.loyalty.test_tasks import (
    PROGRESS_JOB,
    friend,
    make_template,
    my_tasks,
    new_task,
    open_share,
    progress,
    progress_id,
    share,
    shown,
    snapshot,
    task_coupons,
    task_points,
)
from tests.support import customer_id, rows, together, value

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("signed_staff_tokens")]

IN_FLIGHT = 12
"""Handlers running at once: the PostgreSQL server is shared with other test runs."""


async def friends_registered(runtime: Runtime) -> list[int]:
    """The ids of the events of friends registering through someone's share."""
    return [event_id for (event_id,) in await rows(
        runtime, "SELECT id FROM events WHERE kind = 'register' AND inviter_id IS NOT NULL ORDER BY id")]


async def balance(runtime: Runtime, customer: int) -> int:
    """The customer's points balance, which must equal what is left in their buckets."""
    found: int = await value(runtime, "SELECT balance FROM points_balances WHERE customer_id = :c", c=customer)
    assert found == await value(runtime, "SELECT sum(remaining) FROM points_entries WHERE customer_id = :c",
                                c=customer)
    return found


async def drain(runtime: Runtime) -> int:
    """One worker: small batches of due jobs until none is left; how many it claimed."""
    claimed = 0
    while batch := await run_due_jobs(runtime, runtime.sessionmaker, now=runtime.clock.now(), limit=3):
        claimed += batch
    return claimed


async def test_thirty_friends_handled_twice_at_once_count_once_and_reward_once(client, mall, runtime):
    """Two invite tasks (target 5 for 50 points and a coupon; target 30 for 7 points); 30 friends register and the
    handler runs twice for each of their events, all at once: both progresses count exactly 30 (30 hits each), each
    reward is given exactly once, the ledger sums to 57; the queued jobs then run too and change nothing."""
    await configure(mall)
    template_id = await make_template(mall)
    alice = await mall.shopper("alice")
    me = await customer_id(mall, alice)
    code = await share(mall, alice)
    first = await new_task(mall, target=5, reward_template_id=template_id)
    last = await new_task(mall, target=30, reward_points=7)
    for n in range(30):
        await friend(mall, f"friend-{n}", code)
    events = await friends_registered(runtime)
    assert len(events) == 30

    await together((missions.task_progress(runtime, {"event_id": event_id}) for event_id in events * 2), IN_FLIGHT)
    assert await progress(runtime) == [(first["id"], me, "once", 30, True), (last["id"], me, "once", 30, True)]
    assert await value(runtime, "SELECT count(*) FROM task_hits") == 60
    assert await task_points(runtime) == [
        (me, 50, 50, "task_progress", await progress_id(runtime, first["id"], me)),
        (me, 7, 7, "task_progress", await progress_id(runtime, last["id"], me))]
    assert await task_coupons(runtime) == [
        (me, template_id, 300, "available", await progress_id(runtime, first["id"], me))]
    assert await balance(runtime, me) == 57

    before = await snapshot(runtime)
    await mall.work()  # the queued jobs run as well: 30 replays
    after = await snapshot(runtime)
    assert ({t: r for t, r in after.items() if t != "outbox_jobs"}
            == {t: r for t, r in before.items() if t != "outbox_jobs"})
    assert await rows(runtime, "SELECT status, attempts, last_error, count(*) FROM outbox_jobs WHERE kind = :k "
                               "GROUP BY status, attempts, last_error", k=PROGRESS_JOB) == [("done", 1, None, 30)]


async def test_six_workers_drain_forty_clicks_with_one_reward(client, mall, runtime):
    """share_click, target 20: twenty friends each open the product share twice; six workers drain the 40 jobs at
    once in small batches: every job is claimed once and done on its first attempt, the count is exactly 20, and the
    30 points are given once."""
    await configure(mall)
    alice = await mall.shopper("alice")
    me = await customer_id(mall, alice)
    code = await share(mall, alice)
    friends = [await friend(mall, f"friend-{n}", None) for n in range(20)]
    task = await new_task(mall, kind="share_click", target=20, reward_points=30)
    for clicker in friends * 2:
        await open_share(mall, code, clicker)
    load_task_modules()

    claimed = await asyncio.gather(*(drain(runtime) for _ in range(6)))
    assert sum(claimed) == 40
    assert await rows(runtime, "SELECT status, attempts, last_error, count(*) FROM outbox_jobs "
                               "GROUP BY status, attempts, last_error") == [("done", 1, None, 40)]
    assert await progress(runtime) == [(task["id"], me, "once", 20, True)]
    assert await value(runtime, "SELECT count(*) FROM task_hits") == 20
    assert await task_points(runtime) == [(me, 30, 30, "task_progress", await progress_id(runtime, task["id"], me))]
    assert await my_tasks(mall, alice) == [shown(task, "once", 20, True)]
    assert await balance(runtime, me) == 30
