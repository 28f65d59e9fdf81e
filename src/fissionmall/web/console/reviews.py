"""Reviews moderation (评价管理): the merchant's reviews newest first, filtered by shown/hidden, rating and product;
hide one with a reason, or show it again, through the merchant API (`POST /admin/reviews/{id}/hide|show`)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from fissionmall.catalog import service as catalog
from fissionmall.community import service as community
from fissionmall.core.deps import SessionDep
from fissionmall.core.pagination import row_id_in
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.merchants import service as merchants
from fissionmall.web.console.session import Console, console_page, render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
Moderator = Annotated[Console, Depends(console_page("reviews.moderate"))]

PAGE = 20
SHOWN = {"shown": False, "hidden": True}
"""The status filter's values: shown (not hidden) or hidden."""


@router.get("/console/reviews", response_class=HTMLResponse)
async def reviews(request: Request, console: Moderator, session: SessionDep, status: str = "", rating: str = "",
                  product_id: str = "", cursor: str | None = None) -> HTMLResponse:
    merchant_id = console.staff.merchant_id
    stars = row_id_in(rating)
    stars = stars if stars is not None and 1 <= stars <= 5 else None
    product = row_id_in(product_id)
    page = await community.for_moderation(session, merchant_id, hidden=SHOWN.get(status), rating=stars,
                                          product_id=product, cursor=cursor, limit=PAGE)
    titles = await catalog.titles_of(session, merchant_id, [r.product_id for r in page.items])
    members = {m.id: m.username for m in await merchants.list_staff(session, merchant_id)}
    query = urlencode({"status": status, "rating": rating, "product_id": product_id})
    return render(request, "console/reviews.html", console, {
        "section": "/console/reviews", "page": page, "titles": titles, "members": members, "query": query,
        "filters": {"status": status, "rating": rating, "product_id": product_id}})
