"""Bargaining (砍价): a customer starts a bargain, friends each take the next cut of a schedule fixed at the
start, and the customer buys at the price reached (or at the floor) through the normal order flow.
DOMAIN.md § Bargaining; COMPLIANCE P1, P2, F1–F5."""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns import errors as campaign_errors
from fissionmall.campaigns import service as campaigns
from fissionmall.campaigns.bargain import errors, repository, rules
from fissionmall.campaigns.bargain.models import Bargain
from fissionmall.campaigns.bargain.schemas import (
    BargainCampaignOut,
    BargainOut,
    BargainPage,
    BargainRowOut,
    BargainSettings,
    StartBargain,
)
from fissionmall.campaigns.bargain.states import OPEN, BargainStatus
from fissionmall.campaigns.helping import service as helping
from fissionmall.campaigns.mechanic import Mechanic, Page
from fissionmall.campaigns.models import Campaign
from fissionmall.campaigns.schemas import Finding
from fissionmall.campaigns.states import CampaignStatus
from fissionmall.catalog import service as catalog
from fissionmall.core.auth import Shopper
from fissionmall.core.clock import Clock
from fissionmall.core.errors import NotFound
from fissionmall.core.events import record_event
from fissionmall.core.money import yuan
from fissionmall.core.pagination import parse_cursor
from fissionmall.core.runtime import Runtime
from fissionmall.customers import service as customers
from fissionmall.customers.schemas import ClientInfo
from fissionmall.fraud import service as fraud
from fissionmall.fraud.risk import HIGH_RISK
from fissionmall.orders import service as orders
from fissionmall.orders.hooks import CampaignPart
from fissionmall.orders.models import Order
from fissionmall.orders.schemas import CampaignChoice
from fissionmall.sharing.targets import PosterFacts, ShareTarget

KIND = "bargain"
CHUNK = 500


def settings_of(campaign: Campaign) -> BargainSettings:
    return BargainSettings.model_validate(campaign.settings)


async def start(session: AsyncSession, runtime: Runtime, shopper: Shopper, body: StartBargain) -> BargainOut:
    """Claim a unit of the campaign and one of the customer's starts, plan the cuts, publish their hash."""
    campaign = await campaigns.require(session, shopper.merchant_id, body.campaign_id, kind=KIND)
    settings = settings_of(campaign)
    claims = await campaigns.claims(session, campaign, shopper.customer_id, 1, settings.per_customer_limit, runtime)
    now = runtime.clock.now()
    own_cut = rules.self_cut(settings)
    schedule = rules.plan_cuts(settings.start_price_fen - settings.floor_price_fen - own_cut,
                               settings.helps_needed, random.SystemRandom())
    salt = secrets.token_hex(16)
    bargain = await repository.insert_bargain(
        session, merchant_id=shopper.merchant_id, campaign_id=campaign.id, customer_id=shopper.customer_id,
        sku_id=settings.sku_id, start_price_fen=settings.start_price_fen, floor_price_fen=settings.floor_price_fen,
        self_cut_fen=own_cut, price_fen=settings.start_price_fen - own_cut, helps_needed=settings.helps_needed,
        helps_done=0, schedule=schedule, salt=salt, schedule_hash=rules.schedule_hash(salt, schedule),
        status=BargainStatus.ONGOING, created_at=now, expires_at=now + timedelta(minutes=settings.duration_minutes))
    await record_event(session, merchant_id=shopper.merchant_id, kind="bargain_start", at=now,
                       actor_id=shopper.customer_id, campaign_id=campaign.id, subject=("bargain", bargain.id),
                       data={"start_price_fen": settings.start_price_fen, "helps_needed": settings.helps_needed})
    started = await _out(session, runtime.clock, bargain, settings)
    await claims.apply(session)
    return started


async def help_cut(session: AsyncSession, runtime: Runtime, shopper: Shopper, bargain_id: int,
                   client: ClientInfo) -> BargainOut:
    """A friend takes the next cut: admitted by the shared help rules, then one guarded step on the bargain."""
    bargain = await _require(session, shopper.merchant_id, bargain_id)
    now = runtime.clock.now()
    if bargain.status == BargainStatus.REACHED_FLOOR:
        raise errors.bargain_complete()
    if bargain.status != BargainStatus.ONGOING or bargain.expires_at <= now:
        raise errors.bargain_closed("over" if bargain.status == BargainStatus.ONGOING else bargain.status)
    if bargain.order_id is not None:
        raise errors.bargain_in_order()
    campaign = await campaigns.require(session, shopper.merchant_id, bargain.campaign_id, kind=KIND)
    campaigns.require_live(campaign, runtime.clock)
    settings = settings_of(campaign)
    helper = await fraud.actor(session, shopper, client)
    help_id = await helping.take_help(session, runtime, settings, campaign_id=campaign.id,
                                      target=(KIND, bargain.id), owner_id=bargain.customer_id, helper=helper)
    step = await repository.take_step(session, bargain.id, now)
    if step is None:
        raise errors.bargain_complete()
    seq, price, floor, schedule = step
    bonus = settings.new_helper_bonus_fen if helper.is_new else 0
    if bonus and await fraud.risk_rank(session, runtime, helper) >= HIGH_RISK:
        bonus = 0  # a new-customer bonus only after the risk check (F2)
    cut = rules.apply_cut(price, floor, schedule[seq - 1], bonus)
    bargain = await repository.set_price(session, bargain.id, price - cut,
                                         BargainStatus.REACHED_FLOOR if price - cut == floor else BargainStatus.ONGOING)
    await helping.settle(session, help_id, seq, cut)
    reward = await helping.reward_helper(session, runtime, settings, merchant_id=shopper.merchant_id,
                                         campaign_id=campaign.id, helper=helper, help_id=help_id)
    await record_event(session, merchant_id=shopper.merchant_id, kind="help", at=now, actor_id=helper.customer_id,
                       inviter_id=bargain.customer_id, campaign_id=campaign.id, subject=(KIND, bargain.id),
                       data={"seq": seq, "cut_fen": cut, "bonus_fen": max(0, cut - schedule[seq - 1]),
                             "reward_fen": reward})
    return await _out(session, runtime.clock, bargain, settings)


async def _require(session: AsyncSession, merchant_id: int, bargain_id: int) -> Bargain:
    bargain = await repository.bargain_of(session, merchant_id, bargain_id)
    if bargain is None:
        raise errors.bargain_not_found(bargain_id)
    return bargain


async def view(session: AsyncSession, clock: Clock, merchant_id: int, bargain_id: int) -> BargainOut:
    bargain = await _require(session, merchant_id, bargain_id)
    campaign = await campaigns.require(session, merchant_id, bargain.campaign_id, kind=KIND)
    return await _out(session, clock, bargain, settings_of(campaign))


async def _out(session: AsyncSession, clock: Clock, bargain: Bargain, settings: BargainSettings) -> BargainOut:
    now = clock.now()
    live = bargain.status in OPEN and bargain.expires_at > now
    status = BargainStatus.EXPIRED if bargain.status in OPEN and not live and bargain.order_id is None \
        else bargain.status
    over = status != BargainStatus.ONGOING  # no cut is left to take: the schedule and its salt can be shown
    cuts = (await helping.helps_on(session, KIND, [bargain.id]))[bargain.id]
    return BargainOut(
        id=bargain.id, campaign_id=bargain.campaign_id, customer_id=bargain.customer_id, sku_id=bargain.sku_id,
        status=status,
        start_price_fen=bargain.start_price_fen, floor_price_fen=bargain.floor_price_fen,
        self_cut_fen=bargain.self_cut_fen, price_fen=bargain.price_fen, helps_needed=bargain.helps_needed,
        helps_done=bargain.helps_done,
        helps_remaining=rules.helps_remaining(bargain.helps_needed, bargain.helps_done, bargain.price_fen,
                                              bargain.floor_price_fen),
        progress_percent=rules.progress_percent(bargain.start_price_fen, bargain.floor_price_fen, bargain.price_fen),
        can_buy=live and bargain.order_id is None
        and (settings.buy_at == "current" or bargain.status == BargainStatus.REACHED_FLOOR),
        expires_at=bargain.expires_at, seconds_left=max(0, int((bargain.expires_at - now).total_seconds())),
        cuts=cuts, schedule_hash=bargain.schedule_hash, schedule=bargain.schedule if over else None,
        salt=bargain.salt if over else None,
        rules=rules.describe(settings, await helping.names_for(session, bargain.merchant_id, settings)))


async def campaign_view(session: AsyncSession, merchant_id: int, campaign_id: int) -> BargainCampaignOut:
    campaign = await campaigns.require(session, merchant_id, campaign_id, kind=KIND)
    if campaign.status == CampaignStatus.DRAFT:
        raise campaign_errors.campaign_not_found(campaign_id)
    settings = settings_of(campaign)
    return BargainCampaignOut(
        id=campaign.id, name=campaign.name, status=campaign.status, product_id=settings.product_id,
        sku_id=settings.sku_id, start_price_fen=settings.start_price_fen, floor_price_fen=settings.floor_price_fen,
        helps_needed=settings.helps_needed, duration_minutes=settings.duration_minutes, buy_at=settings.buy_at,
        ends_at=campaign.ends_at,
        rules=rules.describe(settings, await helping.names_for(session, merchant_id, settings)))


class BargainOrders:
    """Bargaining's part in the order flow: the bargain's price, one unit, one order at a time."""

    async def prepare(self, session: AsyncSession, runtime: Runtime, shopper: Shopper, choice: CampaignChoice,
                      lines: Sequence[dict[str, Any]]) -> CampaignPart:
        bargain = await _require(session, shopper.merchant_id, choice.target_id or 0)
        if bargain.customer_id != shopper.customer_id or bargain.campaign_id != choice.campaign_id:
            raise errors.bargain_not_found(bargain.id)
        if len(lines) != 1 or lines[0]["sku_id"] != bargain.sku_id or lines[0]["quantity"] != 1:
            raise errors.wrong_item()
        if bargain.status not in OPEN or bargain.expires_at <= runtime.clock.now():
            raise errors.bargain_closed(bargain.status)
        campaign = await campaigns.require(session, shopper.merchant_id, bargain.campaign_id, kind=KIND)
        if settings_of(campaign).buy_at == "floor" and bargain.status != BargainStatus.REACHED_FLOOR:
            raise errors.floor_not_reached()
        if bargain.order_id is not None:
            raise errors.bargain_in_order()
        return CampaignPart(
            kind=KIND, campaign_id=campaign.id,
            adjustments=[{"kind": "bargain_price", "name": "砍价", "source_id": bargain.id,
                          "amount_fen": bargain.price_fen - lines[0]["unit_price_fen"]}],
            context={"bargain_id": bargain.id})

    async def placed(self, session: AsyncSession, clock: Clock, order_id: int, part: CampaignPart) -> None:
        if not await repository.attach_order(session, part.context["bargain_id"], order_id, clock.now()):
            raise errors.bargain_in_order()

    async def paid(self, session: AsyncSession, runtime: Runtime, order: Order) -> None:
        await repository.purchased(session, order.id)
        await orders.release_for_shipping(session, [order.id])

    async def released(self, session: AsyncSession, released_orders: Sequence[Order]) -> None:
        await repository.detach_orders(session, [o.id for o in released_orders])

    async def balance_lapsed(self, session: AsyncSession, clock: Clock, lapsed: Sequence[Order]) -> None:
        """Bargains take no deposit, so no balance of theirs can lapse."""


async def expire(session: AsyncSession, clock: Clock) -> int:
    """One chunk of bargains whose time ran out unbought: each gives back its campaign unit and start."""
    expired = await repository.expire_due(session, clock.now(), CHUNK)
    for bargain in expired:
        await campaigns.unclaim(session, bargain.campaign_id, bargain.customer_id, 1)
        await record_event(session, merchant_id=bargain.merchant_id, kind="bargain_expired", at=clock.now(),
                           actor_id=bargain.customer_id, campaign_id=bargain.campaign_id,
                           subject=(KIND, bargain.id), data={"price_fen": bargain.price_fen})
    return len(expired)


async def campaign_bargains(session: AsyncSession, clock: Clock, merchant_id: int, campaign_id: int,
                            status: BargainStatus | None, cursor: str | None, limit: int) -> BargainPage:
    """Every bargain of one of the merchant's campaigns: cuts so far and the price reached, by status."""
    campaign = await campaigns.require(session, merchant_id, campaign_id, kind=KIND)
    rows = await repository.bargain_page(session, merchant_id, campaign.id, status, parse_cursor(cursor), limit)
    now = clock.now()
    items = [BargainRowOut(
        id=b.id, customer_id=b.customer_id, nickname=nickname, sku_id=b.sku_id, status=b.status,
        start_price_fen=b.start_price_fen, floor_price_fen=b.floor_price_fen, price_fen=b.price_fen,
        cut_fen=b.start_price_fen - b.price_fen, helps_done=b.helps_done, helps_needed=b.helps_needed,
        order_id=b.order_id, created_at=b.created_at, expires_at=b.expires_at,
        seconds_left=max(0, int((b.expires_at - now).total_seconds())) if b.status in OPEN else 0)
        for b, nickname in rows]
    return BargainPage(items=items, next_cursor=str(rows[-1][0].id) if len(rows) == limit else None)


async def check(session: AsyncSession, merchant_id: int, settings: BargainSettings) -> list[Finding]:
    """The item's checks, and the helper gift's (it names the merchant's own coupon or SKU)."""
    return [*await _check_item(session, merchant_id, settings),
            *await helping.gift_findings(session, merchant_id, settings)]


async def _check_item(session: AsyncSession, merchant_id: int, settings: BargainSettings) -> list[Finding]:
    """The SKU is the product's, and the start price is what the item really costs (no invented "was" price)."""
    try:
        product = await catalog.require_product(session, merchant_id, settings.product_id)
    except NotFound:
        return [Finding(rule="G1", level="block", reason=f"product {settings.product_id} does not exist",
                        check="product_missing", facts={"product_id": settings.product_id or 0})]
    prices = {sku.id: sku.price_fen for sku in product.skus}
    if settings.sku_id not in prices:
        return [Finding(rule="G1", level="block", reason=f"SKU {settings.sku_id} is not a SKU of product {product.id}",
                        check="sku_not_of_product", facts={"sku_id": settings.sku_id or 0, "product_id": product.id})]
    if settings.start_price_fen > prices[settings.sku_id]:
        return [Finding(rule="P4", level="block", reason=(
            f"the bargain starts at {settings.start_price_fen} fen, above the item's price "
            f"({prices[settings.sku_id]} fen): the cuts would be invented"), check="start_above_price",
            facts={"start_price_fen": settings.start_price_fen, "price_fen": prices[settings.sku_id]})]
    return []


async def _bargain_target(session: AsyncSession, shopper: Shopper, bargain_id: int) -> int | None:
    """Only the initiator shares a bargain: friends come to help through the initiator's link."""
    bargain = await _require(session, shopper.merchant_id, bargain_id)
    if bargain.customer_id != shopper.customer_id:
        raise errors.bargain_not_found(bargain_id)
    return bargain.campaign_id


async def page(session: AsyncSession, clock: Clock, merchant_id: int, bargain_id: int) -> dict[str, Any]:
    """A friend's bargain: whose it is, price so far, who cut how much, helps left, the rules and the schedule's
    proof."""
    bargain = await view(session, clock, merchant_id, bargain_id)
    campaign = await campaign_view(session, merchant_id, bargain.campaign_id)
    product = await catalog.product_detail(session, merchant_id, campaign.product_id, shopper_view=False)
    starter = await customers.get_customer(session, merchant_id, bargain.customer_id)
    return {"bargain": bargain, "campaign": campaign, "product": product, "starter": starter.nickname}


async def poster(session: AsyncSession, clock: Clock, merchant_id: int, bargain_id: int) -> PosterFacts:
    """The price reached, struck against the start, and how many cuts are left (never overstating progress)."""
    facts = await page(session, clock, merchant_id, bargain_id)
    bargain, product = facts["bargain"], facts["product"]
    cut = bargain.start_price_fen - bargain.price_fen
    if bargain.status == BargainStatus.ONGOING:
        status = f"已砍 ¥{yuan(cut)}，还差 {bargain.helps_remaining} 刀"
    elif bargain.status in (BargainStatus.REACHED_FLOOR, BargainStatus.PURCHASED):
        status = f"已砍到底价 ¥{yuan(bargain.floor_price_fen)}"
    else:
        status = f"已砍 ¥{yuan(cut)}，砍价已结束"
    return PosterFacts(title=product.title, image_url=product.images[0] if product.images else None,
                       price_fen=bargain.price_fen, list_price_fen=bargain.start_price_fen, badge="砍价",
                       status=status, progress_percent=bargain.progress_percent,
                       details=(f"底价 ¥{yuan(bargain.floor_price_fen)}，共需 {bargain.helps_needed} 位好友帮砍",),
                       tagline="长按识别二维码，帮我砍一刀")


MECHANIC = Mechanic(
    kind=KIND, settings_model=BargainSettings, product_of=lambda s: s.product_id, check=check,
    summary=lambda s: {"start_price_fen": s.start_price_fen, "floor_price_fen": s.floor_price_fen,
                       "helps_needed": s.helps_needed},
    rules_text="每位好友帮砍一次；每一刀在发起时就已排定，恰好凑满所需人数即到底价，页面显示还差几刀。不抽奖。",
    orders=BargainOrders(), share_target=ShareTarget(KIND, _bargain_target, poster),
    page=Page("bargains", "bargain.html", page), tasks="fissionmall.campaigns.bargain.tasks",
    describe=helping.named_rules(rules.describe))
