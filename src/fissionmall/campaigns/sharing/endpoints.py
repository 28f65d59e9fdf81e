from __future__ import annotations

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns.sharing import service
from fissionmall.campaigns.sharing.schemas import ShareIn, ShareLanding, ShareOut
from fissionmall.core.auth import Shopper, current_shopper, optional_shopper
from fissionmall.core.idempotency import run_idempotent
from fissionmall.db.session import TransactionalRoute, get_session

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: sharing"])

PNG_CACHE = {"Cache-Control": "public, max-age=3600"}
POSTER_CACHE = "public, max-age=300, must-revalidate"
"""A poster's address stays while what it shows may change (a price): kept briefly, then revalidated by ETag."""


@router.post("/shares", response_model=ShareOut, status_code=201)
async def create_share(body: ShareIn, request: Request, shopper: Shopper = Depends(current_shopper),
                       session: AsyncSession = Depends(get_session)):
    runtime = request.app.state.runtime
    return await run_idempotent(request, session, principal=shopper.principal, body=body, now=runtime.clock.now(),
                                status_code=201, action=lambda: service.create_share(session, runtime, shopper, body))


@router.get("/shares/{code}", response_model=ShareLanding)
async def open_share(code: str, request: Request, visitor: Shopper | None = Depends(optional_shopper),
                     session: AsyncSession = Depends(get_session)):
    """The landing of a share link: records the click and says what to show."""
    return await service.land(session, request.app.state.runtime, code, visitor)


@router.get("/shares/{code}/qr.png", response_class=Response)
async def share_qr(code: str, request: Request, session: AsyncSession = Depends(get_session)):
    png = await service.qr_png(session, request.app.state.runtime, code)
    return Response(png, media_type="image/png", headers=PNG_CACHE)


@router.get("/shares/{code}/poster.png", response_class=Response)
async def share_poster(code: str, request: Request, session: AsyncSession = Depends(get_session)):
    key, path = await service.poster_png(session, request.app.state.runtime, code)
    headers = {"ETag": f'"{key}"', "Cache-Control": POSTER_CACHE}
    if f'"{key}"' in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(await anyio.Path(path).read_bytes(), media_type="image/png", headers=headers)
