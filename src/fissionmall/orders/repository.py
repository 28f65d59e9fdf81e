"""Every query about orders and refunds. State changes are compare-and-set on the status."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, case, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.db.sql import Direct, china_day, table
from fissionmall.orders.models import Order, OrderAdjustment, OrderItem, Refund
from fissionmall.orders.states import REFUND_STATES, RefundStatus

_ORDERS, _ITEMS, _ADJUSTMENTS = table(Order), table(OrderItem), table(OrderAdjustment)
_INSERT_ORDER = Direct(lambda _: insert(_ORDERS).returning(_ORDERS.c.id))
_INSERT_ITEM = Direct(lambda _: insert(_ITEMS))
_INSERT_ADJUSTMENT = Direct(lambda _: insert(_ADJUSTMENTS))
_ORDER_BY_ID = select(Order).where(Order.id == bindparam("order_id"))
_ORDER_OF = select(Order).where(Order.merchant_id == bindparam("merchant_id"), Order.id == bindparam("order_id"))
_CUSTOMERS_ORDER = _ORDER_OF.where(Order.customer_id == bindparam("customer_id"))


async def insert_order(session: AsyncSession, values: dict[str, Any], items: list[dict[str, Any]],
                       adjustments: list[dict[str, Any]]) -> int:
    """An order has a line or two and an adjustment or two: a direct statement each costs less than one
    executemany through the session."""
    order_id: int = await _INSERT_ORDER.scalar(session, values)
    for item in items:
        await _INSERT_ITEM.rows(session, dict(item, order_id=order_id))
    for adjustment in adjustments:
        await _INSERT_ADJUSTMENT.rows(session, dict(adjustment, order_id=order_id, merchant_id=values["merchant_id"]))
    return order_id


_START_PAYMENT = (
    update(Order).where(Order.id == bindparam("order_id"), Order.status == "pending_payment")
    .values(payment_started_at=bindparam("at")).returning(Order).execution_options(populate_existing=True)
)
_PAID = (
    update(Order).where(Order.id == bindparam("order_id"), Order.status == "pending_payment")
    .values(status=case((Order.kind == "normal", "to_ship"), else_="paid"), paid_fen=bindparam("amount"),
            paid_at=bindparam("at"), due_at=None)
    .returning(Order).execution_options(populate_existing=True)
)


async def start_payment(session: AsyncSession, order_id: int, at: datetime) -> Order | None:
    """Fix the price from now on: the order as it stands under the row lock just taken, or None if it moved on."""
    result = await session.execute(_START_PAYMENT, dict(order_id=order_id, at=at))
    return result.scalar_one_or_none()


async def mark_paid(session: AsyncSession, order_id: int, amount_fen: int, at: datetime) -> Order | None:
    """pending_payment → paid with what was paid, by one compare-and-set; the order, or None if it moved on. A
    plain order has nothing more to wait for and goes straight to shipping (paid is a campaign order's wait for
    its group or its deal)."""
    return (await session.execute(_PAID, dict(order_id=order_id, amount=amount_fen, at=at))).scalar_one_or_none()


async def orders_by_ids(session: AsyncSession, order_ids: Sequence[int]) -> list[Order]:
    return list((await session.execute(select(Order).where(Order.id.in_(order_ids)))).scalars())


async def order_of(session: AsyncSession, merchant_id: int, order_id: int, *,
                   customer_id: int | None = None) -> Order | None:
    if customer_id is None:
        return (await session.execute(_ORDER_OF, dict(merchant_id=merchant_id, order_id=order_id))).scalar_one_or_none()
    return (await session.execute(_CUSTOMERS_ORDER, dict(merchant_id=merchant_id, order_id=order_id,
                                                         customer_id=customer_id))).scalar_one_or_none()


async def order_by_id(session: AsyncSession, order_id: int) -> Order:
    return (await session.execute(_ORDER_BY_ID, dict(order_id=order_id))).scalar_one()


async def order_page(session: AsyncSession, merchant_id: int, *, customer_id: int | None, statuses: Sequence[str],
                     before_id: int | None, limit: int) -> list[Order]:
    """Newest first; `statuses` empty for every status."""
    statement = select(Order).where(Order.merchant_id == merchant_id).order_by(Order.id.desc()).limit(limit)
    if customer_id is not None:
        statement = statement.where(Order.customer_id == customer_id)
    if statuses:
        statement = statement.where(Order.status.in_(statuses))
    if before_id is not None:
        statement = statement.where(Order.id < before_id)
    return list((await session.execute(statement)).scalars())


async def items_of(session: AsyncSession, order_id: int) -> list[OrderItem]:
    return list((await session.execute(select(OrderItem).where(OrderItem.order_id == order_id))).scalars())


async def parts_of(session: AsyncSession, order_ids: Sequence[int]) -> tuple[
        list[OrderItem], list[OrderAdjustment], list[Refund]]:
    """Items, adjustments and refunds of many orders in three queries (no N+1 on list pages)."""
    items = (await session.execute(
        select(OrderItem).where(OrderItem.order_id.in_(order_ids)).order_by(OrderItem.id))).scalars()
    adjustments = (await session.execute(
        select(OrderAdjustment).where(OrderAdjustment.order_id.in_(order_ids)).order_by(OrderAdjustment.id)
    )).scalars()
    refunds = (await session.execute(
        select(Refund).where(Refund.order_id.in_(order_ids)).order_by(Refund.id))).scalars()
    return list(items), list(adjustments), list(refunds)


async def move(session: AsyncSession, order_id: int, from_statuses: Iterable[str], to: str,
               **values: Any) -> bool:
    """Compare-and-set: change the status only if it is still one of `from_statuses`."""
    result = await session.execute(
        update(Order).where(Order.id == order_id, Order.status.in_(list(from_statuses)))
        .values(status=to, **values)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def move_many(session: AsyncSession, order_ids: Sequence[int], from_status: str, to: str,
                    *criteria: ColumnElement[bool], **values: Any) -> list[int]:
    result = await session.execute(
        update(Order).where(Order.id.in_(order_ids), Order.status == from_status, *criteria)
        .values(status=to, **values).returning(Order.id)
    )
    return list(result.scalars())


async def due_orders(session: AsyncSession, status: str, now: datetime, limit: int) -> list[int]:
    statement = (
        select(Order.id).where(Order.status == status, Order.due_at <= now)
        .order_by(Order.due_at).limit(limit)
    )
    return list((await session.execute(statement)).scalars())


async def quantities_by_sku(session: AsyncSession, order_ids: Sequence[int]) -> dict[int, int]:
    statement = (
        select(OrderItem.sku_id, func.sum(OrderItem.quantity))
        .where(OrderItem.order_id.in_(order_ids)).group_by(OrderItem.sku_id)
    )
    return {sku_id: int(quantity) for sku_id, quantity in (await session.execute(statement)).all()}


async def wallet_used(session: AsyncSession, order_ids: Sequence[int]) -> dict[int, int]:
    """Credit each order paid with, as a positive amount."""
    statement = (select(OrderAdjustment.order_id, -func.sum(OrderAdjustment.amount_fen))
                 .where(OrderAdjustment.order_id.in_(order_ids), OrderAdjustment.kind == "wallet")
                 .group_by(OrderAdjustment.order_id))
    return {order_id: int(amount) for order_id, amount in (await session.execute(statement)).all()}


async def add_adjustment(session: AsyncSession, order_id: int, values: dict[str, Any]) -> bool:
    """Record a price adjustment; the total moves by one guarded statement, never below zero."""
    result = await session.execute(
        update(Order)
        .where(Order.id == order_id, Order.status == "pending_payment", Order.payment_started_at.is_(None),
               Order.total_fen + values["amount_fen"] >= 0)
        .values(total_fen=Order.total_fen + values["amount_fen"])
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    await session.execute(insert(OrderAdjustment).values(order_id=order_id, **values))
    return True


async def lower_balance(session: AsyncSession, order_id: int, values: dict[str, Any]) -> bool:
    """Take a discount off a balance still due, never below what was already paid."""
    result = await session.execute(
        update(Order)
        .where(Order.id == order_id, Order.status == "balance_due",
               Order.total_fen + values["amount_fen"] > Order.paid_fen)
        .values(total_fen=Order.total_fen + values["amount_fen"])
        .returning(Order.merchant_id)
    )
    merchant_id = result.scalar()
    if merchant_id is None:
        return False
    await session.execute(insert(OrderAdjustment).values(order_id=order_id, merchant_id=merchant_id, **values))
    return True


async def reserve_refund(session: AsyncSession, order_id: int, amount: int, from_statuses: Iterable[str],
                         reserved_fen: int, **values: Any) -> bool:
    """Claim `amount` of the paid money for a refund, and move the order, in one guarded statement: only while the
    order still has the status and the reservations it was read with (no refund opened or released since)."""
    result = await session.execute(
        update(Order)
        .where(Order.id == order_id, Order.status.in_(list(from_statuses)),
               Order.refund_reserved_fen == reserved_fen, Order.refund_reserved_fen + amount <= Order.paid_fen)
        .values(refund_reserved_fen=Order.refund_reserved_fen + amount, **values)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def take_late_payment(session: AsyncSession, order_id: int, amount: int, at: datetime, *,
                            already_paid: int | None, statuses: Sequence[str]) -> bool:
    """Record money paid to an order that no longer awaited it, all of it reserved for the refund returning it."""
    result = await session.execute(
        update(Order).where(Order.id == order_id, Order.status.in_(statuses), Order.paid_fen == already_paid)
        .values(paid_fen=Order.paid_fen + amount, refund_reserved_fen=Order.refund_reserved_fen + amount,
                paid_at=func.coalesce(Order.paid_at, at))
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def refund_of(session: AsyncSession, merchant_id: int, refund_id: int) -> Refund | None:
    statement = select(Refund).where(Refund.merchant_id == merchant_id, Refund.id == refund_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def decide_requested_refunds(session: AsyncSession, order_id: int, to: RefundStatus,
                                   **values: Any) -> list[Refund]:
    """Decide an order's pending request (an order has at most one, in one part per payment): every part moves
    together, by one compare-and-set from the states the refunds' table allows."""
    result = await session.execute(
        update(Refund).where(Refund.order_id == order_id, REFUND_STATES.guard(Refund.status, to))
        .values(status=to, **values).returning(Refund).execution_options(populate_existing=True)
    )
    return list(result.scalars())


async def finish_refund(session: AsyncSession, refund_no: str, at: datetime) -> Refund | None:
    """processing → succeeded for the refund with this number; None if it already was (a repeat)."""
    result = await session.execute(
        update(Refund)
        .where(Refund.refund_no == refund_no, REFUND_STATES.guard(Refund.status, RefundStatus.SUCCEEDED))
        .values(status=RefundStatus.SUCCEEDED, succeeded_at=at).returning(Refund)
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def add_refunded(session: AsyncSession, order_id: int, amount: int) -> Order:
    result = await session.execute(
        update(Order).where(Order.id == order_id).values(refunded_fen=Order.refunded_fen + amount)
        .returning(Order).execution_options(populate_existing=True)
    )
    return result.scalar_one()


async def release_refund_reservation(session: AsyncSession, order_id: int, amount: int) -> None:
    await session.execute(
        update(Order).where(Order.id == order_id).values(refund_reserved_fen=Order.refund_reserved_fen - amount)
    )


async def refund_by_id(session: AsyncSession, refund_id: int) -> Refund:
    return (await session.execute(select(Refund).where(Refund.id == refund_id))).scalar_one()


async def refund_by_number(session: AsyncSession, refund_no: str) -> Refund | None:
    return (await session.execute(select(Refund).where(Refund.refund_no == refund_no))).scalar_one_or_none()


async def reserve_all_left(session: AsyncSession, order_ids: Sequence[int], from_status: str,
                           **values: Any) -> list[tuple[Order, int]]:
    """Claim all that is left of each order's paid money for a refund, and move the orders: their rows locked by one
    statement, reserved and moved by another. (order, amount reserved) for those still `from_status`."""
    locked = list((await session.execute(
        select(Order).where(Order.id.in_(order_ids), Order.status == from_status,
                            Order.paid_fen > Order.refund_reserved_fen)
        .order_by(Order.id).with_for_update().execution_options(populate_existing=True))).scalars())
    claimed = [(order, order.paid_fen - order.refund_reserved_fen) for order in locked]
    if locked:
        await session.execute(update(Order).where(Order.id.in_([o.id for o in locked]))
                              .values(refund_reserved_fen=Order.paid_fen, **values))
    return claimed


async def insert_refunds(session: AsyncSession, rows: list[dict[str, Any]]) -> list[tuple[int, str, int]]:
    """(id, refund number, merchant) of each refund written, in one statement."""
    if not rows:
        return []
    result = await session.execute(insert(Refund).returning(Refund.id, Refund.refund_no, Refund.merchant_id), rows)
    return [(int(i), str(n), int(m)) for i, n, m in result.all()]


async def sales_by_day(session: AsyncSession, merchant_id: int, since: datetime) -> list[tuple[str, int, int]]:
    """(day in China's time, orders paid that day, fen paid) since `since`: one indexed range scan."""
    day = china_day(Order.paid_at)
    rows = await session.execute(select(day, func.count(), func.sum(Order.paid_fen))
                                 .where(Order.merchant_id == merchant_id, Order.paid_at >= since)
                                 .group_by(day))
    return [(str(d), int(n), int(fen or 0)) for d, n, fen in rows]


async def refunds_by_day(session: AsyncSession, merchant_id: int, since: datetime) -> list[tuple[str, int, int]]:
    """(day, refunds that reached the buyer that day, fen given back) since `since`."""
    day = china_day(Refund.succeeded_at)
    rows = await session.execute(select(day, func.count(), func.sum(Refund.amount_fen))
                                 .where(Refund.merchant_id == merchant_id, Refund.succeeded_at >= since)
                                 .group_by(day))
    return [(str(d), int(n), int(fen or 0)) for d, n, fen in rows]


async def console_page(session: AsyncSession, merchant_id: int, *, statuses: Sequence[str], order_no: str | None,
                       customer_ids: Sequence[int] | None, since: datetime | None, until: datetime | None,
                       before_id: int | None, limit: int) -> list[Order]:
    """The console's order list, newest first: by status tab, order number, customers and the time placed, each an
    index range of the merchant's orders (ix_orders_merchant_status, _customer, _created; order_no is unique)."""
    statement = select(Order).where(Order.merchant_id == merchant_id).order_by(Order.id.desc()).limit(limit)
    if statuses:
        statement = statement.where(Order.status.in_(list(statuses)))
    if order_no is not None:
        statement = statement.where(Order.order_no == order_no)
    if customer_ids is not None:
        statement = statement.where(Order.customer_id.in_(list(customer_ids)))
    if since is not None:
        statement = statement.where(Order.created_at >= since)
    if until is not None:
        statement = statement.where(Order.created_at < until)
    if before_id is not None:
        statement = statement.where(Order.id < before_id)
    return list((await session.execute(statement)).scalars())


async def counts_by_customer(session: AsyncSession, merchant_id: int, customer_ids: Sequence[int]) -> dict[int, int]:
    """How many orders each customer placed (any status), for a page of customers: one grouped index scan."""
    if not customer_ids:
        return {}
    statement = (select(Order.customer_id, func.count()).where(Order.merchant_id == merchant_id,
                                                               Order.customer_id.in_(list(customer_ids)))
                 .group_by(Order.customer_id))
    return {int(customer_id): int(n) for customer_id, n in (await session.execute(statement)).all()}
