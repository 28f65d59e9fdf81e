"""The help machinery every friend-driven mechanic shares (bargain cuts, assist packets): who may help,
how often, once per record, velocity limits, and the risk check before anything of cash value.

A mechanic calls `take_help` first, then claims its own record's next step with one guarded statement
and `settle`s the help with what it did. Any refusal raises, and the request's transaction undoes it all.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.campaigns.helping import errors, repository
from fissionmall.campaigns.helping.schemas import Budget, HelperReward, HelpOut, HelpRules
from fissionmall.core import counters
from fissionmall.core.clock import Clock
from fissionmall.core.runtime import Runtime
from fissionmall.customers import service as customers
from fissionmall.fraud import service as fraud
from fissionmall.fraud import velocity
from fissionmall.fraud.risk import HIGH_RISK
from fissionmall.fraud.schemas import Actor
from fissionmall.wallet import service as wallet


async def take_help(session: AsyncSession, runtime: Runtime, rules: HelpRules, *, campaign_id: int,
                    target: tuple[str, int], owner_id: int, helper: Actor) -> int:
    """Admit this helper on this record, or refuse with a clear code; the new help's id."""
    if helper.customer_id == owner_id and not rules.self_help:
        raise errors.cannot_help_self()
    if rules.new_helpers_only and not await _new(session, helper):
        raise errors.new_helpers_only()
    await velocity.check(session, runtime, f"help:{campaign_id}", helper, rules.velocity)
    now = runtime.clock.now()
    help_id = await repository.insert_help(
        session, merchant_id=helper.merchant_id, campaign_id=campaign_id, target_type=target[0],
        target_id=target[1], helper_id=helper.customer_id, seq=0, amount_fen=0, new_helper=helper.is_new,
        device_id=helper.device_id, ip_range=helper.ip_range, created_at=now)
    if help_id is None:
        raise errors.already_helped()
    if await counters.take(session, helper.merchant_id, f"helps:{campaign_id}:{helper.customer_id}",
                           counters.day_of(now), rules.helps_per_helper_per_day) is None:
        raise errors.help_limit_reached(rules.helps_per_helper_per_day)
    return help_id


async def _new(session: AsyncSession, helper: Actor) -> bool:
    """F2: no earlier paid order, and no earlier account on the device they act from or signed up on."""
    if not helper.is_new:
        return False
    for device in {helper.device_id, helper.signup_device_id} - {None}:
        if await customers.device_used_before(session, helper.merchant_id, device, helper.customer_id):
            return False
    return True


async def settle(session: AsyncSession, help_id: int, seq: int, amount_fen: int = 0) -> None:
    await repository.settle(session, help_id, seq, amount_fen)


async def helps_on(session: AsyncSession, target_type: str, target_ids: list[int]) -> dict[int, list[HelpOut]]:
    found: dict[int, list[HelpOut]] = {target_id: [] for target_id in target_ids}
    for help_row, nickname, avatar in await repository.helps_of(session, target_type, target_ids):
        found[help_row.target_id].append(HelpOut(
            seq=help_row.seq, helper_id=help_row.helper_id, nickname=nickname, avatar_url=avatar,
            amount_fen=help_row.amount_fen, new_helper=help_row.new_helper, created_at=help_row.created_at))
    return found


async def reward_helper(session: AsyncSession, runtime: Runtime, settings: HelperReward, *, merchant_id: int,
                        campaign_id: int, helper: Actor, help_id: int) -> int:
    """The campaign's helper reward for this help, after the risk check (F4): what was credited."""
    if not settings.helper_reward_fen or settings.reward_budget is None:
        return 0
    if await fraud.risk_rank(session, runtime, helper) >= HIGH_RISK:
        return 0
    return await grant_credit(session, runtime.clock, merchant_id=merchant_id, campaign_id=campaign_id,
                              budget=settings.reward_budget, customer_id=helper.customer_id,
                              amount_fen=settings.helper_reward_fen, kind="helper_reward", source=("help", help_id))


def budget_key(campaign_id: int, kind: str) -> str:
    return f"budget:{campaign_id}:{kind}"


async def grant_credit(session: AsyncSession, clock: Clock, *, merchant_id: int, campaign_id: int, budget: Budget,
                       customer_id: int, amount_fen: int, kind: str, source: tuple[str, int]) -> int:
    """Credit a prize or reward (`kind` names the campaign's pot it is paid from), claiming the pot's budget in
    this same transaction: the amount granted, or 0 when the budget (in all, or today's) cannot cover it. Once
    per (customer, kind, source)."""
    if amount_fen <= 0:
        return 0
    now = clock.now()
    pot = budget_key(campaign_id, kind)
    claims = [(pot, counters.TOTAL, budget.total_fen)]
    if budget.daily_fen is not None:
        claims.append((pot, counters.day_of(now), budget.daily_fen))
    taken: list[tuple[str, str]] = []
    for key, period, cap in claims:
        if await counters.take(session, merchant_id, key, period, cap, amount_fen) is None:
            for done_key, done_period in taken:
                await counters.give_back(session, done_key, done_period, amount_fen)
            return 0
        taken.append((key, period))
    if not await wallet.credit(session, merchant_id, customer_id, amount_fen, kind, source, now, campaign_id):
        for key, period in taken:
            await counters.give_back(session, key, period, amount_fen)
        return 0
    return amount_fen
