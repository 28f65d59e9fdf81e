from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from fissionmall.core.schemas import Patch


class StaffLogin(BaseModel):
    merchant_slug: str = Field(min_length=1, max_length=40)
    username: str = Field(min_length=1, max_length=60)
    password: str = Field(min_length=1, max_length=200)


class TokenOut(BaseModel):
    token: str
    expires_in: int


class MerchantSettings(Patch):
    """The order rules a merchant may tune; every field validated (admin input is untrusted too)."""

    clearable = frozenset({"wechat_appid", "wechat_secret", "wechat_oa_appid", "wechat_oa_secret",
                           "free_shipping_over_fen"})

    name: str | None = Field(default=None, min_length=1, max_length=100)
    payment_timeout_minutes: int | None = Field(default=None, ge=1, le=1440)
    auto_receive_days: int | None = Field(default=None, ge=1, le=30)
    after_sale_days: int | None = Field(default=None, ge=0, le=30)
    shipping_fee_fen: int | None = Field(default=None, ge=0, le=100_000)
    free_shipping_over_fen: int | None = Field(default=None, ge=0, le=100_000_000)
    coupons_on_campaign_orders: bool | None = None
    restore_coupons_on_refund: bool | None = None
    wechat_appid: str | None = Field(default=None, pattern=r"^wx[0-9a-f]{16}$")
    wechat_secret: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    wechat_oa_appid: str | None = Field(default=None, pattern=r"^wx[0-9a-f]{16}$")
    """The official account's (公众号) AppID: the shopper pages sign in with it inside WeChat."""
    wechat_oa_secret: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")


class MerchantOut(BaseModel):
    id: int
    slug: str
    name: str
    payment_timeout_minutes: int
    auto_receive_days: int
    after_sale_days: int
    shipping_fee_fen: int
    free_shipping_over_fen: int | None
    coupons_on_campaign_orders: bool
    restore_coupons_on_refund: bool
    wechat_appid: str | None
    wechat_oa_appid: str | None


class StoreIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    address: str = Field(default="", max_length=300)
    active: bool = True


class StoreOut(StoreIn):
    id: int


Role = Literal["owner", "operator", "finance", "support"]
USERNAME = r"^[A-Za-z0-9_.\-]+$"
SLUG = r"^[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?$"
"""Lower-case letters, digits and inner hyphens: a slug appears in URLs (/m/{slug}/…) and in staff sign-in."""
OWNER_PASSWORD_MIN = 12


class MerchantCreate(BaseModel):
    """A new tenant (商户) and the owner who signs in to its console first; the owner adds the rest."""

    slug: str = Field(min_length=2, max_length=40, pattern=SLUG)
    name: str = Field(min_length=1, max_length=100)
    owner_username: str = Field(default="owner", min_length=2, max_length=60, pattern=USERNAME)
    owner_password: str = Field(min_length=OWNER_PASSWORD_MIN, max_length=200)


class StaffIn(BaseModel):
    username: str = Field(min_length=2, max_length=60, pattern=USERNAME)
    password: str = Field(min_length=10, max_length=200)
    role: Role


class StaffPatch(Patch):
    role: Role | None = None
    active: bool | None = None
    password: str | None = Field(default=None, min_length=10, max_length=200)


class StaffOut(BaseModel):
    id: int
    username: str
    role: str
    active: bool


class AuditEntryOut(BaseModel):
    id: int
    occurred_at: datetime
    staff_id: int | None
    username: str | None
    action: str
    """`staff.login`, … or the route of a staff write, e.g. `POST /admin/orders/{order_id}/ship`."""
    action_name: str
    """The action in Chinese (the route itself where it has no name yet)."""
    subject: str
    detail: dict[str, Any]
    """`after` (what was sent, secrets redacted) and, for settings and records changed in place, `before`."""
    source_ip: str | None


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None
