from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import anyio
from fastapi import APIRouter, Query, UploadFile
from fastapi.responses import JSONResponse

from fissionmall.catalog.media import MAX_BYTES, store_image
from fissionmall.community import moderation, posts, service
from fissionmall.community.schemas import (
    CommentIn,
    CommentOut,
    CommentPage,
    CommunitySettingsIn,
    FeedPage,
    FollowOut,
    HideIn,
    LikeOut,
    MediaOut,
    ModeratedItemOut,
    ModeratedReviewOut,
    ModerationPage,
    PostDetail,
    PostIn,
    PostOut,
    QueuePage,
    ReportIn,
    ReportOut,
    ReviewIn,
    ReviewOut,
    ReviewPage,
)
from fissionmall.core.deps import (
    ClockDep,
    IdempotentDep,
    OptionalShopperDep,
    ReplicaSessionDep,
    ReviewModerator,
    SessionDep,
    SettingsDep,
    ShopperDep,
)
from fissionmall.core.runtime import RuntimeDep
from fissionmall.core.schemas import RowId
from fissionmall.core.transaction import TransactionalRoute
from fissionmall.merchants import service as merchants

router = APIRouter(route_class=TransactionalRoute, tags=["shopper: reviews"])
admin = APIRouter(route_class=TransactionalRoute, tags=["admin: reviews"], prefix="/admin/reviews")


@router.post("/orders/{order_id}/reviews", response_model=ReviewOut, status_code=201)
async def write(order_id: RowId, body: ReviewIn, shopper: ShopperDep, session: SessionDep,
                clock: ClockDep) -> ReviewOut:
    """Review a product of a received order, once."""
    return await service.write(session, clock, shopper, order_id, body)


@router.get("/products/{product_id}/reviews", response_model=ReviewPage)
async def of_product(product_id: RowId, shopper: OptionalShopperDep, session: ReplicaSessionDep, runtime: RuntimeDep,
                     merchant: str | None = None) -> ReviewPage:
    """The product's latest reviews, their count and average rating (no login needed, like the product page)."""
    merchant_id = await merchants.merchant_for_visitor(session, runtime.settings, shopper, merchant)
    return await service.of_product(session, merchant_id, product_id)


@admin.get("", response_model=ModerationPage)
async def for_moderation(staff: ReviewModerator, session: SessionDep, hidden: bool | None = None,
                         rating: int | None = Query(None, ge=1, le=5), product_id: int | None = Query(None, ge=1),
                         cursor: str | None = None, limit: int = Query(20, ge=1, le=50)) -> ModerationPage:
    """The merchant's reviews, newest first, hidden ones included (filter by `hidden`, rating, product)."""
    return await service.for_moderation(session, staff.merchant_id, hidden=hidden, rating=rating,
                                        product_id=product_id, cursor=cursor, limit=limit)


@admin.post("/{review_id}/hide", response_model=ModeratedReviewOut)
async def hide(review_id: RowId, body: HideIn, staff: ReviewModerator, session: SessionDep,
               clock: ClockDep) -> ModeratedReviewOut:
    """Hide a review from shoppers, with the reason (kept with who and when)."""
    return await service.hide(session, clock, staff, review_id, body.reason)


@admin.post("/{review_id}/show", response_model=ModeratedReviewOut)
async def show(review_id: RowId, staff: ReviewModerator, session: SessionDep, clock: ClockDep) -> ModeratedReviewOut:
    """Show a hidden review again."""
    return await service.show(session, clock, staff, review_id)


# --- posts, likes, comments, follows, reports ---------------------------------------------------------------------

posts_router = APIRouter(route_class=TransactionalRoute, tags=["shopper: community"])
moderation_admin = APIRouter(route_class=TransactionalRoute, tags=["admin: community"], prefix="/admin")
Item = Literal["review", "post", "comment"]
ITEM_PATHS: dict[str, Item] = {"reviews": "review", "posts": "post", "comments": "comment"}


@posts_router.post("/community/media", response_model=MediaOut, status_code=201)
async def upload_image(file: UploadFile, shopper: ShopperDep, settings: SettingsDep) -> MediaOut:
    """Upload a photo for a post (PNG, JPEG or WebP up to 5 MB; stored upright, scaled, without metadata); put the
    returned URL in the post's `images`."""
    data = await file.read(MAX_BYTES + 1)
    return MediaOut(url=await anyio.to_thread.run_sync(store_image, settings.media_dir, shopper.merchant_id, data))


@posts_router.post("/posts", response_model=PostOut, status_code=201)
async def create_post(body: PostIn, shopper: ShopperDep, session: SessionDep, clock: ClockDep,
                      idempotent: IdempotentDep) -> PostOut | JSONResponse:
    """Post text and photos, or a 晒单 of a received order's product (`order_id`); a retried request with the same
    Idempotency-Key posts once."""
    return await idempotent(lambda: posts.create(session, clock, shopper, body), by=shopper, body=body,
                            status_code=201)


@posts_router.get("/posts", response_model=FeedPage)
async def feed(shopper: OptionalShopperDep, session: SessionDep, runtime: RuntimeDep,
               tab: posts.Tab = "latest", product_id: int | None = Query(None, ge=1),
               customer_id: int | None = Query(None, ge=1), cursor: str | None = None,
               limit: int = Query(20, ge=1, le=50), merchant: str | None = None) -> FeedPage:
    """The feed: latest, following (关注), friends (好友: the referral graph) or popular (热门); by product or
    author. following and friends need a sign-in."""
    merchant_id = await merchants.merchant_for_visitor(session, runtime.settings, shopper, merchant)
    return await posts.feed(session, shopper, merchant_id, tab=tab, product_id=product_id, customer_id=customer_id,
                            cursor=cursor, limit=limit)


@posts_router.get("/posts/{post_id}", response_model=PostDetail)
async def post_detail(post_id: RowId, shopper: OptionalShopperDep, session: SessionDep, runtime: RuntimeDep,
                      merchant: str | None = None) -> PostDetail:
    merchant_id = await merchants.merchant_for_visitor(session, runtime.settings, shopper, merchant)
    return await posts.detail(session, shopper, merchant_id, post_id)


@posts_router.get("/posts/{post_id}/comments", response_model=CommentPage)
async def post_comments(post_id: RowId, shopper: OptionalShopperDep, session: SessionDep, runtime: RuntimeDep,
                        cursor: str | None = None, limit: int = Query(20, ge=1, le=50),
                        merchant: str | None = None) -> CommentPage:
    merchant_id = await merchants.merchant_for_visitor(session, runtime.settings, shopper, merchant)
    return await posts.comments(session, shopper, merchant_id, post_id, cursor=cursor, limit=limit)


@posts_router.post("/posts/{post_id}/likes", response_model=LikeOut)
async def like(post_id: RowId, shopper: ShopperDep, session: SessionDep, clock: ClockDep) -> LikeOut:
    """Like a post, once (again: no change)."""
    return await posts.like(session, clock, shopper, post_id)


@posts_router.delete("/posts/{post_id}/likes", response_model=LikeOut)
async def unlike(post_id: RowId, shopper: ShopperDep, session: SessionDep) -> LikeOut:
    return await posts.unlike(session, shopper, post_id)


@posts_router.post("/posts/{post_id}/comments", response_model=CommentOut, status_code=201)
async def comment(post_id: RowId, body: CommentIn, shopper: ShopperDep, session: SessionDep,
                  clock: ClockDep, idempotent: IdempotentDep) -> CommentOut | JSONResponse:
    """Comment on a post; a retried request with the same Idempotency-Key comments once."""
    return await idempotent(lambda: posts.comment(session, clock, shopper, post_id, body), by=shopper, body=body,
                            status_code=201)


@posts_router.post("/follows/{customer_id}", response_model=FollowOut)
async def follow(customer_id: RowId, shopper: ShopperDep, session: SessionDep, clock: ClockDep) -> FollowOut:
    """Follow another customer: their posts appear under 关注."""
    return await posts.follow(session, clock, shopper, customer_id)


@posts_router.delete("/follows/{customer_id}", response_model=FollowOut)
async def unfollow(customer_id: RowId, shopper: ShopperDep, session: SessionDep) -> FollowOut:
    return await posts.unfollow(session, shopper, customer_id)


def _reporting(item_type: Item) -> Callable[..., Awaitable[ReportOut]]:
    async def report(item_id: RowId, body: ReportIn, shopper: ShopperDep, session: SessionDep,
                     clock: ClockDep) -> ReportOut:
        """Report it to the merchant, with a reason, once; enough reports put it in the moderation queue."""
        return await moderation.report(session, clock, shopper, item_type, item_id, body)
    return report


def _listing(item_type: Item) -> Callable[..., Awaitable[QueuePage]]:
    async def listing(staff: ReviewModerator, session: SessionDep, hidden: bool | None = None,
                      cursor: str | None = None, limit: int = Query(20, ge=1, le=50)) -> QueuePage:
        """Every item of the kind newest first, shown and hidden (filter by `hidden`), with whether it is queued."""
        return await moderation.listing(session, staff.merchant_id, item_type, hidden=hidden, cursor=cursor,
                                        limit=limit)
    return listing


def _hiding(item_type: Item) -> Callable[..., Awaitable[ModeratedItemOut]]:
    async def hide(item_id: RowId, body: HideIn, staff: ReviewModerator, session: SessionDep,
                   clock: ClockDep) -> ModeratedItemOut:
        """Hide it from every shopper list and count, with the reason (kept with who and when)."""
        found = await moderation.decide(session, clock, staff, item_type, item_id, reason=body.reason)
        return moderation.moderated_item(item_type, found, None)
    return hide


def _showing(item_type: Item) -> Callable[..., Awaitable[ModeratedItemOut]]:
    async def show(item_id: RowId, staff: ReviewModerator, session: SessionDep, clock: ClockDep) -> ModeratedItemOut:
        """Show it (a held item for the first time, a hidden one again)."""
        found = await moderation.decide(session, clock, staff, item_type, item_id, reason=None)
        return moderation.moderated_item(item_type, found, None)
    return show


def _with_id(endpoint: Callable[..., Any], name: str) -> Callable[..., Any]:
    """The endpoint with its `item_id` parameter named `name` (post_id, comment_id, review_id) in the path."""
    signature = inspect.signature(endpoint)

    async def named(**kwargs: Any) -> Any:
        kwargs["item_id"] = kwargs.pop(name)
        return await endpoint(**kwargs)
    named.__signature__ = signature.replace(parameters=[  # type: ignore[attr-defined]
        p.replace(name=name) if p.name == "item_id" else p for p in signature.parameters.values()])
    named.__doc__ = endpoint.__doc__
    return named


@moderation_admin.get("/moderation", response_model=QueuePage)
async def moderation_queue(staff: ReviewModerator, session: SessionDep, item_type: Item | None = None,
                           cursor: str | None = None, limit: int = Query(20, ge=1, le=50)) -> QueuePage:
    """The moderation queue (待审核), oldest first: reviews, posts and comments held by a keyword or reported by
    `report_threshold` customers."""
    return await moderation.queue(session, staff.merchant_id, item_type=item_type, cursor=cursor, limit=limit)


for _path, _item_type in ITEM_PATHS.items():
    _id = f"{_item_type}_id"
    posts_router.add_api_route(f"/{_path}/{{{_id}}}/reports", _with_id(_reporting(_item_type), _id),
                               methods=["POST"], response_model=ReportOut, status_code=201,
                               name=f"report_{_item_type}")
    moderation_admin.add_api_route(f"/moderation/{_path}", _listing(_item_type), methods=["GET"],
                                   response_model=QueuePage, name=f"moderated_{_path}")
    moderation_admin.add_api_route(f"/moderation/{_path}/{{{_id}}}/hide", _with_id(_hiding(_item_type), _id),
                                   methods=["POST"], response_model=ModeratedItemOut, name=f"hide_{_item_type}")
    moderation_admin.add_api_route(f"/moderation/{_path}/{{{_id}}}/show", _with_id(_showing(_item_type), _id),
                                   methods=["POST"], response_model=ModeratedItemOut, name=f"show_{_item_type}")


@moderation_admin.get("/community/settings", response_model=CommunitySettingsIn)
async def community_settings(staff: ReviewModerator, session: SessionDep) -> CommunitySettingsIn:
    return await moderation.settings_of(session, staff.merchant_id)


@moderation_admin.put("/community/settings", response_model=CommunitySettingsIn)
async def configure_community(body: CommunitySettingsIn, staff: ReviewModerator, session: SessionDep,
                              clock: ClockDep) -> CommunitySettingsIn:
    """Keywords that hold a post or comment for review, and how many reports queue an item."""
    return await moderation.configure(session, clock.now(), staff, body)
