"""Checkout pricing: one pure function turns a cart and the shopper's chosen benefits into the adjustment lines
stored on the order, so every fen of every total is explained.

The order of application (each step works on what the steps before it left, and never below zero):

1. campaign price (group, bargain): what the mechanic sets, replacing the list price of its line;
2. member discount: a percentage off each line (not on campaign orders unless the merchant allows it);
3. gift voucher: one unit of the voucher's product, up to the voucher's value;
4. coupons and social discount credits, in the order chosen: each on the lines in its scope, after checking
   its threshold against what those lines cost at that point; a coupon that does not stack must be alone;
5. shipping: the merchant's fee, waived above the free-shipping threshold or by a free-shipping coupon;
6. points, then shop credit (wallet), each at most what is left to pay.

A discount on several lines is spread over them by largest remainder (money.allocate); shipping, points and
credit, which belong to the whole order, are spread over what each line costs at that point. Every adjustment
keeps its per-line parts (`line_shares`, stored on the order), so a line's refund gives back exactly its share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from fissionmall.core.money import allocate, per_unit_rounded_up, percent_of, spread
from fissionmall.coupons.rules import CouponChoice
from fissionmall.orders.hooks import VoucherChoice


class PricingRefused(Exception):
    """A chosen benefit cannot be used on this cart: `code` is the stable error code, `field` the input."""

    def __init__(self, code: str, message: str, field: str) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


@dataclass(frozen=True)
class Line:
    sku_id: int
    product_id: int
    category_id: int | None
    unit_price_fen: int
    quantity: int


@dataclass(frozen=True)
class Rules:
    """The merchant's stacking and shipping rules."""

    coupons_on_campaign_orders: bool = False
    member_discount_on_campaign_orders: bool = False
    shipping_fee_fen: int = 0
    free_shipping_over_fen: int | None = None


@dataclass(frozen=True)
class Benefits:
    campaign: Sequence[dict[str, Any]] = ()
    """The mechanic's adjustments (kind, name, amount_fen ≤ 0, source_id), for the cart's campaign line."""
    member_percent_off: int = 0
    member_name: str = "会员折扣"
    member_free_shipping: bool = False
    voucher: VoucherChoice | None = None
    coupons: Sequence[CouponChoice] = ()
    points_fen: int = 0
    wallet_fen: int = 0


@dataclass
class Priced:
    items_fen: int
    adjustments: list[dict[str, Any]] = field(default_factory=list)
    """Each: kind, name, amount_fen (negative: a discount), source_id, line_shares (its part on each line)."""
    line_due: list[int] = field(default_factory=list)
    """What each line costs after the line discounts (campaign, member, voucher, coupons)."""

    @property
    def total_fen(self) -> int:
        return self.items_fen + sum(int(a["amount_fen"]) for a in self.adjustments)

    def add(self, kind: str, name: str, line_shares: list[int], source_id: int | None = None) -> None:
        """Record an adjustment from its per-line parts (negative: a discount); nothing for zero."""
        amount_fen = sum(line_shares)
        if amount_fen:
            self.adjustments.append({"kind": kind, "name": name, "amount_fen": amount_fen, "source_id": source_id,
                                     "line_shares": line_shares})


def _take(due: list[int], indexes: list[int], amount: int) -> list[int]:
    """Take `amount` off the lines at `indexes`, spread by what each still costs, never below zero: the part
    taken from every line (zero outside `indexes`), negative as the adjustment records it."""
    parts = [0] * len(due)
    base = sum(due[i] for i in indexes)
    amount = min(amount, base)
    if amount <= 0:
        return parts
    for i, part in zip(indexes, allocate(amount, [due[i] for i in indexes]), strict=True):
        due[i] -= part
        parts[i] = -part
    return parts


def price(lines: Sequence[Line], benefits: Benefits, rules: Rules) -> Priced:
    """The order's adjustments for this cart and these benefits; PricingRefused when a benefit does not apply."""
    priced = Priced(items_fen=sum(line.unit_price_fen * line.quantity for line in lines))
    due = [line.unit_price_fen * line.quantity for line in lines]
    everything = list(range(len(lines)))
    campaign_order = bool(benefits.campaign)

    for adjustment in benefits.campaign:
        priced.add(str(adjustment["kind"]), str(adjustment["name"]),
                   _take(due, everything, -int(adjustment["amount_fen"])), adjustment.get("source_id"))

    if benefits.member_percent_off and (not campaign_order or rules.member_discount_on_campaign_orders):
        off = sum(percent_of(due[i], benefits.member_percent_off) for i in everything)
        priced.add("member_discount", benefits.member_name, _take(due, everything, off))

    if benefits.voucher is not None:
        voucher = benefits.voucher
        matching = [i for i, line in enumerate(lines) if line.product_id == voucher.product_id]
        if not matching:
            raise PricingRefused("voucher_not_applicable", f"{voucher.name} is for another product", "voucher_id")
        unit = min(due[matching[0]], per_unit_rounded_up(due[matching[0]], lines[matching[0]].quantity))
        priced.add("gift_voucher", voucher.name, _take(due, matching[:1], min(voucher.value_fen, unit)),
                   voucher.voucher_id)

    discounts = [c for c in benefits.coupons if c.kind != "free_shipping"]
    if benefits.coupons and campaign_order and not rules.coupons_on_campaign_orders:
        raise PricingRefused("coupons_not_with_campaign", "coupons cannot be used on campaign orders here",
                             "coupon_ids")
    if len(discounts) > 1 and not all(c.stackable for c in discounts):
        raise PricingRefused("coupons_not_stackable", "one of these coupons cannot be combined with another",
                             "coupon_ids")
    if len([c for c in benefits.coupons if c.kind == "free_shipping"]) > 1:
        raise PricingRefused("coupons_not_stackable", "one free-shipping coupon is enough", "coupon_ids")
    for coupon in discounts:
        scope = [i for i, line in enumerate(lines) if coupon.covers(line)]
        base = sum(due[i] for i in scope)
        if not scope:
            raise PricingRefused("coupon_not_applicable", f"{coupon.name} does not cover these items", "coupon_ids")
        if base < coupon.threshold_fen:
            raise PricingRefused("coupon_threshold_not_met",
                                 f"{coupon.name} needs {coupon.threshold_fen} fen of eligible items", "coupon_ids")
        off = coupon_discount(coupon, base)
        priced.add("coupon", coupon.name, _take(due, scope, off), coupon.coupon_id)

    goods = sum(due)
    fee = rules.shipping_fee_fen
    if rules.free_shipping_over_fen is not None and goods >= rules.free_shipping_over_fen:
        fee = 0
    if benefits.member_free_shipping:
        fee = 0
    shipping = spread(fee, due)
    priced.add("shipping", "运费", shipping)
    for coupon in benefits.coupons:
        if coupon.kind == "free_shipping":
            if not any(coupon.covers(line) for line in lines):
                raise PricingRefused("coupon_not_applicable", f"{coupon.name} does not cover these items",
                                     "coupon_ids")
            if goods < coupon.threshold_fen:
                raise PricingRefused("coupon_threshold_not_met",
                                     f"{coupon.name} needs {coupon.threshold_fen} fen of items", "coupon_ids")
            priced.add("coupon", coupon.name, [-part for part in shipping], coupon.coupon_id)
            shipping = [0] * len(due)

    left = priced.total_fen
    line_left = [cost + fee_part for cost, fee_part in zip(due, shipping, strict=True)]
    for kind, name, amount, field_name in (("points", "积分抵扣", benefits.points_fen, "points_fen"),
                                           ("wallet", "余额抵扣", benefits.wallet_fen, "wallet_fen")):
        if amount > left:
            raise PricingRefused("benefit_exceeds_total", f"{amount} fen is more than the {left} fen left to pay",
                                 field_name)
        parts = spread(-amount, line_left)
        priced.add(kind, name, parts)
        line_left = [cost + part for cost, part in zip(line_left, parts, strict=True)]
        left -= amount
    priced.line_due = due
    return priced


def coupon_discount(coupon: CouponChoice, base_fen: int) -> int:
    """What a discount coupon takes off `base_fen` of eligible items (before the cap of what is left)."""
    if coupon.kind == "amount":
        return min(coupon.amount_fen, base_fen)
    off = percent_of(base_fen, coupon.percent_off)
    return off if coupon.cap_fen is None else min(off, coupon.cap_fen)


def savings(lines: Sequence[Line], benefits: Benefits, rules: Rules,
            held: Sequence[CouponChoice]) -> list[tuple[CouponChoice, int]]:
    """Each held coupon that saves money on this cart on its own, with what it saves, in the order held."""
    baseline = price(lines, benefits, rules).total_fen
    found = []
    for coupon in held:
        try:
            saving = baseline - price(lines, replace(benefits, coupons=[coupon]), rules).total_fen
        except PricingRefused:
            continue
        if saving > 0:
            found.append((coupon, saving))
    return found


def best_coupon(lines: Sequence[Line], benefits: Benefits, rules: Rules,
                held: Sequence[CouponChoice]) -> tuple[CouponChoice, int] | None:
    """Of the coupons the shopper holds, the one that saves most on this cart on its own (ties: the first held,
    which callers order by earliest expiry), with what it saves."""
    best: tuple[CouponChoice, int] | None = None
    for coupon, saving in savings(lines, benefits, rules, held):
        if best is None or saving > best[1]:
            best = (coupon, saving)
    return best
