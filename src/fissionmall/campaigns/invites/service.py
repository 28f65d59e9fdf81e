"""Invite rewards (邀请有礼, the lawful form of "pure sharing fission"): the inviter earns shop credit when an
invited friend registers or pays for a first order, up to N friends; sharing itself earns nothing (S1).

The reward is decided by the worker after the friend's deed (a reaction to its event), so the risk check
(F2, F4) may call WeChat outside any transaction: a friend on a device that already had an account, or a
high-risk friend, counts for nothing; limits and budget are claimed in the transaction that credits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns import errors as campaign_errors
from fissionmall.campaigns import service as campaigns
from fissionmall.campaigns.helping import service as helping
from fissionmall.campaigns.invites import repository, rules
from fissionmall.campaigns.invites.schemas import (
    InviteCampaignOut,
    InviteProgressOut,
    InviteRewardOut,
    InviteSettings,
)
from fissionmall.campaigns.mechanic import Mechanic, Page, pure_rules
from fissionmall.campaigns.models import Campaign
from fissionmall.campaigns.schemas import Finding
from fissionmall.campaigns.states import CampaignStatus
from fissionmall.core import counters
from fissionmall.core.auth import Shopper
from fissionmall.core.clock import Clock
from fissionmall.core.errors import InvalidInput
from fissionmall.core.events import react, record_event
from fissionmall.core.money import yuan
from fissionmall.customers import service as customers
from fissionmall.customers.models import Customer
from fissionmall.merchants import service as merchants
from fissionmall.sharing import service as sharing
from fissionmall.sharing.targets import PosterFacts, ShareTarget

KIND = "invite"
REWARD_JOB = "invites.reward"
REWARD = "invite_reward"


def settings_of(campaign: Campaign) -> InviteSettings:
    return InviteSettings.model_validate(campaign.settings)


async def to_reward(session: AsyncSession, clock: Clock, merchant_id: int, friend_id: int,
                    deed: str) -> tuple[Customer, list[Campaign]] | None:
    """A friend registered or paid a first order (`deed`): the friend and the live campaigns that reward their
    inviter for it, or None when nobody is owed anything."""
    friend = await customers.get_customer(session, merchant_id, friend_id)
    live = [c for c in await campaigns.live_of_kind(session, merchant_id, KIND, clock)
            if settings_of(c).reward_on == deed]
    if friend.inviter_id is None or friend.inviter_id == friend.id or not live:
        return None
    return friend, live


async def reward_inviter(session: AsyncSession, clock: Clock, live: list[Campaign], friend: Customer,
                         verdict: str | None) -> None:
    """The inviter's reward in each campaign, once `verdict` (the risk check's judgement of the friend) is known."""
    for campaign in live:
        await _reward(session, clock, campaign, friend, verdict)


async def _reward(session: AsyncSession, clock: Clock, campaign: Campaign, friend: Customer,
                  verdict: str | None) -> None:
    settings, inviter_id = settings_of(campaign), friend.inviter_id or 0
    reward_id = await repository.record(session, merchant_id=campaign.merchant_id, campaign_id=campaign.id,
                                        inviter_id=inviter_id, invitee_id=friend.id, outcome="pending",
                                        amount_fen=0, created_at=clock.now())
    if reward_id is None:
        return  # this friend was counted already (a retried job)
    outcome, paid = verdict or "rewarded", 0
    friends_key = f"invites:{campaign.id}:{inviter_id}"
    if verdict is None:
        if await counters.take(session, campaign.merchant_id, friends_key, counters.TOTAL,
                               settings.max_friends) is None:
            outcome = "limit_reached"
        else:
            paid = await helping.grant_credit(session, clock, merchant_id=campaign.merchant_id,
                                              campaign_id=campaign.id, budget=settings.budget,
                                              customer_id=inviter_id, amount_fen=settings.reward_fen, kind=REWARD,
                                              source=("invite", reward_id))
            if not paid:
                outcome = "budget_spent"
                await counters.give_back(session, friends_key, counters.TOTAL)
    await repository.settle(session, reward_id, outcome, paid)
    await record_event(session, merchant_id=campaign.merchant_id, kind="invite_reward", at=clock.now(),
                       actor_id=inviter_id, inviter_id=inviter_id, campaign_id=campaign.id,
                       subject=("customer", friend.id), data={"outcome": outcome, "amount_fen": paid})


async def _published(session: AsyncSession, merchant_id: int, campaign_id: int) -> Campaign:
    campaign = await campaigns.require(session, merchant_id, campaign_id, kind=KIND)
    if campaign.status == CampaignStatus.DRAFT:
        raise campaign_errors.campaign_not_found(campaign_id)
    return campaign


async def campaign_view(session: AsyncSession, merchant_id: int, campaign_id: int) -> InviteCampaignOut:
    return _campaign_out(await _published(session, merchant_id, campaign_id))


async def live(session: AsyncSession, clock: Clock, merchant_id: int) -> list[InviteCampaignOut]:
    """The invite campaigns running now: what an invite link promises."""
    return [_campaign_out(c) for c in await campaigns.live_of_kind(session, merchant_id, KIND, clock)]


def _campaign_out(campaign: Campaign) -> InviteCampaignOut:
    settings = settings_of(campaign)
    return InviteCampaignOut(id=campaign.id, name=campaign.name, status=campaign.status,
                             reward_on=settings.reward_on, reward_fen=settings.reward_fen,
                             max_friends=settings.max_friends, ends_at=campaign.ends_at,
                             rules=rules.describe(settings))


async def progress(session: AsyncSession, shopper: Shopper, campaign_id: int) -> InviteProgressOut:
    return await _progress(session, shopper, await _published(session, shopper.merchant_id, campaign_id))


async def my_live(session: AsyncSession, clock: Clock, shopper: Shopper) -> list[InviteProgressOut]:
    """The inviter's progress in each invite campaign running now."""
    return [await _progress(session, shopper, c)
            for c in await campaigns.live_of_kind(session, shopper.merchant_id, KIND, clock)]


async def _progress(session: AsyncSession, shopper: Shopper, campaign: Campaign) -> InviteProgressOut:
    settings = settings_of(campaign)
    friends = [InviteRewardOut(invitee_id=r.invitee_id, nickname=nickname, outcome=r.outcome,
                               amount_fen=r.amount_fen, created_at=r.created_at)
               for r, nickname in await repository.rewards_of(session, campaign.id, shopper.customer_id)]
    return InviteProgressOut(campaign_id=campaign.id, name=campaign.name, reward_on=settings.reward_on,
                             reward_fen=settings.reward_fen, max_friends=settings.max_friends,
                             ends_at=campaign.ends_at,
                             joined=await customers.count_invited(session, shopper.merchant_id, shopper.customer_id),
                             rewarded=sum(1 for f in friends if f.outcome == "rewarded"),
                             earned_fen=sum(f.amount_fen for f in friends), friends=friends,
                             rules=rules.describe(settings))


async def check(session: AsyncSession, merchant_id: int, settings: InviteSettings) -> list[Finding]:
    """Only a friend's real deed is rewarded, never the share (S1): guaranteed by `reward_on`'s choices."""
    return []


async def _invited(session: AsyncSession, merchant_id: int, inviter_id: int | None) -> bool:
    return inviter_id is not None


async def page(session: AsyncSession, clock: Clock, merchant_id: int, inviter_id: int) -> dict[str, Any]:
    """An invite link's landing: who invites, and what the running campaigns give the inviter, for which deed of
    the friend. The friend is promised nothing by these campaigns, and the page says only what is true."""
    inviter = await customers.get_customer(session, merchant_id, inviter_id)
    return {"inviter": inviter.nickname, "offers": await live(session, clock, merchant_id)}


async def _invite_target(session: AsyncSession, shopper: Shopper, customer_id: int) -> int | None:
    """An invite page is the inviter's own: its target is the sharer's customer id."""
    if customer_id != shopper.customer_id:
        raise InvalidInput("invalid_share_target", "an invite page can only be shared by its owner")
    return None


async def poster(session: AsyncSession, clock: Clock, merchant_id: int, customer_id: int) -> PosterFacts:
    """The mall's invitation, with the reward of its richest live invite campaign when one runs."""
    live = await campaigns.live_of_kind(session, merchant_id, KIND, clock)
    if not live:
        return await sharing.mall_facts(session, merchant_id)
    merchant = await merchants.merchant_by_id(session, merchant_id)
    campaign = max(live, key=lambda c: (settings_of(c).reward_fen, -c.id))
    settings = settings_of(campaign)
    return PosterFacts(title=campaign.name, badge="邀请有礼", hero=f"邀好友 得 ¥{yuan(settings.reward_fen)}",
                       hero_note=f"{merchant.name} · 邀请有礼",
                       details=(f"好友{rules.DEEDS[settings.reward_on]}，邀请人得 ¥{yuan(settings.reward_fen)} 余额",
                                f"最多 {settings.max_friends} 位好友 · 仅分享不计奖励"),
                       tagline="长按识别二维码，进店逛逛")


react("register", REWARD_JOB, when=_invited)
react("first_purchase", REWARD_JOB, when=_invited)
MECHANIC = Mechanic(
    kind=KIND, settings_model=InviteSettings, product_of=lambda s: None, check=check,
    summary=lambda s: {"reward_fen": s.reward_fen},
    rules_text="好友通过你的邀请注册或首次下单，你得到活动写明的固定奖励，有人数上限；分享本身不得奖励，不抽奖。",
    share_target=ShareTarget(KIND, _invite_target, poster), page=Page("invites", "gifts/invite.html", page),
    tasks="fissionmall.campaigns.invites.tasks", describe=pure_rules(rules.describe))
