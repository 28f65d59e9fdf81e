"""The console's orders: a list by status tab with search by order number, customer and the days placed (keyset
pages, CSV export), and an order's page with its lines, every price adjustment, payments, refunds and logistics.
Shipping, refund decisions, merchant refunds and price changes are the page's forms posting to the merchant API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.clock import days_between
from fissionmall.core.deps import SessionDep
from fissionmall.core.money import yuan
from fissionmall.core.pagination import parse_cursor
from fissionmall.core.runtime import RuntimeDep
from fissionmall.core.schemas import RowId
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.customers import service as customers
from fissionmall.customers.schemas import CustomerSummary
from fissionmall.logistics import service as logistics
from fissionmall.orders import service as orders
from fissionmall.orders.models import Order
from fissionmall.orders.schemas import OrderOut
from fissionmall.orders.states import REFUNDABLE, OrderStatus
from fissionmall.payments import service as payments
from fissionmall.web.console.exports import csv_download
from fissionmall.web.console.session import ConsoleReader, render
from fissionmall.web.templating import BEIJING

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)

S = OrderStatus
PAGE = 20
CUSTOMERS_MATCHED = 200
"""A search by customer looks at the orders of at most this many customers (the newest matching)."""
EXPORT_CHUNK = 500

STATUS_NAMES: dict[str, str] = {
    S.PENDING_PAYMENT: "待付款", S.PAID: "待成团", S.BALANCE_DUE: "待付尾款", S.TO_SHIP: "待发货",
    S.SHIPPED: "已发货", S.RECEIVED: "已收货", S.COMPLETED: "已完成", S.CANCELLED: "已取消",
    S.REFUNDING: "退款中", S.REFUNDED: "已退款",
}
REFUND_STATUS_NAMES = {"requested": "待审核", "processing": "退款中", "succeeded": "已退款", "rejected": "已拒绝"}
REQUESTED_BY = {"customer": "顾客申请", "merchant": "商家发起", "system": "活动规则"}
PAYMENT_STAGES = {"full": "全款", "deposit": "定金", "balance": "尾款"}
PAYMENT_STATUS_NAMES = {"pending": "待支付", "succeeded": "已支付", "closed": "已关闭"}
ADJUSTMENT_KINDS = {"merchant_adjustment": "商家改价", "wallet": "余额抵扣", "points": "积分抵扣",
                    "coupon": "优惠券", "shipping": "运费"}


@dataclass(frozen=True)
class Tab:
    key: str
    title: str
    statuses: tuple[str, ...]


TABS = (
    Tab("all", "全部", ()),
    Tab("pending_payment", "待付款", (S.PENDING_PAYMENT,)),
    Tab("campaign", "待成团/尾款", (S.PAID, S.BALANCE_DUE)),
    Tab("to_ship", "待发货", (S.TO_SHIP,)),
    Tab("shipped", "已发货", (S.SHIPPED,)),
    Tab("done", "已完成", (S.RECEIVED, S.COMPLETED)),
    Tab("refund", "退款/售后", (S.REFUNDING, S.REFUNDED)),
    Tab("cancelled", "已取消", (S.CANCELLED,)),
)
TAB_BY_KEY = {tab.key: tab for tab in TABS}


@dataclass(frozen=True)
class Search:
    """The list's filters as the query string carries them (the export takes the same)."""

    tab: str = "all"
    no: str = ""
    customer: str = ""
    since: date | None = None
    until: date | None = None
    buyer: int | None = None
    """One customer by id exactly (the customer page's link to all their orders)."""

    def query(self, **change: Any) -> str:
        values = {"tab": self.tab, "no": self.no, "customer": self.customer, "buyer": self.buyer or "",
                  "since": self.since.isoformat() if self.since else "",
                  "until": self.until.isoformat() if self.until else "", **change}
        return urlencode({k: v for k, v in values.items() if v and not (k == "tab" and v == "all")})


async def _orders(session: AsyncSession, merchant_id: int, search: Search, before_id: int | None,
                  limit: int) -> list[Order]:
    customer_ids: list[int] | None = [search.buyer] if search.buyer else None
    if search.customer.strip():
        customer_ids = await customers.matching_ids(session, merchant_id, search.customer, CUSTOMERS_MATCHED)
        if not customer_ids:
            return []
    since, until = days_between(search.since, search.until, BEIJING)
    return await orders.console_page(
        session, merchant_id, statuses=TAB_BY_KEY.get(search.tab, TABS[0]).statuses,
        order_no=search.no.strip() or None, customer_ids=customer_ids, since=since, until=until, before_id=before_id,
        limit=limit)


def _search(tab: str, no: str, customer: str, since: str, until: str, buyer: int | None) -> Search:
    def day(text: str) -> date | None:
        try:
            return date.fromisoformat(text) if text else None
        except ValueError:
            return None
    return Search(tab if tab in TAB_BY_KEY else "all", no, customer, day(since), day(until), buyer)


Text = Annotated[str, Query(max_length=64)]
Buyer = Annotated[int | None, Query(ge=1, le=2**63 - 1)]


@router.get("/console/orders", response_class=HTMLResponse)
async def order_list(request: Request, console: ConsoleReader, session: SessionDep, tab: Text = "all",
                     no: Text = "", customer: Text = "", since: Text = "", until: Text = "",
                     buyer: Buyer = None, cursor: str | None = None) -> HTMLResponse:
    search = _search(tab, no, customer, since, until, buyer)
    merchant_id = console.staff.merchant_id
    found = await _orders(session, merchant_id, search, parse_cursor(cursor), PAGE)
    shown = await orders.render(session, found)
    buyers = await customers.summaries(session, merchant_id, [o.customer_id for o in shown])
    return render(request, "console/orders.html", console, {
        "section": "/console/orders", "orders": shown, "buyers": buyers, "search": search, "tabs": TABS,
        "names": STATUS_NAMES, "next_cursor": str(found[-1].id) if len(found) == PAGE else None})


@router.get("/console/orders/export.csv")
async def order_export(console: ConsoleReader, runtime: RuntimeDep, tab: Text = "all", no: Text = "",
                       customer: Text = "", since: Text = "", until: Text = "",
                       buyer: Buyer = None) -> StreamingResponse:
    """Every order the list's filters find, newest first, read in chunks by the same keyset as the pages."""
    search = _search(tab, no, customer, since, until, buyer)
    merchant_id = console.staff.merchant_id

    async def rows() -> AsyncIterator[Sequence[Any]]:
        # the body is sent after the route has answered and its session is closed: the download reads in its own
        async with runtime.sessionmaker() as reading:
            async for row in _export_rows(reading, merchant_id, search):
                yield row

    return csv_download(f"订单-{runtime.clock.now().astimezone(BEIJING):%Y%m%d%H%M}.csv", [
        "订单号", "状态", "下单时间", "客户ID", "客户昵称", "商品金额（元）", "应付（元）", "实付（元）",
        "已退款（元）", "支付时间", "物流公司", "运单号", "收货人", "电话", "地址"], rows())


async def _export_rows(session: AsyncSession, merchant_id: int, search: Search) -> AsyncIterator[Sequence[Any]]:
    """Chunk by chunk, each read in a short transaction of its own (on SQLite a transaction holds the file's lock,
    and a download may take as long as the network does)."""
    before: int | None = None
    while True:
        chunk = await _orders(session, merchant_id, search, before, EXPORT_CHUNK)
        buyers = await customers.summaries(session, merchant_id, [o.customer_id for o in chunk])
        session.expunge_all()
        await session.rollback()
        for o in chunk:
            buyer = buyers.get(o.customer_id)
            yield [o.order_no, STATUS_NAMES.get(o.status, o.status),
                   o.created_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M"), o.customer_id,
                   buyer.nickname if buyer else "", yuan(o.items_fen), yuan(o.total_fen), yuan(o.paid_fen),
                   yuan(o.refunded_fen), o.paid_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
                   if o.paid_at else "", o.carrier or "", o.tracking_no or "",
                   o.address.get("name", ""), o.address.get("phone", ""),
                   " ".join(str(o.address.get(k, "")) for k in ("region", "detail")).strip()]
        if len(chunk) < EXPORT_CHUNK:
            return
        before = chunk[-1].id


@dataclass(frozen=True)
class RefundFigures:
    """What a refund decision needs to be explained: paid, already refunded, in flight, asked for, left."""

    paid_fen: int
    refunded_fen: int
    processing_fen: int
    requested_fen: int
    left_fen: int
    """What can still be refunded beyond the refunds asked for or in flight."""


def refund_figures(order: OrderOut) -> RefundFigures:
    requested = sum(r.amount_fen for r in order.refunds if r.status == "requested")
    processing = sum(r.amount_fen for r in order.refunds if r.status == "processing")
    left = order.paid_fen - order.refunded_fen - requested - processing
    return RefundFigures(order.paid_fen, order.refunded_fen, processing, requested, max(left, 0))


@router.get("/console/orders/{order_id}", response_class=HTMLResponse)
async def order_page(request: Request, order_id: RowId, console: ConsoleReader, session: SessionDep) -> Response:
    merchant_id = console.staff.merchant_id
    row = await orders.require_order(session, merchant_id, order_id)
    order = (await orders.render(session, [row]))[0]
    buyer: CustomerSummary | None = (await customers.summaries(session, merchant_id, [order.customer_id])).get(
        order.customer_id)
    figures = refund_figures(order)
    pending = next((r for r in order.refunds if r.status == "requested"), None)
    tracking = await logistics.timeline(session, merchant_id, order.id)
    return render(request, "console/order.html", console, {
        "section": "/console/orders", "order": order, "buyer": buyer, "names": STATUS_NAMES,
        "tracking": tracking,
        "can_query_carrier": tracking.provider == "kuaidi100" and order.status == S.SHIPPED
        and console.can("orders.ship"),
        "refund_names": REFUND_STATUS_NAMES, "requested_by": REQUESTED_BY, "adjustment_kinds": ADJUSTMENT_KINDS,
        "payments": await payments.payments_of_order(session, merchant_id, order.id), "stages": PAYMENT_STAGES,
        "payment_names": PAYMENT_STATUS_NAMES, "figures": figures, "pending": pending,
        "pending_total": figures.requested_fen,
        "can_ship": order.status == S.TO_SHIP and console.can("orders.ship"),
        "can_adjust": (order.status == S.PENDING_PAYMENT and order.deposit_fen is None
                       and row.payment_started_at is None and console.can("orders.adjust")),
        "can_decide": pending is not None and console.can("refunds.decide"),
        "can_refund": order.status in REFUNDABLE and console.can("refunds.decide"),
    })
