"""Shopper H5 pages, server-rendered: the mall's front, a product, and the landing of a share link."""

from __future__ import annotations

import contextlib
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns.mechanic import Page
from fissionmall.catalog import service as catalog
from fissionmall.core.clock import Clock
from fissionmall.core.deps import ClockDep, SessionDep, SettingsDep
from fissionmall.core.errors import NotFound
from fissionmall.core.money import yuan
from fissionmall.core.runtime import RuntimeDep
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.mechanics import MECHANICS
from fissionmall.merchants import service as merchants
from fissionmall.merchants.models import Merchant
from fissionmall.sharing import service as sharing

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
STATIC = Path(__file__).parent / "static"
"""The pages' style sheet and script, served at /static: the pages' policy allows no inline script or style."""
templates.env.filters["yuan"] = lambda fen: "" if fen is None else yuan(fen)


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, session: SessionDep, settings: SettingsDep,
               merchant: str | None = None) -> HTMLResponse:
    shop = await merchants.merchant_by_slug(session, merchant or settings.default_merchant)
    page = await catalog.list_products(session, shop.id, cursor=None, limit=50, category_id=None)
    return templates.TemplateResponse(request, "home.html", {"shop": shop, "products": page.items})


@router.get("/m/{merchant}/products/{product_id}", response_class=HTMLResponse)
async def product(request: Request, merchant: str, product_id: int, session: SessionDep) -> HTMLResponse:
    shop = await merchants.merchant_by_slug(session, merchant)
    detail = await catalog.product_detail(session, shop.id, product_id, shopper_view=True)
    return templates.TemplateResponse(request, "product.html", {"shop": shop, "product": detail})


@router.get("/s/{code}", response_class=HTMLResponse)
async def share_landing(request: Request, code: str, session: SessionDep, runtime: RuntimeDep) -> HTMLResponse:
    """A share link opened in a browser: the click is recorded, then the shared record's page (a group, a bargain
    …) or the shared product is shown."""
    landing = await sharing.land(session, runtime, code, None)
    share, _ = await sharing.resolve(session, runtime.settings, code)
    shop = await merchants.merchant_by_id(session, share.merchant_id)
    if (page := PAGES_BY_TARGET.get(landing.target_type)) is not None:
        return await _render(request, session, runtime.clock, shop, page, landing.target_id,
                             sharer=landing.sharer.nickname)
    detail = None
    if landing.target_type == "product":
        with contextlib.suppress(NotFound):  # taken off sale since it was shared: still land in the mall
            detail = await catalog.product_detail(session, shop.id, landing.target_id, shopper_view=True)
    return templates.TemplateResponse(request, "product.html", {
        "shop": shop, "product": detail, "sharer": landing.sharer.nickname, "share_code": code,
        "gone": landing.target_type == "product" and detail is None})


async def _render(request: Request, session: AsyncSession, clock: Clock, shop: Merchant, page: Page, record_id: int,
                  sharer: str | None = None) -> HTMLResponse:
    context = await page.load(session, clock, shop.id, record_id)
    return templates.TemplateResponse(request, page.template, {"shop": shop, "sharer": sharer, **context})


PAGES_BY_TARGET: dict[str, Page] = {}
"""Share target type -> the mechanic's page, for the mechanics that have one."""


def _mechanic_page(page: Page) -> None:
    async def show(request: Request, merchant: str, record_id: int, session: SessionDep,
                   clock: ClockDep) -> HTMLResponse:
        shop = await merchants.merchant_by_slug(session, merchant)
        return await _render(request, session, clock, shop, page, record_id)

    router.add_api_route(f"/m/{{merchant}}/{page.path}/{{record_id}}", show, methods=["GET"],
                         response_class=HTMLResponse, name=f"{page.path}_page")


for _mechanic in MECHANICS:
    if _mechanic.page is not None and _mechanic.share_target is not None:
        PAGES_BY_TARGET[_mechanic.share_target.target_type] = _mechanic.page
        _mechanic_page(_mechanic.page)
