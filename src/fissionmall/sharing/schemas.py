from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from fissionmall.core.schemas import RowId
from fissionmall.sharing.targets import TARGETS


class ShareIn(BaseModel):
    target_type: str = Field(max_length=20)
    """product, invite, or a mechanic's own target (group …): see targets.py."""
    target_id: RowId

    @field_validator("target_type")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in TARGETS:
            raise ValueError(f"can share one of: {', '.join(sorted(TARGETS))}")
        return value


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
