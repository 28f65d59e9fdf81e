"""Pure packet rules: the slots' amounts and the published text."""

from __future__ import annotations

import random
from datetime import timedelta

from fissionmall.campaigns.packets.schemas import PacketSettings
from fissionmall.core import splits
from fissionmall.core.durations import chinese_duration
from fissionmall.core.money import yuan


def amounts(settings: PacketSettings, rng: random.Random) -> list[int]:
    """The slots' amounts, fixed when the packet is made: they sum to total_fen, each within min and max."""
    return splits.split(settings.split, settings.total_fen, settings.slots, settings.min_fen, rng, settings.max_fen)


def largest_possible(settings: PacketSettings) -> int:
    """The most one slot can be worth under these settings: what P3 caps."""
    return splits.largest_part(settings.split, settings.total_fen, settings.slots, settings.min_fen,
                               settings.max_fen)


def describe(settings: PacketSettings, kind: str, coupon_name: str, threshold_fen: int) -> list[str]:
    """The published rules (P3): which orders qualify, the slots' range as a draw can reach it, the terms."""
    what = "分享券" if kind == "share_coupon" else "立减金"
    orders = f"支付满 ¥{yuan(settings.min_order_fen)} 的订单" if settings.min_order_fen else "每笔支付成功的订单"
    spread = splits.describe(settings.split, settings.total_fen, settings.slots, settings.min_fen, settings.max_fen)
    rules = [f"{orders}获得一个{what}包：共 {settings.slots} 份，合计 ¥{yuan(settings.total_fen)}，{spread}；"
             "金额在生成时已确定。",
             f"每人每包限领一份；{chinese_duration(timedelta(hours=settings.duration_hours))}内有效。券：{coupon_name}"
             + (f"，满 ¥{yuan(threshold_fen)} 可用。" if threshold_fen else "。")]
    if settings.new_helpers_only:
        rules.append("仅限新用户领取。")
    if settings.sharer_reward_after and settings.sharer_reward_fen:
        rules.append(f"{settings.sharer_reward_after} 位好友领取后，分享者获得 ¥{yuan(settings.sharer_reward_fen)} "
                     "店铺余额（预算有限，送完即止）。")
    return rules
