"""The kept part of the "3+9" plan as live settings (DOMAIN.md § Team rewards and dividend pool, lawful form).

Only the rewards the linter keeps are read; each kind of kept reward becomes one setting: a per-order subsidy on a
direct (or, with the recorded approval, an indirect) referral's purchase becomes a commission rate on what was
paid, an activity level of the member's own monthly spend becomes a level of the dividend plan, and a pool weighted
by those points switches the monthly dividend on. A refused rule is never looked at, so it can never become one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.audit import redact
from fissionmall.core.auth import StaffMember
from fissionmall.core.clock import Clock
from fissionmall.core.money import BASIS_POINTS, rate_bp_from_percent, yuan
from fissionmall.distribution import repository, rules, service
from fissionmall.distribution.plans import Plan, Reward
from fissionmall.distribution.schemas import AppliedRule, ConfigIn, GradeRates, PresetAppliedOut, PresetApplyIn
from fissionmall.loyalty.dividend import service as dividend
from fissionmall.loyalty.dividend.schemas import ActivityLevel, DividendPlanIn
from fissionmall.merchants import service as merchants

APPLY_ACTION = "POST /admin/plans/presets/3+9/apply"
"""The audit row's action: the route's, as the generic row would name it."""
POINTS_PER_YUAN = 4
"""The seed's activity level: 899 yuan of own spending in a month earns 3 596 dividend points."""
THRESHOLD_POINTS = 3000
"""The seed's pool pays members with 3 000 points or more."""
PAY_DAY: Literal["last"] = "last"
"""The seed pays on the 30th; not every month has one (February), so the month's last day (月末), the honest form."""


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
                f"每月分红池：积分 {THRESHOLD_POINTS} 分以上的会员按分红积分分配，每月最后一天（月末）发放"
                f"（30 日并非每月都有）")))
    levels.sort(key=lambda level: level.min_spend_fen)
    return level1, level2, levels, pool and bool(levels), said


async def _settings(session: AsyncSession, merchant_id: int) -> dict[str, Any]:
    """Both settings the preset changes, as saved (None where not set up yet), for the audit row."""
    current = await repository.config_of(session, merchant_id)
    distribution = ConfigIn.model_validate(current, from_attributes=True) if current else None
    plan = await dividend.plan_settings(session, merchant_id)
    return {"distribution": distribution.model_dump(mode="json") if distribution else None,
            "dividend": plan.model_dump(mode="json") if plan else None}


async def apply_three_plus_nine(session: AsyncSession, clock: Clock, staff: StaffMember,
                                body: PresetApplyIn) -> PresetAppliedOut:
    """The kept part of "3+9" as the merchant's distribution rates (every grade) and dividend plan; the rest of the
    merchant's distribution settings stay as they were. One audit row says both settings before and after (the
    generic row of each setting's own use case would keep only one's)."""
    level1, level2, levels, pool, said = kept_settings(rules.three_plus_nine(), body.level2_approval)
    before = await _settings(session, staff.merchant_id)
    current = await repository.config_of(session, staff.merchant_id)
    base = ConfigIn.model_validate(current, from_attributes=True) if current else ConfigIn(
        enabled=True, grades=[GradeRates(grade=1, name="分销员", level1_bp=0)])
    grades = [GradeRates(grade=g.grade, name=g.name, level1_bp=level1, level2_bp=level2) for g in base.grades]
    config = await service.configure(session, clock, staff, base.model_copy(update={
        "enabled": True, "grades": grades, "level2_approval": body.level2_approval if level2 else None}))
    now: datetime = clock.now()
    if pool:
        await dividend.save_plan(session, now, staff, DividendPlanIn(
            enabled=True, pool_bp=body.pool_bp, levels=levels, threshold_points=THRESHOLD_POINTS, pay_day=PAY_DAY))
    await merchants.audit(session, now, merchant_id=staff.merchant_id, staff_id=staff.staff_id, ip=staff.ip,
                          action=APPLY_ACTION, subject="", detail=redact(
                              {"before": before, "after": await _settings(session, staff.merchant_id)}))
    return PresetAppliedOut(rules=said, distribution=config, dividend_enabled=pool)
