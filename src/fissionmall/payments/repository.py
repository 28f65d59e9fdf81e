"""Every query about payments and the notification inbox."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.db.sql import insert_ignoring_conflicts
from fissionmall.orders.rules import Stage
from fissionmall.payments.models import NotificationInbox, Payment


async def payment_for(session: AsyncSession, order_id: int, stage: str) -> Payment | None:
    statement = select(Payment).where(Payment.order_id == order_id, Payment.stage == stage)
    return (await session.execute(statement)).scalar_one_or_none()


async def payment_of(session: AsyncSession, merchant_id: int, payment_id: int) -> Payment | None:
    statement = select(Payment).where(Payment.merchant_id == merchant_id, Payment.id == payment_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def insert_payment(session: AsyncSession, **values: object) -> None:
    """One payment per order and stage: a second /pay finds the first instead of creating a twin."""
    await session.execute(insert_ignoring_conflicts(session, Payment).values(**values))


async def record_notification(session: AsyncSession, provider: str, event_id: str, kind: str, reference: str,
                              at: datetime) -> bool:
    """True the first time this provider event is seen; False for every repeat, however concurrent."""
    result = await session.execute(
        insert_ignoring_conflicts(session, NotificationInbox)
        .values(provider=provider, event_id=event_id, kind=kind, reference=reference, received_at=at)
        .returning(NotificationInbox.id)
    )
    return result.scalar() is not None


async def settle_payment(session: AsyncSession, out_trade_no: str, amount_fen: int, transaction_id: str,
                         at: datetime) -> tuple[int, Stage] | None:
    """pending → succeeded if the amount matches; (order id, stage), or None if nothing changed."""
    result = await session.execute(
        update(Payment)
        .where(Payment.out_trade_no == out_trade_no, Payment.status == "pending", Payment.amount_fen == amount_fen)
        .values(status="succeeded", transaction_id=transaction_id, paid_at=at)
        .returning(Payment.order_id, Payment.stage)
    )
    row = result.first()
    return (row.order_id, cast(Stage, row.stage)) if row else None


async def payment_by_trade_no(session: AsyncSession, out_trade_no: str) -> Payment | None:
    statement = select(Payment).where(Payment.out_trade_no == out_trade_no)
    return (await session.execute(statement)).scalar_one_or_none()
