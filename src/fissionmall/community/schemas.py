from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, HttpUrl

from fissionmall.core.schemas import RowId


class ReviewIn(BaseModel):
    product_id: RowId
    rating: int = Field(ge=1, le=5)
    text: str = Field(default="", max_length=1000)
    images: list[HttpUrl] = Field(default_factory=list, max_length=9)


class ReviewOut(BaseModel):
    id: int
    order_id: int
    product_id: int
    rating: int
    text: str
    images: list[str]
    nickname: str
    created_at: datetime


class ReviewPage(BaseModel):
    count: int
    average_rating: float | None
    reviews: list[ReviewOut]


class ModeratedReviewOut(ReviewOut):
    """A review as staff see it: with its customer and whether (by whom, when, why) it was hidden."""

    customer_id: int
    hidden: bool
    hidden_at: datetime | None
    hidden_by: int | None
    hidden_reason: str | None


class ModerationPage(BaseModel):
    items: list[ModeratedReviewOut]
    next_cursor: str | None


class HideIn(BaseModel):
    reason: str = Field(min_length=1, max_length=200)
