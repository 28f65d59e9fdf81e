"""Coupon packets after payment (DOMAIN.md § Share coupons, § Social discount credit): each paid order gets, per
live campaign, a packet of M coupons whose amounts are fixed when it is made; anyone with the link claims one
slot, once; the luckiest slot of a random split is marked; the buyer may earn a reward once k friends have claimed.

Share coupons (kind "share_coupon") and social discount credit (kind "credit") are the same machinery with
different words: a claim is a help (campaigns/helping: once per customer per packet, daily limits, velocity,
new-customers-only), and the slots are campaigns/slots, as an assist pool's prizes are.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns import errors as campaign_errors
from fissionmall.campaigns import service as campaigns
from fissionmall.campaigns import slots
from fissionmall.campaigns.helping import rules as help_rules
from fissionmall.campaigns.helping import service as helping
from fissionmall.campaigns.mechanic import Mechanic, Page
from fissionmall.campaigns.models import Campaign
from fissionmall.campaigns.packets import errors, repository, rules
from fissionmall.campaigns.packets.models import CouponPacket
from fissionmall.campaigns.packets.schemas import ClaimOut, PacketOut, PacketPage, PacketRowOut, PacketSettings
from fissionmall.campaigns.packets.states import PacketStatus
from fissionmall.campaigns.schemas import TOP_PRIZE_CAP_FEN, Finding
from fissionmall.core.auth import Shopper
from fissionmall.core.clock import Clock
from fissionmall.core.errors import NotFound
from fissionmall.core.events import react, record_event
from fissionmall.core.money import yuan
from fissionmall.core.pagination import parse_cursor
from fissionmall.core.runtime import Runtime
from fissionmall.coupons import service as coupons
from fissionmall.customers import service as customers
from fissionmall.customers.schemas import ClientInfo
from fissionmall.fraud import service as fraud
from fissionmall.orders import service as orders
from fissionmall.sharing.targets import PosterFacts, ShareTarget

KINDS = ("share_coupon", "credit")
TARGET = "packet"
CREATE_JOB = "packets.create"
CHUNK = 1000


def settings_of(campaign: Campaign) -> PacketSettings:
    return PacketSettings.model_validate(campaign.settings)


async def create_for_order(session: AsyncSession, runtime: Runtime, merchant_id: int, order_id: int) -> None:
    """A paid order: one packet per live packet campaign it qualifies for (paid in full, enough spent)."""
    order = await orders.find_order(session, merchant_id, order_id)
    if order is None or order.paid_fen < order.total_fen or order.total_fen == 0:
        return
    now = runtime.clock.now()
    for kind in KINDS:
        for campaign in await campaigns.live_of_kind(session, merchant_id, kind, runtime.clock):
            settings = settings_of(campaign)
            if order.total_fen < settings.min_order_fen:
                continue
            if not await campaigns.take_units(session, campaign, 1, runtime):
                continue  # the campaign has handed out all the packets it may
            packet_id = await repository.insert_packet(
                session, merchant_id=merchant_id, campaign_id=campaign.id, kind=kind, order_id=order.id,
                owner_id=order.customer_id, slots=settings.slots, friends_claimed=0, status=PacketStatus.OPEN,
                created_at=now, expires_at=now + timedelta(hours=settings.duration_hours))
            if packet_id is None:  # a job run twice: the order has its packet, and the unit goes back
                await campaigns.give_units(session, campaign.id, 1)
                continue
            await slots.fill(session, merchant_id, (TARGET, packet_id),
                             rules.amounts(settings, random.SystemRandom()))
            await record_event(session, merchant_id=merchant_id, kind="packet_created", at=now,
                               actor_id=order.customer_id, campaign_id=campaign.id,
                               subject=(TARGET, packet_id), data={"order_id": order.id})


async def claim(session: AsyncSession, runtime: Runtime, shopper: Shopper, packet_id: int,
                client: ClientInfo) -> PacketOut:
    """Claim one slot: admitted as a help, then the next slot, then its coupon with the slot's amount."""
    packet = await _require(session, shopper.merchant_id, packet_id)
    now = runtime.clock.now()
    if packet.status != PacketStatus.OPEN or packet.expires_at <= now:
        raise errors.packet_closed(PacketStatus.FINISHED if packet.status == PacketStatus.FINISHED
                                   else PacketStatus.EXPIRED)
    campaign = await campaigns.require(session, shopper.merchant_id, packet.campaign_id)
    campaigns.require_live(campaign, runtime.clock)
    settings = settings_of(campaign)
    claimer = await fraud.actor(session, shopper, client)
    help_id = await helping.take_help(session, runtime, settings, campaign_id=campaign.id,
                                      target=(TARGET, packet.id), owner_id=packet.owner_id, helper=claimer)
    slot = await slots.take(session, shopper.merchant_id, (TARGET, packet.id), packet.slots, claimer.customer_id, now)
    if slot is None:
        raise errors.packet_empty()
    seq, amount = slot
    await helping.settle(session, help_id, seq, amount)
    template = await coupons.require_template(session, shopper.merchant_id, settings.template_id)
    await coupons.issue(session, template, [claimer.customer_id], now, (TARGET, packet.id), amounts=[amount],
                        stock=False)
    if seq == packet.slots:
        await repository.finish(session, packet.id)
    reward = 0
    if claimer.customer_id != packet.owner_id:
        friends = await repository.count_friend(session, packet.id)
        if friends == settings.sharer_reward_after and settings.sharer_reward_fen and settings.reward_budget:
            reward = await _reward_sharer(session, runtime, campaign, settings, packet)
    await record_event(session, merchant_id=shopper.merchant_id, kind="packet_claim", at=now,
                       actor_id=claimer.customer_id, inviter_id=packet.owner_id, campaign_id=campaign.id,
                       subject=(TARGET, packet.id), data={"seq": seq, "amount_fen": amount, "reward_fen": reward})
    return await view(session, runtime.clock, shopper.merchant_id, packet.id)


async def _reward_sharer(session: AsyncSession, runtime: Runtime, campaign: Campaign, settings: PacketSettings,
                         packet: CouponPacket) -> int:
    """k friends really claimed (COMPLIANCE S1: a friend's act, not the share): the buyer's reward, after the
    risk check, from the campaign's reward budget."""
    owner = await customers.get_customer(session, packet.merchant_id, packet.owner_id)
    rank = await fraud.risk_rank(session, runtime, fraud.actor_of(owner, owner.signup_device_id, owner.signup_ip))
    assert settings.reward_budget is not None
    return await helping.grant_credit(
        session, runtime.clock, merchant_id=campaign.merchant_id, campaign_id=campaign.id,
        budget=settings.reward_budget, customer_id=owner.id,
        amount_fen=help_rules.risky_prize(settings, rank, settings.sharer_reward_fen, 0),
        kind="sharer_reward", source=(TARGET, packet.id))


async def _require(session: AsyncSession, merchant_id: int, packet_id: int) -> CouponPacket:
    packet = await repository.packet_of(session, merchant_id, packet_id)
    if packet is None:
        raise errors.packet_not_found(packet_id)
    return packet


async def view(session: AsyncSession, clock: Clock, merchant_id: int, packet_id: int) -> PacketOut:
    packet = await _require(session, merchant_id, packet_id)
    campaign = await campaigns.require(session, merchant_id, packet.campaign_id)
    settings = settings_of(campaign)
    template = await coupons.require_template(session, merchant_id, settings.template_id)
    # an even split has no luckiest slot: its odd fen goes to the earliest slots by rule, not by luck
    luckiest = await slots.largest(session, (TARGET, packet.id)) if settings.split is not None else None
    claims = [ClaimOut(seq=h.seq, customer_id=h.helper_id, nickname=h.nickname, avatar_url=h.avatar_url,
                       amount_fen=h.amount_fen, luckiest=h.seq == luckiest, created_at=h.created_at)
              for h in (await helping.helps_on(session, TARGET, [packet.id]))[packet.id]]
    status = PacketStatus.EXPIRED if packet.status == PacketStatus.OPEN and packet.expires_at <= clock.now() \
        else packet.status
    return PacketOut(id=packet.id, campaign_id=packet.campaign_id, kind=packet.kind, order_id=packet.order_id,
                     owner_id=packet.owner_id, status=status, slots=packet.slots,
                     slots_left=packet.slots - len(claims), expires_at=packet.expires_at, claims=claims,
                     coupon_name=template.name, threshold_fen=template.threshold_fen,
                     rules=rules.describe(settings, packet.kind, template.name, template.threshold_fen))


async def packets_for_order(session: AsyncSession, clock: Clock, shopper: Shopper, order_id: int) -> list[PacketOut]:
    """The packets the buyer got with an order, to share."""
    order = await orders.require_order(session, shopper.merchant_id, order_id, customer_id=shopper.customer_id)
    return [await view(session, clock, shopper.merchant_id, p.id)
            for p in await repository.packets_of_order(session, shopper.merchant_id, order.id)]


async def expire(session: AsyncSession, now: datetime) -> int:
    return await repository.expire_due(session, now, CHUNK)


async def campaign_packets(session: AsyncSession, clock: Clock, merchant_id: int, campaign_id: int,
                           status: PacketStatus | None, cursor: str | None, limit: int) -> PacketPage:
    """Every packet of one of the merchant's share-coupon or credit campaigns: slots claimed so far, by status."""
    campaign = await campaigns.require(session, merchant_id, campaign_id)
    if campaign.kind not in KINDS:
        raise campaign_errors.campaign_not_found(campaign_id)
    rows = await repository.packet_page(session, merchant_id, campaign.id, status, parse_cursor(cursor), limit)
    claimed = await slots.taken_counts(session, TARGET, [p.id for p, _ in rows])
    now = clock.now()
    items = [PacketRowOut(
        id=p.id, owner_id=p.owner_id, nickname=nickname, order_id=p.order_id, status=p.status, slots=p.slots,
        claimed=claimed.get(p.id, 0), friends_claimed=p.friends_claimed, created_at=p.created_at,
        expires_at=p.expires_at,
        seconds_left=max(0, int((p.expires_at - now).total_seconds())) if p.status == PacketStatus.OPEN else 0)
        for p, nickname in rows]
    return PacketPage(items=items, next_cursor=str(rows[-1][0].id) if len(rows) == limit else None)


async def check(session: AsyncSession, merchant_id: int, settings: PacketSettings) -> list[Finding]:
    """The coupon each slot issues exists, is an amount coupon, and is not claimable on its own."""
    try:
        template = await coupons.require_template(session, merchant_id, settings.template_id)
    except NotFound:
        return [Finding(rule="G1", level="block", reason=f"coupon template {settings.template_id} does not exist",
                        check="coupon_missing", facts={"template_id": settings.template_id})]
    findings = []
    if rules.largest_possible(settings) > TOP_PRIZE_CAP_FEN:
        findings.append(Finding(rule="P3", level="block", reason=(
            f"a slot could be worth {rules.largest_possible(settings)} fen, above the ¥50,000 cap of a promotion"),
            check="prize_above_cap", facts={"largest_fen": rules.largest_possible(settings)}))
    if template.kind != "amount":
        findings.append(Finding(rule="G1", level="block", reason="packet slots issue amount coupons only",
                                check="coupon_not_amount"))
    if template.claimable:
        findings.append(Finding(rule="G1", level="warn", reason=(
            "the packet's coupon can also be claimed in the coupon centre; packets usually use a coupon of their own"),
            check="coupon_claimable"))
    return findings


async def _packet_target(session: AsyncSession, shopper: Shopper, packet_id: int) -> int | None:
    packet = await _require(session, shopper.merchant_id, packet_id)
    return packet.campaign_id


async def _packets_live(session: AsyncSession, merchant_id: int, inviter_id: int | None) -> bool:
    """Only merchants running a packet campaign pay for a job per payment."""
    return await campaigns.any_live(session, merchant_id, KINDS)


react("pay", CREATE_JOB, when=_packets_live)


async def page(session: AsyncSession, clock: Clock, merchant_id: int, packet_id: int) -> dict[str, Any]:
    """A packet's page and its share landing: whose it is, what is left, who got what; the template picks out the
    visitor's own slot. The luckiest is only news when the amounts were random."""
    packet = await view(session, clock, merchant_id, packet_id)
    settings = settings_of(await campaigns.require(session, merchant_id, packet.campaign_id))
    owner = await customers.get_customer(session, merchant_id, packet.owner_id)
    return {"packet": packet, "owner": owner.nickname, "total_fen": settings.total_fen,
            "left_fen": settings.total_fen - sum(c.amount_fen for c in packet.claims),
            "random_split": settings.split is not None, "what": WORDS[packet.kind],
            "seconds_left": max(0, int((packet.expires_at - clock.now()).total_seconds()))}


NAMES = {"share_coupon": "分享券包", "credit": "社交立减金"}


async def poster(session: AsyncSession, clock: Clock, merchant_id: int, packet_id: int) -> PosterFacts:
    """A packet: its total, its coupon and threshold, and how many of its slots are left to claim."""
    packet = await view(session, clock, merchant_id, packet_id)
    campaign = await campaigns.require(session, merchant_id, packet.campaign_id)
    claimed = packet.slots - packet.slots_left
    status = f"还剩 {packet.slots_left}/{packet.slots} 份" if packet.status == PacketStatus.OPEN \
        else "已领完" if packet.status == PacketStatus.FINISHED else "已过期"
    threshold = f"满 ¥{yuan(packet.threshold_fen)} 可用" if packet.threshold_fen else "无门槛"
    return PosterFacts(title=packet.coupon_name, hero=f"共 ¥{yuan(settings_of(campaign).total_fen)}",
                       hero_note=f"{NAMES.get(packet.kind, '券包')} · 好友一起领",
                       status=status, progress_percent=claimed * 100 // packet.slots,
                       details=(f"{threshold} · 金额随机，每人限领一次",), tagline="长按识别二维码，一起来领")


def _mechanic(kind: str, rules_text: str) -> Mechanic:
    """Share coupons and social credit are one implementation: they differ in what a slot holds."""

    async def describe(session: AsyncSession, merchant_id: int, settings: PacketSettings) -> list[str]:
        try:
            template = await coupons.require_template(session, merchant_id, settings.template_id)
        except NotFound:
            return rules.describe(settings, kind, "（未选择的券）", 0)
        return rules.describe(settings, kind, template.name, template.threshold_fen)

    return Mechanic(kind=kind, settings_model=PacketSettings, product_of=lambda s: None, check=check,
                    summary=lambda s: {"slots": s.slots, "total_fen": s.total_fen}, rules_text=rules_text,
                    share_target=ShareTarget(TARGET, _packet_target, poster),
                    page=Page("packets", "gifts/packet.html", page), tasks="fissionmall.campaigns.packets.tasks",
                    describe=describe)


SHARE_COUPON, CREDIT = KINDS
WORDS = {SHARE_COUPON: "分享券", CREDIT: "立减金"}
SHARE_COUPON_MECHANIC = _mechanic(
    SHARE_COUPON, "付款后得到一个可分享的券包：份数和总面额事先确定，每份金额在创建时按活动规则拆好（随机或平均），"
                  "总和恰好等于总额；每人每个券包限领一次。")
CREDIT_MECHANIC = _mechanic(
    CREDIT, "付款后生成立减金页面，你和好友可领取下次购物可用的立减金；"
            "份数和总额事先确定，每份金额按活动规则随机或平均，每人限领一次。")
