"""Checkout (DOMAIN.md, Orders): price a cart with the benefits the shopper chose, preview it, and place it.

The one package that orchestrates the others: catalog stock, the campaign mechanic, coupons, vouchers, member
levels, points, shop credit and attribution all meet here, then the order record is written by orders.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns import errors as campaign_errors
from fissionmall.campaigns.pointsmall import service as points_mall
from fissionmall.campaigns.pointsmall.schemas import RedeemIn, RedeemOut
from fissionmall.catalog import service as catalog
from fissionmall.checkout import pricing
from fissionmall.checkout.schemas import CheckoutOut, CouponOffer, LineIn, PaymentChoiceOut, PlaceOrder
from fissionmall.core.auth import Shopper
from fissionmall.core.errors import InvalidInput
from fissionmall.core.events import record_event
from fissionmall.core.payment_provider import provider_number
from fissionmall.core.runtime import Runtime
from fissionmall.coupons import service as coupons
from fissionmall.customers import service as customers
from fissionmall.db.claims import Claims
from fissionmall.loyalty.levels import service as levels
from fissionmall.loyalty.points import service as points
from fissionmall.merchants import service as merchants
from fissionmall.merchants.models import Merchant
from fissionmall.orders import errors
from fissionmall.orders import service as orders
from fissionmall.orders.hooks import HOOKS, CampaignOrders, CampaignPart
from fissionmall.orders.models import LINE_TITLE_LENGTH
from fissionmall.orders.schemas import AdjustmentOut, CampaignChoice, ItemOut, OrderOut
from fissionmall.orders.states import OrderStatus
from fissionmall.sharing import service as sharing
from fissionmall.wallet import service as wallet


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


async def _campaign_part(session: AsyncSession, runtime: Runtime, shopper: Shopper, body: PlaceOrder,
                         lines: list[dict[str, Any]]) -> tuple[CampaignOrders | None, CampaignPart | None]:
    if body.campaign is None:
        return None, None
    mechanic = HOOKS.mechanics.get(body.campaign.kind)
    if mechanic is None:
        raise InvalidInput("unknown_campaign_kind", f"no campaign kind {body.campaign.kind!r}", field="campaign")
    return mechanic, await mechanic.prepare(session, runtime, shopper, body.campaign, lines)


async def _price(session: AsyncSession, now: datetime, merchant: Merchant, customer_id: int, body: PlaceOrder,
                 cart: list[pricing.Line], part: CampaignPart | None) -> pricing.Priced:
    """Price the cart with the benefits the shopper chose (pricing.py); a benefit that does not apply is a 422."""
    if part and part.deposit_fen is not None and (body.coupon_ids or body.wallet_fen or body.voucher_id or body.points):
        raise InvalidInput("benefits_not_with_deposit", "an order paid by deposit takes no coupon or credit",
                           field="coupon_ids" if body.coupon_ids else "wallet_fen")
    voucher = None
    if body.voucher_id is not None:
        if part and part.kind == "gift":
            raise InvalidInput("voucher_not_applicable", "a gift voucher cannot buy another", field="voucher_id")
        if HOOKS.vouchers is None:
            raise InvalidInput("voucher_unavailable", "this mall sells no gift vouchers", field="voucher_id")
        voucher = await HOOKS.vouchers.choice(session, customer_id, body.voucher_id, now)
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


async def place_order(session: AsyncSession, runtime: Runtime, shopper: Shopper, body: PlaceOrder) -> OrderOut:
    if body.campaign and not await runtime.gate.admit(body.campaign.campaign_id, sum(i.quantity for i in body.items)):
        raise campaign_errors.sold_out()  # known sold out: turned away before any database work
    now = runtime.clock.now()
    merchant = await merchants.merchant_by_id(session, shopper.merchant_id)
    if body.store_id is not None:
        await merchants.require_store(session, merchant.id, body.store_id)
    attribution = await sharing.attribution(session, runtime.settings, merchant.id, body.share_code) \
        if body.share_code else None
    lines, cart, stock = await _cart(session, merchant.id, body)
    customer = await customers.get_customer(session, merchant.id, shopper.customer_id)
    mechanic, part = await _campaign_part(session, runtime, shopper, body, lines)
    priced = await _price(session, now, merchant, customer.id, body, cart, part)
    values = dict(
        merchant_id=merchant.id, store_id=body.store_id, customer_id=customer.id,
        order_no=provider_number("", now, merchant.id),
        kind=part.kind if part else "normal", campaign_id=part.campaign_id if part else None,
        status=OrderStatus.PENDING_PAYMENT, items_fen=priced.items_fen, total_fen=priced.total_fen,
        deposit_fen=part.deposit_fen if part else None, paid_fen=0,
        refund_reserved_fen=0, refunded_fen=0, address=body.address.model_dump(), note=body.note,
        inviter_id=attribution.sharer_id if attribution else None,
        share_id=attribution.share_id if attribution else None,
        due_at=now + timedelta(minutes=merchant.payment_timeout_minutes), created_at=now,
    )
    order_id = await orders.insert_order(session, values, lines, priced.adjustments)
    await coupons.lock_for_order(session, customer.id, body.coupon_ids, order_id, now)
    if body.voucher_id is not None and HOOKS.vouchers is not None:  # chosen only where vouchers are sold
        await HOOKS.vouchers.lock(session, customer.id, body.voucher_id, order_id, now)
    if body.wallet_fen:
        await wallet.spend(session, merchant.id, customer.id, body.wallet_fen, ("order", order_id), now)
    if body.points:
        await points.spend(session, merchant.id, customer.id, body.points, ("order", order_id), now)
    if mechanic and part:
        await mechanic.placed(session, runtime.clock, order_id, part)
    campaign_id = part.campaign_id if part else attribution.campaign_id if attribution else None
    await record_event(session, merchant_id=merchant.id, kind="order", at=now, actor_id=customer.id,
                       inviter_id=attribution.sharer_id if attribution else customer.inviter_id,
                       depth=attribution.depth + 1 if attribution else customer.depth,
                       campaign_id=campaign_id, subject=("order", order_id), data={"total_fen": priced.total_fen})
    placed = SimpleNamespace(**values, id=order_id, carrier=None, tracking_no=None, paid_at=None, shipped_at=None,
                             received_at=None, closed_at=None)
    out = orders.order_out(placed, [ItemOut.model_validate(line) for line in lines],
                     [AdjustmentOut.model_validate(a) for a in priced.adjustments], [])  # as written: no re-read
    await (stock + part.claims if part else stock).apply(session)  # last: the hot rows stay locked only to the commit
    return out


async def preview(session: AsyncSession, runtime: Runtime, shopper: Shopper, body: PlaceOrder) -> CheckoutOut:
    """What the order would cost, line by line, and the coupon that would save most, refused as placing it would
    be now (sold out, limit reached …). It never writes or locks: in a flash sale previews must not queue for the
    rows the orders are claiming."""
    merchant = await merchants.merchant_by_id(session, shopper.merchant_id)
    lines, cart, stock = await _cart(session, merchant.id, body)
    _, part = await _campaign_part(session, runtime, shopper, body, lines)
    now = runtime.clock.now()
    priced = await _price(session, now, merchant, shopper.customer_id, body, cart, part)
    offers: list[CouponOffer] = []
    if not body.coupon_ids and (part is None or part.deposit_fen is None):
        held = await coupons.held(session, shopper.customer_id, now)
        offers = [CouponOffer(coupon_id=coupon.coupon_id, name=coupon.name, saving_fen=saving) for coupon, saving
                  in pricing.savings(cart, pricing.Benefits(campaign=part.adjustments if part else ()),
                                     _pricing_rules(merchant), held)]
    offers.sort(key=lambda offer: -offer.saving_fen)
    await (stock + part.claims if part else stock).check(session)
    return CheckoutOut(items_fen=priced.items_fen, total_fen=priced.total_fen,
                       adjustments=[AdjustmentOut.model_validate(a) for a in priced.adjustments],
                       deposit_fen=part.deposit_fen if part else None,
                       best_coupon=offers[0] if offers else None, coupon_offers=offers,
                       payment_choices=[PaymentChoiceOut(payment=way, title=title, detail=detail, chosen=chosen)
                                        for way, title, detail, chosen in part.payment_choices] if part else [])


async def redeem_points(session: AsyncSession, runtime: Runtime, shopper: Shopper, campaign_id: int,
                        body: RedeemIn) -> RedeemOut:
    """Points-mall goods are an order placed like any other (its line priced by the points mall's hooks); a coupon
    is issued by the points mall at once."""
    campaign, settings = await points_mall.reward_of(session, shopper.merchant_id, campaign_id)
    if settings.reward != "goods":
        return await points_mall.redeem_coupon(session, runtime, shopper, campaign, settings)
    if body.address is None:
        raise InvalidInput("address_required", "goods need an address", field="address")
    assert settings.sku_id is not None
    return RedeemOut(order=await place_order(session, runtime, shopper, PlaceOrder(
        items=[LineIn(sku_id=settings.sku_id, quantity=1)], address=body.address,
        campaign=CampaignChoice(kind=points_mall.KIND, campaign_id=campaign.id))))

