"""Refunds are carried out by the worker: retried until the provider accepts, never twice."""

from __future__ import annotations

from typing import Any

from fissionmall.core.metrics import REFUND_CALLS
from fissionmall.core.outbox import job
from fissionmall.core.runtime import Runtime
from fissionmall.orders.refunds import REFUND_JOB
from fissionmall.payments import service


@job(REFUND_JOB)
async def execute_refund(runtime: Runtime, payload: dict[str, Any]) -> None:
    """What the provider needs is read in a short transaction, the provider called outside any."""
    async with runtime.sessionmaker() as session:
        provider, request = await service.refund_request(session, runtime.providers, int(payload["refund_id"]))
    try:
        await provider.refund(request)
    except Exception:
        REFUND_CALLS.labels(provider.name, "failed").inc()
        raise
    REFUND_CALLS.labels(provider.name, "accepted").inc()
