"""The order record's use cases: pay, ship, receive, cancel, adjust (DOMAIN.md, Orders); placing an order is
checkout's, refunds are refunds.py."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.catalog import service as catalog
from fissionmall.core.auth import Shopper, StaffMember
from fissionmall.core.clock import Clock
from fissionmall.core.errors import Conflict, InvalidInput
from fissionmall.core.events import Happened, record_event, record_events
from fissionmall.core.money import yuan
from fissionmall.core.pagination import parse_cursor
from fissionmall.core.runtime import Runtime
from fissionmall.coupons import service as coupons
from fissionmall.customers import service as customers
from fissionmall.merchants import service as merchants
from fissionmall.orders import errors, repository, rules
from fissionmall.orders.hooks import HOOKS
from fissionmall.orders.models import Order, OrderItem
from fissionmall.orders.schemas import AdjustmentOut, ItemOut, OrderOut, OrderPage, PriceAdjustmentIn, RefundOut, Ship
from fissionmall.orders.states import OrderStatus, can_move
from fissionmall.sharing.targets import PosterFacts, ShareTarget
from fissionmall.wallet import service as wallet

S = OrderStatus


async def render(session: AsyncSession, orders: Sequence[Order]) -> list[OrderOut]:
    items, adjustments, refunds = await repository.parts_of(session, [o.id for o in orders])
    by_order: dict[int, dict[str, list[Any]]] = defaultdict(lambda: {"items": [], "adj": [], "ref": []})
    for item in items:
        by_order[item.order_id]["items"].append(ItemOut.model_validate(item, from_attributes=True))
    for adjustment in adjustments:
        by_order[adjustment.order_id]["adj"].append(AdjustmentOut.model_validate(adjustment, from_attributes=True))
    for refund in refunds:
        by_order[refund.order_id]["ref"].append(RefundOut.model_validate(refund, from_attributes=True))
    return [order_out(o, by_order[o.id]["items"], by_order[o.id]["adj"], by_order[o.id]["ref"]) for o in orders]


def order_out(o: Any, items: list[ItemOut], adjustments: list[AdjustmentOut], refunds: list[RefundOut]) -> OrderOut:
    """An order (a row, or the values just inserted) with its parts, as the API shows it."""
    return OrderOut(
        id=o.id, order_no=o.order_no, kind=o.kind, campaign_id=o.campaign_id, status=o.status,
        customer_id=o.customer_id, store_id=o.store_id,
        items_fen=o.items_fen, total_fen=o.total_fen, deposit_fen=o.deposit_fen, paid_fen=o.paid_fen,
        refunded_fen=o.refunded_fen, items=items, adjustments=adjustments, refunds=refunds,
        address=o.address, note=o.note, carrier=o.carrier, tracking_no=o.tracking_no, created_at=o.created_at,
        pay_before=o.due_at if o.status in (S.PENDING_PAYMENT, S.BALANCE_DUE) else None, paid_at=o.paid_at,
        shipped_at=o.shipped_at, received_at=o.received_at, closed_at=o.closed_at,
    )


async def insert_order(session: AsyncSession, values: dict[str, Any], lines: list[dict[str, Any]],
                       adjustments: list[dict[str, Any]]) -> int:
    """Write a placed order with its lines and adjustments (checkout prices it); its id."""
    return await repository.insert_order(session, values, lines, adjustments)


async def render_one(session: AsyncSession, order_id: int) -> OrderOut:
    return (await render(session, [await repository.order_by_id(session, order_id)]))[0]


async def find_order(session: AsyncSession, merchant_id: int, order_id: int, *,
                     customer_id: int | None = None) -> Order | None:
    return await repository.order_of(session, merchant_id, order_id, customer_id=customer_id)


async def require_order(session: AsyncSession, merchant_id: int, order_id: int, *,
                        customer_id: int | None = None) -> Order:
    order = await repository.order_of(session, merchant_id, order_id, customer_id=customer_id)
    if order is None:
        raise errors.order_not_found(order_id)
    return order


async def get_order(session: AsyncSession, merchant_id: int, order_id: int, *,
                    customer_id: int | None = None) -> OrderOut:
    order = await require_order(session, merchant_id, order_id, customer_id=customer_id)
    return (await render(session, [order]))[0]


async def list_orders(session: AsyncSession, merchant_id: int, *, customer_id: int | None,
                      status: str | Sequence[str] | None, cursor: str | None, limit: int) -> OrderPage:
    """Orders newest first, of one status or of any of several (the shopper's tabs group some: 已完成, 退款)."""
    statuses = [status] if isinstance(status, str) else list(status or ())
    if unknown := [s for s in statuses if s not in OrderStatus.__members__.values()]:
        raise InvalidInput("invalid_status", f"unknown order status {unknown[0]!r}", field="status")
    orders = await repository.order_page(session, merchant_id, customer_id=customer_id, statuses=statuses,
                                         before_id=parse_cursor(cursor), limit=limit)
    return OrderPage(items=await render(session, orders),
                     next_cursor=str(orders[-1].id) if len(orders) == limit else None)


async def _move(session: AsyncSession, order: Order, target: OrderStatus, **values: Any) -> None:
    """Check the transition table, then compare-and-set; a lost race is a conflict, never a success."""
    if not can_move(order.status, target):
        raise errors.invalid_transition(order.status, target)
    if not await repository.move(session, order.id, [order.status], target, **values):
        raise errors.order_changed()


async def event(session: AsyncSession, order: Order, kind: str, at: datetime, **data: Any) -> None:
    await record_event(session, merchant_id=order.merchant_id, kind=kind, at=at, actor_id=order.customer_id,
                       inviter_id=order.inviter_id, subject=("order", order.id), data=data)


async def release(session: AsyncSession, orders: Sequence[Order], at: datetime, *, refunded: bool = False) -> None:
    """Orders that will never ship give back their stock, their benefits, and their campaigns' stock and limits;
    unpaid ones also the credit they used, at `at` (a refund returns credit share by share, see refund_succeeded)."""
    ids = [o.id for o in orders]
    await catalog.release_stock(session, await repository.quantities_by_sku(session, ids))
    await return_benefits(session, orders, refunded=refunded)
    if not refunded:
        await return_credit_and_points(session, orders, at)
    by_kind: dict[str, list[Order]] = defaultdict(list)
    for order in orders:
        by_kind[order.kind].append(order)
    for kind, group in by_kind.items():
        if kind in HOOKS.mechanics:
            await HOOKS.mechanics[kind].released(session, group)


async def return_credit_and_points(session: AsyncSession, orders: Sequence[Order], at: datetime) -> None:
    """All the shop credit and points these orders used come back (for orders no money is refunded on)."""
    credit_used = await repository.wallet_used(session, [o.id for o in orders])
    points = HOOKS.points_ledger()
    for order in orders:
        if order.id in credit_used:
            await wallet.credit(session, order.merchant_id, order.customer_id, credit_used[order.id], "returned",
                                ("order", order.id), at)
        await points.give_back(session, order.merchant_id, order.customer_id, await points.spent_on(session, order.id),
                               ("order", order.id), at)


async def return_benefits(session: AsyncSession, orders: Sequence[Order], *, refunded: bool) -> None:
    """Coupons locked by orders not kept come back (used ones too after a full refund, if the merchant says so),
    and so does a gift voucher redeemed on them."""
    ids = [o.id for o in orders]
    restore_used = refunded and (await merchants.merchant_by_id(session, orders[0].merchant_id)) \
        .restore_coupons_on_refund
    await coupons.release_for_orders(session, ids, restore_used=restore_used)
    if HOOKS.vouchers is not None:
        await HOOKS.vouchers.released(session, ids)


async def cancel(session: AsyncSession, clock: Clock, shopper: Shopper, order_id: int) -> OrderOut:
    order = await require_order(session, shopper.merchant_id, order_id, customer_id=shopper.customer_id)
    now = clock.now()
    await _move(session, order, S.CANCELLED, closed_at=now, due_at=None)
    await release(session, [order], now)
    await event(session, order, "order_cancelled", now, by="customer")
    return await render_one(session, order.id)


async def adjust_price(session: AsyncSession, staff: StaffMember, order_id: int, body: PriceAdjustmentIn) -> OrderOut:
    order = await require_order(session, staff.merchant_id, order_id)
    if order.deposit_fen is not None:
        raise Conflict("deposit_order_price_fixed", "the price of an order paid by deposit is set by its campaign")
    added = await repository.add_adjustment(session, order.id, dict(
        merchant_id=order.merchant_id, kind="merchant_adjustment", name=body.name, amount_fen=body.amount_fen,
        created_by=staff.staff_id))
    if not added:
        await session.refresh(order)
        if order.status != S.PENDING_PAYMENT:
            raise errors.invalid_transition(order.status, "re-priced")
        if order.payment_started_at is not None:
            raise Conflict("payment_started", "the shopper has started paying; the price is fixed")
        raise errors.below_zero()
    return await render_one(session, order.id)


async def ship(session: AsyncSession, clock: Clock, staff: StaffMember, order_id: int, body: Ship) -> OrderOut:
    order = await require_order(session, staff.merchant_id, order_id)
    merchant = await merchants.merchant_by_id(session, staff.merchant_id)
    now = clock.now()
    await _move(session, order, S.SHIPPED, carrier=body.carrier, tracking_no=body.tracking_no, shipped_at=now,
                due_at=now + timedelta(days=merchant.auto_receive_days))
    await event(session, order, "order_shipped", now, carrier=body.carrier)
    if HOOKS.shipments is not None:
        await HOOKS.shipments.shipped(session, order.merchant_id, order.id, now)
    return await render_one(session, order.id)


async def receive(session: AsyncSession, clock: Clock, shopper: Shopper, order_id: int) -> OrderOut:
    order = await require_order(session, shopper.merchant_id, order_id, customer_id=shopper.customer_id)
    merchant = await merchants.merchant_by_id(session, shopper.merchant_id)
    now = clock.now()
    await _move(session, order, S.RECEIVED, received_at=now, due_at=now + timedelta(days=merchant.after_sale_days))
    await event(session, order, "order_received", now, by="customer")
    return await render_one(session, order.id)


async def receive_by_carrier(session: AsyncSession, order_id: int, signed_at: datetime, now: datetime) -> bool:
    """The carrier reports the parcel signed for (已签收): shipped → received by the same compare-and-set as the
    shopper's confirmation and the auto-receive sweep, so whichever comes first moves it, once. Received when the
    carrier says, kept between shipping and now (a carrier's clock may be off). False when it had already moved
    (received, refunding …)."""
    order = await repository.order_by_id(session, order_id)
    merchant = await merchants.merchant_by_id(session, order.merchant_id)
    at = min(max(signed_at, order.shipped_at or signed_at), now)
    if not await repository.move(session, order.id, [S.SHIPPED], S.RECEIVED, received_at=at,
                                 due_at=at + timedelta(days=merchant.after_sale_days)):
        return False
    await event(session, order, "order_received", at, by="carrier")
    return True


async def mark_paid(session: AsyncSession, runtime: Runtime, order_id: int, amount_fen: int, at: datetime,
                    stage: rules.Stage = "full") -> bool:
    """Apply a confirmed payment. False when the order was no longer awaiting it: the caller refunds the money
    (refunds.refund_late_payment)."""
    if stage == "balance":
        due = await repository.order_by_id(session, order_id)
        if await repository.move(session, due.id, [S.BALANCE_DUE], S.TO_SHIP,
                                 paid_fen=due.paid_fen + amount_fen, due_at=None):
            await event(session, due, "pay", at, amount_fen=amount_fen, stage=stage)
            return True
    elif order := await repository.mark_paid(session, order_id, amount_fen, at):
        await coupons.use_for_order(session, order.id, at)
        if HOOKS.vouchers is not None:
            await HOOKS.vouchers.paid(session, order.id, at)
        first, inviter_id = await customers.note_first_payment(session, order.customer_id, at)
        if first:
            await record_event(session, merchant_id=order.merchant_id, kind="first_purchase", at=at,
                               actor_id=order.customer_id, inviter_id=inviter_id, subject=("order", order.id))
        await event(session, order, "pay", at, amount_fen=amount_fen, stage=stage)
        if order.kind != "normal":
            await HOOKS.mechanics[order.kind].paid(session, runtime, order)
        return True
    return False


async def start_payment(session: AsyncSession, shopper: Shopper, order_id: int, at: datetime) -> Order:
    """The order a shopper may pay now (its total, deposit or balance); fixes its price from this moment."""
    order = await require_order(session, shopper.merchant_id, order_id, customer_id=shopper.customer_id)
    if order.status not in (S.PENDING_PAYMENT, S.BALANCE_DUE):
        raise errors.invalid_transition(order.status, S.PAID)
    if order.due_at is not None and order.due_at <= at:
        raise Conflict("payment_deadline_passed", "the time to pay this order has run out")
    if order.payment_started_at is None:
        started = await repository.start_payment(session, order.id, at)
        if started is None:
            raise errors.order_changed()
        return started
    return order


# --- the worker's sweeps -------------------------------------------------------------------------

CHUNK = 500


async def cancel_unpaid(session: AsyncSession, now: datetime) -> int:
    """Cancel one chunk of orders whose payment deadline passed, and give their stock back."""
    due = await repository.due_orders(session, S.PENDING_PAYMENT, now, CHUNK)
    cancelled = await repository.move_many(session, due, S.PENDING_PAYMENT, S.CANCELLED, closed_at=now, due_at=None)
    if cancelled:
        orders = await repository.orders_by_ids(session, cancelled)
        await release(session, orders, now)
        for order in orders:
            await event(session, order, "order_cancelled", now, by="timeout")
    return len(due)


async def auto_receive(session: AsyncSession, now: datetime) -> int:
    """Shipped orders the customer never confirmed count as received (自动确认收货)."""
    due = await repository.due_orders(session, S.SHIPPED, now, CHUNK)
    after_sale_days: dict[int, int] = {}
    for order in await repository.orders_by_ids(session, due):
        if order.merchant_id not in after_sale_days:
            merchant = await merchants.merchant_by_id(session, order.merchant_id)
            after_sale_days[order.merchant_id] = merchant.after_sale_days
        if await repository.move(session, order.id, [S.SHIPPED], S.RECEIVED, received_at=now,
                                 due_at=now + timedelta(days=after_sale_days[order.merchant_id])):
            await event(session, order, "order_received", now, by="timeout")
    return len(due)


async def auto_complete(session: AsyncSession, now: datetime) -> int:
    """Received orders complete once the after-sale window has passed."""
    due = await repository.due_orders(session, S.RECEIVED, now, CHUNK)
    completed = await repository.move_many(session, due, S.RECEIVED, S.COMPLETED, closed_at=now, due_at=None)
    await record_events(session, "order_completed", now, [
        Happened(merchant_id=o.merchant_id, subject=("order", o.id), actor_id=o.customer_id, inviter_id=o.inviter_id)
        for o in await repository.orders_by_ids(session, completed)])
    return len(due)


async def lapse_balances(session: AsyncSession, clock: Clock, now: datetime) -> int:
    """Balances unpaid by their deadline: each campaign applies the deposit rule it published."""
    due = await repository.due_orders(session, S.BALANCE_DUE, now, CHUNK)
    by_kind: dict[str, list[Order]] = defaultdict(list)
    for order in await repository.orders_by_ids(session, due):
        by_kind[order.kind].append(order)
    for kind, lapsed in by_kind.items():
        await HOOKS.mechanics[kind].balance_lapsed(session, clock, lapsed)
    return len(due)


# --- for campaign mechanics ----------------------------------------------------------------------


async def release_for_shipping(session: AsyncSession, order_ids: Sequence[int],
                               balance_due_at: datetime | None = None) -> list[int]:
    """Paid campaign orders whose campaign succeeded move on, all at once: to shipping when paid in full, to
    paying the balance (by `balance_due_at`) when only a deposit was paid. Returns the latter."""
    await repository.move_many(session, order_ids, S.PAID, S.TO_SHIP, Order.deposit_fen.is_(None))
    return await repository.move_many(session, order_ids, S.PAID, S.BALANCE_DUE, Order.deposit_fen.is_not(None),
                                      due_at=balance_due_at)


async def items_of(session: AsyncSession, order_id: int) -> list[OrderItem]:
    return await repository.items_of(session, order_id)


async def complete_on_payment(session: AsyncSession, order_ids: Sequence[int], at: datetime) -> None:
    """Virtual goods (gift vouchers) are delivered by the payment itself: the order completes at once."""
    await repository.move_many(session, order_ids, S.PAID, S.COMPLETED, received_at=at, closed_at=at)


async def lower_balance(session: AsyncSession, order_id: int, amount_fen: int, name: str, source_id: int) -> None:
    """A discount the campaign owes an order whose balance is still due: taken off the balance, not refunded."""
    if not await repository.lower_balance(session, order_id, dict(
            kind="campaign_adjustment", name=name, amount_fen=-amount_fen, source_id=source_id)):
        raise errors.order_changed()


async def forfeit_deposit(session: AsyncSession, order: Order, at: datetime) -> None:
    """The balance lapsed and the published rule keeps the deposit: the order closes and its stock returns."""
    if await repository.move(session, order.id, [S.BALANCE_DUE], S.CANCELLED, closed_at=at, due_at=None):
        await release(session, [order], at)
        await event(session, order, "deposit_forfeited", at, amount_fen=order.paid_fen)




SHOWN_OFF = frozenset({S.PAID, S.BALANCE_DUE, S.TO_SHIP, S.SHIPPED, S.RECEIVED, S.COMPLETED})
"""An order worth a saved-money card: paid, and not given back."""


async def order_share_target(session: AsyncSession, shopper: Shopper, order_id: int) -> int | None:
    """Only the buyer shares an order (another's is not found), once paid and if it saved something."""
    order = await require_order(session, shopper.merchant_id, order_id, customer_id=shopper.customer_id)
    if order.status not in SHOWN_OFF:
        raise InvalidInput("invalid_share_target", "only a paid order can be shown off", field="target_id")
    if not (await _savings(session, order)).lines:
        raise InvalidInput("invalid_share_target", "this order saved nothing to show off", field="target_id")
    return order.campaign_id


async def saved_card(session: AsyncSession, clock: Clock, merchant_id: int, order_id: int) -> PosterFacts:
    """The 晒单 card "我在<店名>省了 ¥X": the first item, the price before and after, and the biggest savings;
    never the address, the phone or the order number."""
    order = await require_order(session, merchant_id, order_id)
    saved = await _savings(session, order)
    items = await repository.items_of(session, order.id)
    merchant = await merchants.merchant_by_id(session, merchant_id)
    count = sum(item.quantity for item in items)
    first = items[0]
    product = await catalog.product_detail(session, merchant_id, first.product_id, shopper_view=False)
    return PosterFacts(
        title=first.title + (f" 等 {count} 件" if count > 1 else ""),
        image_url=product.images[0] if product.images else None,
        price_fen=saved.after_fen, list_price_fen=saved.before_fen,
        hero=f"省了 ¥{yuan(saved.before_fen - saved.after_fen)}", hero_note=f"我在{merchant.name}",
        details=(" · ".join(f"{name} 省 ¥{yuan(fen)}" for name, fen in saved.lines[:3]),),
        sharer_says="的晒单", tagline="长按识别二维码，一起来省钱")


async def _savings(session: AsyncSession, order: Order) -> rules.Savings:
    _, adjustments, _ = await repository.parts_of(session, [order.id])
    return rules.savings(order.items_fen, [(a.kind, a.name, a.amount_fen) for a in adjustments])


SHARE_TARGET = ShareTarget("order", order_share_target, saved_card)


async def trade_by_day(session: AsyncSession, merchant_id: int,
                       since: datetime) -> tuple[list[tuple[str, int, int]], list[tuple[str, int, int]]]:
    """The console's day counts since `since` (China's days): (day, orders paid, fen paid) and (day, refunds that
    reached the buyer, fen given back)."""
    return (await repository.sales_by_day(session, merchant_id, since),
            await repository.refunds_by_day(session, merchant_id, since))


# Reads the merchant console makes as the repository answers them (pages call domains through their services).
console_page = repository.console_page
counts_by_customer = repository.counts_by_customer
