"""Shopper H5 pages, server-rendered: the mall's front, a product with its live campaigns, and the landing of a
share link."""

from __future__ import annotations

import contextlib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns import service as campaigns
from fissionmall.campaigns.mechanic import Page
from fissionmall.catalog import service as catalog
from fissionmall.community import service as community
from fissionmall.core.clock import Clock
from fissionmall.core.deps import ClockDep, ReplicaSessionDep, SessionDep, SettingsDep
from fissionmall.core.errors import NotFound
from fissionmall.core.runtime import RuntimeDep
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.mechanics import MECHANICS
from fissionmall.merchants import service as merchants
from fissionmall.recommend import service as recommend
from fissionmall.sharing import service as sharing
from fissionmall.web import campaign_pages
from fissionmall.web.session import VisitorDep, remember_share, visitor_of
from fissionmall.web.templating import Visitor, render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)


@router.get("/")
async def front(settings: SettingsDep, merchant: str | None = None) -> Response:
    """The server's front door: the default shop (or the one named), whose pages all live under /m/{slug}."""
    slug = merchant if merchant and merchant.isascii() and merchant.replace("-", "").isalnum() else None
    return RedirectResponse(f"/m/{slug or settings.default_merchant}", status_code=307)


@router.get("/m/{merchant}", response_class=HTMLResponse)
async def home(request: Request, seen: VisitorDep, session: ReplicaSessionDep, clock: ClockDep) -> HTMLResponse:
    page = await catalog.list_products(session, seen.shop.id, cursor=None, limit=50, category_id=None)
    live = await campaigns.live_in_shop(session, seen.shop.id, clock)
    picks = await recommend.for_home(session, seen.shop.id, _customer(seen), clock.now(), recommend.ON_A_PAGE)
    return render(request, "home.html", seen, {"products": page.items, "campaigns": live, "tab": "home",
                                               "recommendations": picks})


def _customer(seen: Visitor) -> int | None:
    return seen.shopper.customer_id if seen.shopper else None


@router.get("/m/{merchant}/products/{product_id}", response_class=HTMLResponse)
async def product(request: Request, product_id: int, seen: VisitorDep, session: ReplicaSessionDep,
                  clock: ClockDep) -> HTMLResponse:
    return render(request, "product.html", seen, await _product(session, clock, seen, product_id))


async def _product(session: AsyncSession, clock: Clock, seen: Visitor, product_id: int) -> dict[str, Any]:
    detail = await catalog.product_detail(session, seen.shop.id, product_id, shopper_view=True)
    live = await campaigns.live_for_product(session, seen.shop.id, product_id, clock)
    reviews = await community.of_product(session, seen.shop.id, product_id)
    picks = await recommend.for_product(session, seen.shop.id, _customer(seen), product_id, clock.now(),
                                        recommend.ON_A_PAGE)
    return {"product": detail, "campaigns": live, "reviews": reviews, "tab": "home",
            "open_groups": await campaign_pages.open_groups(session, clock, seen.shop.id, live),
            "recommendations": picks}


@router.get("/s/{code}", response_class=HTMLResponse)
async def share_landing(request: Request, code: str, session: SessionDep, runtime: RuntimeDep) -> Response:
    """A share link opened in a browser: the click is recorded, the link remembered for the sign-in and order that
    may follow (attribution), then the shared record's page (a group, a bargain …) or the shared product is shown."""
    landing = await sharing.land(session, runtime, code, None)
    share, _ = await sharing.resolve(session, runtime.settings, code)
    shop = await merchants.merchant_by_id(session, share.merchant_id)
    seen = await visitor_of(request, session, shop.slug)
    sharer = landing.sharer.nickname
    response: Response
    if (page := PAGES_BY_TARGET.get(landing.target_type)) is not None:
        response = await _render(request, session, runtime.clock, seen, page, landing.target_id, sharer=sharer)
    elif landing.target_type == "product":
        context: dict[str, Any] = {"sharer": sharer, "gone": True}
        with contextlib.suppress(NotFound):  # taken off sale since it was shared: still land in the mall
            context = {**await _product(session, runtime.clock, seen, landing.target_id), "sharer": sharer}
        response = render(request, "product.html", seen, context)
    else:  # a show-off card (money saved, a check-in streak): what the card says, and the way into the mall
        facts = await sharing.facts_of(session, runtime.clock, share)
        response = render(request, "shared.html", seen, {"sharer": sharer, "facts": facts, "code": code})
    remember_share(response, runtime.settings, code)
    return response


async def _render(request: Request, session: AsyncSession, clock: Clock, seen: Visitor, page: Page, record_id: int,
                  sharer: str | None = None) -> HTMLResponse:
    context = await page.load(session, clock, seen.shop.id, record_id)
    return render(request, page.template, seen, {"sharer": sharer, **context})


PAGES_BY_TARGET: dict[str, Page] = {}
"""Share target type -> the mechanic's page, for the mechanics that have one."""


def _mechanic_page(page: Page) -> None:
    async def show(request: Request, record_id: int, seen: VisitorDep, session: SessionDep,
                   clock: ClockDep) -> HTMLResponse:
        return await _render(request, session, clock, seen, page, record_id)

    router.add_api_route(f"/m/{{merchant}}/{page.path}/{{record_id}}", show, methods=["GET"],
                         response_class=HTMLResponse, name=f"{page.path}_page")


for _mechanic in MECHANICS:
    if _mechanic.page is not None and _mechanic.share_target is not None:
        PAGES_BY_TARGET[_mechanic.share_target.target_type] = _mechanic.page
        _mechanic_page(_mechanic.page)
