"""Every query about payments and the notification inbox."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, cast

from sqlalchemy import Column, String, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.db.base import UtcDateTime
from fissionmall.db.sql import Direct, Prebuilt, table
from fissionmall.orders.models import Refund
from fissionmall.orders.rules import Stage
from fissionmall.payments.models import NotificationInbox, Payment
from fissionmall.payments.states import PAYMENT_STATES, PaymentStatus

_PAYMENTS, _INBOX = table(Payment), table(NotificationInbox)
_PAYMENT_FOR = select(Payment).where(Payment.order_id == bindparam("order_id"), Payment.stage == bindparam("stage"))
_INSERT_PAYMENT = Prebuilt(lambda insert: insert(Payment).on_conflict_do_nothing().returning(Payment))


def _recording(reference: Column[str]) -> Callable[[Callable[[Any], Any]], Any]:
    """The notification into the inbox with the merchant of the payment or refund whose number it carries, in one
    statement: no row when no such payment or refund exists, or when the notification was recorded before."""
    def build(insert: Callable[[Any], Any]) -> Any:
        found = select(reference.table.c.merchant_id, *(bindparam(name, type_=String()) for name in
                                                        ("provider", "event_id", "kind", "reference")),
                       bindparam("received_at", type_=UtcDateTime())).where(reference == bindparam("reference"))
        return (insert(_INBOX).from_select(["merchant_id", "provider", "event_id", "kind", "reference", "received_at"],
                                           found)
                .on_conflict_do_nothing().returning(_INBOX.c.merchant_id))
    return build


_RECORD_NOTIFICATION = {"payment": Direct(_recording(_PAYMENTS.c.out_trade_no)),
                        "refund": Direct(_recording(table(Refund).c.refund_no))}
_SETTLE = Direct(lambda _: (
    update(_PAYMENTS)
    .where(_PAYMENTS.c.merchant_id == bindparam("merchant"), _PAYMENTS.c.out_trade_no == bindparam("trade_no"),
           PAYMENT_STATES.guard(_PAYMENTS.c.status, PaymentStatus.SUCCEEDED),
           _PAYMENTS.c.amount_fen == bindparam("amount"))
    .values(status=PaymentStatus.SUCCEEDED, transaction_id=bindparam("provider_id"),
            paid_at=bindparam("at", type_=_PAYMENTS.c.paid_at.type))
    .returning(_PAYMENTS.c.order_id, _PAYMENTS.c.stage)
))


async def payment_of(session: AsyncSession, merchant_id: int, payment_id: int) -> Payment | None:
    statement = select(Payment).where(Payment.merchant_id == merchant_id, Payment.id == payment_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def open_payment(session: AsyncSession, **values: object) -> Payment:
    """One payment per order and stage: a second /pay finds the first instead of creating a twin."""
    created = (await session.execute(_INSERT_PAYMENT(session), values)).scalar_one_or_none()
    return created or (await session.execute(_PAYMENT_FOR, values)).scalar_one()


async def record_notification(session: AsyncSession, provider: str, event_id: str, kind: Literal["payment", "refund"],
                              reference: str, at: datetime) -> int | None:
    """The merchant of the payment (or refund) numbered `reference` the first time this provider event is seen; None
    for every repeat, however concurrent, and for a number no payment (or refund) has."""
    merchant_id: int | None = await _RECORD_NOTIFICATION[kind].scalar(session, dict(
        provider=provider, event_id=event_id, kind=kind, reference=reference, received_at=at))
    return merchant_id


async def settle_payment(session: AsyncSession, merchant_id: int, out_trade_no: str, amount_fen: int,
                         transaction_id: str, at: datetime) -> tuple[int, Stage] | None:
    """pending → succeeded if the amount matches; (order id, stage), or None if nothing changed."""
    rows = await _SETTLE.rows(session, dict(merchant=merchant_id, trade_no=out_trade_no, amount=amount_fen,
                                            provider_id=transaction_id, at=at))
    return (rows[0][0], cast(Stage, rows[0][1])) if rows else None


async def payment_by_trade_no(session: AsyncSession, out_trade_no: str) -> Payment | None:
    statement = select(Payment).where(Payment.out_trade_no == out_trade_no)
    return (await session.execute(statement)).scalar_one_or_none()


async def payments_of_order(session: AsyncSession, merchant_id: int, order_id: int) -> list[Payment]:
    statement = (select(Payment).where(Payment.merchant_id == merchant_id, Payment.order_id == order_id)
                 .order_by(Payment.id))
    return list((await session.execute(statement)).scalars())
