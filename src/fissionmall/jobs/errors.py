"""Refusals of the operator's job commands."""

from __future__ import annotations

from fissionmall.core.errors import Conflict, NotFound


def job_not_found(job_id: int) -> NotFound:
    return NotFound("job_not_found", f"no job {job_id}")


def job_not_dead(job_id: int, status: str) -> Conflict:
    return Conflict("job_not_dead", f"job {job_id} is {status}: only a dead job can be retried", status=status)
