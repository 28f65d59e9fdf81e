"""Assist red packets (助力拆红包): a customer opens a packet, K friends help, and the K-th help opens it and
pays the next prize of a pool split in advance. DOMAIN.md § Assist red packet; COMPLIANCE P3, F1–F5.

The pool cannot be overspent: the prizes sum exactly to it, each is handed out once (campaigns/slots.py: the
n-th winner gets prize n), and the credit is claimed against the pool's budget in the same transaction.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns import errors as campaign_errors
from fissionmall.campaigns import service as campaigns
from fissionmall.campaigns import slots
from fissionmall.campaigns.assist import errors, repository, rules
from fissionmall.campaigns.assist.models import AssistPacket
from fissionmall.campaigns.assist.schemas import (
    AssistCampaignOut,
    AssistPage,
    AssistRowOut,
    AssistSettings,
    OpenPacket,
    PacketOut,
)
from fissionmall.campaigns.assist.states import AssistStatus
from fissionmall.campaigns.helping import rules as help_rules
from fissionmall.campaigns.helping import service as helping
from fissionmall.campaigns.helping.schemas import Budget, Gift, GiftOut
from fissionmall.campaigns.mechanic import Mechanic, Page
from fissionmall.campaigns.models import Campaign
from fissionmall.campaigns.schemas import TOP_PRIZE_CAP_FEN, Finding
from fissionmall.campaigns.states import CampaignStatus
from fissionmall.core import counters
from fissionmall.core.auth import Shopper
from fissionmall.core.clock import Clock
from fissionmall.core.errors import Conflict
from fissionmall.core.events import record_event
from fissionmall.core.money import yuan
from fissionmall.core.pagination import parse_cursor
from fissionmall.core.runtime import Runtime
from fissionmall.customers import service as customers
from fissionmall.customers.schemas import ClientInfo
from fissionmall.fraud import service as fraud
from fissionmall.fraud.risk import HIGH_RISK
from fissionmall.merchants import service as merchants
from fissionmall.sharing.targets import PosterFacts, ShareTarget

KIND = "assist"
CHUNK = 500
PRIZE = "assist_prize"
RANK_CAP = 1_000_000
"""The rank counter's cap: never reached (a customer opens at most per_customer_limit packets); the counter is there
to number a customer's opened packets race-free."""


def settings_of(campaign: Campaign) -> AssistSettings:
    return AssistSettings.model_validate(campaign.settings)


async def open_packet(session: AsyncSession, runtime: Runtime, shopper: Shopper, body: OpenPacket,
                      client: ClientInfo) -> PacketOut:
    campaign = await campaigns.require(session, shopper.merchant_id, body.campaign_id, kind=KIND)
    settings = settings_of(campaign)
    claims = await campaigns.claims(session, campaign, shopper.customer_id, 1, settings.per_customer_limit, runtime)
    now = runtime.clock.now()
    packet = await repository.insert_packet(
        session, merchant_id=shopper.merchant_id, campaign_id=campaign.id, customer_id=shopper.customer_id,
        helpers_needed=settings.helpers_needed, helps_done=0, status=AssistStatus.OPEN, prize_fen=0,
        owner_device_id=client.device_id, owner_ip=client.ip, created_at=now,
        expires_at=now + timedelta(minutes=settings.duration_minutes))
    await record_event(session, merchant_id=shopper.merchant_id, kind="assist_open", at=now,
                       actor_id=shopper.customer_id, campaign_id=campaign.id, subject=(KIND, packet.id))
    started = await _out(session, runtime.clock, packet, settings)
    await claims.apply(session)
    return started


async def help_open(session: AsyncSession, runtime: Runtime, shopper: Shopper, packet_id: int,
                    client: ClientInfo) -> PacketOut:
    packet = await _require(session, shopper.merchant_id, packet_id)
    now = runtime.clock.now()
    if packet.status == AssistStatus.OPENED:
        raise errors.packet_complete()
    if packet.status != AssistStatus.OPEN or packet.expires_at <= now:
        raise errors.packet_closed(AssistStatus.EXPIRED)
    campaign = await campaigns.require(session, shopper.merchant_id, packet.campaign_id, kind=KIND)
    campaigns.require_live(campaign, runtime.clock)
    settings = settings_of(campaign)
    helper = await fraud.actor(session, shopper, client)
    help_id = await helping.take_help(session, runtime, settings, campaign_id=campaign.id,
                                      target=(KIND, packet.id), owner_id=packet.customer_id, helper=helper)
    stepped = await repository.take_step(session, packet.id, now)
    if stepped is None:
        raise errors.packet_complete()
    packet, seq = stepped, stepped.helps_done
    await helping.settle(session, help_id, seq)
    reward = await helping.reward_helper(session, runtime, settings, merchant_id=shopper.merchant_id,
                                         campaign_id=campaign.id, helper=helper, help_id=help_id)
    await record_event(session, merchant_id=shopper.merchant_id, kind="help", at=now, actor_id=helper.customer_id,
                       inviter_id=packet.customer_id, campaign_id=campaign.id, subject=(KIND, packet.id),
                       data={"seq": seq, "reward_fen": reward})
    if seq == packet.helpers_needed:
        packet = await _open(session, runtime, campaign, settings, packet)
    return await _out(session, runtime.clock, packet, settings)


async def _open(session: AsyncSession, runtime: Runtime, campaign: Campaign, settings: AssistSettings,
                packet: AssistPacket) -> AssistPacket:
    """The last help opens the packet: the odds, then the owner's risk rank, then the next prize of the pool (or,
    with a ladder, the prize of the owner's rank). The packet as it ends.

    The risk check comes before the prize is taken, so a prize withheld from a high-risk owner never leaves the
    pool: it stays for the next winner, and a farm of risky accounts cannot use up what genuine customers would
    win (and no pool lock is held across the risk check, a network call). Under high_risk "minimum" the owner is
    a winner: they take a prize and are paid the minimum, and the rest of that prize is not paid to anyone."""
    now = runtime.clock.now()
    rank = None
    if settings.ladder:
        rank = await counters.take(session, campaign.merchant_id, f"assist_rank:{campaign.id}:{packet.customer_id}",
                                   counters.TOTAL, RANK_CAP)
    outcome, prize_seq, paid, gift = "lost", None, 0, None
    if rules.wins(settings, random.SystemRandom()):
        owner = await customers.get_customer(session, packet.merchant_id, packet.customer_id)
        risk = await fraud.risk_rank(session, runtime, fraud.actor_of(owner, packet.owner_device_id, packet.owner_ip))
        if help_rules.withholds(settings, risk):
            outcome = "withheld"
        elif settings.ladder and rank is not None:
            outcome, prize_seq, paid, gift = await _ladder_prize(session, runtime, campaign, settings, packet, rank,
                                                                 risk)
        elif (slot := await slots.take(session, campaign.merchant_id, (KIND, campaign.id), settings.winners,
                                       packet.customer_id, now)) is None:
            outcome = "pool_empty"
        else:
            prize_seq, prize = slot
            paid = await helping.grant_credit(
                session, runtime.clock, merchant_id=campaign.merchant_id, campaign_id=campaign.id,
                budget=Budget(total_fen=settings.pool_fen), customer_id=owner.id,
                amount_fen=help_rules.risky_prize(settings, risk, prize, settings.min_prize_fen),
                kind=PRIZE, source=(KIND, packet.id))
            outcome = "won" if paid else "withheld"
    opened = await repository.mark_opened(
        session, packet.id, now, outcome, prize_seq, paid, rank=rank, gift_kind=gift.kind if gift else None,
        gift_ref=gift.ref if gift else None, gift_name=gift.name if gift else None)
    await record_event(session, merchant_id=campaign.merchant_id, kind="assist_opened", at=now,
                       actor_id=packet.customer_id, campaign_id=campaign.id, subject=(KIND, packet.id),
                       data={"outcome": outcome, "prize_fen": paid,
                             **({"rank": rank, "gift": gift.kind if gift else None} if settings.ladder else {})})
    return opened


async def _ladder_prize(session: AsyncSession, runtime: Runtime, campaign: Campaign, settings: AssistSettings,
                        packet: AssistPacket, rank: int, risk: int) -> tuple[str, int | None, int, GiftOut | None]:
    """越拆越多: the prize of the owner's `rank`-th opened packet. One of the campaign's `winners` places is claimed
    first (a capped counter); credit is drawn in the rung's range and claimed against the pool's budget by one guarded
    statement (the rung's minimum if the pool cannot pay the draw; nothing if it cannot pay that either); a coupon or
    goods comes from its own stock. A place that pays nothing is given back. (outcome, place, fen paid, gift)."""
    owner_place = (KIND, campaign.id)
    place = await slots.claim(session, campaign.merchant_id, owner_place, settings.winners)
    if place is None:
        return "pool_empty", None, 0, None
    number, rung = rules.rung_for(settings.ladder or [], rank)
    if rung.kind == "credit":
        drawn = help_rules.risky_prize(settings, risk, rules.draw(rung, random.SystemRandom()), rung.min_fen)
        for amount in dict.fromkeys((drawn, rung.min_fen)):  # the draw, then the rung's minimum
            paid = await helping.grant_credit(
                session, runtime.clock, merchant_id=campaign.merchant_id, campaign_id=campaign.id,
                budget=Budget(total_fen=settings.pool_fen), customer_id=packet.customer_id, amount_fen=amount,
                kind=PRIZE, source=(KIND, packet.id))
            if paid:
                return "won", place, paid, None
        await slots.give_back(session, owner_place)
        return "pool_short", None, 0, None
    if risk >= HIGH_RISK:  # "minimum": a high-risk owner is paid no coupon or goods, as published
        return "withheld", place, 0, None
    gift = await helping.grant_gift(session, runtime.clock, merchant_id=campaign.merchant_id, campaign_id=campaign.id,
                                    gift=rung.gift(), pot=f"rung{number}", customer_id=packet.customer_id,
                                    source=(KIND, packet.id))
    if gift is None:
        await slots.give_back(session, owner_place)
        return "stock_out", None, 0, None
    return "won", place, 0, gift


async def _require(session: AsyncSession, merchant_id: int, packet_id: int) -> AssistPacket:
    packet = await repository.packet_of(session, merchant_id, packet_id)
    if packet is None:
        raise errors.packet_not_found(packet_id)
    return packet


async def view(session: AsyncSession, clock: Clock, merchant_id: int, packet_id: int) -> PacketOut:
    packet = await _require(session, merchant_id, packet_id)
    campaign = await campaigns.require(session, merchant_id, packet.campaign_id, kind=KIND)
    return await _out(session, clock, packet, settings_of(campaign))


async def _out(session: AsyncSession, clock: Clock, packet: AssistPacket, settings: AssistSettings) -> PacketOut:
    now = clock.now()
    status = AssistStatus.EXPIRED if packet.status == AssistStatus.OPEN and packet.expires_at <= now else packet.status
    return PacketOut(
        id=packet.id, campaign_id=packet.campaign_id, customer_id=packet.customer_id, status=status,
        helpers_needed=packet.helpers_needed, helps_done=packet.helps_done,
        helps_remaining=packet.helpers_needed - packet.helps_done if status == AssistStatus.OPEN else 0,
        outcome=packet.outcome, prize_fen=packet.prize_fen, rank=packet.rank,
        gift=GiftOut(kind=packet.gift_kind, ref=packet.gift_ref or 0, name=packet.gift_name or "")
        if packet.gift_kind else None, expires_at=packet.expires_at,
        seconds_left=max(0, int((packet.expires_at - now).total_seconds())) if status == AssistStatus.OPEN else 0,
        helpers=(await helping.helps_on(session, KIND, [packet.id]))[packet.id],
        rules=await _rules(session, packet.merchant_id, settings))


def _rung_gifts(settings: AssistSettings) -> list[Gift]:
    return [rung.gift() for rung in settings.ladder or [] if rung.kind != "credit"]


async def _rules(session: AsyncSession, merchant_id: int, settings: AssistSettings) -> list[str]:
    """The published rules, naming the coupons and goods the campaign gives."""
    return rules.describe(settings, await helping.names_for(session, merchant_id, settings, *_rung_gifts(settings)))


async def campaign_view(session: AsyncSession, merchant_id: int, campaign_id: int) -> AssistCampaignOut:
    campaign = await campaigns.require(session, merchant_id, campaign_id, kind=KIND)
    if campaign.status == CampaignStatus.DRAFT:
        raise campaign_errors.campaign_not_found(campaign_id)
    settings = settings_of(campaign)
    merchant = await merchants.merchant_by_id(session, merchant_id)
    given = await slots.taken(session, (KIND, campaign.id))
    names = await helping.names_for(session, merchant_id, settings, *_rung_gifts(settings))
    return AssistCampaignOut(
        id=campaign.id, name=campaign.name, status=campaign.status, organiser=merchant.name,
        helpers_needed=settings.helpers_needed, pool_fen=settings.pool_fen, winners=settings.winners,
        split=settings.split, min_prize_fen=settings.min_prize_fen, max_prize_fen=rules.largest_possible(settings),
        win_percent=settings.win_percent, prizes_left=settings.winners - given,
        pool_left_fen=settings.pool_fen - await counters.used(session, helping.budget_key(campaign.id, PRIZE),
                                                              counters.TOTAL),
        ladder=settings.ladder, ladder_prizes=[rules.rung_prize(rung, names) for rung in settings.ladder or []],
        ends_at=campaign.ends_at, rules=rules.describe(settings, names))


async def expire(session: AsyncSession, clock: Clock) -> int:
    expired = await repository.expire_due(session, clock.now(), CHUNK)
    for packet in expired:
        await record_event(session, merchant_id=packet.merchant_id, kind="assist_expired", at=clock.now(),
                           actor_id=packet.customer_id, campaign_id=packet.campaign_id, subject=(KIND, packet.id),
                           data={"helps_done": packet.helps_done})
    return len(expired)


async def split_pool(session: AsyncSession, campaign: Campaign, settings: AssistSettings) -> None:
    """On first going live, fix every prize in advance (P3): they sum to the pool exactly. Going live again with
    another pool or prize count is refused: the published prizes cannot change once live."""
    count, total = await slots.filled(session, (KIND, campaign.id))
    if count and (count, total) != (settings.winners, settings.pool_fen):
        raise Conflict("prize_rules_fixed", f"this campaign's {count} prizes of {total} fen in all were fixed when it "
                                            "went live; its pool and prize count cannot change")
    if count == 0 and not settings.ladder:  # a ladder's prizes are drawn as they are won
        prizes = rules.prizes(settings, random.SystemRandom())
        await slots.fill(session, campaign.merchant_id, (KIND, campaign.id), prizes)


async def campaign_packets(session: AsyncSession, clock: Clock, merchant_id: int, campaign_id: int,
                           status: AssistStatus | None, cursor: str | None, limit: int) -> AssistPage:
    """Every packet of one of the merchant's assist campaigns: helps so far and what it gave, by status."""
    campaign = await campaigns.require(session, merchant_id, campaign_id, kind=KIND)
    rows = await repository.packet_page(session, merchant_id, campaign.id, status, parse_cursor(cursor), limit)
    now = clock.now()
    items = [AssistRowOut(
        id=p.id, customer_id=p.customer_id, nickname=nickname, status=p.status, helps_done=p.helps_done,
        helpers_needed=p.helpers_needed, outcome=p.outcome, prize_fen=p.prize_fen, created_at=p.created_at,
        expires_at=p.expires_at,
        seconds_left=max(0, int((p.expires_at - now).total_seconds())) if p.status == AssistStatus.OPEN else 0)
        for p, nickname in rows]
    return AssistPage(items=items, next_cursor=str(rows[-1][0].id) if len(rows) == limit else None)


async def check(session: AsyncSession, merchant_id: int, settings: AssistSettings) -> list[Finding]:
    """P3: the top prize stays within ¥50,000; a ladder's and the helper's gifts name the merchant's own coupon or
    SKU (G1); a ladder whose pool cannot pay every place even at each rung's minimum is flagged (F5)."""
    findings = await helping.gift_findings(session, merchant_id, settings, *(
        (f"ladder[{n}]", rung.gift()) for n, rung in enumerate(settings.ladder or []) if rung.kind != "credit"))
    cheapest = min((rung.min_fen for rung in settings.ladder or [] if rung.kind == "credit"), default=0)
    if cheapest and settings.pool_fen < cheapest * settings.winners:
        findings.append(Finding(rule="F5", level="warn", reason=(
            f"the pool of {settings.pool_fen} fen cannot pay all {settings.winners} prizes even at the smallest "
            f"rung minimum ({cheapest} fen): later winners may find it empty, as the rules say"),
            check="pool_short", facts={"pool_fen": settings.pool_fen, "winners": settings.winners,
                                       "min_fen": cheapest}))
    if rules.largest_possible(settings) > TOP_PRIZE_CAP_FEN:
        findings.append(Finding(rule="P3", level="block", reason=(
            f"a prize could reach {rules.largest_possible(settings)} fen, above the ¥50,000 cap of a promotion"),
            check="prize_above_cap", facts={"largest_fen": rules.largest_possible(settings)}))
    return findings


async def _packet_target(session: AsyncSession, shopper: Shopper, packet_id: int) -> int | None:
    packet = await _require(session, shopper.merchant_id, packet_id)
    if packet.customer_id != shopper.customer_id:
        raise errors.packet_not_found(packet_id)
    return packet.campaign_id


OUTCOMES = {"lost": "这次没有中奖", "pool_empty": "奖品已发完", "withheld": "经风控判定不发放奖励",
            "pool_short": "奖池余额已不足以支付这一档的奖励，本红包未发奖励", "stock_out": "这一档的奖品已送完"}


async def page(session: AsyncSession, clock: Clock, merchant_id: int, packet_id: int) -> dict[str, Any]:
    """A friend's red packet: whose it is, helpers so far, places left, the prize once opened, and the published
    odds."""
    packet = await view(session, clock, merchant_id, packet_id)
    campaign = await campaign_view(session, merchant_id, packet.campaign_id)
    owner = await customers.get_customer(session, merchant_id, packet.customer_id)
    goods = await helping.goods_prize(session, merchant_id, packet.gift.ref) \
        if packet.gift and packet.gift.kind == "goods" else None
    row = await campaigns.require(session, merchant_id, packet.campaign_id, kind=KIND)
    another = bool(campaign.ladder) and await campaigns.quota_left(session, row, packet.customer_id,
                                                                   settings_of(row).per_customer_limit)
    return {"packet": packet, "campaign": campaign, "empty_seats": range(packet.helps_remaining),
            "outcome_text": OUTCOMES.get(packet.outcome or "", ""), "owner": owner.nickname, "goods": goods,
            "another": another}


async def poster(session: AsyncSession, clock: Clock, merchant_id: int, packet_id: int) -> PosterFacts:
    """A red packet: the published top prize and pool, and how many helpers it still needs."""
    packet = await view(session, clock, merchant_id, packet_id)
    campaign = await campaign_view(session, merchant_id, packet.campaign_id)
    if packet.status == AssistStatus.OPEN:
        status = f"还差 {packet.helps_remaining} 人助力"
    elif packet.outcome == "won":
        status = f"红包已拆开，得 ¥{yuan(packet.prize_fen)}"
    else:
        status = "这个红包已结束"
    return PosterFacts(title=campaign.name, badge="助力红包", hero=f"最高 ¥{yuan(campaign.max_prize_fen)}",
                       hero_note=f"{campaign.organiser} · 好友助力拆红包", status=status,
                       progress_percent=packet.helps_done * 100 // packet.helpers_needed,
                       details=(f"奖池 ¥{yuan(campaign.pool_fen)} · 共 {campaign.winners} 份奖励，发完即止",),
                       tagline="长按识别二维码，帮我拆红包")


MECHANIC = Mechanic(
    kind=KIND, settings_model=AssistSettings, product_of=lambda s: None, check=check,
    summary=lambda s: {"pool_fen": s.pool_fen, "winners": s.winners}, on_activate=split_pool,
    rules_text="邀请规定人数的好友助力即可拆开红包；奖池总额事先确定、绝不超发，每份奖励按活动写明的规则拆分（随机或固定）。",
    share_target=ShareTarget(KIND, _packet_target, poster), page=Page("assists", "assist.html", page),
    tasks="fissionmall.campaigns.assist.tasks", describe=helping.named_rules(rules.describe, _rung_gifts))
