"""The worker advances customers' tasks on each event that counts toward them."""

from __future__ import annotations

from typing import Any

from fissionmall.core.outbox import job
from fissionmall.core.runtime import Runtime
from fissionmall.fraud import service as fraud
from fissionmall.loyalty.tasks import service


@job(service.PROGRESS_JOB)
async def task_progress(runtime: Runtime, payload: dict[str, Any]) -> None:
    """Read in one short transaction, judge the friend outside any (the risk check is a network call), advance in
    another. A coupon reward waiting for stock raises after the others are written: the job retries."""
    async with runtime.sessionmaker() as session:
        made = await service.step_of_event(session, int(payload["event_id"]))
    if made is None or made.friend and await fraud.judge_friend(runtime, made.friend, must_be_new=made.must_be_new):
        return
    async with runtime.sessionmaker() as session:
        waiting = await service.advance(session, runtime.clock, made)
        await session.commit()
    if waiting:
        raise service.CouponRewardWaiting("; ".join(waiting))
