"""Every query about wallets. An entry and its balance change are written together or not at all."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.db.sql import Prebuilt, insert_ignoring_conflicts, table
from fissionmall.wallet.models import Wallet, WalletEntry

_WALLETS = table(Wallet)


def _crediting(insert: Any) -> Any:
    new = insert(_WALLETS).values(merchant_id=bindparam("merchant"), customer_id=bindparam("customer"),
                                  balance_fen=bindparam("amount"))
    return new.on_conflict_do_update(index_elements=[_WALLETS.c.customer_id, _WALLETS.c.merchant_id],
                                     set_={"balance_fen": _WALLETS.c.balance_fen + new.excluded.balance_fen})


_CREDIT = Prebuilt(_crediting)
_DEBIT = (update(_WALLETS).where(_WALLETS.c.customer_id == bindparam("customer"),
                                 _WALLETS.c.balance_fen >= bindparam("amount"))
          .values(balance_fen=_WALLETS.c.balance_fen - bindparam("amount")))


async def add_entry(session: AsyncSession, **values: Any) -> bool:
    """False when this (customer, kind, source) was already recorded: the movement happened before."""
    result = await session.execute(
        insert_ignoring_conflicts(session, WalletEntry).values(**values).returning(WalletEntry.id))
    return result.scalar() is not None


async def move_balance(session: AsyncSession, merchant_id: int, customer_id: int, amount: int) -> bool:
    """Add `amount` (negative to spend) unless the balance would go below zero: one statement either way (a credit
    creates the wallet it lands in; a spend from no wallet finds nothing to take)."""
    if amount >= 0:
        await session.execute(_CREDIT(session), {"merchant": merchant_id, "customer": customer_id, "amount": amount})
        return True
    result = await session.execute(_DEBIT, {"customer": customer_id, "amount": -amount})
    return int(result.rowcount) == 1  # type: ignore[attr-defined]


async def balance(session: AsyncSession, customer_id: int) -> int:
    statement = select(Wallet.balance_fen).where(Wallet.customer_id == customer_id)
    return int((await session.execute(statement)).scalar() or 0)


async def entries(session: AsyncSession, merchant_id: int, customer_id: int, limit: int) -> list[WalletEntry]:
    statement = (select(WalletEntry).where(WalletEntry.merchant_id == merchant_id,
                                           WalletEntry.customer_id == customer_id)
                 .order_by(WalletEntry.id.desc()).limit(limit))
    return list((await session.execute(statement)).scalars())
