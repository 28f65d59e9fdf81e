from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from pydantic import BaseModel, Field


class Address(BaseModel):
    """Where goods are sent (收货地址): given with an order, or kept in the shopper's address book."""

    name: str = Field(min_length=1, max_length=30)
    phone: str = Field(pattern=r"^\+?[0-9\-]{5,20}$")
    region: str = Field(default="", max_length=60)
    detail: str = Field(min_length=1, max_length=200)


class SavedAddressIn(Address):
    is_default: bool = False
    """Make it the one checkout offers first; the shopper's first address is the default whatever this says."""


class SavedAddressOut(Address):
    id: int
    is_default: bool


class DevLogin(BaseModel):
    merchant_slug: str = Field(min_length=1, max_length=40)
    openid: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    nickname: str = Field(default="", max_length=64)
    share_code: str | None = Field(default=None, max_length=32)


class WechatLogin(BaseModel):
    merchant_slug: str = Field(min_length=1, max_length=40)
    code: str = Field(min_length=1, max_length=128)
    nickname: str = Field(default="", max_length=64)
    share_code: str | None = Field(default=None, max_length=32)


class ShopperToken(BaseModel):
    token: str
    expires_in: int
    customer_id: int
    is_new_customer: bool
    """True until the customer's first paid order."""


class CustomerOut(BaseModel):
    id: int
    nickname: str
    avatar_url: str
    inviter_id: int | None
    depth: int
    is_new_customer: bool
    created_at: datetime


DEVICE_COOKIE = "fm_device"
"""A random id the shopper pages give a browser once, standing for the app's X-Device-Id."""


@dataclass(frozen=True)
class ClientInfo:
    """What the request says of the client: the device id the app sends (X-Device-Id) and the peer address."""

    device_id: str | None
    ip: str | None


async def client_info(request: Request) -> ClientInfo:
    """A FastAPI dependency (a coroutine: no thread hop). The device id is the app's own random id (or, from the
    shopper pages, the browser's device cookie), trimmed; the address is the peer's."""
    device = (request.headers.get("x-device-id") or request.cookies.get(DEVICE_COOKIE) or "").strip()[:64] or None
    return ClientInfo(device_id=device, ip=request.client.host if request.client else None)


ClientDep = Annotated[ClientInfo, Depends(client_info)]


class CustomerSummary(BaseModel):
    """A customer as the merchant sees them in lists (no openid, no device, no address)."""

    id: int
    nickname: str
    avatar_url: str
    inviter_id: int | None
    depth: int
    """0 for a customer who came on their own; their inviter's depth + 1 otherwise."""
    created_at: datetime
    first_paid_at: datetime | None
    """None while the customer has not paid an order (a new customer)."""


class CustomerPage(BaseModel):
    items: list[CustomerSummary]
    next_cursor: str | None


class CustomerDetail(CustomerSummary):
    inviter: CustomerSummary | None
    """Who brought them (their first share link's sharer)."""
    invited_count: int
    """Customers they brought directly."""
    invited: list[CustomerSummary]
    """The newest of those, at most 50."""
    subtree_size: int
    """Everyone they brought, directly or through those, at any depth."""
