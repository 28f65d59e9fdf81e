"""Pure group-buying maths: prices, tiers, and what happens at expiry."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from fissionmall.campaigns.groupbuy.schemas import GroupBuySettings, Tier
from fissionmall.core.durations import chinese_duration
from fissionmall.core.money import percent_of, yuan


def unit_price(settings: GroupBuySettings, sku_id: int, *, leader: bool) -> int | None:
    """What one unit costs in this campaign (None: the SKU is not in it)."""
    for sku in settings.all_skus():
        if sku.sku_id == sku_id:
            return sku.group_price_fen - (settings.leader_discount_fen if leader else 0)
    return None


def deposit(total_fen: int, percent: int | None) -> int | None:
    """The deposit on an order of `total_fen`: the share rounded down, at least 1 fen; None when the whole
    total is paid at once (no deposit set, or nothing would be left for the balance)."""
    if percent is None:
        return None
    amount = max(1, percent_of(total_fen, percent))
    return amount if amount < total_fen else None


def tier_price(tiers: list[Tier], paid_count: int) -> int | None:
    """The price of the largest tier the group reached, or None below the smallest."""
    reached = [t.price_fen for t in tiers if t.size <= paid_count]
    return reached[-1] if reached else None


def outcome_at_expiry(settings: GroupBuySettings, paid_count: int) -> Literal["succeed", "fail"]:
    """A group that did not fill fails, unless the merchant chose to complete it as it is (never by inventing
    members), or it reached a tier."""
    if settings.tiers:
        return "succeed" if tier_price(settings.tiers, paid_count) is not None else "fail"
    if settings.auto_complete_min_paid is not None and paid_count >= settings.auto_complete_min_paid:
        return "succeed"
    return "fail"


def tier_difference(paid_unit_fen: int, quantity: int, final_unit_fen: int | None) -> int:
    """What a member is owed when the group's final tier is cheaper than the unit price of their order: refunded
    when they paid in full, taken off the balance when they paid a deposit."""
    if final_unit_fen is None or final_unit_fen >= paid_unit_fen:
        return 0
    return (paid_unit_fen - final_unit_fen) * quantity


def is_multi(settings: GroupBuySettings) -> bool:
    """A multi-product group (多产品拼团): members each choose one of several products."""
    return len(settings.offers()) > 1


def describe(settings: GroupBuySettings, titles: dict[int, str] | None = None) -> list[str]:
    """The rules as a shopper reads them; `titles` (product id → title) names what a multi-product group's members
    may choose and what each choice costs."""
    fill = chinese_duration(timedelta(minutes=settings.fill_minutes))
    rules = [f"{settings.group_size} 人成团，开团后 {fill}内凑齐。",
             "未成团：已付款的每位成员自动全额退款，原路返回。"]
    if is_multi(settings):
        rules.append(f"本团共 {len(settings.offers())} 款商品可选：开团和参团时每人任选其中一款（及规格），"
                     "按所选规格的拼团价付款；不论各人选哪一款，付款人数凑满即成团。")
        for offer in settings.offers():
            name = (titles or {}).get(offer.product_id, f"商品 {offer.product_id}")
            low, high = min(s.group_price_fen for s in offer.skus), max(s.group_price_fen for s in offer.skus)
            price = f"¥{yuan(low)}" if low == high else f"¥{yuan(low)}–{yuan(high)}"
            rules.append(f"{name}：拼团价 {price}。")
    if settings.auto_complete_min_paid is not None:
        rules.append(f"到期时已付款满 {settings.auto_complete_min_paid} 人，按现有人数成团发货（不虚增成员）。")
    if settings.tiers:
        steps = "，".join(f"{t.size} 人 ¥{yuan(t.price_fen)}" for t in settings.tiers)
        settle = "从尾款中扣减差价" if settings.deposit_percent is not None else "退还差价"
        rules.append(f"阶梯价：{steps}。先按团购价付款，成团后按最终人数对应的价格{settle}。")
    if settings.leader_discount_fen:
        rules.append(f"团长再减 ¥{yuan(settings.leader_discount_fen)}。")
    if settings.new_customers_only:
        rules.append("仅限新用户参团（团长不限）。")
    if settings.deposit_percent is not None:
        rules.append(f"参团先付 {settings.deposit_percent}% 定金，成团后 "
                     f"{chinese_duration(timedelta(hours=settings.balance_hours))}内付尾款。")
        rules.append("逾期未付尾款，定金不退。" if settings.deposit_on_lapse == "forfeit"
                     else "逾期未付尾款，订单关闭，定金原路全额退还。")
    rules.append(f"每人限参与 {settings.per_customer_limit} 次。")
    return rules
