"""Every query about merchants, stores and staff."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.auth import Failures, StaffStanding
from fissionmall.db.sql import Prebuilt, table
from fissionmall.merchants.models import AuditEntry, LoginFailure, Merchant, Staff, Store


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


_STANDING = select(Staff.merchant_id, Staff.role, Staff.active, Staff.session_version).where(
    Staff.id == bindparam("staff_id"))


async def staff_standing(session: AsyncSession, staff_id: int) -> StaffStanding | None:
    """One read by primary key, made on every staff request."""
    row = (await session.execute(_STANDING, dict(staff_id=staff_id))).first()
    return StaffStanding(*row) if row else None


async def end_sessions(session: AsyncSession, staff_id: int) -> None:
    """Raise the session version: every token issued before is refused from the next request on."""
    await session.execute(update(Staff).where(Staff.id == staff_id)
                          .values(session_version=Staff.session_version + 1))


async def add_audit_entry(session: AsyncSession, entry: AuditEntry) -> None:
    session.add(entry)
    await session.flush()


async def audit_entries(session: AsyncSession, merchant_id: int, *, staff_id: int | None, action: str | None,
                        since: datetime | None, until: datetime | None, before_id: int | None,
                        limit: int) -> list[tuple[AuditEntry, str | None]]:
    """Newest first, one keyset page (served by the merchant's id, staff or action index)."""
    statement = (select(AuditEntry, Staff.username).outerjoin(Staff, Staff.id == AuditEntry.staff_id)
                 .where(AuditEntry.merchant_id == merchant_id).order_by(AuditEntry.id.desc()).limit(limit))
    if staff_id is not None:
        statement = statement.where(AuditEntry.staff_id == staff_id)
    if action is not None:
        statement = statement.where(AuditEntry.action == action)
    if since is not None:
        statement = statement.where(AuditEntry.occurred_at >= since)
    if until is not None:
        statement = statement.where(AuditEntry.occurred_at < until)
    if before_id is not None:
        statement = statement.where(AuditEntry.id < before_id)
    return [(entry, username) for entry, username in await session.execute(statement)]


async def login_failures(session: AsyncSession, merchant_id: int, keys: Sequence[str]) -> dict[str, Failures]:
    statement = select(LoginFailure.key, LoginFailure.failures, LoginFailure.last_failed_at).where(
        LoginFailure.merchant_id == merchant_id, LoginFailure.key.in_(keys))
    return {key: Failures(count, at) for key, count, at in await session.execute(statement)}


_FAILURES = table(LoginFailure)


def _failing(insert: Any) -> Any:
    new = insert(_FAILURES).values(merchant_id=bindparam("merchant_id"), key=bindparam("key"), failures=1,
                                   last_failed_at=bindparam("now"))
    restart = _FAILURES.c.last_failed_at < bindparam("forget_before", type_=_FAILURES.c.last_failed_at.type)
    return new.on_conflict_do_update(
        index_elements=[_FAILURES.c.merchant_id, _FAILURES.c.key],
        set_={"failures": case((restart, 1), else_=_FAILURES.c.failures + 1),
              "last_failed_at": new.excluded.last_failed_at})


_FAIL = Prebuilt(_failing)


async def count_login_failures(session: AsyncSession, merchant_id: int, keys: Sequence[str], now: datetime,
                               forget_before: datetime) -> None:
    """One upsert per key: concurrent failures each count; one after a quiet spell starts again at 1."""
    await session.execute(_FAIL(session), [dict(merchant_id=merchant_id, key=key, now=now,
                                                forget_before=forget_before) for key in keys])


async def forget_login_failures(session: AsyncSession, merchant_id: int, key: str) -> None:
    await session.execute(delete(LoginFailure).where(LoginFailure.merchant_id == merchant_id,
                                                     LoginFailure.key == key))
