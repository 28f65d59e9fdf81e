"""Staff login and merchant settings."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.auth import Shopper, StaffMember, hash_password, issue_token, verify_password
from fissionmall.core.errors import Conflict, NotFound
from fissionmall.core.pagination import parse_cursor
from fissionmall.db.sql import add_unique
from fissionmall.merchants import errors, repository
from fissionmall.merchants.models import Merchant, Staff, Store
from fissionmall.merchants.schemas import (
    MerchantCreate,
    MerchantSettings,
    StaffIn,
    StaffLogin,
    StaffPatch,
    StoreIn,
    TokenOut,
)


async def merchant_by_slug(session: AsyncSession, slug: str) -> Merchant:
    merchant = await repository.merchant_by_slug(session, slug)
    if merchant is None:
        raise errors.merchant_not_found(slug)
    return merchant


async def merchant_by_id(session: AsyncSession, merchant_id: int) -> Merchant:
    return await repository.merchant_by_id(session, merchant_id)


async def create_merchant(session: AsyncSession, now: datetime, body: MerchantCreate) -> tuple[Merchant, Staff]:
    """A new tenant with its owner: the one way a merchant comes to exist (operator command, platform API, demo).
    No store: orders do not need one, and the owner adds branches from the console."""
    merchant = Merchant(slug=body.slug, name=body.name, created_at=now)
    if not await add_unique(session, merchant):
        raise errors.merchant_slug_taken(body.slug)
    owner = Staff(merchant_id=merchant.id, username=body.owner_username, role="owner",
                  password_hash=hash_password(body.owner_password))
    session.add(owner)
    await session.flush()
    return merchant, owner


def generate_password() -> str:
    """A password for an owner who did not choose one: 24 URL-safe characters (144 random bits)."""
    return secrets.token_urlsafe(18)


async def merchant_page(session: AsyncSession, *, cursor: str | None, limit: int) -> tuple[list[Merchant], str | None]:
    merchants = await repository.merchant_page(session, after_id=parse_cursor(cursor) or 0, limit=limit)
    return merchants, str(merchants[-1].id) if len(merchants) == limit else None


async def staff_login(session: AsyncSession, runtime: Any, body: StaffLogin) -> TokenOut:
    merchant = await repository.merchant_by_slug(session, body.merchant_slug)
    staff = merchant and await repository.staff_by_username(session, merchant.id, body.username)
    if not staff or not staff.active or not verify_password(staff.password_hash, body.password):
        raise errors.bad_credentials()
    ttl = runtime.settings.staff_token_ttl_seconds
    token = issue_token(runtime, {"aud": "staff", "sub": str(staff.id), "mid": staff.merchant_id,
                                  "role": staff.role}, ttl_seconds=ttl)
    return TokenOut(token=token, expires_in=ttl)


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


async def list_staff(session: AsyncSession, merchant_id: int) -> list[Staff]:
    return await repository.staff_of(session, merchant_id)


async def add_staff(session: AsyncSession, owner: StaffMember, body: StaffIn) -> Staff:
    staff = Staff(merchant_id=owner.merchant_id, username=body.username, role=body.role,
                  password_hash=hash_password(body.password))
    if not await add_unique(session, staff):
        raise Conflict("username_taken", f"staff user {body.username!r} exists")
    return staff


async def update_staff(session: AsyncSession, owner: StaffMember, staff_id: int, body: StaffPatch) -> Staff:
    """Owners manage staff; an owner cannot demote or disable themselves (someone must stay in charge)."""
    staff = await repository.staff_member(session, owner.merchant_id, staff_id)
    if staff is None:
        raise NotFound("staff_not_found", f"no staff member {staff_id}")
    if staff.id == owner.staff_id and (body.active is False or body.role not in (None, "owner")):
        raise Conflict("cannot_demote_self", "an owner cannot disable or demote themselves")
    if body.role is not None:
        staff.role = body.role
    if body.active is not None:
        staff.active = body.active
    if body.password is not None:
        staff.password_hash = hash_password(body.password)
    await session.flush()
    return staff


async def merchant_for_visitor(session: AsyncSession, runtime: Any, shopper: Shopper | None, slug: str | None) -> int:
    """Browsing needs no login: the shopper's token names the mall, else ?merchant=slug, else the default."""
    if shopper is not None:
        return shopper.merchant_id
    return (await merchant_by_slug(session, slug or runtime.settings.default_merchant)).id
