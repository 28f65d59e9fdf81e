from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from fissionmall.merchants.schemas import OWNER_PASSWORD_MIN, SLUG, USERNAME


class PlatformMerchantIn(BaseModel):
    """Without an owner password, one is generated and returned once, in the answer to this request."""

    slug: str = Field(min_length=2, max_length=40, pattern=SLUG)
    name: str = Field(min_length=1, max_length=100)
    owner_username: str = Field(default="owner", min_length=2, max_length=60, pattern=USERNAME)
    owner_password: str | None = Field(default=None, min_length=OWNER_PASSWORD_MIN, max_length=200)


class PlatformMerchantOut(BaseModel):
    id: int
    slug: str
    name: str
    created_at: datetime


class PlatformMerchantCreated(PlatformMerchantOut):
    owner_username: str
    owner_password: str | None
    """The generated password, shown this once (never stored in clear); None when the request chose one."""


class PlatformMerchantPage(BaseModel):
    items: list[PlatformMerchantOut]
    next_cursor: str | None
