"""Shop credit: granted by campaigns (prizes, rewards), spent at checkout, given back when an order is not
kept. Every movement is an entry; the balance is their sum, guarded so it never goes below zero."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.auth import Shopper
from fissionmall.core.errors import Conflict
from fissionmall.wallet import repository
from fissionmall.wallet.schemas import WalletEntryOut, WalletOut


async def credit(session: AsyncSession, merchant_id: int, customer_id: int, amount_fen: int, kind: str,
                 source: tuple[str, int], at: datetime, campaign_id: int | None = None) -> bool:
    """Credit once per (customer, kind, source): False, and nothing changed, for a repeat."""
    if amount_fen <= 0:
        return False
    if not await repository.add_entry(session, merchant_id=merchant_id, customer_id=customer_id,
                                      amount_fen=amount_fen, kind=kind, source_type=source[0], source_id=source[1],
                                      campaign_id=campaign_id, created_at=at):
        return False
    await repository.move_balance(session, merchant_id, customer_id, amount_fen)
    return True


async def spend(session: AsyncSession, merchant_id: int, customer_id: int, amount_fen: int,
                source: tuple[str, int], at: datetime) -> None:
    """Take credit for a purchase; 409 insufficient_credit (nothing taken) if the balance is short."""
    if not await repository.move_balance(session, merchant_id, customer_id, -amount_fen):
        raise Conflict("insufficient_credit", "the wallet does not hold that much credit",
                       balance_fen=await repository.balance(session, customer_id))
    await repository.add_entry(session, merchant_id=merchant_id, customer_id=customer_id, amount_fen=-amount_fen,
                               kind="spent", source_type=source[0], source_id=source[1], created_at=at)


async def wallet_of(session: AsyncSession, shopper: Shopper) -> WalletOut:
    found = await repository.entries(session, shopper.merchant_id, shopper.customer_id, 50)
    return WalletOut(balance_fen=await repository.balance(session, shopper.customer_id),
                     entries=[WalletEntryOut.model_validate(e, from_attributes=True) for e in found])


async def balance_of(session: AsyncSession, customer_id: int) -> int:
    """A customer's credit balance in fen (the console's customer page; the caller has checked the merchant)."""
    return await repository.balance(session, customer_id)
