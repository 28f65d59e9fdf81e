"""Distribution (分销) with a switch: referral binding, distributors, and a commission ledger that pays only on
money really paid, settles after the after-sale window and reverses with refunds (COMPLIANCE D1, D6).

Commission is written by the worker reacting to payments (only while the merchant's switch is on), settled when
the order completes, and reversed share by share as refunds succeed, even after settlement.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.audit import note_before
from fissionmall.core.auth import Shopper, StaffMember
from fissionmall.core.clock import Clock
from fissionmall.core.errors import Conflict, InvalidInput, NotFound
from fissionmall.core.events import react, record_event
from fissionmall.core.pagination import parse_cursor
from fissionmall.customers import service as customers
from fissionmall.distribution import repository, rules
from fissionmall.distribution.models import DistributionConfig
from fissionmall.distribution.plans import Plan, Reward
from fissionmall.distribution.schemas import (
    CommissionOut,
    CommissionPage,
    ConfigIn,
    ConfigOut,
    DistributorOut,
    EntryOut,
    MyDistributionOut,
    PayeeOut,
    PresetOut,
    TeamMemberOut,
)
from fissionmall.distribution.states import CommissionStatus, DistributorStatus
from fissionmall.merchants import service as merchants
from fissionmall.orders import service as orders

COMMISSION_JOB = "distribution.commission"
SETTLE_JOB = "distribution.settle"
REVERSE_JOB = "distribution.reverse"


def plan_of(config: ConfigIn, after_sale_days: int) -> Plan:
    """The plan a configuration amounts to, for the linter: one commission per level with a rate."""
    rewards = [Reward(name=f"{grade.name} 一级佣金", kind="commission", basis="referral_purchase", depth=1,
                      rate_percent=grade.level1_bp / 100) for grade in config.grades if grade.level1_bp]
    rewards += [Reward(name=f"{grade.name} 二级佣金", kind="commission", basis="referral_purchase", depth=2,
                       rate_percent=grade.level2_bp / 100) for grade in config.grades if grade.level2_bp]
    return Plan(name="distribution", rewards=rewards, legal_approval=config.level2_approval,
                freeze_days=after_sale_days, after_sale_days=after_sale_days)


async def configure(session: AsyncSession, clock: Clock, staff: StaffMember, body: ConfigIn) -> ConfigOut:
    """Save the switch and rates; a plan the linter blocks (or level-2 without approval) is refused."""
    merchant = await merchants.merchant_by_id(session, staff.merchant_id)
    report = rules.lint(plan_of(body, merchant.after_sale_days))
    if not report.ok:
        unapproved = [{"field": "level2_approval", "hint": f.message} for f in report.findings
                      if f.rule == "D1" and f.level == "approve"][:1]
        raise Conflict("lint_blocked", "the distribution plan breaks rules that keep it from going live",
                       findings=[f.model_dump() for f in report.findings if f.level != "ok"],
                       **({"errors": unapproved} if unapproved else {}))
    now = clock.now()
    current = await repository.config_of(session, staff.merchant_id)
    note_before(session, current, ConfigIn.model_fields)
    approval_changed = current is None or current.level2_approval != body.level2_approval
    await repository.save_config(
        session, staff.merchant_id, **body.model_dump(mode="json"), updated_at=now,
        **({"level2_approved_by": staff.staff_id if body.level2_approval else None,
            "level2_approved_at": now if body.level2_approval else None} if approval_changed else {}))
    await record_event(session, merchant_id=staff.merchant_id, kind="distribution_configured", at=now,
                       actor_id=None, data={"enabled": body.enabled, "by": staff.staff_id})
    return await config(session, staff)


async def config(session: AsyncSession, staff: StaffMember) -> ConfigOut:
    current = await repository.config_of(session, staff.merchant_id)
    if current is None:
        raise NotFound("distribution_not_configured", "distribution has not been set up")
    merchant = await merchants.merchant_by_id(session, staff.merchant_id)
    body = ConfigIn.model_validate(current, from_attributes=True)
    return ConfigOut(**body.model_dump(), level2_approved_by=current.level2_approved_by,
                     level2_approved_at=current.level2_approved_at,
                     lint=rules.lint(plan_of(body, merchant.after_sale_days)))


_ENTRY_COLUMNS = ("id", "beneficiary_id", "order_id", "buyer_id", "level", "kind", "amount_fen", "rate_bp", "base_fen",
                  "status", "created_at", "settled_at")


async def commission_page(session: AsyncSession, staff: StaffMember, *, status: str | None,
                          distributor_id: int | None, cursor: str | None, limit: int) -> CommissionPage:
    found = await repository.commission_page(session, staff.merchant_id, status=status, beneficiary_id=distributor_id,
                                             before=parse_cursor(cursor or None), limit=limit)
    items = [CommissionOut(beneficiary_name=nickname, **{column: getattr(entry, column) for column in _ENTRY_COLUMNS})
             for entry, nickname in found]
    return CommissionPage(items=items, next_cursor=str(items[-1].id) if len(items) == limit else None)


def preset_three_plus_nine() -> PresetOut:
    plan = rules.three_plus_nine()
    return PresetOut(plan=plan, report=rules.lint(plan))


async def apply(session: AsyncSession, clock: Clock, shopper: Shopper) -> DistributorOut:
    current = await repository.config_of(session, shopper.merchant_id)
    now = clock.now()
    auto = current is not None and current.auto_approve
    await repository.add_distributor(session, merchant_id=shopper.merchant_id, customer_id=shopper.customer_id,
                                     status=DistributorStatus.APPROVED if auto else DistributorStatus.PENDING,
                                     grade=1, applied_at=now,
                                     decided_at=now if auto else None)
    found = await repository.distributor(session, shopper.merchant_id, shopper.customer_id)
    assert found is not None
    return DistributorOut.model_validate(found, from_attributes=True)


async def decide(session: AsyncSession, clock: Clock, staff: StaffMember, customer_id: int,
                 approve: bool) -> DistributorOut:
    if not await repository.decide(session, staff.merchant_id, customer_id,
                                   DistributorStatus.APPROVED if approve else DistributorStatus.REJECTED, clock.now()):
        raise Conflict("application_not_pending", "no pending application from this customer")
    found = await repository.distributor(session, staff.merchant_id, customer_id)
    return DistributorOut.model_validate(found, from_attributes=True)


async def regrade(session: AsyncSession, staff: StaffMember, customer_id: int, grade: int) -> DistributorOut:
    """Move a distributor to another of the merchant's grades (and so its rates, from the next payment on)."""
    current = await repository.config_of(session, staff.merchant_id)
    if current is None or grade not in {int(rates["grade"]) for rates in current.grades}:
        raise InvalidInput("unknown_grade", f"grade {grade} is not one of the merchant's grades", field="grade")
    note_before(session, await repository.distributor(session, staff.merchant_id, customer_id), ["grade"])
    if not await repository.set_grade(session, staff.merchant_id, customer_id, grade):
        raise NotFound("distributor_not_found", f"customer {customer_id} is not a distributor")
    found = await repository.distributor(session, staff.merchant_id, customer_id)
    return DistributorOut.model_validate(found, from_attributes=True)


async def for_merchant(session: AsyncSession, staff: StaffMember, status: str | None) -> list[DistributorOut]:
    return [DistributorOut.model_validate(d, from_attributes=True)
            for d in await repository.distributors(session, staff.merchant_id, status, 200)]


async def mine(session: AsyncSession, shopper: Shopper) -> MyDistributionOut:
    me = await repository.distributor(session, shopper.merchant_id, shopper.customer_id)
    customer = await customers.get_customer(session, shopper.merchant_id, shopper.customer_id)
    totals = await repository.balances(session, shopper.customer_id)
    withdrawable, withdrawn = await repository.withdrawable(session, shopper.customer_id)
    payee = await repository.payee(session, shopper.customer_id)
    return MyDistributionOut(
        distributor=DistributorOut.model_validate(me, from_attributes=True) if me else None,
        referrer_id=customer.inviter_id, referrals=await repository.referrals(session, shopper.customer_id),
        frozen_fen=totals.get(CommissionStatus.FROZEN, 0), settled_fen=totals.get(CommissionStatus.SETTLED, 0),
        withdrawable_fen=withdrawable, withdrawn_fen=withdrawn,
        entries=[EntryOut.model_validate(e, from_attributes=True)
                 for e in await repository.entries_of(session, shopper.customer_id, 50)],
        payee=PayeeOut.model_validate(payee, from_attributes=True) if payee else None)


async def team(session: AsyncSession, shopper: Shopper) -> list[TeamMemberOut]:
    """The direct referrals (one level only: COMPLIANCE D2 pays nothing on team size), names masked."""
    return [TeamMemberOut(name=rules.masked_name(name), joined_at=joined, paid_orders=paid)
            for name, joined, paid in await repository.team(session, shopper.merchant_id, shopper.customer_id, 100)]


def _rates(config: DistributionConfig, grade: int) -> tuple[int, int]:
    for rates in config.grades:
        if rates["grade"] == grade:
            return int(rates["level1_bp"]), int(rates["level2_bp"]) if config.level2_approval else 0
    return 0, 0


async def write_commissions(session: AsyncSession, now: datetime, payload: dict[str, Any]) -> None:
    """On a payment, in full: level 1 to the buyer's referrer (or the buyer, for self-purchase), level 2 to theirs
    when the merchant recorded legal approval; each an approved distributor; on the amount actually paid."""
    merchant_id, order_id = int(payload["merchant_id"]), int(payload["subject_id"])
    config = await repository.config_of(session, merchant_id)
    order = await orders.find_order(session, merchant_id, order_id)
    if config is None or not config.enabled or order is None or order.paid_fen < order.total_fen:
        return
    buyer = await customers.get_customer(session, merchant_id, order.customer_id)
    bound = config.binding_days is None or buyer.created_at + timedelta(days=config.binding_days) > now
    referrers: list[int] = []
    if bound and buyer.inviter_id is not None:
        referrers.append(buyer.inviter_id)
        referrer = await customers.get_customer(session, merchant_id, buyer.inviter_id)
        if referrer.inviter_id is not None:
            referrers.append(referrer.inviter_id)
    grades = await repository.approved(session, [buyer.id, *referrers])
    # a distributor buying for themselves is their own level 1 (when the merchant allows it); anyone else's
    # purchase pays their referrers
    chain = [buyer.id, *referrers] if config.self_purchase and buyer.id in grades else referrers
    for level, beneficiary in enumerate(chain[:2], start=1):
        if beneficiary not in grades:
            continue
        rate = _rates(config, grades[beneficiary])[level - 1]
        amount = rules.commission(order.paid_fen, rate)
        if amount > 0 and await repository.write(
                session, merchant_id=merchant_id, beneficiary_id=beneficiary, order_id=order.id,
                buyer_id=buyer.id, level=level, kind="commission", amount_fen=amount, rate_bp=rate,
                base_fen=order.paid_fen, status=CommissionStatus.FROZEN, entry_key=f"c:{order.id}:{level}",
                created_at=now):
            await record_event(session, merchant_id=merchant_id, kind="commission", at=now, actor_id=beneficiary,
                               inviter_id=beneficiary, subject=("order", order.id),
                               data={"level": level, "amount_fen": amount})


async def write_leader_commission(session: AsyncSession, now: datetime, *, merchant_id: int, leader_id: int,
                                  rate_bp: int, paid_orders: list[tuple[int, int, int]]) -> int:
    """A group leader's commission (团长佣金) on each member's order (order, buyer, paid) when the group succeeds:
    the same ledger, frozen until the order completes, reversed by share with refunds. What was written."""
    written = 0
    for order_id, buyer_id, paid in paid_orders:
        amount = rules.commission(paid, rate_bp)
        if amount > 0 and await repository.write(
                session, merchant_id=merchant_id, beneficiary_id=leader_id, order_id=order_id, buyer_id=buyer_id,
                level=0, kind="commission", amount_fen=amount, rate_bp=rate_bp, base_fen=paid,
                status=CommissionStatus.FROZEN,
                entry_key=f"t:{order_id}", created_at=now):
            written += amount
    return written


async def settle(session: AsyncSession, now: datetime, payload: dict[str, Any]) -> None:
    """A chunk of orders completed (their after-sale window has passed): their commission settles, in one
    statement."""
    await repository.settle_orders(session, payload["subject_ids"], now)


async def reverse(session: AsyncSession, now: datetime, payload: dict[str, Any]) -> None:
    """A refund succeeded: each commission of the order gives back the same share as the money, cumulatively,
    so the reversals of all refunds add up to the whole commission exactly. Settled or not."""
    merchant_id, order_id = int(payload["merchant_id"]), int(payload["subject_id"])
    commissions = await repository.commissions_of_order(session, order_id, lock=True)
    order = await orders.find_order(session, merchant_id, order_id)  # read after the lock: the latest refunds
    if order is None:
        return
    for entry in commissions:
        owed = rules.reversed_share(entry.amount_fen, entry.base_fen, order.refunded_fen)
        back = owed - await repository.reversed_so_far(session, order_id, entry.level)
        if back > 0:
            await repository.write(
                session, merchant_id=merchant_id, beneficiary_id=entry.beneficiary_id, order_id=order_id,
                buyer_id=entry.buyer_id, level=entry.level, kind="reversal", amount_fen=-back,
                rate_bp=entry.rate_bp, base_fen=entry.base_fen, status=entry.status,
                entry_key=f"r:{order_id}:{entry.level}:{owed}", created_at=now,
                settled_at=now if entry.status == CommissionStatus.SETTLED else None)


async def _switched_on(session: AsyncSession, merchant_id: int, inviter_id: int | None) -> bool:
    return await repository.enabled(session, merchant_id)


async def _has_ledger(session: AsyncSession, merchant_id: int, inviter_id: int | None) -> bool:
    """Settling and reversing go on whatever the switch says (the history is kept either way), wherever there is
    commission: distribution's or a group leader's."""
    return await repository.any_entries(session, merchant_id)


react("pay", COMMISSION_JOB, when=_switched_on)
react("order_completed", SETTLE_JOB, when=_has_ledger)
react("refund", REVERSE_JOB, when=_has_ledger)


# Reads the merchant console makes as the repository answers them (pages call domains through their services).
config_of = repository.config_of
distributor_page = repository.distributor_page
commission_rows = repository.commission_page
withdrawal_page = repository.withdrawal_page
