"""The worker writes, settles and reverses commission, reacting to payments, completions and refunds, and pays
withdrawals out."""

from __future__ import annotations

from typing import Any

from fissionmall.core.outbox import job
from fissionmall.distribution import service, withdrawals


@job(service.COMMISSION_JOB)
async def write_commissions(runtime: Any, payload: dict[str, Any]) -> None:
    await service.write_commissions(runtime, payload)


@job(service.SETTLE_JOB)
async def settle(runtime: Any, payload: dict[str, Any]) -> None:
    await service.settle(runtime, payload)


@job(service.REVERSE_JOB)
async def reverse(runtime: Any, payload: dict[str, Any]) -> None:
    await service.reverse(runtime, payload)


@job(withdrawals.PAYOUT_JOB)
async def pay_out(runtime: Any, payload: dict[str, Any]) -> None:
    await withdrawals.pay_out(runtime, payload)
