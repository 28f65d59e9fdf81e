"""Every query of the community: reviews, posts, likes, comments, follows, reports, the moderation queue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.community.models import (
    CommunitySettings,
    ContentReport,
    Follow,
    ModerationTicket,
    Post,
    PostComment,
    PostLike,
    Review,
)
from fissionmall.db.sql import insert_ignoring_conflicts

Moderated = type[Review] | type[Post] | type[PostComment]
MODELS: dict[str, Any] = {"review": Review, "post": Post, "comment": PostComment}
"""Item type → its table: the three moderated alike."""


# --- reviews ------------------------------------------------------------------------------------------------------

async def add(session: AsyncSession, **values: Any) -> int | None:
    """The new review's id, or None when this order's product was reviewed already (the unique key decides)."""
    result = await session.execute(insert_ignoring_conflicts(session, Review).values(**values).returning(Review.id))
    return result.scalar()


async def review(session: AsyncSession, review_id: int) -> Review:
    return (await session.execute(select(Review).where(Review.id == review_id))).scalar_one()


async def of_product(session: AsyncSession, merchant_id: int, product_id: int, limit: int) -> list[Review]:
    statement = (select(Review).where(Review.merchant_id == merchant_id, Review.product_id == product_id,
                                      Review.hidden_at.is_(None))
                 .order_by(Review.id.desc()).limit(limit))
    return list((await session.execute(statement)).scalars())


async def summary(session: AsyncSession, merchant_id: int, product_id: int) -> tuple[int, float | None]:
    statement = select(func.count(), func.avg(Review.rating)).where(
        Review.merchant_id == merchant_id, Review.product_id == product_id, Review.hidden_at.is_(None))
    count, average = (await session.execute(statement)).one()
    return int(count), round(float(average), 2) if average is not None else None


async def reviewed_products(session: AsyncSession, order_id: int) -> set[int]:
    return set((await session.execute(select(Review.product_id).where(Review.order_id == order_id))).scalars())


# --- moderated items, alike -----------------------------------------------------------------------------------------

async def item_of(session: AsyncSession, model: Any, merchant_id: int, item_id: int) -> Any:
    statement = select(model).where(model.merchant_id == merchant_id, model.id == item_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def items_by_id(session: AsyncSession, model: Any, ids: Sequence[int]) -> dict[int, Any]:
    if not ids:
        return {}
    return {row.id: row for row in (await session.execute(select(model).where(model.id.in_(ids)))).scalars()}


async def for_moderation(session: AsyncSession, model: Any, merchant_id: int, *, hidden: bool | None,
                         before_id: int | None, limit: int, **equal: Any) -> list[Any]:
    """One table's items newest first, one keyset page, hidden ones included unless filtered."""
    statement = select(model).where(model.merchant_id == merchant_id).order_by(model.id.desc()).limit(limit)
    if hidden is not None:
        statement = statement.where(model.hidden_at.is_not(None) if hidden else model.hidden_at.is_(None))
    for column, wanted in equal.items():
        if wanted is not None:
            statement = statement.where(getattr(model, column) == wanted)
    if before_id is not None:
        statement = statement.where(model.id < before_id)
    return list((await session.execute(statement)).scalars())


async def hide(session: AsyncSession, model: Any, item_id: int, *, at: datetime, by: int | None,
               reason: str) -> bool:
    """Hide a shown item: whether it was shown until now (an item hidden already only gets the new who, when, why)."""
    was_shown = await session.execute(update(model).where(model.id == item_id, model.hidden_at.is_(None))
                                      .values(hidden_at=at, hidden_by=by, hidden_reason=reason).returning(model.id))
    if was_shown.scalar() is not None:
        return True
    await session.execute(update(model).where(model.id == item_id)
                          .values(hidden_at=at, hidden_by=by, hidden_reason=reason))
    return False


async def show(session: AsyncSession, model: Any, item_id: int) -> bool:
    """Show a hidden item: whether it was hidden until now."""
    result = await session.execute(update(model).where(model.id == item_id, model.hidden_at.is_not(None))
                                   .values(hidden_at=None, hidden_by=None, hidden_reason=None).returning(model.id))
    return result.scalar() is not None


async def add_report(session: AsyncSession, **values: Any) -> bool:
    """A customer's report of an item, once (the unique key decides)."""
    result = await session.execute(insert_ignoring_conflicts(session, ContentReport).values(**values)
                                   .returning(ContentReport.id))
    return result.scalar() is not None


async def count_report(session: AsyncSession, model: Any, item_id: int) -> int:
    result = await session.execute(update(model).where(model.id == item_id)
                                   .values(report_count=model.report_count + 1).returning(model.report_count))
    return int(result.scalar_one())


async def enqueue(session: AsyncSession, **values: Any) -> None:
    """Put an item in the moderation queue, once however many reasons it has."""
    await session.execute(insert_ignoring_conflicts(session, ModerationTicket).values(**values))


async def dequeue(session: AsyncSession, merchant_id: int, item_type: str, item_id: int) -> None:
    await session.execute(delete(ModerationTicket).where(
        ModerationTicket.merchant_id == merchant_id, ModerationTicket.item_type == item_type,
        ModerationTicket.item_id == item_id))


async def queue(session: AsyncSession, merchant_id: int, *, item_type: str | None, after_id: int | None,
                limit: int) -> list[ModerationTicket]:
    """The queue oldest first: what waited longest is decided first."""
    statement = (select(ModerationTicket).where(ModerationTicket.merchant_id == merchant_id)
                 .order_by(ModerationTicket.id).limit(limit))
    if item_type is not None:
        statement = statement.where(ModerationTicket.item_type == item_type)
    if after_id is not None:
        statement = statement.where(ModerationTicket.id > after_id)
    return list((await session.execute(statement)).scalars())


async def tickets_of(session: AsyncSession, merchant_id: int, item_type: str, ids: Sequence[int]) -> dict[int, str]:
    """Which of these items are queued, and why."""
    if not ids:
        return {}
    statement = select(ModerationTicket.item_id, ModerationTicket.cause).where(
        ModerationTicket.merchant_id == merchant_id, ModerationTicket.item_type == item_type,
        ModerationTicket.item_id.in_(ids))
    return {item_id: cause for item_id, cause in (await session.execute(statement)).all()}


async def queue_size(session: AsyncSession, merchant_id: int) -> int:
    statement = select(func.count()).where(ModerationTicket.merchant_id == merchant_id)
    return int((await session.execute(statement)).scalar_one())


async def settings(session: AsyncSession, merchant_id: int) -> CommunitySettings | None:
    statement = select(CommunitySettings).where(CommunitySettings.merchant_id == merchant_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def save_settings(session: AsyncSession, merchant_id: int, **values: Any) -> None:
    insert = insert_ignoring_conflicts(session, CommunitySettings).values(merchant_id=merchant_id, **values)
    inserted = await session.execute(insert.returning(CommunitySettings.id))
    if inserted.scalar() is None:
        await session.execute(update(CommunitySettings).where(CommunitySettings.merchant_id == merchant_id)
                              .values(**values))


# --- posts ----------------------------------------------------------------------------------------------------------

async def add_post(session: AsyncSession, **values: Any) -> int:
    return int((await session.execute(insert(Post).values(**values).returning(Post.id))).scalar_one())


async def post(session: AsyncSession, post_id: int) -> Post:
    return (await session.execute(select(Post).where(Post.id == post_id).execution_options(populate_existing=True))
            ).scalar_one()


async def publish(session: AsyncSession, post_id: int, at: datetime) -> bool:
    """Mark a shown post published, the first time only: whether this was the first time."""
    result = await session.execute(update(Post).where(Post.id == post_id, Post.published_at.is_(None),
                                                      Post.hidden_at.is_(None))
                                   .values(published_at=at).returning(Post.id))
    return result.scalar() is not None


async def feed(session: AsyncSession, merchant_id: int, *, authors: Sequence[int] | None, product_id: int | None,
               customer_id: int | None, before_id: int | None, limit: int) -> list[Post]:
    """Shown posts newest first, one keyset page (the merchant's, author's or product's index serves it)."""
    statement = (select(Post).where(Post.merchant_id == merchant_id, Post.hidden_at.is_(None))
                 .order_by(Post.id.desc()).limit(limit))
    if authors is not None:
        statement = statement.where(Post.customer_id.in_(authors))
    if product_id is not None:
        statement = statement.where(Post.product_id == product_id)
    if customer_id is not None:
        statement = statement.where(Post.customer_id == customer_id)
    if before_id is not None:
        statement = statement.where(Post.id < before_id)
    return list((await session.execute(statement)).scalars())


async def popular(session: AsyncSession, merchant_id: int, *, after: tuple[int, int] | None,
                  limit: int) -> list[Post]:
    """Shown posts by popularity (hot score, then newest), one keyset page on (hot, id)."""
    statement = (select(Post).where(Post.merchant_id == merchant_id, Post.hidden_at.is_(None))
                 .order_by(Post.hot.desc(), Post.id.desc()).limit(limit))
    if after is not None:
        statement = statement.where(tuple_(Post.hot, Post.id) < tuple_(*after))
    return list((await session.execute(statement)).scalars())


async def posts_about(session: AsyncSession, merchant_id: int, product_id: int) -> int:
    statement = select(func.count()).where(Post.merchant_id == merchant_id, Post.product_id == product_id,
                                           Post.hidden_at.is_(None))
    return int((await session.execute(statement)).scalar_one())


async def bump(session: AsyncSession, post_id: int, *, likes: int = 0, comments: int = 0) -> tuple[int, int, datetime]:
    """Move a post's counts by one guarded statement: its (likes, comments, created_at) after."""
    result = await session.execute(
        update(Post).where(Post.id == post_id)
        .values(like_count=Post.like_count + likes, comment_count=Post.comment_count + comments)
        .returning(Post.like_count, Post.comment_count, Post.created_at))
    like_count, comment_count, created_at = result.one()
    return int(like_count), int(comment_count), created_at


async def set_hot(session: AsyncSession, post_id: int, score: int) -> None:
    await session.execute(update(Post).where(Post.id == post_id).values(hot=score))


async def like(session: AsyncSession, **values: Any) -> bool:
    result = await session.execute(insert_ignoring_conflicts(session, PostLike).values(**values)
                                   .returning(PostLike.id))
    return result.scalar() is not None


async def unlike(session: AsyncSession, post_id: int, customer_id: int) -> bool:
    result = await session.execute(delete(PostLike).where(PostLike.post_id == post_id,
                                                          PostLike.customer_id == customer_id)
                                   .returning(PostLike.id))
    return result.scalar() is not None


async def liked_among(session: AsyncSession, customer_id: int, post_ids: Sequence[int]) -> set[int]:
    if not post_ids:
        return set()
    statement = select(PostLike.post_id).where(PostLike.customer_id == customer_id, PostLike.post_id.in_(post_ids))
    return set((await session.execute(statement)).scalars())


async def add_comment(session: AsyncSession, **values: Any) -> int:
    result = await session.execute(insert(PostComment).values(**values).returning(PostComment.id))
    return int(result.scalar_one())


async def comment(session: AsyncSession, comment_id: int) -> PostComment:
    statement = select(PostComment).where(PostComment.id == comment_id).execution_options(populate_existing=True)
    return (await session.execute(statement)).scalar_one()


async def comments_of(session: AsyncSession, post_id: int, *, viewer_id: int | None, after_id: int | None,
                      limit: int) -> list[PostComment]:
    """A post's shown comments oldest first (and the viewer's own held ones), one keyset page."""
    visible: ColumnElement[bool] = PostComment.hidden_at.is_(None)
    if viewer_id is not None:
        visible = or_(visible, (PostComment.customer_id == viewer_id) & PostComment.hidden_by.is_(None))
    statement = (select(PostComment).where(PostComment.post_id == post_id, visible)
                 .order_by(PostComment.id).limit(limit))
    if after_id is not None:
        statement = statement.where(PostComment.id > after_id)
    return list((await session.execute(statement)).scalars())


# --- follows --------------------------------------------------------------------------------------------------------

async def follow(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert_ignoring_conflicts(session, Follow).values(**values))


async def unfollow(session: AsyncSession, follower_id: int, followee_id: int) -> None:
    await session.execute(delete(Follow).where(Follow.follower_id == follower_id, Follow.followee_id == followee_id))


async def followees(session: AsyncSession, follower_id: int, limit: int) -> list[int]:
    statement = select(Follow.followee_id).where(Follow.follower_id == follower_id).order_by(Follow.id).limit(limit)
    return list((await session.execute(statement)).scalars())


async def followed_among(session: AsyncSession, follower_id: int, ids: Sequence[int]) -> set[int]:
    if not ids:
        return set()
    statement = select(Follow.followee_id).where(Follow.follower_id == follower_id, Follow.followee_id.in_(ids))
    return set((await session.execute(statement)).scalars())
