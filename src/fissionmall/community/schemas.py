from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from fissionmall.catalog.schemas import ProductCard
from fissionmall.core.schemas import RowId


def _image_url(url: str) -> str:
    """An image is a URL on the web or a file uploaded to this mall (/media/…)."""
    if not (url.startswith(("https://", "http://", "/media/")) and len(url) <= 300 and " " not in url):
        raise ValueError("image url must be http(s):// or /media/… and at most 300 characters")
    return url


ImageUrl = Annotated[str, AfterValidator(_image_url)]
ItemType = Literal["review", "post", "comment"]


class ReviewIn(BaseModel):
    product_id: RowId
    rating: int = Field(ge=1, le=5)
    text: str = Field(default="", max_length=1000)
    images: list[ImageUrl] = Field(default_factory=list, max_length=9)


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
    posts: int = 0
    """Shown community posts about the product (晒单), for the link to them."""


class ModeratedReviewOut(ReviewOut):
    """A review as staff see it: with its customer and whether (by whom, when, why) it was hidden."""

    customer_id: int
    hidden: bool
    hidden_at: datetime | None
    hidden_by: int | None
    hidden_reason: str | None
    report_count: int = 0


class ModerationPage(BaseModel):
    items: list[ModeratedReviewOut]
    next_cursor: str | None


class HideIn(BaseModel):
    reason: str = Field(min_length=1, max_length=200)


# --- posts, likes, comments, follows -----------------------------------------------------------------------------

class PostIn(BaseModel):
    """A post: text and/or up to nine images uploaded through POST /community/media. With `order_id` it is a 晒单
    of that received order's product (`product_id`, or the order's first product)."""

    text: str = Field(default="", max_length=1000)
    images: list[ImageUrl] = Field(default_factory=list, max_length=9)
    order_id: RowId | None = None
    product_id: RowId | None = None


class PostOut(BaseModel):
    id: int
    customer_id: int
    nickname: str
    kind: Literal["show", "plain"]
    """show: a 晒单 of a received order's product; plain: a post."""
    order_id: int | None
    product: ProductCard | None
    text: str
    images: list[str]
    like_count: int
    comment_count: int
    liked: bool
    """Whether the shopper asking liked it."""
    following: bool
    """Whether the shopper asking follows its author."""
    status: Literal["shown", "held", "hidden"]
    """held: a keyword rule keeps it for the merchant's review (only its author sees it)."""
    created_at: datetime


class FeedPage(BaseModel):
    items: list[PostOut]
    next_cursor: str | None


class CommentIn(BaseModel):
    text: str = Field(min_length=1, max_length=500)


class CommentOut(BaseModel):
    id: int
    post_id: int
    customer_id: int
    nickname: str
    text: str
    status: Literal["shown", "held", "hidden"]
    created_at: datetime


class CommentPage(BaseModel):
    items: list[CommentOut]
    next_cursor: str | None


class PostDetail(BaseModel):
    post: PostOut
    comments: CommentPage


class LikeOut(BaseModel):
    liked: bool
    like_count: int


class FollowOut(BaseModel):
    following: bool


class ReportIn(BaseModel):
    reason: str = Field(min_length=1, max_length=200)


class ReportOut(BaseModel):
    item_type: ItemType
    item_id: int
    queued: bool
    """Whether the item is now in the merchant's moderation queue (shoppers see no difference)."""


class MediaOut(BaseModel):
    url: str


# --- moderation ------------------------------------------------------------------------------------------------

class CommunitySettingsIn(BaseModel):
    """The merchant's moderation rules: posts and comments containing a keyword wait for review before anyone sees
    them; `report_threshold` distinct reports put an item (review, post, comment) in the queue."""

    keywords: list[Annotated[str, Field(max_length=20)]] = Field(default_factory=list, max_length=200)
    report_threshold: int = Field(default=3, ge=1, le=100)


class ModeratedItemOut(BaseModel):
    """A review, post or comment as the moderation queue shows it."""

    item_type: ItemType
    item_id: int
    customer_id: int
    nickname: str
    text: str
    images: list[str]
    post_id: int | None
    """A comment's post."""
    product_id: int | None
    rating: int | None
    created_at: datetime
    report_count: int
    queued: bool
    cause: str | None
    """Why it is queued: keyword (held before anyone saw it) or reports."""
    hidden: bool
    held: bool
    """Hidden by a keyword rule, not by staff."""
    hidden_at: datetime | None
    hidden_by: int | None
    hidden_reason: str | None


class QueuePage(BaseModel):
    items: list[ModeratedItemOut]
    next_cursor: str | None
