"""Points (积分): an append-only ledger of buckets, each earning with its own expiry; spending and expiry draw
the oldest first, and the balance row, guarded never to go below zero, always equals what is left in the
buckets. Earned on completed orders (money actually kept), by daily check-in with a streak bonus, by tasks, by
reviews and by community posts (up to a daily cap); spent at checkout at the merchant's rate, up to a share of the
order, and in the points mall."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import counters
from fissionmall.core.audit import note_before
from fissionmall.core.auth import Shopper, StaffMember
from fissionmall.core.clock import Clock
from fissionmall.core.errors import Conflict, InvalidInput, NotFound
from fissionmall.core.events import react, record_event
from fissionmall.core.money import percent_of, whole_yuan
from fissionmall.loyalty.levels import service as levels
from fissionmall.loyalty.points import repository
from fissionmall.loyalty.points.models import PointsConfig
from fissionmall.loyalty.points.schemas import CheckinOut, CheckinRules, PointsConfigIn, PointsEntryOut, PointsOut
from fissionmall.merchants import service as merchants
from fissionmall.sharing.targets import PosterFacts, ShareTarget

EARN_JOB = "points.earn"
REVIEW_JOB = "points.review"
POST_JOB = "points.post"
CHUNK = 1000


async def configure(session: AsyncSession, now: datetime, staff: StaffMember, body: PointsConfigIn) -> PointsConfigIn:
    note_before(session, await repository.points_config(session, staff.merchant_id), PointsConfigIn.model_fields)
    await repository.save_points_config(session, staff.merchant_id, **body.model_dump(), updated_at=now)
    return body


async def config_of(session: AsyncSession, merchant_id: int) -> PointsConfig | None:
    return await repository.points_config(session, merchant_id)


async def earn(session: AsyncSession, merchant_id: int, customer_id: int, points: int, kind: str,
               source: tuple[str, int], at: datetime, validity_days: int) -> bool:
    """A new bucket, once per (customer, kind, source)."""
    if points <= 0:
        return False
    return await repository.add_bucket(session, merchant_id=merchant_id, customer_id=customer_id, points=points,
                                       remaining=points, kind=kind, source_type=source[0], source_id=source[1],
                                       expires_at=at + timedelta(days=validity_days), created_at=at)


async def spend(session: AsyncSession, merchant_id: int, customer_id: int, points: int, source: tuple[str, int],
                at: datetime) -> None:
    """Take points, oldest buckets first; 409 insufficient_points (nothing taken) when the balance is short."""
    await repository.expire_buckets(session, customer_id, at)
    if not await repository.take_balance(session, customer_id, points):
        raise Conflict("insufficient_points", "not enough points", balance=await repository.points_balance(
            session, customer_id))
    await repository.draw_buckets(session, customer_id, points, at)
    await repository.add_entry(session, merchant_id=merchant_id, customer_id=customer_id, points=-points,
                               remaining=0, kind="spent", source_type=source[0], source_id=source[1],
                               expires_at=None, created_at=at)


def worth(config: PointsConfig | None, points: int) -> int:
    """What `points` take off at checkout (rounded down)."""
    return percent_of(points, config.fen_per_100_points) if config else 0


async def spent_on(session: AsyncSession, order_id: int) -> int:
    return await repository.spent_on(session, order_id)


async def give_back(session: AsyncSession, merchant_id: int, customer_id: int, points: int,
                    source: tuple[str, int], at: datetime) -> None:
    """Points of an order not kept (or its refunded share) come back as a fresh bucket."""
    if points <= 0:
        return
    config = await repository.points_config(session, merchant_id)
    await earn(session, merchant_id, customer_id, points, "returned", source, at,
               config.validity_days if config else 365)


async def checkin(session: AsyncSession, now: datetime, shopper: Shopper) -> CheckinOut:
    """Once a day (China Standard Time); consecutive days grow a streak bonus up to its cap."""
    config = await repository.points_config(session, shopper.merchant_id)
    if config is None:
        raise NotFound("points_not_configured", "this mall has no points")
    today, yesterday = counters.day_of(now), counters.day_of(now - timedelta(days=1))
    streak = await repository.check_in(session, shopper.merchant_id, shopper.customer_id, today, yesterday)
    if streak is None:
        raise Conflict("already_checked_in", "you have checked in today; come back tomorrow")
    points = config.checkin_points + config.streak_bonus * (min(streak, config.streak_cap) - 1)
    await earn(session, shopper.merchant_id, shopper.customer_id, points, "checkin",
               ("checkin", int(today.replace("-", ""))), now, config.validity_days)
    await record_event(session, merchant_id=shopper.merchant_id, kind="checkin", at=now, actor_id=shopper.customer_id,
                       data={"streak": streak, "points": points})
    return CheckinOut(points=points, streak=streak, balance=await repository.points_balance(session,
                                                                                           shopper.customer_id))


async def mine(session: AsyncSession, now: datetime, shopper: Shopper) -> PointsOut:
    config = await repository.points_config(session, shopper.merchant_id)
    balance, last, streak = await repository.balance_row(session, shopper.customer_id)
    today = counters.day_of(now)
    rules = CheckinRules(points=config.checkin_points, streak_bonus=config.streak_bonus,
                         streak_cap=config.streak_cap) if config else None
    return PointsOut(balance=balance, worth_fen=worth(config, balance), streak=_live_streak(now, last, streak),
                     checked_in_today=last == today, checkin=rules,
                     checkin_days=await repository.checkin_days(session, shopper.customer_id, today[:7]),
                     entries=[PointsEntryOut.model_validate(e, from_attributes=True)
                              for e in await repository.entries_of(session, shopper.customer_id, 50)])


def _live_streak(now: datetime, last_checkin: str | None, streak: int) -> int:
    """A streak lives while the last check-in was today or yesterday; after a missed day it is 0."""
    return streak if last_checkin in (counters.day_of(now), counters.day_of(now - timedelta(days=1))) else 0


async def _checkin_target(session: AsyncSession, shopper: Shopper, customer_id: int) -> int | None:
    """A check-in streak is its owner's to show off (its target is the sharer's customer id), once they have one."""
    if customer_id != shopper.customer_id:
        raise InvalidInput("invalid_share_target", "a check-in streak can only be shared by its owner",
                           field="target_id")
    _, last, streak = await repository.balance_row(session, customer_id)
    if last is None or streak == 0:
        raise InvalidInput("invalid_share_target", "check in first: there is no streak to show yet", field="target_id")
    return None


async def streak_card(session: AsyncSession, clock: Clock, merchant_id: int, customer_id: int) -> PosterFacts:
    """The show-off card "已连续签到 N 天" (the streak as of today: a missed day ends it), with the mall's own
    check-in rule; never the points balance."""
    _, last, streak = await repository.balance_row(session, customer_id)
    days = _live_streak(clock.now(), last, streak)
    config = await repository.points_config(session, merchant_id)
    merchant = await merchants.merchant_by_id(session, merchant_id)
    rule: tuple[str, ...] = ()
    if config is not None and config.checkin_points:
        bonus = f"，连续签到每天多 {config.streak_bonus} 分" if config.streak_bonus else ""
        rule = (f"每天签到得 {config.checkin_points} 积分{bonus}",)
    return PosterFacts(title="每天签到领积分", hero=f"已连续签到 {days} 天" if days else "每天签到领积分",
                       hero_note=f"我在{merchant.name}", details=rule, sharer_says="的打卡",
                       tagline="长按识别二维码，一起来签到")


SHARE_TARGET = ShareTarget("checkin", _checkin_target, streak_card)


def checkout_value(config: PointsConfig | None, points: int, total_before_fen: int) -> int:
    """What `points` take off an order of `total_before_fen`: 422 when the mall has no points or the share is
    over the merchant's limit."""
    if points and config is None:
        raise InvalidInput("points_not_configured", "this mall has no points", field="points")
    value = worth(config, points)
    if points and value == 0:
        raise InvalidInput("points_too_few", "these points are worth less than a fen", field="points")
    if config and value * 100 > total_before_fen * config.max_redeem_percent:
        raise InvalidInput("points_over_limit", f"points may pay at most {config.max_redeem_percent}% of an order",
                           field="points")
    return value


async def earn_for_orders(session: AsyncSession, now: datetime, payload: dict[str, Any]) -> None:
    """A chunk of orders completed (after their after-sale window): points for the money each kept, once."""
    config = await repository.points_config(session, int(payload["merchant_id"]))
    if config is None:
        return
    kept = await repository.kept_by_orders(session, payload["subject_ids"])
    multiplier = await levels.multipliers(session, config.merchant_id, [customer_id for _, customer_id, _ in kept])
    for order_id, customer_id, kept_fen in kept:
        await earn(session, config.merchant_id, customer_id,
                   percent_of(whole_yuan(kept_fen) * config.earn_per_yuan, multiplier[customer_id]), "earned",
                   ("order", order_id), now, config.validity_days)


async def earn_for_review(session: AsyncSession, now: datetime, payload: dict[str, Any]) -> None:
    """A review was written: the merchant's review points, once per review."""
    config = await repository.points_config(session, int(payload["merchant_id"]))
    if config is None or not config.review_points or payload["actor_id"] is None:
        return
    await earn(session, config.merchant_id, int(payload["actor_id"]), config.review_points, "review",
               ("review", int(payload["subject_id"])), now, config.validity_days)


class _OverDailyCap(Exception):
    """The customer's posts earned their daily cap already: the bucket just written is taken back."""


async def earn_for_post(session: AsyncSession, now: datetime, payload: dict[str, Any]) -> bool:
    """A post was published: the merchant's post points, once per post and at most `post_daily_cap` posts a day per
    customer. The bucket (unique per post) and the day's count (one capped upsert) are taken together or not at
    all, so a job run twice, or many posts at once, never pass the cap."""
    config = await repository.points_config(session, int(payload["merchant_id"]))
    if config is None or not config.post_points or payload["actor_id"] is None:
        return False
    customer_id = int(payload["actor_id"])
    try:
        async with session.begin_nested():
            if not await earn(session, config.merchant_id, customer_id, config.post_points, "post",
                              ("post", int(payload["subject_id"])), now, config.validity_days):
                return False
            if await counters.take(session, config.merchant_id, f"post_points:{customer_id}", counters.day_of(now),
                                   config.post_daily_cap) is None:
                raise _OverDailyCap
    except _OverDailyCap:
        return False
    return True


async def expire(session: AsyncSession, now: datetime) -> int:
    return await repository.expire_all(session, now, CHUNK)


async def _points_on(session: AsyncSession, merchant_id: int, inviter_id: int | None) -> bool:
    return await repository.points_config(session, merchant_id) is not None


react("order_completed", EARN_JOB, when=_points_on)
react("review", REVIEW_JOB, when=_points_on)
react("post", POST_JOB, when=_points_on)


async def balance_of(session: AsyncSession, customer_id: int) -> int:
    """A customer's points balance (the console's customer page; the caller has checked the merchant)."""
    return await repository.points_balance(session, customer_id)
