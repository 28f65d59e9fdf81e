from __future__ import annotations

from fastapi import APIRouter, Query

from fissionmall.community import service
from fissionmall.community.schemas import HideIn, ModeratedReviewOut, ModerationPage, ReviewIn, ReviewOut, ReviewPage
from fissionmall.core.deps import (
    ClockDep,
    OptionalShopperDep,
    ReplicaSessionDep,
    ReviewModerator,
    SessionDep,
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
