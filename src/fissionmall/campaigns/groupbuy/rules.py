"""Pure group-buying maths: prices, tiers, and what happens at expiry."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from fissionmall.campaigns.groupbuy.schemas import GroupBuySettings, PaymentOptions, Tier
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


Payment = Literal["deposit", "full"]


def payment_options(settings: GroupBuySettings) -> PaymentOptions:
    """The ways members may pay (settings saved before the choice existed follow their deposit)."""
    if settings.payment_options is not None:
        return settings.payment_options
    return "full_only" if settings.deposit_percent is None else "deposit_only"


def payment_of(settings: GroupBuySettings, chosen: Payment | None) -> Payment | None:
    """How an order pays: the campaign's one way, or the shopper's choice where the campaign lets them choose (a
    deposit when they did not say, as before there was a choice). None: they chose a way the campaign does not
    offer."""
    options = payment_options(settings)
    if options == "shopper_chooses":
        return chosen or "deposit"
    only: Payment = "full" if options == "full_only" else "deposit"
    return only if chosen in (None, only) else None


def payment_choices(settings: GroupBuySettings, total_fen: int,
                    chosen: Payment) -> list[tuple[str, str, str, bool]]:
    """Where the shopper chooses: each way to pay an order of `total_fen` (before any benefit), what is paid now, what
    later, and what becomes of the money; empty where the campaign has one way."""
    if payment_options(settings) != "shopper_chooses":
        return []
    deposit_fen = deposit(total_fen, settings.deposit_percent)
    if deposit_fen is None:  # too small an order to split: it is paid in full whatever is chosen
        return []
    within = chinese_duration(timedelta(hours=settings.balance_hours))
    lapse = ("逾期未付尾款，定金不退" if settings.deposit_on_lapse == "forfeit"
             else "逾期未付尾款，订单关闭，定金原路全额退还")
    return [
        ("deposit", f"付定金 ¥{yuan(deposit_fen)}",
         f"现在付定金 ¥{yuan(deposit_fen)}，成团后 {within}内付尾款 ¥{yuan(total_fen - deposit_fen)}；{lapse}；"
         "未成团，定金全额退还。定金订单不能使用优惠券、积分或余额。", chosen == "deposit"),
        ("full", "一次付清全款",
         f"现在一次付清 ¥{yuan(total_fen)}（可再用优惠券、积分或余额抵扣），成团后直接发货，不用再付尾款；"
         "未成团，实付金额全额退还。", chosen == "full"),
    ]


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
    options = payment_options(settings)
    if settings.tiers:
        steps = "，".join(f"{t.size} 人 ¥{yuan(t.price_fen)}" for t in settings.tiers)
        settle = {"full_only": "退还差价", "deposit_only": "从尾款中扣减差价",
                  "shopper_chooses": "差价：付定金的从尾款中扣减，付全款的退还"}[options]
        rules.append(f"阶梯价：{steps}。先按团购价付款，成团后按最终人数对应的价格{settle}。")
    if settings.leader_discount_fen:
        rules.append(f"团长再减 ¥{yuan(settings.leader_discount_fen)}。")
    if settings.new_customers_only:
        rules.append("仅限新用户参团（团长不限）。")
    balance_within = chinese_duration(timedelta(hours=settings.balance_hours))
    if options == "deposit_only":
        rules.append(f"参团先付 {settings.deposit_percent}% 定金，成团后 {balance_within}内付尾款。")
        rules.append("逾期未付尾款，定金不退。" if settings.deposit_on_lapse == "forfeit"
                     else "逾期未付尾款，订单关闭，定金原路全额退还。")
    elif options == "shopper_chooses":
        rules.append(f"参团时任选一种付款方式：先付 {settings.deposit_percent}% 定金，成团后 {balance_within}内付尾款；"
                     "或一次付清全款，成团后直接发货。")
        rules.append("选择定金的，逾期未付尾款，定金不退。" if settings.deposit_on_lapse == "forfeit"
                     else "选择定金的，逾期未付尾款，订单关闭，定金原路全额退还。")
        rules.append("未成团时，付定金的退还定金，付全款的退还全款，各退实付金额。")
    rules.append(f"每人限参与 {settings.per_customer_limit} 次。")
    return rules
