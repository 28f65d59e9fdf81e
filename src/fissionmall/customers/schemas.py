from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


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
