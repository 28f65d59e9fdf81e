"""The worker's part in parcel tracking: follow (subscribe) each shipped parcel, and poll where nothing pushes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fissionmall.core.outbox import commit_and_wake, job
from fissionmall.core.runtime import Runtime
from fissionmall.core.schedule import sweep
from fissionmall.logistics import service
from fissionmall.logistics.providers import sandbox  # noqa: F401  (registers the sandbox's push delivery)


@job(service.FOLLOW_JOB)
async def follow(runtime: Runtime, payload: dict[str, Any]) -> None:
    """The parcel recorded in a short transaction, the provider's subscription asked outside any (retried until it
    is taken; a repeat is no error at the provider)."""
    async with runtime.sessionmaker() as session:
        todo = await service.follow(session, runtime, int(payload["merchant_id"]), int(payload["order_id"]))
        await commit_and_wake(session)
    if todo is not None:
        provider, parcel = todo
        await provider.subscribe(parcel)


@sweep("logistics.poll")
async def poll(runtime: Runtime, now: datetime) -> int:
    return await service.poll_due(runtime, now)
