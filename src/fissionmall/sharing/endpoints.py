from __future__ import annotations

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from fissionmall.core.deps import IdempotentDep, OptionalShopperDep, SessionDep, SettingsDep, ShopperDep
from fissionmall.core.runtime import RuntimeDep
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.sharing import service
from fissionmall.sharing.schemas import ShareIn, ShareLanding, ShareOut

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: sharing"])

PNG_CACHE = {"Cache-Control": "public, max-age=3600"}
POSTER_CACHE = "public, max-age=300, must-revalidate"
"""A poster's address stays while what it shows may change (a price): kept briefly, then revalidated by ETag."""


@router.post("/shares", response_model=ShareOut, status_code=201)
async def create_share(body: ShareIn, shopper: ShopperDep, session: SessionDep, idempotent: IdempotentDep,
                       runtime: RuntimeDep) -> ShareOut | JSONResponse:
    return await idempotent(lambda: service.create_share(session, runtime, shopper, body), by=shopper, body=body,
                            status_code=201)


@router.get("/shares/{code}", response_model=ShareLanding)
async def open_share(code: str, session: SessionDep, runtime: RuntimeDep, visitor: OptionalShopperDep) -> ShareLanding:
    """The landing of a share link: records the click and says what to show."""
    return await service.land(session, runtime, code, visitor)


@router.get("/shares/{code}/qr.png", response_class=Response)
async def share_qr(code: str, session: SessionDep, settings: SettingsDep) -> Response:
    png = await service.qr_png(session, settings, code)
    return Response(png, media_type="image/png", headers=PNG_CACHE)


@router.get("/shares/{code}/poster.png", response_class=Response)
async def share_poster(code: str, request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    """The share's poster (750×1200 PNG), drawn from what its target shows now: a campaign's price and
    progress, or a show-off card (money saved on an order, a group that succeeded, a check-in streak)."""
    key, path = await service.poster_png(session, runtime, code)
    headers = {"ETag": f'"{key}"', "Cache-Control": POSTER_CACHE}
    if f'"{key}"' in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(await anyio.Path(path).read_bytes(), media_type="image/png", headers=headers)
