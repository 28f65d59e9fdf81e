"""Buying in the shopper pages: checkout priced by the order's own pricing, payment (WeChat JSAPI, or the sandbox's
confirm page in the demo), and the shopper's orders. Every change goes through the JSON API from the page's forms."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns.giftcards import service as giftcards
from fissionmall.campaigns.groupbuy import service as groupbuy
from fissionmall.catalog import service as catalog
from fissionmall.checkout import service as checkout
from fissionmall.checkout.schemas import CheckoutOut, LineIn, PlaceOrder
from fissionmall.community import service as community
from fissionmall.core.auth import Shopper
from fissionmall.core.clock import Clock
from fissionmall.core.deps import ClockDep, SessionDep
from fissionmall.core.errors import InvalidInput
from fissionmall.core.messages import message_for
from fissionmall.core.pagination import row_id_in
from fissionmall.core.runtime import Runtime, RuntimeDep
from fissionmall.core.schemas import RowId
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.customers import service as customers
from fissionmall.logistics import service as logistics
from fissionmall.loyalty.points import service as points
from fissionmall.orders import rules as order_rules
from fissionmall.orders import service as orders
from fissionmall.orders.schemas import Address, CampaignChoice
from fissionmall.orders.states import REFUNDABLE
from fissionmall.payments import service as payments
from fissionmall.recommend import service as recommend
from fissionmall.wallet import service as wallet
from fissionmall.web.session import SHARE_COOKIE, ShopperVisitorDep, safe_next, signed_in
from fissionmall.web.templating import render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)

STATUS_NAMES = {
    "pending_payment": "待付款", "paid": "待成团", "balance_due": "待付尾款", "to_ship": "待发货",
    "shipped": "待收货", "received": "已收货", "completed": "已完成", "cancelled": "已取消",
    "refunding": "退款中", "refunded": "已退款",
}
"""An order's status as the shopper reads it (a paid order not yet to ship waits for its campaign: 待成团)."""
REFUND_STATUS_NAMES = {"requested": "待商家处理", "processing": "退款中", "succeeded": "已退款",
                       "rejected": "商家已拒绝"}
ORDER_TABS = {"all": ("全部", ()), "unpaid": ("待付款", ("pending_payment", "balance_due")),
              "grouping": ("待成团", ("paid",)), "to_ship": ("待发货", ("to_ship",)),
              "shipped": ("待收货", ("shipped",)), "done": ("已完成", ("received", "completed")),
              "refunds": ("退款", ("refunding", "refunded"))}
"""The order list's tabs: a name and the statuses each shows."""
ORDERS_PER_PAGE = 20
STAGE_NAMES = {"full": "应付金额", "deposit": "应付定金", "balance": "应付尾款"}

_PRICING_ADDRESS = Address(name="-", phone="00000", detail="-")
"""Pricing reads no address: the preview is asked with this one while the shopper is still filling theirs in."""


def _campaign(campaign: str, target: int | None, pay: str) -> CampaignChoice | None:
    """`kind:campaign id` from the product page's buttons (e.g. group:3), with the record joined (`target`) and the
    way to pay the shopper chose (`pay`: deposit or full, where the campaign lets them choose)."""
    if not campaign:
        return None
    kind, _, campaign_id = campaign.partition(":")
    chosen = row_id_in(campaign_id)
    if chosen is None or not kind:
        raise InvalidInput("unknown_campaign_kind", f"no campaign {campaign!r}", field="campaign")
    return CampaignChoice(kind=kind, campaign_id=chosen, target_id=target,
                          payment="full" if pay == "full" else "deposit" if pay == "deposit" else None)


_DROPPABLE: dict[str, Any] = {"coupon_ids": [], "points": 0, "wallet_fen": 0, "voucher_id": None}
"""The shopper's choices a preview may refuse, and what each falls back to."""


async def _preview(session: AsyncSession, runtime: Runtime, shopper: Shopper, body: PlaceOrder,
                   errors: dict[str, str]) -> tuple[CheckoutOut, PlaceOrder]:
    """The preview of these choices; a choice refused is dropped, its refusal kept to show by it."""
    while True:
        try:
            return await checkout.preview(session, runtime, shopper, body), body
        except InvalidInput as refused:
            field = refused.extra.get("field")
            if field not in _DROPPABLE or getattr(body, field) == _DROPPABLE[field]:
                raise
            errors[field] = message_for(refused.code)
            body = body.model_copy(update={field: _DROPPABLE[field]})


async def _choose(session: AsyncSession, runtime: Runtime, shopper: Shopper, body: PlaceOrder, coupon: str,
                  use_wallet: bool, errors: dict[str, str]) -> tuple[CheckoutOut, PlaceOrder, CheckoutOut]:
    """Price the shopper's choices as the order will be: the best coupon unless they chose another or none, then
    shop credit for what is left. Returns the preview, the order to place, and the coupon-free preview that lists
    every usable coupon."""
    plain, body = await _preview(session, runtime, shopper, body, errors)
    priced = plain
    if coupon != "none" and plain.coupon_offers:  # none are offered on an order paid by deposit
        typed = row_id_in(coupon)
        chosen = typed if typed is not None else plain.coupon_offers[0].coupon_id
        priced, body = await _preview(session, runtime, shopper, body.model_copy(update={"coupon_ids": [chosen]}),
                                      errors)
    if use_wallet and priced.total_fen and priced.deposit_fen is None:
        balance = (await wallet.wallet_of(session, shopper)).balance_fen
        if balance:
            priced, body = await _preview(session, runtime, shopper, body.model_copy(
                update={"wallet_fen": min(balance, priced.total_fen)}), errors)
    return priced, body, plain


async def _held_benefits(session: AsyncSession, runtime: Runtime, shopper: Shopper,
                         product_ids: set[int]) -> dict[str, Any]:
    """What the shopper could pay with besides cash: points (where the mall has them), shop credit, the gift
    vouchers they hold for one of these products."""
    config = await points.config_of(session, shopper.merchant_id)
    held_points = (await points.mine(session, runtime.clock.now(), shopper)).balance if config else None
    vouchers = [v for v in await giftcards.mine(session, shopper)
                if v.product_id in product_ids and v.status == "active" and v.holder_id == shopper.customer_id]
    return {"points_held": held_points, "points_config": config, "vouchers": vouchers,
            "wallet_fen": (await wallet.wallet_of(session, shopper)).balance_fen}


@router.get("/m/{merchant}/checkout", response_class=HTMLResponse)
async def checkout_page(request: Request, seen: ShopperVisitorDep, session: SessionDep, runtime: RuntimeDep,
                        sku: RowId, qty: int = Query(1, ge=1, le=99), campaign: str = "",
                        target: RowId | None = None, coupon: str = "",
                        points_used: int = Query(0, ge=0, le=100_000_000, alias="points"),
                        wallet_on: bool = Query(False, alias="wallet"), voucher: RowId | None = None,
                        address: RowId | None = None, pay: str = "") -> HTMLResponse:
    """What the order will cost, every fen explained, the benefits the shopper may choose (a GET form that prices
    again on each change), the address, and the button that places the order as priced."""
    shopper = signed_in(seen)
    errors: dict[str, str] = {}
    body = PlaceOrder(items=[LineIn(sku_id=sku, quantity=qty)], address=_PRICING_ADDRESS,
                      campaign=_campaign(campaign, target, pay), points=points_used, voucher_id=voucher)
    priced, body, plain = await _choose(session, runtime, shopper, body, coupon, wallet_on, errors)
    lines = await catalog.sellable_skus(session, shopper.merchant_id, [sku])
    return render(request, "buy/checkout.html", seen, {
        "qty": qty, "choice": body.campaign, "priced": priced, "body": body, "errors": errors,
        "offers": plain.coupon_offers, "coupon": str(body.coupon_ids[0]) if body.coupon_ids else "none",
        "lines": lines, **await _held_benefits(session, runtime, shopper, {sku.product_id for sku, _, _ in lines}),
        "address": await customers.address(session, shopper, address) if address
        else await customers.default_address(session, shopper),
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


@router.get("/m/{merchant}/orders", response_class=HTMLResponse)
async def orders_page(request: Request, seen: ShopperVisitorDep, session: SessionDep, tab: str = "all",
                      cursor: str | None = None) -> HTMLResponse:
    shopper = signed_in(seen)
    tab = tab if tab in ORDER_TABS else "all"
    page = await orders.list_orders(session, shopper.merchant_id, customer_id=shopper.customer_id,
                                    status=ORDER_TABS[tab][1], cursor=cursor, limit=ORDERS_PER_PAGE)
    return render(request, "buy/orders.html", seen, {"page": page, "tabs": ORDER_TABS, "current": tab,
                                                     "status_names": STATUS_NAMES, "tab": "orders"})


@router.get("/m/{merchant}/orders/{order_id}", response_class=HTMLResponse)
async def order_page(request: Request, order_id: RowId, seen: ShopperVisitorDep, session: SessionDep,
                     runtime: RuntimeDep, paying: str = "",
                     moving: int = Query(0, ge=0, le=10)) -> HTMLResponse:
    """The order as it stands, with what the shopper can do now; coming back from paying (`paying`: 1 for the order
    or its deposit, "balance" for the balance), an order the payment's notification has not reached yet says so and
    looks again, and so does a parcel the sandbox carrier has just advanced (`moving`: the steps it reached) whose
    push has not arrived yet."""
    shopper = signed_in(seen)
    order = await orders.get_order(session, shopper.merchant_id, order_id, customer_id=shopper.customer_id)
    to_review: dict[int, str] = {}
    if order.status in ("received", "completed"):
        reviewed = await community.reviewed_products(session, order.id)
        for item in order.items:
            if item.product_id not in reviewed:
                to_review.setdefault(item.product_id, item.title)
    group_id = await groupbuy.group_of_order(session, order.id) if order.kind == "group" else None
    saved = order_rules.savings(order.items_fen, [(a.kind, a.name, a.amount_fen) for a in order.adjustments])
    shown_off = order.paid_at is not None and order.status not in ("refunding", "refunded")
    tracking = await logistics.timeline(session, shopper.merchant_id, order.id, customer_id=shopper.customer_id)
    clock = runtime.clock
    picks = await recommend.for_order(session, shopper.merchant_id, shopper.customer_id, order.id, clock.now(),
                                      recommend.ON_A_PAGE) if shown_off else None
    return render(request, "buy/order.html", seen, {
        "tracking": tracking, "sandbox_carrier": tracking.provider == "sandbox" and order.status == "shipped",
        "tracking_moving": moving > len(tracking.events),
        "order": order, "status": STATUS_NAMES[order.status], "tab": "orders", "group_id": group_id,
        "saved_fen": saved.before_fen - saved.after_fen if shown_off else 0,
        "confirming": paying == {"pending_payment": "1", "balance_due": "balance"}.get(order.status),
        "seconds_left": _seconds_until(order.pay_before, clock), "refundable": order.status in REFUNDABLE,
        "to_review": to_review, "refund_status": REFUND_STATUS_NAMES, "recommendations": picks})


def _seconds_until(deadline: datetime | None, clock: Clock) -> int:
    return max(0, int((deadline - clock.now()).total_seconds())) if deadline else 0


# --- the address book ------------------------------------------------------------------------------------------------

@router.get("/m/{merchant}/me/addresses", response_class=HTMLResponse)
async def addresses_page(request: Request, seen: ShopperVisitorDep, session: SessionDep,
                         back: str = "") -> HTMLResponse:
    """The shopper's addresses; opened from checkout (`back`), choosing one returns there with it."""
    book = await customers.addresses(session, signed_in(seen))
    return render(request, "buy/addresses.html", seen, {"addresses": book, "back": safe_next(back, ""),
                                                        "full": len(book) >= customers.MAX_ADDRESSES, "tab": "me"})


@router.get("/m/{merchant}/me/addresses/new", response_class=HTMLResponse)
async def new_address_page(request: Request, seen: ShopperVisitorDep, back: str = "") -> HTMLResponse:
    return render(request, "buy/address_form.html", seen, {"address": None, "back": safe_next(back, ""), "tab": "me"})


@router.get("/m/{merchant}/me/addresses/{address_id}/edit", response_class=HTMLResponse)
async def edit_address_page(request: Request, address_id: RowId, seen: ShopperVisitorDep, session: SessionDep,
                            back: str = "") -> HTMLResponse:
    saved = await customers.address(session, signed_in(seen), address_id)
    return render(request, "buy/address_form.html", seen, {"address": saved, "back": safe_next(back, ""), "tab": "me"})
