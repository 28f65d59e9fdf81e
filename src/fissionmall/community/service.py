"""Reviews after delivery: the customer who received an order reviews each of its products once (rating, text,
images). Writing one is an event: points (the merchant's `review_points`) and review tasks follow from it. Staff may
hide a review (with a reason, kept with who and when) and show it again, as posts and comments (moderation.py): a
hidden review is shown to no shopper and counted in no product's rating."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.community import moderation, repository
from fissionmall.community.models import Review
from fissionmall.community.schemas import ModeratedReviewOut, ModerationPage, ReviewIn, ReviewOut, ReviewPage
from fissionmall.core.auth import Shopper, StaffMember
from fissionmall.core.clock import Clock
from fissionmall.core.errors import Conflict, InvalidInput
from fissionmall.core.events import record_event
from fissionmall.core.pagination import parse_cursor
from fissionmall.customers import service as customers
from fissionmall.orders import service as orders
from fissionmall.orders.states import OrderStatus

REVIEWABLE = frozenset({OrderStatus.RECEIVED, OrderStatus.COMPLETED})
PAGE = 20


def _out(review: Review) -> ReviewOut:
    return ReviewOut.model_validate(review, from_attributes=True)


async def write(session: AsyncSession, clock: Clock, shopper: Shopper, order_id: int, body: ReviewIn) -> ReviewOut:
    order = await orders.require_order(session, shopper.merchant_id, order_id, customer_id=shopper.customer_id)
    if order.status not in REVIEWABLE:
        raise Conflict("not_reviewable", "an order is reviewed once it has been received", status_now=order.status)
    if body.product_id not in {item.product_id for item in await orders.items_of(session, order.id)}:
        raise InvalidInput("product_not_in_order", "this product is not in the order", field="product_id")
    customer = await customers.get_customer(session, shopper.merchant_id, shopper.customer_id)
    now = clock.now()
    review_id = await repository.add(
        session, merchant_id=shopper.merchant_id, order_id=order.id, product_id=body.product_id,
        customer_id=customer.id, rating=body.rating, text=body.text, images=list(body.images),
        nickname=customer.nickname, created_at=now)
    if review_id is None:
        raise Conflict("already_reviewed", "this product of the order has been reviewed")
    await record_event(session, merchant_id=shopper.merchant_id, kind="review", at=now, actor_id=customer.id,
                       subject=("review", review_id),
                       data={"review_id": review_id, "order_id": order.id, "rating": body.rating})
    return _out(await repository.review(session, review_id))


async def of_product(session: AsyncSession, merchant_id: int, product_id: int) -> ReviewPage:
    """The product's shown reviews (newest first, with their photos), their count and average rating, and how many
    shown community posts are about the product."""
    count, average = await repository.summary(session, merchant_id, product_id)
    return ReviewPage(count=count, average_rating=average,
                      reviews=[_out(r) for r in await repository.of_product(session, merchant_id, product_id, PAGE)],
                      posts=await repository.posts_about(session, merchant_id, product_id))


async def reviewed_products(session: AsyncSession, order_id: int) -> set[int]:
    """The products of this order already reviewed (each is reviewed once per order)."""
    return await repository.reviewed_products(session, order_id)


def moderated(review: Review) -> ModeratedReviewOut:
    return ModeratedReviewOut(id=review.id, order_id=review.order_id, product_id=review.product_id,
                              rating=review.rating, text=review.text, images=review.images, nickname=review.nickname,
                              created_at=review.created_at, customer_id=review.customer_id,
                              hidden=review.hidden_at is not None, hidden_at=review.hidden_at,
                              hidden_by=review.hidden_by, hidden_reason=review.hidden_reason,
                              report_count=review.report_count)


async def for_moderation(session: AsyncSession, merchant_id: int, *, hidden: bool | None = None,
                         rating: int | None = None, product_id: int | None = None, cursor: str | None = None,
                         limit: int = PAGE) -> ModerationPage:
    found = await repository.for_moderation(session, Review, merchant_id, hidden=hidden, rating=rating,
                                            product_id=product_id, before_id=parse_cursor(cursor), limit=limit)
    return ModerationPage(items=[moderated(r) for r in found],
                          next_cursor=str(found[-1].id) if len(found) == limit else None)


async def hide(session: AsyncSession, clock: Clock, staff: StaffMember, review_id: int,
               reason: str) -> ModeratedReviewOut:
    """Hide the review from every shopper (and from the product's rating), saying why; hiding again updates the
    reason, who and when. The same moderation as posts and comments (moderation.decide)."""
    return moderated(await moderation.decide(session, clock, staff, "review", review_id, reason=reason))


async def show(session: AsyncSession, clock: Clock, staff: StaffMember, review_id: int) -> ModeratedReviewOut:
    """Show a hidden review again (the audit log keeps who hid it and why)."""
    return moderated(await moderation.decide(session, clock, staff, "review", review_id, reason=None))
