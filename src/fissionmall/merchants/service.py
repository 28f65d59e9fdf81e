"""Staff login and merchant settings."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import anyio.to_thread
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.config import Settings
from fissionmall.core.audit import mark_audited, note_before
from fissionmall.core.auth import (
    Shopper,
    StaffMember,
    hash_password,
    issue_token,
    no_account_hash,
    verify_password,
)
from fissionmall.core.errors import Conflict, NotFound
from fissionmall.core.pagination import parse_cursor
from fissionmall.core.runtime import Runtime
from fissionmall.db.sql import add_unique
from fissionmall.merchants import errors, repository
from fissionmall.merchants.models import AuditEntry, Merchant, Staff, Store
from fissionmall.merchants.rules import FREE_FAILURES_PER_ACCOUNT, FREE_FAILURES_PER_ADDRESS, seconds_left
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


async def audit(session: AsyncSession, now: datetime, *, merchant_id: int, staff_id: int | None, ip: str | None,
                action: str, subject: str, detail: dict[str, Any] | None = None) -> None:
    """One row of the merchant's audit log, in `session`'s transaction, for what the generic row of a staff write
    (`core/audit.py`) cannot say: sign-ins, and staff changes with their standing before and after."""
    mark_audited(session)
    await repository.add_audit_entry(session, AuditEntry(
        merchant_id=merchant_id, staff_id=staff_id, action=action, subject=subject, detail=detail or {},
        source_ip=ip, occurred_at=now))


NO_MERCHANT = 0
"""Where sign-ins naming no existing merchant are counted."""


async def staff_login(session: AsyncSession, runtime: Runtime, body: StaffLogin, ip: str | None) -> TokenOut:
    """Failures are counted per account and per source address, each with its own back-off; while either waits, even
    the right password is refused. An account that does not exist is checked against a stand-in hash, so every
    refusal takes as long as a wrong password."""
    merchant = await repository.merchant_by_slug(session, body.merchant_slug)
    merchant_id = merchant.id if merchant else NO_MERCHANT
    staff = merchant and await repository.staff_by_username(session, merchant.id, body.username)
    staff_id = staff.id if staff else None
    keys = [f"account:{body.username}", f"address:{ip}"]
    now = runtime.clock.now()
    account, address = await runtime.login_throttle.failures(session, merchant_id, keys)
    waits = {"account": seconds_left(account, FREE_FAILURES_PER_ACCOUNT, now),
             "address": seconds_left(address, FREE_FAILURES_PER_ADDRESS, now)}
    scope = max(waits, key=lambda name: waits[name])
    if waits[scope]:
        await _login_failed(session, runtime, merchant_id, staff_id, body.username, ip, "throttled", counted=[])
        raise errors.login_throttled(scope, waits[scope])
    # argon2 takes tens of milliseconds of CPU on purpose: in a thread, so a burst of sign-ins (or guesses) does
    # not stall every other request of this process
    matches = await anyio.to_thread.run_sync(verify_password, staff.password_hash if staff else no_account_hash(),
                                             body.password)
    if not (staff and matches and staff.active):
        reason = "unknown_account" if not staff else "wrong_password" if not matches else "inactive"
        await _login_failed(session, runtime, merchant_id, staff_id, body.username, ip, reason, counted=keys)
        raise errors.bad_credentials()
    await runtime.login_throttle.forget(session, merchant_id, keys[0])
    await audit(session, now, merchant_id=merchant_id, staff_id=staff.id, ip=ip, action="staff.login",
                subject=body.username)
    ttl = runtime.settings.staff_token_ttl_seconds
    return TokenOut(token=staff_token(runtime.settings, now, staff, ttl), expires_in=ttl)


def staff_token(settings: Settings, now: datetime, staff: Staff, ttl_seconds: int) -> str:
    """Who, in which mall, under which session version: the token stands only while the row's version is the same."""
    return issue_token(settings, {"aud": "staff", "sub": str(staff.id), "mid": staff.merchant_id,
                                  "sv": staff.session_version}, now=now, ttl_seconds=ttl_seconds)


async def _login_failed(session: AsyncSession, runtime: Runtime, merchant_id: int, staff_id: int | None, username: str,
                        ip: str | None, reason: str, *, counted: list[str]) -> None:
    """The refused sign-in's request rolls back, so its failure is counted and logged in a transaction of its own.
    The request's transaction ends first: a sign-in never holds two pooled connections at once. (The one service
    that commits: what it writes must outlive the request's rollback.)"""
    await session.rollback()
    now = runtime.clock.now()
    async with runtime.sessionmaker() as own:
        if counted:
            await runtime.login_throttle.failed(own, merchant_id, counted, now)
        if merchant_id != NO_MERCHANT:
            await audit(own, now, merchant_id=merchant_id, staff_id=staff_id, ip=ip, action="staff.login_failed",
                        subject=username, detail={"reason": reason})
        await own.commit()


async def staff_logout(session: AsyncSession, now: datetime, staff: StaffMember) -> None:
    """Signing out ends every session of this member (all devices): tokens carry no id of their own to revoke."""
    await repository.end_sessions(session, staff.staff_id)
    await audit(session, now, merchant_id=staff.merchant_id, staff_id=staff.staff_id, ip=staff.ip,
                action="staff.logout", subject=f"staff:{staff.staff_id}")


async def update_settings(session: AsyncSession, staff: StaffMember, body: MerchantSettings) -> Merchant:
    merchant = await repository.merchant_by_id(session, staff.merchant_id)
    changes = body.model_dump(exclude_unset=True)
    note_before(session, {field: getattr(merchant, field) for field in changes})
    for field, value in changes.items():
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
    note_before(session, {field: getattr(store, field) for field in StoreIn.model_fields})
    for field, value in body.model_dump().items():
        setattr(store, field, value)
    await session.flush()
    return store


async def list_stores(session: AsyncSession, merchant_id: int) -> list[Store]:
    return await repository.stores_of(session, merchant_id)


async def list_staff(session: AsyncSession, merchant_id: int) -> list[Staff]:
    return await repository.staff_of(session, merchant_id)


def _standing(staff: Staff) -> dict[str, Any]:
    """What the audit log shows of a staff member: never the password or its hash."""
    return {"username": staff.username, "role": staff.role, "active": staff.active}


async def add_staff(session: AsyncSession, now: datetime, owner: StaffMember, body: StaffIn) -> Staff:
    staff = Staff(merchant_id=owner.merchant_id, username=body.username, role=body.role,
                  password_hash=hash_password(body.password))
    if not await add_unique(session, staff):
        raise Conflict("username_taken", f"staff user {body.username!r} exists")
    await audit(session, now, merchant_id=owner.merchant_id, staff_id=owner.staff_id, ip=owner.ip,
                action="staff.create", subject=f"staff:{staff.id}", detail={"after": _standing(staff)})
    return staff


async def staff_member(session: AsyncSession, merchant_id: int, staff_id: int) -> Staff:
    staff = await repository.staff_member(session, merchant_id, staff_id)
    if staff is None:
        raise NotFound("staff_not_found", f"no staff member {staff_id}")
    return staff


async def update_staff(session: AsyncSession, now: datetime, owner: StaffMember, staff_id: int,
                       body: StaffPatch) -> Staff:
    """Owners manage staff; an owner cannot demote or disable themselves (someone must stay in charge). Any change
    (role, active, password) ends the member's sessions, so it applies from their very next request."""
    staff = await staff_member(session, owner.merchant_id, staff_id)
    if staff.id == owner.staff_id and (body.active is False or body.role not in (None, "owner")):
        raise Conflict("cannot_demote_self", "an owner cannot disable or demote themselves")
    before = _standing(staff)
    if body.role is not None:
        staff.role = body.role
    if body.active is not None:
        staff.active = body.active
    if body.password is not None:
        staff.password_hash = hash_password(body.password)
    await session.flush()
    after = _standing(staff)
    if after == before and body.password is None:
        mark_audited(session)  # nothing changed: nothing to log
        return staff
    await repository.end_sessions(session, staff.id)
    detail: dict[str, Any] = {"before": before, "after": after}
    if body.password is not None:
        detail["password_changed"] = True
    await audit(session, now, merchant_id=owner.merchant_id, staff_id=owner.staff_id, ip=owner.ip,
                action="staff.update", subject=f"staff:{staff.id}", detail=detail)
    return staff


async def merchant_for_visitor(session: AsyncSession, settings: Settings, shopper: Shopper | None,
                               slug: str | None) -> int:
    """Browsing needs no login: the shopper's token names the mall, else ?merchant=slug, else the default."""
    if shopper is not None:
        return shopper.merchant_id
    return (await merchant_by_slug(session, slug or settings.default_merchant)).id
