"""Every query about merchants, stores and staff."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.merchants.models import Merchant, Staff, Store


async def merchant_by_slug(session: AsyncSession, slug: str) -> Merchant | None:
    return (await session.execute(select(Merchant).where(Merchant.slug == slug))).scalar_one_or_none()


_MERCHANT = select(Merchant).where(Merchant.id == bindparam("merchant_id"))


async def merchant_by_id(session: AsyncSession, merchant_id: int) -> Merchant:
    return (await session.execute(_MERCHANT, dict(merchant_id=merchant_id))).scalar_one()


async def merchant_page(session: AsyncSession, *, after_id: int, limit: int) -> list[Merchant]:
    statement = select(Merchant).where(Merchant.id > after_id).order_by(Merchant.id).limit(limit)
    return list((await session.execute(statement)).scalars())


async def staff_by_username(session: AsyncSession, merchant_id: int, username: str) -> Staff | None:
    statement = select(Staff).where(Staff.merchant_id == merchant_id, Staff.username == username)
    return (await session.execute(statement)).scalar_one_or_none()


async def stores_of(session: AsyncSession, merchant_id: int) -> list[Store]:
    statement = select(Store).where(Store.merchant_id == merchant_id).order_by(Store.id)
    return list((await session.execute(statement)).scalars())


async def store_of(session: AsyncSession, merchant_id: int, store_id: int) -> Store | None:
    statement = select(Store).where(Store.merchant_id == merchant_id, Store.id == store_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def staff_of(session: AsyncSession, merchant_id: int) -> list[Staff]:
    statement = select(Staff).where(Staff.merchant_id == merchant_id).order_by(Staff.id)
    return list((await session.execute(statement)).scalars())


async def staff_member(session: AsyncSession, merchant_id: int, staff_id: int) -> Staff | None:
    statement = select(Staff).where(Staff.merchant_id == merchant_id, Staff.id == staff_id)
    return (await session.execute(statement)).scalar_one_or_none()
