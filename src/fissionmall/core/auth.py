"""Who is calling: a shopper of one merchant, or a merchant's staff member with a role."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, Request

from fissionmall.core.errors import Forbidden, Unauthorized
from fissionmall.core.tokens import read_token, sign_token

_hasher = PasswordHasher()

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "owner": frozenset({"catalog.write", "orders.read", "orders.ship", "orders.adjust", "refunds.decide",
                        "payouts.decide", "merchant.write", "staff.write"}),
    "operator": frozenset({"catalog.write", "orders.read", "orders.ship", "orders.adjust"}),
    "finance": frozenset({"orders.read", "refunds.decide", "payouts.decide"}),
    "support": frozenset({"orders.read", "orders.ship"}),
}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


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

    @property
    def principal(self) -> str:
        return f"staff:{self.staff_id}"

    def can(self, permission: str) -> bool:
        return permission in ROLE_PERMISSIONS.get(self.role, frozenset())


def issue_token(runtime: Any, claims: dict[str, Any], *, ttl_seconds: int | None = None) -> str:
    ttl = timedelta(seconds=ttl_seconds or runtime.settings.token_ttl_seconds)
    return sign_token(runtime.settings.secret_key, claims, now=runtime.clock.now(), ttl=ttl)


def bearer_claims(request: Request, audience: str) -> dict[str, Any] | None:
    """The claims of the request's bearer token if its signature, expiry and audience hold; no database."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    runtime = request.app.state.runtime
    claims = read_token(runtime.settings.secret_key, token, now=runtime.clock.now())
    return claims if claims and claims.get("aud") == audience else None


# Dependencies are coroutines: FastAPI runs a plain function in a worker thread, a hop per request for no gain.

async def optional_shopper(request: Request) -> Shopper | None:
    claims = bearer_claims(request, "shopper")
    return Shopper(int(claims["sub"]), int(claims["mid"])) if claims else None


async def current_shopper(request: Request) -> Shopper:
    shopper = await optional_shopper(request)
    if shopper is None:
        raise Unauthorized("unauthenticated", "a valid shopper token is required")
    return shopper


async def current_staff(request: Request) -> StaffMember:
    claims = bearer_claims(request, "staff")
    if claims is None:
        raise Unauthorized("unauthenticated", "a valid staff token is required")
    return StaffMember(int(claims["sub"]), int(claims["mid"]), str(claims["role"]))


def staff_with(permission: str) -> Callable[..., Awaitable[StaffMember]]:
    """Dependency: the caller is staff whose role grants `permission`."""

    async def check(staff: StaffMember = Depends(current_staff)) -> StaffMember:
        if not staff.can(permission):
            raise Forbidden("forbidden", f"role {staff.role} may not {permission}")
        return staff

    return check
