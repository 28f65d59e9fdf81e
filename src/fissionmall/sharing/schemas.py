from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from fissionmall.core.schemas import RowId
from fissionmall.sharing.targets import TARGETS


class ShareIn(BaseModel):
    target_type: str = Field(max_length=20, description=(
        "What is shared, and what `target_id` names: `product` (a product), `group` (a group; drawn as a "
        "拼团成功 card once it succeeded), `bargain` and `assist` (the sharer's own), `packet` (a share-coupon or "
        "credit packet), `gift` (a gift-voucher campaign), `invite` (the sharer's own customer id), `order` (the "
        "sharer's own paid order: a 我省了 ¥X card), `checkin` (the sharer's own customer id: a check-in streak "
        "card)."))
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
    """A 750×1200 PNG of what the target shows now: a campaign's price and progress, or a show-off card."""


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
