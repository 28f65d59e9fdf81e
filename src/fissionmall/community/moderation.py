"""Moderation (内容审核), one way for reviews, posts and comments: staff hide an item with a reason (kept with who
and when) or show it again; shoppers report an item (once each, with a reason) and `report_threshold` reports queue
it; the merchant's keywords hold a new post or comment for review before anyone sees it. A hidden item leaves every
shopper list and count: a comment leaves its post's count, a post the feeds and the product's count, a review the
product's rating. One queue holds what waits for a decision, oldest first; deciding takes the item out of it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.community import repository, rules
from fissionmall.community.models import Post
from fissionmall.community.schemas import (
    CommunitySettingsIn,
    ItemType,
    ModeratedItemOut,
    QueuePage,
    ReportIn,
    ReportOut,
)
from fissionmall.core.audit import note_before
from fissionmall.core.auth import Shopper, StaffMember
from fissionmall.core.clock import Clock
from fissionmall.core.errors import Conflict, NotFound
from fissionmall.core.events import record_event
from fissionmall.core.pagination import parse_cursor

DEFAULT_REPORT_THRESHOLD = 3
PAGE = 20


async def settings_of(session: AsyncSession, merchant_id: int) -> CommunitySettingsIn:
    saved = await repository.settings(session, merchant_id)
    if saved is None:
        return CommunitySettingsIn()
    return CommunitySettingsIn(keywords=saved.keywords, report_threshold=saved.report_threshold)


async def configure(session: AsyncSession, now: datetime, staff: StaffMember,
                    body: CommunitySettingsIn) -> CommunitySettingsIn:
    note_before(session, (await settings_of(session, staff.merchant_id)).model_dump())
    clean = CommunitySettingsIn(keywords=rules.clean_keywords(body.keywords), report_threshold=body.report_threshold)
    await repository.save_settings(session, staff.merchant_id, keywords=clean.keywords,
                                   report_threshold=clean.report_threshold, updated_at=now)
    return clean


async def held_by(session: AsyncSession, merchant_id: int, text: str) -> str | None:
    """The hidden reason of a new post or comment a keyword holds for review, or None when it may show at once."""
    word = rules.held_by(text, (await settings_of(session, merchant_id)).keywords)
    return None if word is None else f"含关键词「{word}」，待审核"


async def hold(session: AsyncSession, merchant_id: int, item_type: ItemType, item_id: int, at: datetime) -> None:
    await repository.enqueue(session, merchant_id=merchant_id, item_type=item_type, item_id=item_id, cause="keyword",
                             created_at=at)


async def recount(session: AsyncSession, post_id: int, *, likes: int = 0, comments: int = 0) -> tuple[int, int]:
    """Move a post's like or comment count and its popularity with it: (likes, comments) after."""
    like_count, comment_count, created_at = await repository.bump(session, post_id, likes=likes, comments=comments)
    await repository.set_hot(session, post_id, rules.hot_score(like_count, comment_count, created_at))
    return like_count, comment_count


async def publish(session: AsyncSession, post: Post, at: datetime) -> None:
    """The first time shoppers can see a post: the `post` event, which points and post tasks follow, once."""
    if await repository.publish(session, post.id, at):
        await record_event(session, merchant_id=post.merchant_id, kind="post", at=at, actor_id=post.customer_id,
                           subject=("post", post.id), data={"post_id": post.id, "product_id": post.product_id})


def _not_found(item_type: str, item_id: int) -> NotFound:
    if item_type == "review":
        return NotFound("review_not_found", f"no review {item_id}")
    if item_type == "post":
        return NotFound("post_not_found", f"no post {item_id}")
    return NotFound("comment_not_found", f"no comment {item_id}")


async def _item(session: AsyncSession, merchant_id: int, item_type: str, item_id: int) -> Any:
    item = await repository.item_of(session, repository.MODELS[item_type], merchant_id, item_id)
    if item is None:
        raise _not_found(item_type, item_id)
    return item


async def decide(session: AsyncSession, clock: Clock, staff: StaffMember, item_type: ItemType, item_id: int, *,
                 reason: str | None) -> Any:
    """Hide (with a reason) or show an item, take it out of the queue, and keep its counts true: the item after."""
    model = repository.MODELS[item_type]
    item = await _item(session, staff.merchant_id, item_type, item_id)
    note_before(session, {"hidden": item.hidden_at is not None, "reason": item.hidden_reason})
    now = clock.now()
    if reason is not None:
        changed = await repository.hide(session, model, item.id, at=now, by=staff.staff_id, reason=reason)
    else:
        changed = await repository.show(session, model, item.id)
    if changed and item_type == "comment":
        await recount(session, item.post_id, comments=-1 if reason is not None else 1)
    await repository.dequeue(session, staff.merchant_id, item_type, item.id)
    await session.refresh(item)
    if item_type == "post" and reason is None:
        await publish(session, item, now)
    return item


async def report(session: AsyncSession, clock: Clock, shopper: Shopper, item_type: ItemType, item_id: int,
                 body: ReportIn) -> ReportOut:
    """A shopper reports a shown item of someone else's, once; the threshold-th report queues it."""
    item = await _item(session, shopper.merchant_id, item_type, item_id)
    if item.hidden_at is not None:
        raise _not_found(item_type, item_id)
    if item.customer_id == shopper.customer_id:
        raise Conflict("own_item", f"you cannot report your own {item_type}")
    now = clock.now()
    if not await repository.add_report(session, merchant_id=shopper.merchant_id, item_type=item_type,
                                       item_id=item.id, customer_id=shopper.customer_id, reason=body.reason,
                                       created_at=now):
        raise Conflict("already_reported", f"you have reported this {item_type} already")
    count = await repository.count_report(session, repository.MODELS[item_type], item.id)
    queued = count >= (await settings_of(session, shopper.merchant_id)).report_threshold
    if queued:
        await repository.enqueue(session, merchant_id=shopper.merchant_id, item_type=item_type, item_id=item.id,
                                 cause="reports", created_at=now)
    return ReportOut(item_type=item_type, item_id=item.id, queued=queued)


def moderated_item(item_type: ItemType, item: Any, cause: str | None) -> ModeratedItemOut:
    return ModeratedItemOut(
        item_type=item_type, item_id=item.id, customer_id=item.customer_id, nickname=item.nickname, text=item.text,
        images=getattr(item, "images", []), post_id=getattr(item, "post_id", None),
        product_id=getattr(item, "product_id", None), rating=getattr(item, "rating", None),
        created_at=item.created_at, report_count=item.report_count, queued=cause is not None, cause=cause,
        hidden=item.hidden_at is not None, held=item.hidden_at is not None and item.hidden_by is None,
        hidden_at=item.hidden_at, hidden_by=item.hidden_by, hidden_reason=item.hidden_reason)


async def queue(session: AsyncSession, merchant_id: int, *, item_type: ItemType | None = None,
                cursor: str | None = None, limit: int = PAGE) -> QueuePage:
    """What waits for a decision, oldest first: held by a keyword, or reported often enough."""
    tickets = await repository.queue(session, merchant_id, item_type=item_type, after_id=parse_cursor(cursor),
                                     limit=limit)
    loaded = {kind: await repository.items_by_id(session, repository.MODELS[kind],
                                                 [t.item_id for t in tickets if t.item_type == kind])
              for kind in {t.item_type for t in tickets}}
    items = [moderated_item(cast(ItemType, t.item_type), loaded[t.item_type][t.item_id], t.cause) for t in tickets
             if t.item_id in loaded[t.item_type]]
    return QueuePage(items=items, next_cursor=str(tickets[-1].id) if len(tickets) == limit else None)


async def listing(session: AsyncSession, merchant_id: int, item_type: ItemType, *, hidden: bool | None,
                  cursor: str | None = None, limit: int = PAGE) -> QueuePage:
    """One kind of item newest first, shown and hidden alike unless filtered, with whether each is queued."""
    found = await repository.for_moderation(session, repository.MODELS[item_type], merchant_id, hidden=hidden,
                                            before_id=parse_cursor(cursor), limit=limit)
    causes = await repository.tickets_of(session, merchant_id, item_type, [i.id for i in found])
    return QueuePage(items=[moderated_item(item_type, i, causes.get(i.id)) for i in found],
                     next_cursor=str(found[-1].id) if len(found) == limit else None)


async def queue_size(session: AsyncSession, merchant_id: int) -> int:
    return await repository.queue_size(session, merchant_id)
