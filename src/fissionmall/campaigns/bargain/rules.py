"""Pure bargain maths: the cut schedule planned at the start, its proof, and what the page may say."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from datetime import timedelta

from fissionmall.campaigns.bargain.schemas import BargainSettings
from fissionmall.campaigns.helping import rules as help_rules
from fissionmall.core.durations import chinese_duration
from fissionmall.core.money import allocate, percent_of, yuan

DECAY = 0.72
"""Each planned cut weighs about this much of the one before: big cuts first, small ones at the end."""


def plan_cuts(total_fen: int, helps: int, rng: random.Random) -> list[int]:
    """Exactly `helps` cuts summing to `total_fen`, each at least 1 fen, never larger than the one before."""
    if helps < 1 or total_fen < helps:
        raise ValueError(f"{helps} cuts of at least 1 fen cannot sum to {total_fen} fen")
    weights = sorted((int(1_000_000 * DECAY ** i * rng.uniform(0.6, 1.4)) + 1 for i in range(helps)), reverse=True)
    return sorted((1 + part for part in allocate(total_fen - helps, weights)), reverse=True)


def self_cut(settings: BargainSettings) -> int:
    return percent_of(settings.start_price_fen - settings.floor_price_fen, settings.self_cut_percent)


def schedule_hash(salt: str, schedule: list[int]) -> str:
    return hashlib.sha256(f"{salt}:{','.join(map(str, schedule))}".encode()).hexdigest()


def apply_cut(price_fen: int, floor_fen: int, scheduled_fen: int, bonus_fen: int) -> int:
    """What the k-th help takes off: its scheduled cut plus any bonus, never past the floor."""
    return min(scheduled_fen + bonus_fen, price_fen - floor_fen)


def helps_remaining(needed: int, done: int, price_fen: int, floor_fen: int) -> int:
    return 0 if price_fen == floor_fen else needed - done


def progress_percent(start_fen: int, floor_fen: int, price_fen: int) -> int:
    return (start_fen - price_fen) * 100 // (start_fen - floor_fen)


def describe(settings: BargainSettings, names: Mapping[tuple[str, int], str] | None = None) -> list[str]:
    """The published rules (P1): N, floor, deadline, limits, bonus and reward (a gift named from `names`)."""
    floor = f"到底价 ¥{yuan(settings.floor_price_fen)}" if settings.floor_price_fen else "砍到 0 元"
    rules = [f"原价 ¥{yuan(settings.start_price_fen)}，{settings.helps_needed} 位好友各砍一刀即{floor}"
             "（砍价方案在发起时已确定，可凭公示的校验码核对）。",
             f"发起后 {chinese_duration(timedelta(minutes=settings.duration_minutes))}内有效；"
             "每位好友对同一砍价只能砍一刀，每天最多帮砍 "
             f"{settings.helps_per_helper_per_day} 次。"]
    if settings.self_cut_percent:
        rules.append(f"发起人先自砍差价的 {settings.self_cut_percent}%。")
    rules.append("当前价即可购买。" if settings.buy_at == "current" else "砍到底价后方可购买。")
    if settings.new_helper_bonus_fen:
        rules.append(f"新用户帮砍额外多砍 ¥{yuan(settings.new_helper_bonus_fen)}（不低于底价，可能提前到底价）。")
    if settings.new_helpers_only:
        rules.append("仅限新用户帮砍。")
    if settings.helper_reward_fen:
        rules.append(f"帮砍好友获得 ¥{yuan(settings.helper_reward_fen)} 店铺余额（预算有限，送完即止；"
                     f"风险账户不发放）。")
    if settings.helper_gift is not None:
        rules.append(help_rules.helper_gift_text(settings.helper_gift, names or {}).replace("助力好友", "帮砍好友"))
    rules.append(f"每人限发起 {settings.per_customer_limit} 次。")
    return rules
