"""The console's customers: a list searched by nickname or id (keyset pages) with when each joined, their orders
and first payment and their level, and a customer's page: their orders, who brought them and whom they brought (and
how many at any depth), their coupons, points, level and shop credit."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from fissionmall.core.deps import ClockDep, SessionDep
from fissionmall.core.schemas import RowId
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.coupons import service as coupons
from fissionmall.customers import service as customers
from fissionmall.loyalty.levels import service as levels
from fissionmall.loyalty.points import service as points
from fissionmall.orders import service as orders
from fissionmall.wallet import service as wallet
from fissionmall.web.console.orders import STATUS_NAMES
from fissionmall.web.console.session import ConsoleReader, render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)

PAGE = 20
ORDERS_SHOWN = 20
COUPON_STATUS_NAMES = {"available": "可用", "locked": "已锁定", "used": "已使用", "expired": "已过期"}


@router.get("/console/customers", response_class=HTMLResponse)
async def customer_list(request: Request, console: ConsoleReader, session: SessionDep,
                        q: Annotated[str, Query(max_length=64)] = "", cursor: str | None = None) -> HTMLResponse:
    merchant_id = console.staff.merchant_id
    page = await customers.customer_page(session, merchant_id, q, cursor, PAGE)
    ids = [c.id for c in page.items]
    return render(request, "console/customers.html", console, {
        "section": "/console/customers", "page": page, "q": q, "query": urlencode({"q": q} if q else {}),
        "order_counts": await orders.counts_by_customer(session, merchant_id, ids),
        "levels": await levels.level_names(session, merchant_id, ids)})


@router.get("/console/customers/{customer_id}", response_class=HTMLResponse)
async def customer_page(request: Request, customer_id: RowId, console: ConsoleReader, session: SessionDep,
                        clock: ClockDep) -> HTMLResponse:
    merchant_id = console.staff.merchant_id
    customer = await customers.customer_detail(session, merchant_id, customer_id)
    recent = await orders.list_orders(session, merchant_id, customer_id=customer.id, status=None, cursor=None,
                                      limit=ORDERS_SHOWN)
    return render(request, "console/customer.html", console, {
        "section": "/console/customers", "customer": customer, "orders": recent.items,
        "more_orders": recent.next_cursor is not None, "names": STATUS_NAMES,
        "order_count": (await orders.counts_by_customer(session, merchant_id, [customer.id])).get(
            customer.id, 0),
        "coupons": await coupons.coupons_of_customer(session, clock.now(), merchant_id, customer.id),
        "coupon_names": COUPON_STATUS_NAMES,
        "points": await points.balance_of(session, customer.id),
        "level": (await levels.level_names(session, merchant_id, [customer.id])).get(customer.id),
        "wallet_fen": await wallet.balance_of(session, customer.id)})
