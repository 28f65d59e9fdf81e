"""The worker writes, settles and reverses commission, reacting to payments, completions and refunds, and pays
withdrawals out; each job in a transaction of its own."""

from __future__ import annotations

from typing import Any

from fissionmall.core.outbox import job
from fissionmall.core.runtime import Runtime
from fissionmall.distribution import service, withdrawals


@job(service.COMMISSION_JOB)
async def write_commissions(runtime: Runtime, payload: dict[str, Any]) -> None:
    async with runtime.sessionmaker() as session:
        await service.write_commissions(session, runtime.clock.now(), payload)
        await session.commit()


@job(service.SETTLE_JOB)
async def settle(runtime: Runtime, payload: dict[str, Any]) -> None:
    async with runtime.sessionmaker() as session:
        await service.settle(session, runtime.clock.now(), payload)
        await session.commit()


@job(service.REVERSE_JOB)
async def reverse(runtime: Runtime, payload: dict[str, Any]) -> None:
    async with runtime.sessionmaker() as session:
        await service.reverse(session, runtime.clock.now(), payload)
        await session.commit()


@job(withdrawals.PAYOUT_JOB)
async def pay_out(runtime: Runtime, payload: dict[str, Any]) -> None:
    """Read in one short transaction, call the provider outside any (under the withdrawal's own number, so a retry
    finds the bill already made), record its answer in another."""
    withdrawal_id = int(payload["withdrawal_id"])
    async with runtime.sessionmaker() as session:
        request = await withdrawals.transfer_of(session, withdrawal_id)
    if request is None:
        return
    provider = runtime.payment_provider
    result = await withdrawals.transfer(provider, request)
    async with runtime.sessionmaker() as session:
        await withdrawals.record_transfer(session, runtime.clock.now(), withdrawal_id, provider.name, result)
        await session.commit()
