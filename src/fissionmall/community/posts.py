"""Posts (帖子): a 晒单 of a product from the customer's received order, or a plain post; text and images uploaded
by the shopper. Likes (one per customer per post), comments (moderated like posts), follows, and the feed's tabs:
最新 (latest), 关注 (those the shopper follows), 好友 (the referral graph: who brought the shopper and whom they
brought) and 热门 (likes and comments, decayed by age: rules.hot_score). Publishing a post is the `post` event:
points (the merchant's `post_points`, up to a daily cap) and post tasks follow from it."""

from __future__ import annotations

from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.catalog import service as catalog
from fissionmall.community import moderation, repository, rules
from fissionmall.community.models import Post, PostComment
from fissionmall.community.schemas import (
    CommentIn,
    CommentOut,
    CommentPage,
    FeedPage,
    FollowOut,
    LikeOut,
    PostDetail,
    PostIn,
    PostOut,
)
from fissionmall.community.service import REVIEWABLE
from fissionmall.core.auth import Shopper
from fissionmall.core.clock import Clock
from fissionmall.core.errors import Conflict, InvalidInput, NotFound, Unauthorized
from fissionmall.core.pagination import parse_cursor
from fissionmall.customers import service as customers
from fissionmall.orders import service as orders

Tab = Literal["latest", "following", "friends", "popular"]
PAGE = 20
AUTHORS_LIMIT = 1000
"""The 关注 and 好友 tabs read the posts of at most this many people."""


def _status(item: Post | PostComment) -> Literal["shown", "held", "hidden"]:
    if item.hidden_at is None:
        return "shown"
    return "held" if item.hidden_by is None else "hidden"


async def _render(session: AsyncSession, viewer: Shopper | None, posts: list[Post]) -> list[PostOut]:
    merchant_ids = {p.merchant_id for p in posts}
    products = sorted({p.product_id for p in posts if p.product_id})
    cards = {card.id: card for card in await catalog.cards(session, merchant_ids.pop(), products)} \
        if merchant_ids and products else {}
    ids = [p.id for p in posts]
    liked = await repository.liked_among(session, viewer.customer_id, ids) if viewer else set()
    following = await repository.followed_among(session, viewer.customer_id, [p.customer_id for p in posts]) \
        if viewer else set()
    return [PostOut(id=p.id, customer_id=p.customer_id, nickname=p.nickname, kind="show" if p.order_id else "plain",
                    order_id=p.order_id, product=cards.get(p.product_id) if p.product_id else None, text=p.text,
                    images=p.images, like_count=p.like_count, comment_count=p.comment_count, liked=p.id in liked,
                    following=p.customer_id in following, status=_status(p), created_at=p.created_at)
            for p in posts]


def _uploaded(merchant_id: int, images: list[str]) -> None:
    """A post shows only images uploaded to this mall (POST /community/media), never a picture from elsewhere."""
    if any(not url.startswith(f"/media/uploads/{merchant_id}/") for url in images):
        raise InvalidInput("image_not_uploaded", "upload the images first (POST /community/media)", field="images")


async def create(session: AsyncSession, clock: Clock, shopper: Shopper, body: PostIn) -> PostOut:
    """A post, shown at once, or held for review when it contains one of the merchant's keywords."""
    if not body.text.strip() and not body.images:
        raise InvalidInput("empty_post", "write something or add a photo", field="text")
    _uploaded(shopper.merchant_id, body.images)
    product_id = None
    if body.order_id is None and body.product_id is not None:
        raise InvalidInput("order_required", "a 晒单 shows a product of one of your received orders",
                           field="order_id")
    if body.order_id is not None:
        order = await orders.require_order(session, shopper.merchant_id, body.order_id,
                                           customer_id=shopper.customer_id)
        if order.status not in REVIEWABLE:
            raise Conflict("not_showable", "an order is shown off once it has been received", status_now=order.status)
        bought = [item.product_id for item in await orders.items_of(session, order.id)]
        product_id = body.product_id or bought[0]
        if product_id not in bought:
            raise InvalidInput("product_not_in_order", "this product is not in the order", field="product_id")
    customer = await customers.get_customer(session, shopper.merchant_id, shopper.customer_id)
    now = clock.now()
    held = await moderation.held_by(session, shopper.merchant_id, body.text)
    post_id = await repository.add_post(
        session, merchant_id=shopper.merchant_id, customer_id=customer.id, nickname=customer.nickname,
        order_id=body.order_id, product_id=product_id, text=body.text.strip(), images=list(body.images),
        like_count=0, comment_count=0, hot=rules.hot_score(0, 0, now), created_at=now,
        hidden_at=now if held else None, hidden_reason=held, report_count=0)
    post = await repository.post(session, post_id)
    if held:
        await moderation.hold(session, shopper.merchant_id, "post", post_id, now)
    else:
        await moderation.publish(session, post, now)
    return (await _render(session, shopper, [post]))[0]


async def feed(session: AsyncSession, viewer: Shopper | None, merchant_id: int, *, tab: Tab = "latest",
               product_id: int | None = None, customer_id: int | None = None, cursor: str | None = None,
               limit: int = PAGE) -> FeedPage:
    """One page of a feed tab: shown posts only."""
    if tab == "popular":
        found = await repository.popular(session, merchant_id, after=rules.parse_hot_cursor(cursor), limit=limit)
        items = await _render(session, viewer, found)
        last = found[-1] if len(found) == limit else None
        return FeedPage(items=items, next_cursor=rules.hot_cursor(last.hot, last.id) if last else None)
    authors: list[int] | None = None
    if tab in ("following", "friends"):
        if viewer is None:
            raise Unauthorized("unauthenticated", "sign in to see the posts of those you follow and your friends")
        authors = (await repository.followees(session, viewer.customer_id, AUTHORS_LIMIT) if tab == "following"
                   else await customers.friend_ids(session, merchant_id, viewer.customer_id, AUTHORS_LIMIT))
    found = await repository.feed(session, merchant_id, authors=authors, product_id=product_id,
                                  customer_id=customer_id, before_id=parse_cursor(cursor), limit=limit)
    return FeedPage(items=await _render(session, viewer, found),
                    next_cursor=str(found[-1].id) if len(found) == limit else None)


async def _visible(session: AsyncSession, merchant_id: int, post_id: int, viewer: Shopper | None = None) -> Post:
    """A shown post of this merchant (or the viewer's own post a keyword holds); 404 otherwise."""
    post = await repository.item_of(session, Post, merchant_id, post_id)
    own_held = (post is not None and viewer is not None and post.customer_id == viewer.customer_id
                and _status(post) == "held")
    if post is None or (post.hidden_at is not None and not own_held):
        raise NotFound("post_not_found", f"no post {post_id}")
    assert isinstance(post, Post)
    return post


def _comment_out(comment: PostComment) -> CommentOut:
    return CommentOut(id=comment.id, post_id=comment.post_id, customer_id=comment.customer_id,
                      nickname=comment.nickname, text=comment.text, status=_status(comment),
                      created_at=comment.created_at)


async def comments(session: AsyncSession, viewer: Shopper | None, merchant_id: int, post_id: int, *,
                   cursor: str | None = None, limit: int = PAGE) -> CommentPage:
    """A shown post's shown comments, oldest first (and the viewer's own held ones, marked held)."""
    post = await _visible(session, merchant_id, post_id, viewer)
    found = await repository.comments_of(session, post.id, viewer_id=viewer.customer_id if viewer else None,
                                         after_id=parse_cursor(cursor), limit=limit)
    return CommentPage(items=[_comment_out(c) for c in found],
                       next_cursor=str(found[-1].id) if len(found) == limit else None)


async def detail(session: AsyncSession, viewer: Shopper | None, merchant_id: int, post_id: int) -> PostDetail:
    post = await _visible(session, merchant_id, post_id, viewer)
    return PostDetail(post=(await _render(session, viewer, [post]))[0],
                      comments=await comments(session, viewer, merchant_id, post.id))


async def like(session: AsyncSession, clock: Clock, shopper: Shopper, post_id: int) -> LikeOut:
    """Like a shown post; liking it again changes nothing (the unique key counts each customer once)."""
    post = await _visible(session, shopper.merchant_id, post_id)
    if await repository.like(session, merchant_id=shopper.merchant_id, post_id=post.id,
                             customer_id=shopper.customer_id, created_at=clock.now()):
        likes, _ = await moderation.recount(session, post.id, likes=1)
        return LikeOut(liked=True, like_count=likes)
    return LikeOut(liked=True, like_count=(await repository.post(session, post.id)).like_count)


async def unlike(session: AsyncSession, shopper: Shopper, post_id: int) -> LikeOut:
    post = await _visible(session, shopper.merchant_id, post_id)
    if await repository.unlike(session, post.id, shopper.customer_id):
        likes, _ = await moderation.recount(session, post.id, likes=-1)
        return LikeOut(liked=False, like_count=likes)
    return LikeOut(liked=False, like_count=(await repository.post(session, post.id)).like_count)


async def comment(session: AsyncSession, clock: Clock, shopper: Shopper, post_id: int, body: CommentIn) -> CommentOut:
    """A plain-text comment on a shown post, shown at once or held for review by a keyword."""
    post = await _visible(session, shopper.merchant_id, post_id)
    text = body.text.strip()
    if not text:
        raise InvalidInput("empty_comment", "write something first", field="text")
    customer = await customers.get_customer(session, shopper.merchant_id, shopper.customer_id)
    now = clock.now()
    held = await moderation.held_by(session, shopper.merchant_id, text)
    comment_id = await repository.add_comment(
        session, merchant_id=shopper.merchant_id, post_id=post.id, customer_id=customer.id,
        nickname=customer.nickname, text=text, created_at=now, hidden_at=now if held else None, hidden_reason=held,
        report_count=0)
    if held:
        await moderation.hold(session, shopper.merchant_id, "comment", comment_id, now)
    else:
        await moderation.recount(session, post.id, comments=1)
    return _comment_out(await repository.comment(session, comment_id))


async def follow(session: AsyncSession, clock: Clock, shopper: Shopper, customer_id: int) -> FollowOut:
    """Follow another customer of the mall (once; following again changes nothing)."""
    if customer_id == shopper.customer_id:
        raise InvalidInput("cannot_follow_self", "you cannot follow yourself", field="customer_id")
    followee = await customers.get_customer(session, shopper.merchant_id, customer_id)
    await repository.follow(session, merchant_id=shopper.merchant_id, follower_id=shopper.customer_id,
                            followee_id=followee.id, created_at=clock.now())
    return FollowOut(following=True)


async def unfollow(session: AsyncSession, shopper: Shopper, customer_id: int) -> FollowOut:
    await repository.unfollow(session, shopper.customer_id, customer_id)
    return FollowOut(following=False)
