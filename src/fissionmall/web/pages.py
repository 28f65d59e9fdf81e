"""Shopper H5 pages, server-rendered: the mall's front, a product, and the landing of a share link."""

from __future__ import annotations

import contextlib
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns.assist import service as assist
from fissionmall.campaigns.bargain import service as bargaining
from fissionmall.campaigns.groupbuy import service as groupbuy
from fissionmall.catalog import service as catalog
from fissionmall.core.errors import NotFound
from fissionmall.core.money import yuan
from fissionmall.core.transaction import TransactionalRoute, get_session
from fissionmall.merchants import service as merchants
from fissionmall.merchants.models import Merchant
from fissionmall.sharing import service as sharing

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
STATIC = Path(__file__).parent / "static"
"""The pages' style sheet and script, served at /static: the pages' policy allows no inline script or style."""
templates.env.filters["yuan"] = lambda fen: "" if fen is None else yuan(fen)


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, merchant: str | None = None, session: AsyncSession = Depends(get_session)):
    shop = await merchants.merchant_by_slug(session, merchant or request.app.state.runtime.settings.default_merchant)
    page = await catalog.list_products(session, shop.id, cursor=None, limit=50, category_id=None)
    return templates.TemplateResponse(request, "home.html", {"shop": shop, "products": page.items})


@router.get("/m/{merchant}/products/{product_id}", response_class=HTMLResponse)
async def product(request: Request, merchant: str, product_id: int, session: AsyncSession = Depends(get_session)):
    shop = await merchants.merchant_by_slug(session, merchant)
    detail = await catalog.product_detail(session, shop.id, product_id, shopper_view=True)
    return templates.TemplateResponse(request, "product.html", {"shop": shop, "product": detail})


@router.get("/s/{code}", response_class=HTMLResponse)
async def share_landing(request: Request, code: str, session: AsyncSession = Depends(get_session)):
    """A share link opened in a browser: the click is recorded, then the shared product is shown."""
    runtime = request.app.state.runtime
    landing = await sharing.land(session, runtime, code, None)
    share, _ = await sharing.resolve(session, runtime, code)
    shop = await merchants.merchant_by_id(session, share.merchant_id)
    pages = {"group": _group_page, "bargain": _bargain_page, "assist": _assist_page}
    if landing.target_type in pages:
        return await pages[landing.target_type](request, session, shop, landing.target_id,
                                                sharer=landing.sharer.nickname)
    detail = None
    if landing.target_type == "product":
        with contextlib.suppress(NotFound):  # taken off sale since it was shared: still land in the mall
            detail = await catalog.product_detail(session, shop.id, landing.target_id, shopper_view=True)
    return templates.TemplateResponse(request, "product.html", {
        "shop": shop, "product": detail, "sharer": landing.sharer.nickname, "share_code": code,
        "gone": landing.target_type == "product" and detail is None})


@router.get("/m/{merchant}/groups/{group_id}", response_class=HTMLResponse)
async def group(request: Request, merchant: str, group_id: int, session: AsyncSession = Depends(get_session)):
    return await _group_page(request, session, await merchants.merchant_by_slug(session, merchant), group_id)


async def _group_page(request: Request, session: AsyncSession, shop: Merchant, group_id: int,
                      sharer: str | None = None) -> HTMLResponse:
    """The group a friend shared: who is in, places left, time left, the price, and the published rules."""
    runtime = request.app.state.runtime
    view = await groupbuy.group_view(session, runtime, shop.id, group_id)
    campaign = await groupbuy.campaign_view(session, shop.id, view.campaign_id)
    product = await catalog.product_detail(session, shop.id, campaign.product_id, shopper_view=False)
    list_price = min((sku.price_fen for sku in product.skus), default=None)
    group_price = min(sku.group_price_fen for sku in campaign.skus)
    return templates.TemplateResponse(request, "group.html", {
        "shop": shop, "group": view, "campaign": campaign, "product": product, "sharer": sharer,
        "list_price": list_price, "group_price": group_price, "empty_seats": range(view.places_left)})


@router.get("/m/{merchant}/bargains/{bargain_id}", response_class=HTMLResponse)
async def bargain(request: Request, merchant: str, bargain_id: int, session: AsyncSession = Depends(get_session)):
    return await _bargain_page(request, session, await merchants.merchant_by_slug(session, merchant), bargain_id)


async def _bargain_page(request: Request, session: AsyncSession, shop: Merchant, bargain_id: int,
                        sharer: str | None = None) -> HTMLResponse:
    """A friend's bargain: price so far, who cut how much, helps left, the rules and the schedule's proof."""
    view = await bargaining.view(session, request.app.state.runtime, shop.id, bargain_id)
    campaign = await bargaining.campaign_view(session, shop.id, view.campaign_id)
    product = await catalog.product_detail(session, shop.id, campaign.product_id, shopper_view=False)
    return templates.TemplateResponse(request, "bargain.html", {
        "shop": shop, "bargain": view, "product": product, "sharer": sharer})


@router.get("/m/{merchant}/assists/{packet_id}", response_class=HTMLResponse)
async def assist_packet(request: Request, merchant: str, packet_id: int,
                        session: AsyncSession = Depends(get_session)):
    return await _assist_page(request, session, await merchants.merchant_by_slug(session, merchant), packet_id)


OUTCOMES = {"lost": "这次没有中奖", "pool_empty": "奖品已发完", "withheld": "经风控判定不发放奖励"}


async def _assist_page(request: Request, session: AsyncSession, shop: Merchant, packet_id: int,
                       sharer: str | None = None) -> HTMLResponse:
    """A friend's red packet: helpers so far, places left, the prize once opened, and the published odds."""
    view = await assist.view(session, request.app.state.runtime, shop.id, packet_id)
    campaign = await assist.campaign_view(session, shop.id, view.campaign_id)
    return templates.TemplateResponse(request, "assist.html", {
        "shop": shop, "packet": view, "campaign": campaign, "sharer": sharer,
        "empty_seats": range(view.helps_remaining), "outcome_text": OUTCOMES.get(view.outcome or "", "")})
