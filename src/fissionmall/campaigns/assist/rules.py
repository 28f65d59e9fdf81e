"""Pure assist-packet maths: the pool's prizes, and the published rules (P3)."""

from __future__ import annotations

import random
from datetime import timedelta

from fissionmall.campaigns.assist.schemas import AssistSettings
from fissionmall.core import splits
from fissionmall.core.durations import chinese_duration
from fissionmall.core.money import yuan


def prizes(settings: AssistSettings, rng: random.Random) -> list[int]:
    """The pool split into `winners` prizes that sum to it exactly, each at least the minimum."""
    return splits.split(settings.split, settings.pool_fen, settings.winners, settings.min_prize_fen, rng)


def largest_possible(settings: AssistSettings) -> int:
    """The top prize the rules allow: what P3 caps."""
    return splits.largest_part(settings.split, settings.pool_fen, settings.winners, settings.min_prize_fen)


def wins(settings: AssistSettings, rng: random.Random) -> bool:
    return settings.win_percent >= 100 or rng.randrange(100) < settings.win_percent


def describe(settings: AssistSettings) -> list[str]:
    """The published rules (P3): helps, pool, the prizes' range as a draw can reach it, odds, risk, limits."""
    rules = [f"邀请 {settings.helpers_needed} 位好友助力即可拆开红包；每位好友每天最多助力 "
             f"{settings.helps_per_helper_per_day} 次，同一红包只能助力一次。",
             f"奖池共 ¥{yuan(settings.pool_fen)}，分为 {settings.winners} 份店铺余额，先拆先得，发完即止。"]
    rules.append(splits.describe(settings.split, settings.pool_fen, settings.winners, settings.min_prize_fen) + "。")
    if settings.win_percent < 100:
        rules.append(f"拆开红包的中奖概率为 {settings.win_percent}%。")
    rules.append("经风控判定为高风险的账户" + (
        f"仅获最低金额 ¥{yuan(settings.min_prize_fen)}：占用一份奖金，该份其余金额不再发放。"
        if settings.high_risk == "minimum" else "不发放奖励，也不占用名额：该份奖金留在奖池，由其他用户继续领取。"))
    rules.append(f"红包 {chinese_duration(timedelta(minutes=settings.duration_minutes))}内有效；"
                 f"每人最多发起 {settings.per_customer_limit} 个。")
    if settings.helper_reward_fen:
        rules.append(f"助力好友各得 ¥{yuan(settings.helper_reward_fen)} 店铺余额"
                     "（预算有限，送完即止；风险账户不发放）。")
    return rules
