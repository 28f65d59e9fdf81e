"""Invite rewards are decided by the worker, after the risk check, once per friend per campaign."""

from __future__ import annotations

from typing import Any

from fissionmall.campaigns.invites import service
from fissionmall.core.outbox import job
from fissionmall.core.runtime import Runtime
from fissionmall.fraud import service as fraud


@job(service.REWARD_JOB)
async def reward_friend(runtime: Runtime, payload: dict[str, Any]) -> None:
    """Two short transactions with the risk check, a network call, between them and outside both."""
    async with runtime.sessionmaker() as session:
        owed = await service.to_reward(session, runtime.clock, int(payload["merchant_id"]), int(payload["actor_id"]),
                                       str(payload["event"]))
    if owed is None:
        return
    friend, live = owed
    verdict = await fraud.judge_friend(runtime, friend, must_be_new=True)
    async with runtime.sessionmaker() as session:
        await service.reward_inviter(session, runtime.clock, live, friend, verdict)
        await session.commit()
