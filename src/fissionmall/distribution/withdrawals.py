"""Withdrawals (提现) of settled commission: a checked identity and a minimum first (COMPLIANCE F6), then review,
then a payout through the payment provider (the sandbox's transfer, or WeChat Pay's 商家转账, behind one interface).

What may be withdrawn is the settled ledger less every withdrawal not rejected. Each request locks the payee's
row before it reads that figure, so two requests at once never spend the same money (PITFALLS: a stale balance).
The payout is the worker's: it asks the provider under the withdrawal's own number, so a retry finds the bill
already made; a transfer the provider refuses rejects the withdrawal and the money is withdrawable again.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import counters
from fissionmall.core.auth import Shopper, StaffMember
from fissionmall.core.clock import Clock
from fissionmall.core.errors import Conflict, InvalidInput, NotFound
from fissionmall.core.events import record_event
from fissionmall.core.outbox import enqueue
from fissionmall.core.payment_provider import (
    PaymentProvider,
    PaymentProviderError,
    TransferRequest,
    TransferResult,
    provider_number,
)
from fissionmall.customers import service as customers
from fissionmall.distribution import repository, rules
from fissionmall.distribution.models import Withdrawal
from fissionmall.distribution.schemas import IdentityIn, PayeeOut, WithdrawalIn, WithdrawalOut
from fissionmall.distribution.states import WithdrawalStatus

PAYOUT_JOB = "distribution.payout"
PENDING_RECHECK = timedelta(minutes=10)
REFUSALS = frozenset({"PARAM_ERROR", "INVALID_REQUEST", "NO_AUTH"})
"""Provider answers that no retry can change: the withdrawal is rejected and its money withdrawable again."""


async def register_identity(session: AsyncSession, now: datetime, secret_key: str, shopper: Shopper,
                            body: IdentityIn) -> PayeeOut:
    """Record who is paid: the real name and a checked resident ID number, kept only as a keyed hash (under
    `secret_key`) and its last four characters."""
    problem = rules.resident_id_problem(body.id_number, date.fromisoformat(counters.day_of(now)))
    if problem:
        raise InvalidInput("invalid_id_number", problem, field="id_number")
    digest = hmac.new(secret_key.encode(), body.id_number.upper().encode(), hashlib.sha256)
    await repository.save_payee(session, shopper.merchant_id, shopper.customer_id, real_name=body.real_name,
                                id_number_hash=digest.hexdigest(), id_tail=body.id_number[-4:].upper(),
                                checked_at=now)
    payee = await repository.payee(session, shopper.customer_id)
    return PayeeOut.model_validate(payee, from_attributes=True)


async def request(session: AsyncSession, clock: Clock, shopper: Shopper, body: WithdrawalIn) -> WithdrawalOut:
    config = await repository.config_of(session, shopper.merchant_id)
    if config is None:
        raise NotFound("distribution_not_configured", "distribution has not been set up")
    if body.amount_fen < config.withdraw_min_fen:
        raise InvalidInput("below_minimum", f"withdrawals start at {config.withdraw_min_fen} fen",
                           field="amount_fen", minimum_fen=config.withdraw_min_fen)
    if await repository.payee(session, shopper.customer_id, lock=True) is None:
        raise Conflict("identity_required", "record your real name and ID number before withdrawing")
    available, _ = await repository.withdrawable(session, shopper.customer_id)
    if body.amount_fen > available:
        raise Conflict("insufficient_commission", "more than your settled commission", available_fen=available)
    now = clock.now()
    withdrawal_id = await repository.add_withdrawal(
        session, merchant_id=shopper.merchant_id, customer_id=shopper.customer_id,
        withdrawal_no=provider_number("W", now, shopper.merchant_id), amount_fen=body.amount_fen,
        status=WithdrawalStatus.REQUESTED, requested_at=now)
    await record_event(session, merchant_id=shopper.merchant_id, kind="withdrawal", at=now,
                       actor_id=shopper.customer_id, subject=("withdrawal", withdrawal_id),
                       data={"amount_fen": body.amount_fen})
    if not config.withdraw_review:
        await _approve(session, clock.now(), shopper.merchant_id, withdrawal_id, None)
    return await _out(session, withdrawal_id)


async def _approve(session: AsyncSession, now: datetime, merchant_id: int, withdrawal_id: int,
                   staff_id: int | None) -> bool:
    if not await repository.move_withdrawal(session, withdrawal_id, WithdrawalStatus.REQUESTED,
                                            WithdrawalStatus.APPROVED, decided_at=now, decided_by=staff_id):
        return False
    await enqueue(session, PAYOUT_JOB, {"withdrawal_id": withdrawal_id}, now=now, merchant_id=merchant_id,
                  dedupe_key=f"{PAYOUT_JOB}:{withdrawal_id}")
    return True


async def decide(session: AsyncSession, now: datetime, staff: StaffMember, withdrawal_id: int, approve: bool,
                 reason: str | None) -> WithdrawalOut:
    found = await repository.withdrawal(session, withdrawal_id, staff.merchant_id)
    if found is None:
        raise NotFound("withdrawal_not_found", f"no withdrawal {withdrawal_id}")
    if approve:
        done = await _approve(session, now, staff.merchant_id, withdrawal_id, staff.staff_id)
    else:
        done = await repository.move_withdrawal(session, withdrawal_id, WithdrawalStatus.REQUESTED,
                                                WithdrawalStatus.REJECTED,
                                                reason=reason or "rejected by the merchant",
                                                decided_at=now, decided_by=staff.staff_id)
    if not done:
        raise Conflict("withdrawal_not_requested", f"this withdrawal is {found.status} already")
    return await _out(session, withdrawal_id)


async def transfer_of(session: AsyncSession, withdrawal_id: int) -> TransferRequest | None:
    """What the provider is asked to pay for an approved withdrawal; None when it is not (or no longer) approved."""
    found = await repository.withdrawal(session, withdrawal_id)
    if found is None or found.status != WithdrawalStatus.APPROVED:
        return None
    payee = await repository.payee(session, found.customer_id)
    customer = await customers.get_customer(session, found.merchant_id, found.customer_id)
    if payee is None:
        raise LookupError(f"withdrawal {withdrawal_id}: no payee")
    return TransferRequest(out_bill_no=found.withdrawal_no, openid=customer.openid, amount_fen=found.amount_fen,
                           remark="佣金提现", real_name=payee.real_name)


async def transfer(provider: PaymentProvider, request: TransferRequest) -> TransferResult:
    """The provider's answer; a refusal no retry can change is a failed transfer, any other error is raised."""
    try:
        return await provider.transfer(request)
    except PaymentProviderError as refused:
        if refused.code not in REFUSALS:
            raise  # the provider could not be asked, or asks us to wait: the job tries again later
        return TransferResult(state="failed", reason=f"{refused.code}: {refused.message}")


async def record_transfer(session: AsyncSession, now: datetime, withdrawal_id: int, provider: str,
                          result: TransferResult) -> None:
    """Paid or rejected by the provider's answer; a transfer still waiting (for the customer's confirmation, up to a
    day at WeChat Pay) is asked about again by a fresh job later, for as long as the provider keeps it open."""
    if result.state == "paid":
        await repository.move_withdrawal(session, withdrawal_id, WithdrawalStatus.APPROVED, WithdrawalStatus.PAID,
                                         paid_at=now, provider=provider, bill_no=result.bill_no, package_info=None)
    elif result.state == "failed":
        await repository.move_withdrawal(session, withdrawal_id, WithdrawalStatus.APPROVED, WithdrawalStatus.REJECTED,
                                         provider=provider, bill_no=result.bill_no,
                                         reason=f"transfer failed: {result.reason}"[:200])
    elif (merchant_id := await repository.note_transfer(session, withdrawal_id, provider=provider,
                                                        bill_no=result.bill_no, package_info=result.package_info)):
        slot = int(now.timestamp() // PENDING_RECHECK.total_seconds())  # a job run twice still asks once
        await enqueue(session, PAYOUT_JOB, {"withdrawal_id": withdrawal_id}, now=now, delay=PENDING_RECHECK,
                      merchant_id=merchant_id, dedupe_key=f"{PAYOUT_JOB}:{withdrawal_id}:{slot}")


async def _out(session: AsyncSession, withdrawal_id: int) -> WithdrawalOut:
    found = await repository.withdrawal(session, withdrawal_id)
    assert found is not None
    return out(found)


def out(withdrawal: Withdrawal) -> WithdrawalOut:
    return WithdrawalOut.model_validate(withdrawal, from_attributes=True)


async def mine(session: AsyncSession, shopper: Shopper) -> list[WithdrawalOut]:
    return [out(w) for w in await repository.withdrawals(session, shopper.merchant_id,
                                                         customer_id=shopper.customer_id)]


async def for_merchant(session: AsyncSession, staff: StaffMember, status: str | None) -> list[WithdrawalOut]:
    return [out(w) for w in await repository.withdrawals(session, staff.merchant_id, status=status)]
