"""Order use cases: place, pay, ship, receive, cancel, adjust (DOMAIN.md, Orders); refunds are refunds.py."""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns import errors as campaign_errors
from fissionmall.campaigns.sharing import service as sharing
from fissionmall.catalog import service as catalog
from fissionmall.core.auth import Shopper, StaffMember
from fissionmall.core.clock import Clock
from fissionmall.core.errors import Conflict, InvalidInput
from fissionmall.core.events import Happened, record_event, record_events
from fissionmall.core.pagination import parse_cursor
from fissionmall.coupons import service as coupons
from fissionmall.customers import service as customers
from fissionmall.db.claims import Claims
from fissionmall.loyalty.levels import service as levels
from fissionmall.loyalty.points import service as points
from fissionmall.merchants import service as merchants
from fissionmall.merchants.models import Merchant
from fissionmall.orders import errors, pricing, repository, rules
from fissionmall.orders.hooks import MECHANICS, VOUCHERS, CampaignOrders, CampaignPart
from fissionmall.orders.models import LINE_TITLE_LENGTH, Order, OrderItem
from fissionmall.orders.schemas import (
    AdjustmentOut,
    CheckoutOut,
    CouponOffer,
    ItemOut,
    OrderOut,
    OrderPage,
    PlaceOrder,
    PriceAdjustmentIn,
    RefundOut,
    Ship,
)
from fissionmall.orders.states import OrderStatus, can_move
from fissionmall.wallet import service as wallet

S = OrderStatus


def _order_no(now: datetime) -> str:
    return f"{now:%y%m%d%H%M%S}{secrets.randbelow(10**10):010d}"


async def render(session: AsyncSession, orders: Sequence[Order]) -> list[OrderOut]:
    items, adjustments, refunds = await repository.parts_of(session, [o.id for o in orders])
    by_order: dict[int, dict[str, list[Any]]] = defaultdict(lambda: {"items": [], "adj": [], "ref": []})
    for item in items:
        by_order[item.order_id]["items"].append(ItemOut.model_validate(item, from_attributes=True))
    for adjustment in adjustments:
        by_order[adjustment.order_id]["adj"].append(AdjustmentOut.model_validate(adjustment, from_attributes=True))
    for refund in refunds:
        by_order[refund.order_id]["ref"].append(RefundOut.model_validate(refund, from_attributes=True))
    return [_order_out(o, by_order[o.id]["items"], by_order[o.id]["adj"], by_order[o.id]["ref"]) for o in orders]


def _order_out(o: Any, items: list[ItemOut], adjustments: list[AdjustmentOut], refunds: list[RefundOut]) -> OrderOut:
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


async def render_one(session: AsyncSession, order_id: int) -> OrderOut:
    return (await render(session, [await repository.order_by_id(session, order_id)]))[0]


async def _cart(session: AsyncSession, merchant_id: int,
                body: PlaceOrder) -> tuple[list[dict[str, Any]], list[pricing.Line], Claims]:
    """The order's lines at today's prices, and the stock they claim."""
    wanted = {line.sku_id: line.quantity for line in body.items}
    skus = {sku.id: (sku, title, category_id)
            for sku, title, category_id in await catalog.sellable_skus(session, merchant_id, list(wanted))}
    missing = sorted(set(wanted) - set(skus))
    if missing:
        raise errors.sku_unavailable(missing)
    chosen = [skus[line.sku_id] for line in body.items]
    lines = [dict(merchant_id=merchant_id, product_id=sku.product_id, sku_id=sku.id,
                  title=f"{title} · {sku.name}"[:LINE_TITLE_LENGTH], unit_price_fen=sku.price_fen,
                  quantity=wanted[sku.id]) for sku, title, _ in chosen]
    return lines, [pricing.Line(sku_id=sku.id, product_id=sku.product_id, category_id=category_id,
                                unit_price_fen=sku.price_fen, quantity=wanted[sku.id])
                   for sku, _, category_id in chosen], catalog.stock_claims(wanted, errors.out_of_stock)


async def _campaign_part(session: AsyncSession, runtime: Any, shopper: Shopper, body: PlaceOrder,
                         lines: list[dict[str, Any]]) -> tuple[CampaignOrders | None, CampaignPart | None]:
    if body.campaign is None:
        return None, None
    mechanic = MECHANICS.get(body.campaign.kind)
    if mechanic is None:
        raise InvalidInput("unknown_campaign_kind", f"no campaign kind {body.campaign.kind!r}", field="campaign")
    return mechanic, await mechanic.prepare(session, runtime, shopper, body.campaign, lines)


async def _price(session: AsyncSession, runtime: Any, merchant: Merchant, customer_id: int, body: PlaceOrder,
                 cart: list[pricing.Line], part: CampaignPart | None) -> pricing.Priced:
    """Price the cart with the benefits the shopper chose (pricing.py); a benefit that does not apply is a 422."""
    now = runtime.clock.now()
    if part and part.deposit_fen is not None and (body.coupon_ids or body.wallet_fen or body.voucher_id or body.points):
        raise InvalidInput("benefits_not_with_deposit", "an order paid by deposit takes no coupon or credit",
                           field="coupon_ids" if body.coupon_ids else "wallet_fen")
    voucher = None
    if body.voucher_id is not None:
        if part and part.kind == "gift":
            raise InvalidInput("voucher_not_applicable", "a gift voucher cannot buy another", field="voucher_id")
        if not VOUCHERS:
            raise InvalidInput("voucher_unavailable", "this mall sells no gift vouchers", field="voucher_id")
        voucher = await VOUCHERS[0].choice(session, customer_id, body.voucher_id, now)
    level = await levels.benefits(session, merchant.id, customer_id)
    benefits = pricing.Benefits(campaign=part.adjustments if part else (), voucher=voucher,
                                coupons=await coupons.chosen(session, customer_id, body.coupon_ids, now),
                                member_percent_off=level.discount_percent if level else 0,
                                member_name=f"{level.name}折扣" if level else "会员折扣",
                                member_free_shipping=level.free_shipping if level else False)
    try:
        if body.points:
            before = pricing.price(cart, benefits, _pricing_rules(merchant)).total_fen
            value = points.checkout_value(await points.config_of(session, merchant.id), body.points, before)
            benefits = replace(benefits, points_fen=value)
        return pricing.price(cart, replace(benefits, wallet_fen=body.wallet_fen), _pricing_rules(merchant))
    except pricing.PricingRefused as refused:
        raise InvalidInput(refused.code, refused.message, field=refused.field) from None


def _pricing_rules(merchant: Merchant) -> pricing.Rules:
    return pricing.Rules(coupons_on_campaign_orders=merchant.coupons_on_campaign_orders,
                         shipping_fee_fen=merchant.shipping_fee_fen,
                         free_shipping_over_fen=merchant.free_shipping_over_fen)


async def place_order(session: AsyncSession, runtime: Any, shopper: Shopper, body: PlaceOrder) -> OrderOut:
    if body.campaign and not await runtime.gate.admit(body.campaign.campaign_id, sum(i.quantity for i in body.items)):
        raise campaign_errors.sold_out()  # known sold out: turned away before any database work
    now = runtime.clock.now()
    merchant = await merchants.merchant_by_id(session, shopper.merchant_id)
    if body.store_id is not None:
        await merchants.require_store(session, merchant.id, body.store_id)
    attribution = await sharing.attribution(session, runtime, merchant.id, body.share_code) \
        if body.share_code else None
    lines, cart, stock = await _cart(session, merchant.id, body)
    customer = await customers.get_customer(session, merchant.id, shopper.customer_id)
    mechanic, part = await _campaign_part(session, runtime, shopper, body, lines)
    priced = await _price(session, runtime, merchant, customer.id, body, cart, part)
    values = dict(
        merchant_id=merchant.id, store_id=body.store_id, customer_id=customer.id, order_no=_order_no(now),
        kind=part.kind if part else "normal", campaign_id=part.campaign_id if part else None,
        status=S.PENDING_PAYMENT, items_fen=priced.items_fen, total_fen=priced.total_fen,
        deposit_fen=part.deposit_fen if part else None, paid_fen=0,
        refund_reserved_fen=0, refunded_fen=0, address=body.address.model_dump(), note=body.note,
        inviter_id=attribution.sharer_id if attribution else None,
        share_id=attribution.share_id if attribution else None,
        due_at=now + timedelta(minutes=merchant.payment_timeout_minutes), created_at=now,
    )
    order_id = await repository.insert_order(session, values, lines, priced.adjustments)
    await coupons.lock_for_order(session, customer.id, body.coupon_ids, order_id, now)
    if body.voucher_id is not None:
        await VOUCHERS[0].lock(session, customer.id, body.voucher_id, order_id, now)
    if body.wallet_fen:
        await wallet.spend(session, merchant.id, customer.id, body.wallet_fen, ("order", order_id), now)
    if body.points:
        await points.spend(session, merchant.id, customer.id, body.points, ("order", order_id), now)
    if mechanic and part:
        await mechanic.placed(session, runtime, order_id, part)
    campaign_id = part.campaign_id if part else attribution.campaign_id if attribution else None
    await record_event(session, merchant_id=merchant.id, kind="order", at=now, actor_id=customer.id,
                       inviter_id=attribution.sharer_id if attribution else customer.inviter_id,
                       depth=attribution.depth + 1 if attribution else customer.depth,
                       campaign_id=campaign_id, subject=("order", order_id), data={"total_fen": priced.total_fen})
    placed = SimpleNamespace(**values, id=order_id, carrier=None, tracking_no=None, paid_at=None, shipped_at=None,
                             received_at=None, closed_at=None)
    out = _order_out(placed, [ItemOut.model_validate(line) for line in lines],
                     [AdjustmentOut.model_validate(a) for a in priced.adjustments], [])  # as written: no re-read
    await (stock + part.claims if part else stock).apply(session)  # last: the hot rows stay locked only to the commit
    return out


async def preview(session: AsyncSession, runtime: Any, shopper: Shopper, body: PlaceOrder) -> CheckoutOut:
    """What the order would cost, line by line, and the coupon that would save most, refused as placing it would
    be now (sold out, limit reached …). It never writes or locks: in a flash sale previews must not queue for the
    rows the orders are claiming."""
    merchant = await merchants.merchant_by_id(session, shopper.merchant_id)
    lines, cart, stock = await _cart(session, merchant.id, body)
    _, part = await _campaign_part(session, runtime, shopper, body, lines)
    priced = await _price(session, runtime, merchant, shopper.customer_id, body, cart, part)
    offers: list[CouponOffer] = []
    if not body.coupon_ids and (part is None or part.deposit_fen is None):
        held = await coupons.held(session, shopper.customer_id, runtime.clock.now())
        offers = [CouponOffer(coupon_id=coupon.coupon_id, name=coupon.name, saving_fen=saving) for coupon, saving
                  in pricing.savings(cart, pricing.Benefits(campaign=part.adjustments if part else ()),
                                     _pricing_rules(merchant), held)]
    offers.sort(key=lambda offer: -offer.saving_fen)
    await (stock + part.claims if part else stock).check(session)
    return CheckoutOut(items_fen=priced.items_fen, total_fen=priced.total_fen,
                       adjustments=[AdjustmentOut.model_validate(a) for a in priced.adjustments],
                       best_coupon=offers[0] if offers else None, coupon_offers=offers)


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


async def list_orders(session: AsyncSession, merchant_id: int, *, customer_id: int | None, status: str | None,
                      cursor: str | None, limit: int) -> OrderPage:
    if status is not None and status not in OrderStatus.__members__.values():
        raise InvalidInput("invalid_status", f"unknown order status {status!r}", field="status")
    orders = await repository.order_page(session, merchant_id, customer_id=customer_id, status=status,
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


async def release(session: AsyncSession, runtime: Any, orders: Sequence[Order], *, refunded: bool = False) -> None:
    """Orders that will never ship give back their stock, their benefits, and their campaigns' stock and limits;
    unpaid ones also the credit they used (a refund returns credit share by share, see refund_succeeded)."""
    ids = [o.id for o in orders]
    await catalog.release_stock(session, await repository.quantities_by_sku(session, ids))
    await return_benefits(session, orders, refunded=refunded)
    if not refunded:
        await return_credit_and_points(session, orders, runtime.clock.now())
    by_kind: dict[str, list[Order]] = defaultdict(list)
    for order in orders:
        by_kind[order.kind].append(order)
    for kind, group in by_kind.items():
        if kind in MECHANICS:
            await MECHANICS[kind].released(session, runtime, group)


async def return_credit_and_points(session: AsyncSession, orders: Sequence[Order], at: datetime) -> None:
    """All the shop credit and points these orders used come back (for orders no money is refunded on)."""
    credit_used = await repository.wallet_used(session, [o.id for o in orders])
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
    if VOUCHERS:
        await VOUCHERS[0].released(session, ids)


async def cancel(session: AsyncSession, runtime: Any, shopper: Shopper, order_id: int) -> OrderOut:
    order = await require_order(session, shopper.merchant_id, order_id, customer_id=shopper.customer_id)
    now = runtime.clock.now()
    await _move(session, order, S.CANCELLED, closed_at=now, due_at=None)
    await release(session, runtime, [order])
    await event(session, order, "order_cancelled", now, by="customer")
    return await render_one(session, order.id)


async def adjust_price(session: AsyncSession, runtime: Any, staff: StaffMember, order_id: int,
                       body: PriceAdjustmentIn) -> OrderOut:
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
    return await render_one(session, order.id)


async def receive(session: AsyncSession, clock: Clock, shopper: Shopper, order_id: int) -> OrderOut:
    order = await require_order(session, shopper.merchant_id, order_id, customer_id=shopper.customer_id)
    merchant = await merchants.merchant_by_id(session, shopper.merchant_id)
    now = clock.now()
    await _move(session, order, S.RECEIVED, received_at=now, due_at=now + timedelta(days=merchant.after_sale_days))
    await event(session, order, "order_received", now, by="customer")
    return await render_one(session, order.id)


async def mark_paid(session: AsyncSession, runtime: Any, order_id: int, amount_fen: int, at: datetime,
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
        if VOUCHERS:
            await VOUCHERS[0].paid(session, order.id, at)
        first, inviter_id = await customers.note_first_payment(session, order.customer_id, at)
        if first:
            await record_event(session, merchant_id=order.merchant_id, kind="first_purchase", at=at,
                               actor_id=order.customer_id, inviter_id=inviter_id, subject=("order", order.id))
        await event(session, order, "pay", at, amount_fen=amount_fen, stage=stage)
        if order.kind == "normal":
            await repository.move(session, order.id, [S.PAID], S.TO_SHIP)
        else:
            await MECHANICS[order.kind].paid(session, runtime, order)
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


async def cancel_unpaid(session: AsyncSession, runtime: Any, now: datetime) -> int:
    """Cancel one chunk of orders whose payment deadline passed, and give their stock back."""
    due = await repository.due_orders(session, S.PENDING_PAYMENT, now, CHUNK)
    cancelled = await repository.move_many(session, due, S.PENDING_PAYMENT, S.CANCELLED, closed_at=now, due_at=None)
    if cancelled:
        orders = await repository.orders_by_ids(session, cancelled)
        await release(session, runtime, orders)
        for order in orders:
            await event(session, order, "order_cancelled", now, by="timeout")
    return len(due)


async def auto_receive(session: AsyncSession, runtime: Any, now: datetime) -> int:
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


async def auto_complete(session: AsyncSession, runtime: Any, now: datetime) -> int:
    """Received orders complete once the after-sale window has passed."""
    due = await repository.due_orders(session, S.RECEIVED, now, CHUNK)
    completed = await repository.move_many(session, due, S.RECEIVED, S.COMPLETED, closed_at=now, due_at=None)
    await record_events(session, "order_completed", now, [
        Happened(merchant_id=o.merchant_id, subject=("order", o.id), actor_id=o.customer_id, inviter_id=o.inviter_id)
        for o in await repository.orders_by_ids(session, completed)])
    return len(due)


async def lapse_balances(session: AsyncSession, runtime: Any, now: datetime) -> int:
    """Balances unpaid by their deadline: each campaign applies the deposit rule it published."""
    due = await repository.due_orders(session, S.BALANCE_DUE, now, CHUNK)
    by_kind: dict[str, list[Order]] = defaultdict(list)
    for order in await repository.orders_by_ids(session, due):
        by_kind[order.kind].append(order)
    for kind, lapsed in by_kind.items():
        await MECHANICS[kind].balance_lapsed(session, runtime, lapsed)
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


async def forfeit_deposit(session: AsyncSession, runtime: Any, order: Order, at: datetime) -> None:
    """The balance lapsed and the published rule keeps the deposit: the order closes and its stock returns."""
    if await repository.move(session, order.id, [S.BALANCE_DUE], S.CANCELLED, closed_at=at, due_at=None):
        await release(session, runtime, [order])
        await event(session, order, "deposit_forfeited", at, amount_fen=order.paid_fen)


