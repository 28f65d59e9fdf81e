from __future__ import annotations

import hashlib
import hmac

from fastapi import APIRouter, Depends, Query, Request

from fissionmall.core.deps import ClockDep, SessionDep, SettingsDep
from fissionmall.core.errors import Unauthorized
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.merchants import service
from fissionmall.merchants.schemas import MerchantCreate
from fissionmall.platform.schemas import (
    PlatformMerchantCreated,
    PlatformMerchantIn,
    PlatformMerchantOut,
    PlatformMerchantPage,
)

router = APIRouter(route_class=TransactionalRoute, tags=["platform"])


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def platform_operator(request: Request, settings: SettingsDep) -> None:
    """The caller holds PLATFORM_TOKEN. Compared as digests in constant time, so neither the token's content nor its
    length shows in the answer's timing; shopper and staff tokens are just other strings here."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    expected = settings.platform_token
    if not (expected and scheme.lower() == "bearer" and hmac.compare_digest(_digest(token), _digest(expected))):
        raise Unauthorized("unauthenticated", "the platform operator's token is required")


@router.post("/platform/merchants", response_model=PlatformMerchantCreated, status_code=201,
             dependencies=[Depends(platform_operator)])
async def create_merchant(body: PlatformMerchantIn, session: SessionDep, clock: ClockDep) -> PlatformMerchantCreated:
    """No Idempotency-Key: a replay would have to store the generated password; a repeat answers
    409 merchant_slug_taken instead."""
    password = body.owner_password or service.generate_password()
    merchant, owner = await service.create_merchant(session, clock.now(), MerchantCreate(
        slug=body.slug, name=body.name, owner_username=body.owner_username, owner_password=password))
    return PlatformMerchantCreated(id=merchant.id, slug=merchant.slug, name=merchant.name,
                                   created_at=merchant.created_at, owner_username=owner.username,
                                   owner_password=None if body.owner_password else password)


@router.get("/platform/merchants", response_model=PlatformMerchantPage, dependencies=[Depends(platform_operator)])
async def list_merchants(session: SessionDep, cursor: str | None = None,
                         limit: int = Query(20, ge=1, le=100)) -> PlatformMerchantPage:
    merchants, next_cursor = await service.merchant_page(session, cursor=cursor, limit=limit)
    return PlatformMerchantPage(items=[PlatformMerchantOut.model_validate(m, from_attributes=True) for m in merchants],
                                next_cursor=next_cursor)
