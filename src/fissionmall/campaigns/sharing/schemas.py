from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

ShareTarget = Literal["product", "invite"]
"""What can be shared; campaign mechanics add their targets here as they arrive."""


class ShareIn(BaseModel):
    target_type: ShareTarget
    target_id: int = Field(ge=1)


class ShareOut(BaseModel):
    code: str
    link: str
    scene: str
    """The WeChat QR-code scene (≤ 32 chars): the code itself."""
    qr_url: str
    poster_url: str


class Sharer(BaseModel):
    id: int
    nickname: str


class ShareLanding(BaseModel):
    code: str
    target_type: str
    target_id: int
    campaign_id: int | None
    sharer: Sharer
    depth: int
    """The depth a visitor arriving through this link would have."""
