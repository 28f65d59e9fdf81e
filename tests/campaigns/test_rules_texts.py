"""Every mechanic's published rules (campaigns/*/rules.py describe) read as a Chinese shopper expects.

Over settings at their edges (no minimum order, a free floor, odd minutes, even splits with an odd fen, caps the
total cannot reach, high-risk minimums, deposits): no English word, no "None", no fractional hour, no ¥0.00
threshold or floor, and every period in whole Chinese units exactly as core/durations writes it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from fissionmall.campaigns.assist import rules as assist
from fissionmall.campaigns.assist.schemas import AssistSettings
from fissionmall.campaigns.bargain import rules as bargain
from fissionmall.campaigns.bargain.schemas import BargainSettings
from fissionmall.campaigns.groupbuy import rules as groupbuy
from fissionmall.campaigns.groupbuy.schemas import GroupBuySettings
from fissionmall.campaigns.invites import rules as invites
from fissionmall.campaigns.invites.schemas import InviteSettings
from fissionmall.campaigns.packets import rules as packets
from fissionmall.campaigns.packets.schemas import PacketSettings

pytestmark = pytest.mark.backend_free

GROUP: dict[str, Any] = {"product_id": 1, "skus": [{"sku_id": 1, "group_price_fen": 800}], "group_size": 3}
BARGAIN: dict[str, Any] = {"product_id": 1, "sku_id": 1, "start_price_fen": 1000, "floor_price_fen": 100,
                           "helps_needed": 5}

TEXTS: list[tuple[str, list[str]]] = [
    ("group, 95 minutes, deposit", groupbuy.describe(GroupBuySettings(
        **GROUP, fill_minutes=95, deposit_percent=20, balance_hours=36, auto_complete_min_paid=2))),
    ("group, a week", groupbuy.describe(GroupBuySettings(**GROUP, fill_minutes=7 * 24 * 60))),
    ("bargain, free floor, 5 minutes", bargain.describe(BargainSettings(
        **{**BARGAIN, "floor_price_fen": 0}, duration_minutes=5, self_cut_percent=10, new_helper_bonus_fen=50))),
    ("bargain, 125 minutes", bargain.describe(BargainSettings(**BARGAIN, duration_minutes=125, buy_at="floor"))),
    ("assist, even split with an odd fen", assist.describe(AssistSettings(
        pool_fen=1003, winners=4, split=None, duration_minutes=5, high_risk="minimum"))),
    ("assist, random", assist.describe(AssistSettings(pool_fen=100_000, winners=7, min_prize_fen=100,
                                                      win_percent=30, duration_minutes=36 * 60))),
    ("packet, no minimum order, no threshold", packets.describe(PacketSettings(
        template_id=1, slots=3, total_fen=1000, split=None, duration_hours=36), "share_coupon", "立减券", 0)),
    ("packet, a cap the total cannot reach", packets.describe(PacketSettings(
        template_id=1, slots=4, total_fen=1000, min_fen=100, max_fen=90_000, min_order_fen=1),
        "credit", "立减金", 1)),
    ("invite", invites.describe(InviteSettings(reward_fen=300, budget={"total_fen": 10_000}))),
]


@pytest.mark.parametrize(("case", "texts"), TEXTS, ids=[case for case, _ in TEXTS])
def test_rules_texts_have_no_english_no_fractions_no_zero_amounts(case, texts):
    text = "\n".join(texts)
    assert text and all(texts), case
    assert re.search(r"[A-Za-z]", text) is None, text
    assert re.search(r"\d\.\d+ ?(小时|天|分钟)", text) is None, text
    assert "¥0.00" not in text, text


def test_periods_are_written_in_whole_units():
    group, week, free, bargain_125, *_ = (texts for _, texts in TEXTS)
    assert group[0] == "3 人成团，开团后 1 小时 35 分钟内凑齐。"
    assert "参团先付 20% 定金，成团后 1 天 12 小时内付尾款。" in group
    assert week[0] == "3 人成团，开团后 7 天内凑齐。"
    assert free[0].startswith("原价 ¥10.00，5 位好友各砍一刀即砍到 0 元（")
    assert free[1].startswith("发起后 5 分钟内有效；")
    assert bargain_125[1].startswith("发起后 2 小时 5 分钟内有效；")
