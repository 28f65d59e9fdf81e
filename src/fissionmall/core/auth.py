"""Who is calling: a shopper of one merchant, or a merchant's staff member with a role."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from secrets import token_hex
from typing import Any, Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.config import Settings
from fissionmall.core.errors import Forbidden, Unauthorized
from fissionmall.core.tokens import read_token, sign_token

_hasher = PasswordHasher()

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "owner": frozenset({"catalog.write", "orders.read", "orders.ship", "orders.adjust", "refunds.decide",
                        "payouts.decide", "merchant.write", "staff.write", "reviews.moderate", "audit.read"}),
    "operator": frozenset({"catalog.write", "orders.read", "orders.ship", "orders.adjust", "reviews.moderate"}),
    "finance": frozenset({"orders.read", "refunds.decide", "payouts.decide", "audit.read"}),
    "support": frozenset({"orders.read", "orders.ship", "reviews.moderate"}),
}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def no_account_hash() -> str:
    """A hash of no one's password, made once: a sign-in for an account that does not exist checks against it, so it
    takes as long as one that does and the answer's timing does not tell which usernames exist."""
    return hash_password(token_hex(16))


@dataclass(frozen=True)
class Shopper:
    customer_id: int
    merchant_id: int

    @property
    def principal(self) -> str:
        return f"customer:{self.customer_id}"


@dataclass(frozen=True)
class StaffMember:
    staff_id: int
    merchant_id: int
    role: str
    """As the staff row says now, not as it was at sign-in: a demotion applies to the very next request."""
    ip: str | None = None
    """The address the request came from (for the audit log)."""

    @property
    def principal(self) -> str:
        return f"staff:{self.staff_id}"

    def can(self, permission: str) -> bool:
        return permission in ROLE_PERMISSIONS.get(self.role, frozenset())


@dataclass(frozen=True)
class StaffStanding:
    """What a staff token is checked against on every request, read from the staff row."""

    merchant_id: int
    role: str
    active: bool
    session_version: int
    """Raised whenever the member's sessions must end (disabled, demoted, new password, signed out); a token carries
    the version it was issued under."""


class StaffStandings(Protocol):
    """Reads a staff member's standing by primary key (None when no such row); the merchants domain provides it."""

    async def __call__(self, session: AsyncSession, staff_id: int) -> StaffStanding | None: ...


@dataclass(frozen=True)
class Failures:
    """Failed sign-ins counted under one key (an account or a source address)."""

    count: int
    last_at: datetime


class LoginThrottle(Protocol):
    """Where failed staff sign-ins are counted; the merchants domain provides it (in Redis or the database)."""

    async def failures(self, session: AsyncSession, merchant_id: int, keys: Sequence[str]) -> list[Failures | None]:
        """The recent failures of each key, in order."""

    async def failed(self, session: AsyncSession, merchant_id: int, keys: Sequence[str], now: datetime) -> None:
        """One more failure for each key (the first after a quiet `merchants.rules.FORGET_AFTER` counts as the first
        again)."""

    async def forget(self, session: AsyncSession, merchant_id: int, key: str) -> None: ...

    async def close(self) -> None: ...


def issue_token(settings: Settings, claims: dict[str, Any], *, now: datetime, ttl_seconds: int | None = None) -> str:
    ttl = timedelta(seconds=ttl_seconds or settings.token_ttl_seconds)
    return sign_token(settings.signing_keys, claims, now=now, ttl=ttl)


def bearer_claims(request: Request, audience: str) -> dict[str, Any] | None:
    """The claims of the request's bearer token when it is genuine, unexpired and meant for `audience`."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return _claims(request, token, audience)


def _claims(request: Request, token: str, audience: str) -> dict[str, Any] | None:
    runtime = request.app.state.runtime
    claims = read_token(runtime.settings.signing_keys, token, now=runtime.clock.now())
    return claims if claims and claims.get("aud") == audience else None


SHOPPER_COOKIE = "fm_shopper"
"""The shopper pages' session: the same signed token the API hands out, kept in an HttpOnly, SameSite=Lax cookie."""
STAFF_COOKIE = "fm_staff"
"""The merchant console's session: the staff token, in an HttpOnly, SameSite=Strict cookie (no link from another
site arrives signed in to the console)."""
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_token(settings: Settings, session_token: str) -> str:
    """The value a page sends back with every state-changing request made with the session cookie: bound to that
    session, so another site, which can make the browser send the cookie but cannot read the page, cannot know it."""
    return hmac.new(f"csrf:{settings.signing_keys.current}".encode(), session_token.encode(),
                    hashlib.sha256).hexdigest()[:32]


def cookie_shopper(request: Request) -> Shopper | None:
    """The shopper of the pages' session cookie, whatever the method (the pages read it; the API checks CSRF)."""
    token = request.cookies.get(SHOPPER_COOKIE)
    claims = _claims(request, token, "shopper") if token else None
    return Shopper(int(claims["sub"]), int(claims["mid"])) if claims else None


def cookie_staff_claims(request: Request) -> dict[str, Any] | None:
    """The claims of the console's session cookie when it is genuine (its standing is checked by `staff_of`)."""
    token = request.cookies.get(STAFF_COOKIE)
    return _claims(request, token, "staff") if token else None


_SESSION_COOKIES = {"shopper": SHOPPER_COOKIE, "staff": STAFF_COOKIE}


def presents(request: Request, audience: str) -> bool:
    """Whether the request carries a genuine credential for `audience`: a bearer token, or the session cookie of the
    shopper pages or of the console (whose CSRF check comes with the shopper's or staff member's dependency)."""
    if bearer_claims(request, audience) is not None:
        return True
    token = request.cookies.get(_SESSION_COOKIES[audience])
    return token is not None and _claims(request, token, audience) is not None


def _check_csrf(request: Request, cookie: str) -> None:
    """A state-changing request made with a session cookie must carry the session's CSRF token in X-CSRF-Token,
    which a cross-site form cannot send."""
    if request.method in SAFE_METHODS:
        return
    expected = csrf_token(request.app.state.runtime.settings, request.cookies[cookie])
    if not hmac.compare_digest(request.headers.get(CSRF_HEADER, ""), expected):
        raise Forbidden("csrf_failed", "a request made with the session cookie must carry its X-CSRF-Token")


# Dependencies are coroutines: FastAPI runs a plain function in a worker thread, a hop per request for no gain.

async def optional_shopper(request: Request) -> Shopper | None:
    """The bearer token's shopper (apps, mini-programs), or the session cookie's (the shopper pages' scripts): a
    state-changing request made with the cookie must carry the session's CSRF token in X-CSRF-Token, which a
    cross-site form cannot send."""
    claims = bearer_claims(request, "shopper")
    if claims:
        return Shopper(int(claims["sub"]), int(claims["mid"]))
    shopper = cookie_shopper(request)
    if shopper is not None:
        _check_csrf(request, SHOPPER_COOKIE)
    return shopper


async def current_shopper(request: Request) -> Shopper:
    shopper = await optional_shopper(request)
    if shopper is None:
        raise Unauthorized("unauthenticated", "a valid shopper token is required")
    return shopper


async def current_staff(request: Request) -> StaffMember:
    """A genuine staff token (bearer, or the console's session cookie with its CSRF token on a state-changing
    request) whose session still stands."""
    claims = bearer_claims(request, "staff")
    if claims is None and (claims := cookie_staff_claims(request)) is not None:
        _check_csrf(request, STAFF_COOKIE)
    if claims is None:
        raise Unauthorized("unauthenticated", "a valid staff token is required")
    return await staff_of(request, claims)


async def staff_of(request: Request, claims: dict[str, Any]) -> StaffMember:
    """The staff member of genuine claims whose session still stands: the staff row (one read by primary key, in the
    request's transaction) is active and has the session version the token was issued under, so a disabled account
    loses access at its next request. The role comes from the row."""
    staff_id = int(claims["sub"])
    standing = await request.app.state.runtime.staff_standing(request.state.session, staff_id)
    if (standing is None or not standing.active or standing.session_version != claims.get("sv")
            or standing.merchant_id != claims.get("mid")):
        raise Unauthorized("session_revoked", "this staff session has ended; sign in again")
    member = StaffMember(staff_id, standing.merchant_id, standing.role,
                         ip=request.client.host if request.client else None)
    request.state.staff = member  # who the audit log names for this request's write
    return member


def staff_with(permission: str) -> Callable[..., Awaitable[StaffMember]]:
    """Dependency: the caller is staff whose role grants `permission`."""

    async def check(staff: StaffMember = Depends(current_staff)) -> StaffMember:
        if not staff.can(permission):
            raise Forbidden("forbidden", f"role {staff.role} may not {permission}")
        return staff

    check.permission = permission  # type: ignore[attr-defined]  # read by route_permission
    return check


def route_permission(dependant: Any) -> str | None:
    """The permission a route's staff dependency demands (None for any staff member or no staff at all): the
    console's role matrix is checked against it."""
    for dependency in dependant.dependencies:
        found = getattr(dependency.call, "permission", None) or route_permission(dependency)
        if found:
            return str(found)
    return None
