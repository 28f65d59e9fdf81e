"""Invite rewards are decided by the worker, after the risk check, once per friend per campaign."""

from __future__ import annotations

from typing import Any

from fissionmall.campaigns.invites import service
from fissionmall.core.outbox import job


@job(service.REWARD_JOB)
async def reward_friend(runtime: Any, payload: dict[str, Any]) -> None:
    await service.reward_friend(runtime, payload)
