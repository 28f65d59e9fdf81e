"""Staff login and merchant settings."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.auth import StaffMember, issue_token, verify_password
from fissionmall.core.errors import NotFound
from fissionmall.merchants import errors, repository
from fissionmall.merchants.models import Merchant, Store
from fissionmall.merchants.schemas import MerchantSettings, StaffLogin, StoreIn, TokenOut


async def merchant_by_slug(session: AsyncSession, slug: str) -> Merchant:
    merchant = await repository.merchant_by_slug(session, slug)
    if merchant is None:
        raise errors.merchant_not_found(slug)
    return merchant


async def merchant_by_id(session: AsyncSession, merchant_id: int) -> Merchant:
    return await repository.merchant_by_id(session, merchant_id)


async def staff_login(session: AsyncSession, runtime: Any, body: StaffLogin) -> TokenOut:
    merchant = await repository.merchant_by_slug(session, body.merchant_slug)
    staff = merchant and await repository.staff_by_username(session, merchant.id, body.username)
    if not staff or not staff.active or not verify_password(staff.password_hash, body.password):
        raise errors.bad_credentials()
    token = issue_token(runtime, {"aud": "staff", "sub": str(staff.id), "mid": staff.merchant_id,
                                  "role": staff.role})
    return TokenOut(token=token, expires_in=runtime.settings.token_ttl_seconds)


async def update_settings(session: AsyncSession, staff: StaffMember, body: MerchantSettings) -> Merchant:
    merchant = await repository.merchant_by_id(session, staff.merchant_id)
    for field, value in body.model_dump(exclude_unset=True).items():
        setattr(merchant, field, value)
    await session.flush()
    return merchant


async def require_store(session: AsyncSession, merchant_id: int, store_id: int) -> Store:
    store = await repository.store_of(session, merchant_id, store_id)
    if store is None:
        raise NotFound("store_not_found", f"no store {store_id}")
    return store


async def add_store(session: AsyncSession, staff: StaffMember, body: StoreIn) -> Store:
    store = Store(merchant_id=staff.merchant_id, **body.model_dump())
    session.add(store)
    await session.flush()
    return store


async def update_store(session: AsyncSession, staff: StaffMember, store_id: int, body: StoreIn) -> Store:
    store = await require_store(session, staff.merchant_id, store_id)
    for field, value in body.model_dump().items():
        setattr(store, field, value)
    await session.flush()
    return store


async def list_stores(session: AsyncSession, merchant_id: int) -> list[Store]:
    return await repository.stores_of(session, merchant_id)
