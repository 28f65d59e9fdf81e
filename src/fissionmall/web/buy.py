"""Buying in the shopper pages: checkout priced by the order's own pricing, payment (WeChat JSAPI, or the sandbox's
confirm page in the demo), and the shopper's orders. Every change goes through the JSON API from the page's forms."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.checkout import service as checkout
from fissionmall.checkout.schemas import CheckoutOut, LineIn, PlaceOrder
from fissionmall.core.auth import Shopper
from fissionmall.core.clock import Clock
from fissionmall.core.deps import ClockDep, SessionDep
from fissionmall.core.errors import InvalidInput
from fissionmall.core.runtime import Runtime, RuntimeDep
from fissionmall.core.schemas import RowId
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.customers import service as customers
from fissionmall.orders import rules as order_rules
from fissionmall.orders import service as orders
from fissionmall.orders.schemas import Address, CampaignChoice
from fissionmall.payments import service as payments
from fissionmall.web.session import SHARE_COOKIE, ShopperVisitorDep, signed_in
from fissionmall.web.templating import render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)

STATUS_NAMES = {
    "pending_payment": "待付款", "paid": "待成团", "balance_due": "待付尾款", "to_ship": "待发货",
    "shipped": "待收货", "received": "已收货", "completed": "已完成", "cancelled": "已取消",
    "refunding": "退款中", "refunded": "已退款",
}
"""An order's status as the shopper reads it (a paid order not yet to ship waits for its campaign: 待成团)."""
STAGE_NAMES = {"full": "应付金额", "deposit": "应付定金", "balance": "应付尾款"}

_PRICING_ADDRESS = Address(name="-", phone="00000", detail="-")
"""Pricing reads no address: the preview is asked with this one while the shopper is still filling theirs in."""


def _campaign(campaign: str, target: int | None) -> CampaignChoice | None:
    """`kind:campaign id` from the product page's buttons (e.g. group:3), with the record joined (`target`)."""
    if not campaign:
        return None
    kind, _, campaign_id = campaign.partition(":")
    if not campaign_id.isdigit() or not kind:
        raise InvalidInput("unknown_campaign_kind", f"no campaign {campaign!r}", field="campaign")
    return CampaignChoice(kind=kind, campaign_id=int(campaign_id), target_id=target)


async def _priced(session: AsyncSession, runtime: Runtime, shopper: Shopper, body: PlaceOrder,
                  coupon: str) -> tuple[CheckoutOut, list[int], CheckoutOut]:
    """The preview with the coupon the shopper chose: the best one unless they chose another or none. Returns the
    preview, the coupons used, and the coupon-free preview that lists every usable coupon."""
    plain = await checkout.preview(session, runtime, shopper, body)
    if coupon == "none" or not plain.coupon_offers:
        return plain, [], plain
    chosen = int(coupon) if coupon.isdigit() else plain.coupon_offers[0].coupon_id
    if chosen not in {offer.coupon_id for offer in plain.coupon_offers}:
        raise InvalidInput("coupon_not_applicable", "this coupon cannot be used on this order", field="coupon_ids")
    with_coupon = body.model_copy(update={"coupon_ids": [chosen]})
    return await checkout.preview(session, runtime, shopper, with_coupon), [chosen], plain


@router.get("/m/{merchant}/checkout", response_class=HTMLResponse)
async def checkout_page(request: Request, seen: ShopperVisitorDep, session: SessionDep, runtime: RuntimeDep,
                        sku: RowId, qty: int = Query(1, ge=1, le=99), campaign: str = "",
                        target: RowId | None = None, coupon: str = "") -> HTMLResponse:
    """What the order will cost, every fen explained, with the address and the button that places it."""
    shopper = signed_in(seen)
    choice = _campaign(campaign, target)
    body = PlaceOrder(items=[LineIn(sku_id=sku, quantity=qty)], address=_PRICING_ADDRESS, campaign=choice)
    priced, coupon_ids, plain = await _priced(session, runtime, shopper, body, coupon)
    return render(request, "buy/checkout.html", seen, {
        "sku": sku, "qty": qty, "choice": choice, "priced": priced, "coupon_ids": coupon_ids,
        "offers": plain.coupon_offers, "coupon": coupon or (str(coupon_ids[0]) if coupon_ids else "none"),
        "address": await customers.default_address(session, shopper),
        "share_code": request.cookies.get(SHARE_COOKIE, "")})


@router.get("/m/{merchant}/orders/{order_id}/pay", response_class=HTMLResponse)
async def pay_page(request: Request, order_id: RowId, seen: ShopperVisitorDep, session: SessionDep,
                   clock: ClockDep) -> HTMLResponse:
    """What is due now (the total, the deposit or the balance) and the button that pays it."""
    shopper = signed_in(seen)
    order = await orders.get_order(session, shopper.merchant_id, order_id, customer_id=shopper.customer_id)
    stage, amount = order_rules.payment_due(order.status, order.total_fen, order.paid_fen, order.deposit_fen)
    payable = order.status in ("pending_payment", "balance_due")
    return render(request, "buy/pay.html", seen, {"order": order, "stage": STAGE_NAMES[stage], "amount": amount,
                                                  "payable": payable, "tab": "orders",
                                                  "seconds_left": _seconds_until(order.pay_before, clock)})


@router.get("/m/{merchant}/sandbox/pay/{payment_id}", response_class=HTMLResponse)
async def sandbox_pay_page(request: Request, payment_id: RowId, seen: ShopperVisitorDep, session: SessionDep,
                           runtime: RuntimeDep) -> HTMLResponse:
    """The demo's stand-in for WeChat's payment sheet: only where the sandbox is the payment provider."""
    _, payment = await payments.sandbox_payment(session, runtime.providers, signed_in(seen), payment_id)
    return render(request, "buy/sandbox_pay.html", seen, {"payment": payment})


@router.get("/m/{merchant}/orders/{order_id}", response_class=HTMLResponse)
async def order_page(request: Request, order_id: RowId, seen: ShopperVisitorDep, session: SessionDep,
                     clock: ClockDep, paying: bool = False) -> HTMLResponse:
    """The order as it stands; coming back from paying (`paying`), an order the payment's notification has not
    reached yet says so and looks again."""
    shopper = signed_in(seen)
    order = await orders.get_order(session, shopper.merchant_id, order_id, customer_id=shopper.customer_id)
    return render(request, "buy/order.html", seen, {
        "order": order, "status": STATUS_NAMES[order.status], "tab": "orders",
        "confirming": paying and order.status == "pending_payment",
        "seconds_left": _seconds_until(order.pay_before, clock)})


def _seconds_until(deadline: datetime | None, clock: Clock) -> int:
    return max(0, int((deadline - clock.now()).total_seconds())) if deadline else 0
