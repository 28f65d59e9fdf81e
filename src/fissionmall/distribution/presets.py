"""The kept part of the "3+9" plan as live settings (DOMAIN.md § Team rewards and dividend pool, lawful form).

Only the rewards the linter keeps are read; each kind of kept reward becomes one setting: a per-order subsidy on a
direct (or, with the recorded approval, an indirect) referral's purchase becomes a commission rate on what was
paid, an activity level of the member's own monthly spend becomes a level of the dividend plan, and a pool weighted
by those points switches the monthly dividend on. A refused rule is never looked at, so it can never become one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.auth import StaffMember
from fissionmall.core.clock import Clock
from fissionmall.core.money import BASIS_POINTS, rate_bp_from_percent, yuan
from fissionmall.distribution import repository, rules, service
from fissionmall.distribution.plans import Plan, Reward
from fissionmall.distribution.schemas import AppliedRule, ConfigIn, GradeRates, PresetAppliedOut, PresetApplyIn
from fissionmall.loyalty.dividend import service as dividend
from fissionmall.loyalty.dividend.schemas import ActivityLevel, DividendPlanIn

POINTS_PER_YUAN = 4
"""The seed's activity level: 899 yuan of own spending in a month earns 3 596 dividend points."""
THRESHOLD_POINTS = 3000
"""The seed's pool pays members with 3 000 points or more."""
PAY_DAY = 28
"""The seed pays on the 30th; not every month has one, so the last day every month has."""


def _percent(bp: int) -> str:
    """Basis points as a percent with two decimals (1112 → 11.12)."""
    return f"{bp // 100}.{bp % 100:02d}"


def _rate_bp(plan: Plan, reward: Reward) -> int:
    """A subsidy as a rate of what was paid: a fixed amount per order over the plan's item price, rounded down."""
    if reward.rate_percent is not None:
        return int(rate_bp_from_percent(reward.rate_percent))
    if reward.amount_fen and plan.item_price_fen:
        return reward.amount_fen * BASIS_POINTS // plan.item_price_fen
    return 0


def kept_settings(plan: Plan, approval: str | None) -> tuple[int, int, list[ActivityLevel], bool, list[AppliedRule]]:
    """(level-1 rate, level-2 rate, dividend activity levels, pool on, what each kept rule became), pure."""
    report = rules.lint(plan)
    kept = [reward for reward in plan.rewards if reward.name in set(report.kept)]
    level1 = level2 = 0
    levels: list[ActivityLevel] = []
    pool = False
    said: list[AppliedRule] = []
    for reward in kept:
        if reward.kind in ("commission", "bonus") and reward.basis == "referral_purchase" and reward.depth == 1:
            level1 = _rate_bp(plan, reward)
            how = (f"（{yuan(reward.amount_fen)} 元 ÷ {yuan(plan.item_price_fen or 0)} 元，向下取整）"
                   if reward.amount_fen else "")
            said.append(AppliedRule(reward=reward.name, applied=True,
                                    setting=f"一级佣金：实付金额的 {_percent(level1)}%{how}"))
        elif reward.kind in ("commission", "bonus") and reward.basis == "referral_purchase" and reward.depth == 2:
            if approval:
                level2 = _rate_bp(plan, reward)
                said.append(AppliedRule(reward=reward.name, applied=True,
                                        setting=f"二级佣金：实付金额的 {_percent(level2)}%（已登记法律意见）"))
            else:
                said.append(AppliedRule(reward=reward.name, applied=False,
                                        setting="未启用：二级佣金须先登记法律意见（D1）"))
        elif reward.kind == "dividend_points" and reward.basis in ("own_spend", "own_net_spend"):
            spend = next((c.value for c in reward.conditions if c.basis in ("own_spend", "own_net_spend")), 0)
            if spend > 0:
                points = spend // 100 * POINTS_PER_YUAN
                levels.append(ActivityLevel(min_spend_fen=spend, points=points))
                said.append(AppliedRule(reward=reward.name, applied=True, setting=(
                    f"分红活跃等级：本人当月消费满 {yuan(spend)} 元得 {points} 分红积分")))
        elif reward.kind == "dividend_pool":
            pool = True
            said.append(AppliedRule(reward=reward.name, applied=True, setting=(
                f"每月分红池：积分 {THRESHOLD_POINTS} 分以上的会员按分红积分分配，每月 {PAY_DAY} 日发放"
                f"（30 日并非每月都有）")))
    levels.sort(key=lambda level: level.min_spend_fen)
    return level1, level2, levels, pool and bool(levels), said


async def apply_three_plus_nine(session: AsyncSession, clock: Clock, staff: StaffMember,
                                body: PresetApplyIn) -> PresetAppliedOut:
    """The kept part of "3+9" as the merchant's distribution rates (every grade) and dividend plan; the rest of the
    merchant's distribution settings stay as they were."""
    level1, level2, levels, pool, said = kept_settings(rules.three_plus_nine(), body.level2_approval)
    current = await repository.config_of(session, staff.merchant_id)
    base = ConfigIn.model_validate(current, from_attributes=True) if current else ConfigIn(
        enabled=True, grades=[GradeRates(grade=1, name="分销员", level1_bp=0)])
    grades = [GradeRates(grade=g.grade, name=g.name, level1_bp=level1, level2_bp=level2) for g in base.grades]
    config = await service.configure(session, clock, staff, base.model_copy(update={
        "enabled": True, "grades": grades, "level2_approval": body.level2_approval if level2 else None}))
    if pool:
        now: datetime = clock.now()
        await dividend.save_plan(session, now, staff, DividendPlanIn(
            enabled=True, pool_bp=body.pool_bp, levels=levels, threshold_points=THRESHOLD_POINTS, pay_day=PAY_DAY))
    return PresetAppliedOut(rules=said, distribution=config, dividend_enabled=pool)
