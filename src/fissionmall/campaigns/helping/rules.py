"""Pure rules of helping."""

from __future__ import annotations

from collections.abc import Mapping

from fissionmall.campaigns.helping.schemas import Gift, HelpRules
from fissionmall.fraud.risk import HIGH_RISK


def withholds(rules: HelpRules, rank: int) -> bool:
    """Whether the customer's risk rank withholds a prize altogether, as the campaign published (F4)."""
    return rank >= HIGH_RISK and rules.high_risk == "nothing"


def risky_prize(rules: HelpRules, rank: int, prize_fen: int, minimum_fen: int) -> int:
    """What a prize becomes for the customer's risk rank, as the campaign published (F4)."""
    if withholds(rules, rank):
        return 0
    return prize_fen if rank < HIGH_RISK else min(prize_fen, minimum_fen)


def gift_text(gift: Gift, names: Mapping[tuple[str, int], str]) -> str:
    """A gift as the rules name it: the coupon's or the product's name (from `names`, by kind and id)."""
    if gift.kind == "coupon":
        return f"优惠券「{names.get(('coupon', gift.coupon_template_id or 0), '优惠券')}」一张"
    return f"赠品「{names.get(('goods', gift.product_id or 0), '商品')}」一件（免费下单，运费按店铺规则）"


def helper_gift_text(gift: Gift, names: Mapping[tuple[str, int], str]) -> str:
    """The published helper gift (P3, F5): what, how many in all, and who gets none."""
    return f"助力好友各得{gift_text(gift, names)}（共 {gift.stock} 份，送完即止；风险账户不发放）。"
