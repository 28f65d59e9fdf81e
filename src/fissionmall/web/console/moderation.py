"""Community moderation (社区审核): one queue for posts, comments and reviews (held by a keyword, or reported by enough
shoppers), oldest first; every post, comment or review, shown or hidden; hide one with a reason or show it, through
the merchant API (`POST /admin/moderation/{posts|comments|reviews}/{id}/hide|show`); and the moderation settings
(keywords, report threshold: `PUT /admin/community/settings`)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from fissionmall.catalog import service as catalog
from fissionmall.community import moderation
from fissionmall.core.deps import SessionDep
from fissionmall.core.errors import DomainError
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.merchants import service as merchants
from fissionmall.web.console.session import Console, console_page, render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)
Moderator = Annotated[Console, Depends(console_page("reviews.moderate"))]

PAGE = 20
VIEWS = {"queue": "待审核", "posts": "帖子", "comments": "评论", "reviews": "评价"}
ITEM_TYPES = {"posts": "post", "comments": "comment", "reviews": "review"}
PATHS = {"post": "posts", "comment": "comments", "review": "reviews"}
KIND_NAMES = {"post": "帖子", "comment": "评论", "review": "评价"}
CAUSES = {"keyword": "关键词拦截", "reports": "用户举报"}
SHOWN = {"shown": False, "hidden": True}


@router.get("/console/moderation", response_class=HTMLResponse)
async def moderation_page(request: Request, console: Moderator, session: SessionDep, view: str = "queue",
                          status: str = "", cursor: str | None = None) -> HTMLResponse:
    merchant_id = console.staff.merchant_id
    view = view if view in VIEWS else "queue"
    try:
        page = (await moderation.queue(session, merchant_id, cursor=cursor, limit=PAGE) if view == "queue" else
                await moderation.listing(session, merchant_id, ITEM_TYPES[view],  # type: ignore[arg-type]
                                         hidden=SHOWN.get(status), cursor=cursor, limit=PAGE))
    except DomainError:  # a cursor typed by hand: the first page
        page = await moderation.queue(session, merchant_id, limit=PAGE)
    titles = await catalog.titles_of(session, merchant_id, [i.product_id for i in page.items if i.product_id])
    members = {m.id: m.username for m in await merchants.list_staff(session, merchant_id)}
    return render(request, "console/moderation.html", console, {
        "section": "/console/moderation", "page": page, "titles": titles, "members": members, "views": VIEWS,
        "view": view, "status": status, "paths": PATHS, "kinds": KIND_NAMES, "causes": CAUSES,
        "waiting": await moderation.queue_size(session, merchant_id),
        "settings": await moderation.settings_of(session, merchant_id),
        "query": urlencode({"view": view, "status": status})})
