"""The community's shopper pages (社区): the feed with its tabs (最新, 关注, 好友, 热门) and a product's posts, a post
with its comments, and the compose page (a plain post, or a 晒单 from a received order). Every action is a form the
page script sends to the community API."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from fissionmall.catalog import service as catalog
from fissionmall.community import posts
from fissionmall.core.deps import SessionDep
from fissionmall.core.errors import DomainError
from fissionmall.core.schemas import RowId
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.orders import service as orders
from fissionmall.web.session import ShopperVisitorDep, VisitorDep, signed_in
from fissionmall.web.templating import render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)

TABS = {"latest": "最新", "following": "关注", "friends": "好友", "popular": "热门"}
PERSONAL = {"following", "friends"}
"""Tabs that need a sign-in."""


@router.get("/m/{merchant}/community", response_class=HTMLResponse)
async def feed_page(request: Request, seen: VisitorDep, session: SessionDep, tab: str = "latest",
                    product_id: str = "", cursor: str | None = None) -> HTMLResponse:
    current: posts.Tab = tab if tab in TABS else "latest"  # type: ignore[assignment]
    product = int(product_id) if product_id.isascii() and product_id.isdigit() and len(product_id) <= 18 else None
    sign_in = current in PERSONAL and seen.shopper is None
    page = None
    if not sign_in:
        try:
            page = await posts.feed(session, seen.shopper, seen.shop.id,
                                    tab=current if product is None else "latest", product_id=product, cursor=cursor)
        except DomainError:  # a cursor that is not one the page gave out: start again from the top
            page = await posts.feed(session, seen.shopper, seen.shop.id, tab=current if product is None else "latest",
                                    product_id=product)
    titles = await catalog.titles_of(session, seen.shop.id, [product]) if product else {}
    return render(request, "community/feed.html", seen, {
        "page": page, "tabs": TABS, "current": current, "sign_in": sign_in, "product_id": product,
        "product_title": titles.get(product) if product else None, "tab": "community"})


@router.get("/m/{merchant}/community/posts/{post_id}", response_class=HTMLResponse)
async def post_page(request: Request, post_id: RowId, seen: VisitorDep, session: SessionDep) -> HTMLResponse:
    detail = await posts.detail(session, seen.shopper, seen.shop.id, post_id)
    return render(request, "community/post.html", seen, {"detail": detail, "tab": "community"})


@router.get("/m/{merchant}/community/new", response_class=HTMLResponse)
async def compose_page(request: Request, seen: ShopperVisitorDep, session: SessionDep,
                       order_id: str = "") -> HTMLResponse:
    """Write a post; from a received order's "晒单" button, a 晒单 of what was bought."""
    shopper = signed_in(seen)
    order = None
    if order_id.isascii() and order_id.isdigit() and len(order_id) <= 18:
        order = await orders.get_order(session, shopper.merchant_id, int(order_id), customer_id=shopper.customer_id)
    return render(request, "community/compose.html", seen, {"order": order, "tab": "community"})
