"""Every query about distribution. Ledger writes are keyed so that each happens once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.pagination import row_id_in
from fissionmall.core.states import transition
from fissionmall.customers.models import Customer
from fissionmall.db.sql import Direct, insert_ignoring_conflicts, table
from fissionmall.distribution.models import CommissionEntry, DistributionConfig, Distributor, Payee, Withdrawal
from fissionmall.distribution.states import (
    COMMISSION_STATES,
    DISTRIBUTOR_STATES,
    WITHDRAWAL_STATES,
    CommissionStatus,
    DistributorStatus,
    WithdrawalStatus,
)
from fissionmall.orders.models import Order


async def config_of(session: AsyncSession, merchant_id: int) -> DistributionConfig | None:
    statement = select(DistributionConfig).where(DistributionConfig.merchant_id == merchant_id)
    return (await session.execute(statement.execution_options(populate_existing=True))).scalar_one_or_none()


_CONFIGS = table(DistributionConfig)
_ENABLED = Direct(lambda _: select(_CONFIGS.c.enabled).where(_CONFIGS.c.merchant_id == bindparam("merchant_id")))


async def enabled(session: AsyncSession, merchant_id: int) -> bool:
    return bool(await _ENABLED.scalar(session, dict(merchant_id=merchant_id)))


async def save_config(session: AsyncSession, merchant_id: int, **values: Any) -> None:
    await session.execute(insert_ignoring_conflicts(session, DistributionConfig).values(
        merchant_id=merchant_id, **values))
    await session.execute(update(DistributionConfig).where(DistributionConfig.merchant_id == merchant_id)
                          .values(**values))


async def distributor(session: AsyncSession, merchant_id: int, customer_id: int) -> Distributor | None:
    statement = select(Distributor).where(Distributor.merchant_id == merchant_id,
                                          Distributor.customer_id == customer_id)
    return (await session.execute(statement.execution_options(populate_existing=True))).scalar_one_or_none()


async def approved(session: AsyncSession, customer_ids: list[int]) -> dict[int, int]:
    """customer id → grade, for those who are approved distributors."""
    statement = select(Distributor.customer_id, Distributor.grade).where(
        Distributor.customer_id.in_(customer_ids), Distributor.status == DistributorStatus.APPROVED)
    return {customer_id: grade for customer_id, grade in (await session.execute(statement)).all()}


async def add_distributor(session: AsyncSession, **values: Any) -> bool:
    result = await session.execute(insert_ignoring_conflicts(session, Distributor).values(**values)
                                   .returning(Distributor.id))
    return result.scalar() is not None


async def decide(session: AsyncSession, merchant_id: int, customer_id: int, status: DistributorStatus,
                 at: datetime) -> bool:
    result = await session.execute(
        update(Distributor).where(Distributor.merchant_id == merchant_id, Distributor.customer_id == customer_id,
                                  DISTRIBUTOR_STATES.guard(Distributor.status, status))
        .values(status=status, decided_at=at))
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


async def distributors(session: AsyncSession, merchant_id: int, status: str | None, limit: int) -> list[Distributor]:
    statement = select(Distributor).where(Distributor.merchant_id == merchant_id)
    if status is not None:
        statement = statement.where(Distributor.status == status)
    return list((await session.execute(statement.order_by(Distributor.id.desc()).limit(limit))).scalars())


async def set_grade(session: AsyncSession, merchant_id: int, customer_id: int, grade: int) -> bool:
    result = await session.execute(update(Distributor).where(Distributor.merchant_id == merchant_id,
                                                             Distributor.customer_id == customer_id)
                                   .values(grade=grade))
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


async def any_entries(session: AsyncSession, merchant_id: int) -> bool:
    statement = select(CommissionEntry.id).where(CommissionEntry.merchant_id == merchant_id).limit(1)
    return (await session.execute(statement)).scalar() is not None


async def write(session: AsyncSession, **values: Any) -> bool:
    result = await session.execute(insert_ignoring_conflicts(session, CommissionEntry).values(**values)
                                   .returning(CommissionEntry.id))
    return result.scalar() is not None


async def commissions_of_order(session: AsyncSession, order_id: int, *, lock: bool = False) -> list[CommissionEntry]:
    """An order's commissions; `lock` holds them so two workers reversing one order take turns."""
    statement = select(CommissionEntry).where(CommissionEntry.order_id == order_id,
                                              CommissionEntry.kind == "commission").order_by(CommissionEntry.level)
    if lock:
        statement = statement.with_for_update()
    return list((await session.execute(statement.execution_options(populate_existing=True))).scalars())


async def reversed_so_far(session: AsyncSession, order_id: int, level: int) -> int:
    statement = select(func.coalesce(func.sum(CommissionEntry.amount_fen), 0)).where(
        CommissionEntry.order_id == order_id, CommissionEntry.level == level, CommissionEntry.kind == "reversal")
    return -int((await session.execute(statement)).scalar_one())


async def settle_orders(session: AsyncSession, order_ids: list[int], at: datetime) -> int:
    result = await session.execute(
        update(CommissionEntry).where(
            CommissionEntry.order_id.in_(order_ids),
            COMMISSION_STATES.guard(CommissionEntry.status, CommissionStatus.SETTLED))
        .values(status=CommissionStatus.SETTLED, settled_at=at))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def balances(session: AsyncSession, customer_id: int) -> dict[str, int]:
    statement = select(CommissionEntry.status, func.sum(CommissionEntry.amount_fen)).where(
        CommissionEntry.beneficiary_id == customer_id).group_by(CommissionEntry.status)
    return {status: int(total) for status, total in (await session.execute(statement)).all()}


async def entries_of(session: AsyncSession, customer_id: int, limit: int) -> list[CommissionEntry]:
    statement = (select(CommissionEntry).where(CommissionEntry.beneficiary_id == customer_id)
                 .order_by(CommissionEntry.id.desc()).limit(limit))
    return list((await session.execute(statement)).scalars())


async def referrals(session: AsyncSession, customer_id: int) -> int:
    statement = select(func.count()).select_from(Customer).where(Customer.inviter_id == customer_id)
    return int((await session.execute(statement)).scalar_one())


async def team(session: AsyncSession, merchant_id: int, customer_id: int,
               limit: int) -> list[tuple[str, datetime, int]]:
    """(nickname, joined at, paid orders) of the customers this one referred directly, newest first."""
    paid = (select(func.count()).select_from(Order)
            .where(Order.merchant_id == merchant_id, Order.customer_id == Customer.id, Order.paid_at.is_not(None))
            .correlate(Customer).scalar_subquery())
    statement = (select(Customer.nickname, Customer.created_at, paid)
                 .where(Customer.merchant_id == merchant_id, Customer.inviter_id == customer_id)
                 .order_by(Customer.id.desc()).limit(limit))
    return [(name, joined, int(count)) for name, joined, count in (await session.execute(statement)).all()]


# --- payees and withdrawals -----------------------------------------------------------------------------------------


async def save_payee(session: AsyncSession, merchant_id: int, customer_id: int, **values: Any) -> None:
    await session.execute(insert_ignoring_conflicts(session, Payee).values(
        merchant_id=merchant_id, customer_id=customer_id, **values))
    await session.execute(update(Payee).where(Payee.customer_id == customer_id).values(**values))


async def payee(session: AsyncSession, customer_id: int, *, lock: bool = False) -> Payee | None:
    """The payee; `lock` holds the row so that this customer's withdrawal requests take turns."""
    statement = select(Payee).where(Payee.customer_id == customer_id)
    if lock:
        statement = statement.with_for_update()
    return (await session.execute(statement.execution_options(populate_existing=True))).scalar_one_or_none()


async def withdrawable(session: AsyncSession, customer_id: int) -> tuple[int, int]:
    """(settled commission less every withdrawal not rejected, withdrawals paid or on their way)."""
    settled = select(func.coalesce(func.sum(CommissionEntry.amount_fen), 0)).where(
        CommissionEntry.beneficiary_id == customer_id, CommissionEntry.status == CommissionStatus.SETTLED,
    ).scalar_subquery()
    taken = select(func.coalesce(func.sum(Withdrawal.amount_fen), 0)).where(
        Withdrawal.customer_id == customer_id, Withdrawal.status != WithdrawalStatus.REJECTED).scalar_subquery()
    settled_fen, taken_fen = (await session.execute(select(settled, taken))).one()
    return int(settled_fen) - int(taken_fen), int(taken_fen)


async def add_withdrawal(session: AsyncSession, **values: Any) -> int:
    return int((await session.execute(insert(Withdrawal).values(**values).returning(Withdrawal.id))).scalar_one())


async def withdrawal(session: AsyncSession, withdrawal_id: int, merchant_id: int | None = None) -> Withdrawal | None:
    statement = select(Withdrawal).where(Withdrawal.id == withdrawal_id)
    if merchant_id is not None:
        statement = statement.where(Withdrawal.merchant_id == merchant_id)
    return (await session.execute(statement.execution_options(populate_existing=True))).scalar_one_or_none()


async def move_withdrawal(session: AsyncSession, withdrawal_id: int, source: WithdrawalStatus, to: WithdrawalStatus,
                          **values: Any) -> bool:
    """One guarded step of a withdrawal from `source` (a rejection is the merchant's before approval, the
    provider's after it); False when it was no longer there."""
    return bool(await transition(session, WITHDRAWAL_STATES, Withdrawal, [withdrawal_id], to,
                                 where=[Withdrawal.status == source], values=values))


async def note_transfer(session: AsyncSession, withdrawal_id: int, **values: Any) -> int | None:
    """The provider's word on a transfer still waiting: the withdrawal's merchant, or None when the withdrawal has been
    settled meanwhile."""
    result = await session.execute(update(Withdrawal).where(Withdrawal.id == withdrawal_id,
                                                            Withdrawal.status == WithdrawalStatus.APPROVED)
                                   .values(**values).returning(Withdrawal.merchant_id))
    return result.scalar()


async def withdrawals(session: AsyncSession, merchant_id: int, *, customer_id: int | None = None,
                      status: str | None = None, limit: int = 100) -> list[Withdrawal]:
    statement = select(Withdrawal).where(Withdrawal.merchant_id == merchant_id)
    if customer_id is not None:
        statement = statement.where(Withdrawal.customer_id == customer_id)
    if status is not None:
        statement = statement.where(Withdrawal.status == status)
    return list((await session.execute(statement.order_by(Withdrawal.id.desc()).limit(limit))).scalars())


# --- the merchant's lists (newest first, keyset by id) ----------------------------------------------------------------


async def commission_page(session: AsyncSession, merchant_id: int, *, status: str | None = None,
                          beneficiary_id: int | None = None, before: int | None = None,
                          limit: int = 50) -> list[tuple[CommissionEntry, str]]:
    """The merchant's ledger entries with the beneficiary's nickname, newest first, `before` an entry id (served by
    the (merchant_id, status, id) and (merchant_id, id) indexes, or the beneficiary's)."""
    statement = (select(CommissionEntry, Customer.nickname)
                 .join(Customer, Customer.id == CommissionEntry.beneficiary_id)
                 .where(CommissionEntry.merchant_id == merchant_id))
    if status is not None:
        statement = statement.where(CommissionEntry.status == status)
    if beneficiary_id is not None:
        statement = statement.where(CommissionEntry.beneficiary_id == beneficiary_id)
    if before is not None:
        statement = statement.where(CommissionEntry.id < before)
    rows = await session.execute(statement.order_by(CommissionEntry.id.desc()).limit(limit))
    return [(entry, nickname) for entry, nickname in rows.all()]


async def distributor_page(session: AsyncSession, merchant_id: int, *, status: str | None = None,
                           search: str | None = None, before: int | None = None,
                           limit: int = 50) -> list[tuple[Distributor, str]]:
    """Distributors and applications with the customer's nickname, newest first; `search` a nickname's part or a
    customer id."""
    statement = (select(Distributor, Customer.nickname).join(Customer, Customer.id == Distributor.customer_id)
                 .where(Distributor.merchant_id == merchant_id))
    if status is not None:
        statement = statement.where(Distributor.status == status)
    if search:
        by_name = Customer.nickname.icontains(search, autoescape=True)
        typed = row_id_in(search)
        statement = statement.where(by_name | (Distributor.customer_id == typed) if typed is not None else by_name)
    if before is not None:
        statement = statement.where(Distributor.id < before)
    rows = await session.execute(statement.order_by(Distributor.id.desc()).limit(limit))
    return [(found, nickname) for found, nickname in rows.all()]


async def withdrawal_page(session: AsyncSession, merchant_id: int, *, status: str | None = None,
                          before: int | None = None, limit: int = 50) -> list[tuple[Withdrawal, str, str | None]]:
    """Withdrawals with the customer's nickname and the payee's real name, newest first."""
    statement = (select(Withdrawal, Customer.nickname, Payee.real_name)
                 .join(Customer, Customer.id == Withdrawal.customer_id)
                 .outerjoin(Payee, Payee.customer_id == Withdrawal.customer_id)
                 .where(Withdrawal.merchant_id == merchant_id))
    if status is not None:
        statement = statement.where(Withdrawal.status == status)
    if before is not None:
        statement = statement.where(Withdrawal.id < before)
    rows = await session.execute(statement.order_by(Withdrawal.id.desc()).limit(limit))
    return [(found, nickname, real_name) for found, nickname, real_name in rows.all()]
