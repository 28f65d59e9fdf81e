"""Pure assist-packet maths: the pool's prizes, and the published rules (P3)."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import timedelta

from fissionmall.campaigns.assist.schemas import AssistSettings, PrizeRung
from fissionmall.campaigns.helping import rules as help_rules
from fissionmall.core import splits
from fissionmall.core.durations import chinese_duration
from fissionmall.core.money import yuan


def prizes(settings: AssistSettings, rng: random.Random) -> list[int]:
    """The pool split into `winners` prizes that sum to it exactly, each at least the minimum."""
    return splits.split(settings.split, settings.pool_fen, settings.winners, settings.min_prize_fen, rng)


def largest_possible(settings: AssistSettings) -> int:
    """The top credit prize the rules allow: what P3 caps."""
    if settings.ladder:
        return max((min(rung.max_fen, settings.pool_fen) for rung in settings.ladder if rung.kind == "credit"),
                   default=0)
    return splits.largest_part(settings.split, settings.pool_fen, settings.winners, settings.min_prize_fen)


def wins(settings: AssistSettings, rng: random.Random) -> bool:
    return settings.win_percent >= 100 or rng.randrange(100) < settings.win_percent


def rung_for(ladder: list[PrizeRung], rank: int) -> tuple[int, PrizeRung]:
    """The rung (its number from 1, and itself) of a customer's `rank`-th opened packet: the last rung for every
    packet past the ladder's end."""
    number = min(rank, len(ladder))
    return number, ladder[number - 1]


def draw(rung: PrizeRung, rng: random.Random) -> int:
    """A credit rung's amount: even odds for every fen between its minimum and maximum."""
    return rng.randint(rung.min_fen, rung.max_fen)


def rung_prize(rung: PrizeRung, names: Mapping[tuple[str, int], str]) -> str:
    if rung.kind == "credit":
        if rung.min_fen == rung.max_fen:
            return f"¥{yuan(rung.min_fen)} 店铺余额（固定）"
        return f"¥{yuan(rung.min_fen)}–¥{yuan(rung.max_fen)} 店铺余额（区间内每一分钱机会均等）"
    if rung.kind == "coupon":
        name = names.get(("coupon", rung.coupon_template_id or 0), "优惠券")
        return f"优惠券「{name}」一张（共 {rung.stock} 张，送完即止）"
    name = names.get(("goods", rung.product_id or 0), "商品")
    return f"赠品「{name}」一件（免费下单，运费按店铺规则；共 {rung.stock} 件，送完即止）"


def _ordinal(number: int, last: bool) -> str:
    return f"第 {number} 个及以后每个" if last and number > 1 else f"第 {number} 个"


def describe_ladder(settings: AssistSettings, names: Mapping[tuple[str, int], str]) -> list[str]:
    """越拆越多, as P3 asks: the ladder, each rung's minimum and the pool are certain; the amount inside a rung's range
    is the only thing left to chance; what happens when the pool or a stock runs short."""
    ladder = settings.ladder or []
    steps = "；".join(f"{_ordinal(n, n == len(ladder))}红包得{rung_prize(rung, names)}"
                     for n, rung in enumerate(ladder, start=1))
    lines = [f"越拆越多：你在本活动中拆开的{steps}。",
             "名次按你在本活动中已拆开（好友助力完成）的红包数计：先拆开的算第 1 个，与发起先后无关。"]
    credit = [rung for rung in ladder if rung.kind == "credit"]
    if credit:
        lines.append(f"确定的：上面的阶梯、每档的最低金额、奖池总额 ¥{yuan(settings.pool_fen)}（店铺余额，绝不超发），"
                     f"全活动最多发出 {settings.winners} 份奖励。随机的：只有每档区间内的具体金额，拆开时抽取。")
        lines.append("奖池余额不足以支付抽中的金额时，改发该档最低金额；连最低金额也不足时，该红包不发奖励，"
                     "页面会如实说明奖池不足。")
    else:
        lines.append(f"全活动最多发出 {settings.winners} 份奖励。")
    return lines


def describe(settings: AssistSettings, names: Mapping[tuple[str, int], str] | None = None) -> list[str]:
    """The published rules (P3): helps, pool, the prizes (split or ladder), odds, risk, limits, helper rewards."""
    names = names or {}
    rules = [f"邀请 {settings.helpers_needed} 位好友助力即可拆开红包；每位好友每天最多助力 "
             f"{settings.helps_per_helper_per_day} 次，同一红包只能助力一次。"]
    if settings.ladder:
        rules += describe_ladder(settings, names)
    else:
        rules.append(f"奖池共 ¥{yuan(settings.pool_fen)}，分为 {settings.winners} 份店铺余额，先拆先得，发完即止。")
        rules.append(splits.describe(settings.split, settings.pool_fen, settings.winners, settings.min_prize_fen)
                     + "。")
    return rules + _conditions(settings, names)


def _conditions(settings: AssistSettings, names: Mapping[tuple[str, int], str]) -> list[str]:
    """Odds, risk, time and limits, and what helpers earn."""
    rules: list[str] = []
    if settings.win_percent < 100:
        rules.append(f"拆开红包的中奖概率为 {settings.win_percent}%。")
    rules.append("经风控判定为高风险的账户" + (
        ("仅获该档最低金额（优惠券、赠品不发放）：占用一份奖励，其余金额不再发放。" if settings.ladder else
         f"仅获最低金额 ¥{yuan(settings.min_prize_fen)}：占用一份奖金，该份其余金额不再发放。")
        if settings.high_risk == "minimum" else "不发放奖励，也不占用名额：该份奖金留在奖池，由其他用户继续领取。"))
    rules.append(f"红包 {chinese_duration(timedelta(minutes=settings.duration_minutes))}内有效；"
                 f"每人最多发起 {settings.per_customer_limit} 个。")
    if settings.helper_reward_fen:
        rules.append(f"助力好友各得 ¥{yuan(settings.helper_reward_fen)} 店铺余额"
                     "（预算有限，送完即止；风险账户不发放）。")
    if settings.helper_gift is not None:
        rules.append(help_rules.helper_gift_text(settings.helper_gift, names))
    return rules
