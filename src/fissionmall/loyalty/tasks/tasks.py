"""The worker advances customers' tasks on each event that counts toward them."""

from __future__ import annotations

from typing import Any

from fissionmall.core.outbox import job
from fissionmall.loyalty.tasks import service


@job(service.PROGRESS_JOB)
async def task_progress(runtime: Any, payload: dict[str, Any]) -> None:
    await service.on_event(runtime, payload)
