"""Every query about wallets. An entry and its balance change are written together or not at all."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.db.sql import insert_ignoring_conflicts
from fissionmall.wallet.models import Wallet, WalletEntry


async def add_entry(session: AsyncSession, **values: Any) -> bool:
    """False when this (customer, kind, source) was already recorded: the movement happened before."""
    result = await session.execute(
        insert_ignoring_conflicts(session, WalletEntry).values(**values).returning(WalletEntry.id))
    return result.scalar() is not None


async def move_balance(session: AsyncSession, merchant_id: int, customer_id: int, amount: int) -> bool:
    """Add `amount` (negative to spend) unless the balance would go below zero."""
    await session.execute(insert_ignoring_conflicts(session, Wallet).values(
        merchant_id=merchant_id, customer_id=customer_id, balance_fen=0))
    result = await session.execute(
        update(Wallet).where(Wallet.customer_id == customer_id, Wallet.balance_fen + amount >= 0)
        .values(balance_fen=Wallet.balance_fen + amount))
    return result.rowcount == 1  # type: ignore[attr-defined]


async def balance(session: AsyncSession, customer_id: int) -> int:
    statement = select(Wallet.balance_fen).where(Wallet.customer_id == customer_id)
    return int((await session.execute(statement)).scalar() or 0)


async def entries(session: AsyncSession, merchant_id: int, customer_id: int, limit: int) -> list[WalletEntry]:
    statement = (select(WalletEntry).where(WalletEntry.merchant_id == merchant_id,
                                           WalletEntry.customer_id == customer_id)
                 .order_by(WalletEntry.id.desc()).limit(limit))
    return list((await session.execute(statement)).scalars())
