"""Properties of checkout pricing (checkout/pricing.py), a pure function, over random carts and benefits.

Over 1–4 lines (any prices, quantities, products and categories), a campaign price or none, a member discount, a gift
voucher, up to three coupons (amount, percent with or without a cap, free shipping; thresholds; every scope;
stackable or not), points, shop credit and any merchant Rules, `price` either refuses with the documented code (the
first rule broken, in the documented order) or returns adjustments that explain every fen: items_fen is the list
price of the cart, items_fen + Σ adjustments == total_fen ≥ 0, every line_due is between 0 and its list price, the
line discounts are exactly Σ line_due − items_fen, and Σ line_due + net shipping − points − wallet == total_fen.
A non-stackable discount coupon is never combined with another; coupons on a campaign cart only when the merchant
allows it. best_coupon picks the coupon that saves most on its own (the first held on a tie).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fissionmall.checkout.pricing import (
    Benefits,
    Line,
    Priced,
    PricingRefused,
    Rules,
    best_coupon,
    coupon_discount,
    price,
)
from fissionmall.core.money import allocate
from fissionmall.coupons.rules import CouponChoice
from fissionmall.orders.hooks import VoucherChoice
from fissionmall.orders.rules import line_cash

pytestmark = pytest.mark.backend_free

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
PRODUCTS = (1, 2, 3)
CATEGORIES = (None, 10, 11)
CAMPAIGN_KINDS = ("group_price", "bargain_price")
LINE_KINDS = {*CAMPAIGN_KINDS, "member_discount", "gift_voucher"}
CODES = {"voucher_not_applicable", "coupons_not_with_campaign", "coupons_not_stackable", "coupon_not_applicable",
         "coupon_threshold_not_met", "benefit_exceeds_total"}


# --- strategies -------------------------------------------------------------------------------------------------------

small_or_zero = st.one_of(st.just(0), st.integers(min_value=0, max_value=300_000))


@st.composite
def carts(draw: st.DrawFn) -> list[Line]:
    """1–4 lines, each its own SKU, on a few products and categories."""
    count = draw(st.integers(min_value=1, max_value=4))
    return [Line(sku_id=i + 1, product_id=draw(st.sampled_from(PRODUCTS)),
                 category_id=draw(st.sampled_from(CATEGORIES)),
                 unit_price_fen=draw(st.one_of(st.integers(min_value=1, max_value=200),
                                               st.integers(min_value=1, max_value=100_000))),
                 quantity=draw(st.integers(min_value=1, max_value=99)))
            for i in range(count)]


@st.composite
def coupons(draw: st.DrawFn, coupon_id: int, kind: str | None = None) -> CouponChoice:
    kind = kind or draw(st.sampled_from(["amount", "percent", "free_shipping"]))
    scope = draw(st.sampled_from(["all", "categories", "products"]))
    ids: frozenset[int] = frozenset()
    if scope == "categories":
        ids = frozenset(draw(st.sets(st.sampled_from((10, 11, 12)), min_size=1)))
    elif scope == "products":
        ids = frozenset(draw(st.sets(st.sampled_from((1, 2, 3, 4)), min_size=1)))
    return CouponChoice(
        coupon_id=coupon_id, name=f"coupon {coupon_id}", kind=kind,  # type: ignore[arg-type]
        amount_fen=draw(st.integers(min_value=1, max_value=50_000)) if kind == "amount" else 0,
        percent_off=draw(st.integers(min_value=1, max_value=99)) if kind == "percent" else 0,
        cap_fen=draw(st.one_of(st.none(), st.integers(min_value=1, max_value=30_000))) if kind == "percent" else None,
        threshold_fen=draw(st.one_of(st.just(0), st.integers(min_value=1, max_value=5_000),
                                     st.integers(min_value=1, max_value=500_000))),
        scope=scope if kind != "free_shipping" else "all", scope_ids=ids if kind != "free_shipping" else frozenset(),
        stackable=draw(st.sampled_from((True, True, False))))


@st.composite
def coupon_lists(draw: st.DrawFn, max_size: int = 3) -> list[CouponChoice]:
    count = draw(st.integers(min_value=0, max_value=max_size))
    return [draw(coupons(100 + i)) for i in range(count)]


@st.composite
def benefit_sets(draw: st.DrawFn, cart: list[Line]) -> Benefits:
    items = sum(line.unit_price_fen * line.quantity for line in cart)
    campaign: list[dict[str, Any]] = []
    if draw(st.integers(min_value=0, max_value=3)) == 0:
        off = draw(st.one_of(st.integers(min_value=0, max_value=items), st.integers(min_value=0, max_value=10**7)))
        campaign = [{"kind": draw(st.sampled_from(CAMPAIGN_KINDS)), "name": "活动价", "amount_fen": -off,
                     "source_id": 7}]
    voucher = None
    if draw(st.integers(min_value=0, max_value=3)) == 0:
        on = draw(st.sampled_from((*[line.product_id for line in cart], 4)))  # product 4 is in no cart
        voucher = VoucherChoice(voucher_id=9, name="礼券", product_id=on,
                                value_fen=draw(st.integers(min_value=1, max_value=100_000)))
    return Benefits(campaign=campaign, member_percent_off=draw(st.one_of(st.just(0), st.integers(0, 99))),
                    voucher=voucher, coupons=draw(coupon_lists()), points_fen=draw(small_or_zero),
                    wallet_fen=draw(small_or_zero))


@st.composite
def merchant_rules(draw: st.DrawFn) -> Rules:
    return Rules(coupons_on_campaign_orders=draw(st.booleans()), member_discount_on_campaign_orders=draw(st.booleans()),
                 shipping_fee_fen=draw(st.one_of(st.just(0), st.integers(min_value=1, max_value=2_000))),
                 free_shipping_over_fen=draw(st.one_of(st.none(), st.integers(min_value=0, max_value=500_000))))


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[Line], Benefits, Rules]:
    cart = draw(carts())
    return cart, draw(benefit_sets(cart)), draw(merchant_rules())


# --- helpers ----------------------------------------------------------------------------------------------------------

def list_price(lines: list[Line]) -> int:
    return sum(line.unit_price_fen * line.quantity for line in lines)


def amounts(priced: Priced, kind: str) -> list[int]:
    return [int(a["amount_fen"]) for a in priced.adjustments if a["kind"] == kind]


def covered(coupon: CouponChoice, lines: list[Line]) -> bool:
    return any(coupon.covers(line) for line in lines)


def refusal(lines: list[Line], benefits: Benefits, rules: Rules) -> PricingRefused | None:
    try:
        price(lines, benefits, rules)
    except PricingRefused as refused:
        return refused
    return None


def check_explained(lines: list[Line], benefits: Benefits, rules: Rules, priced: Priced) -> None:
    """Every fen of a successful pricing explained (the module docstring's invariants)."""
    items = list_price(lines)
    assert priced.items_fen == items
    assert priced.total_fen == items + sum(int(a["amount_fen"]) for a in priced.adjustments)
    assert priced.total_fen >= 0
    assert len(priced.line_due) == len(lines)
    for due, line in zip(priced.line_due, lines, strict=True):
        assert 0 <= due <= line.unit_price_fen * line.quantity
    discount_ids = [c.coupon_id for c in benefits.coupons if c.kind != "free_shipping"]
    free_ids = [c.coupon_id for c in benefits.coupons if c.kind == "free_shipping"]
    for adjustment in priced.adjustments:
        assert adjustment["amount_fen"] != 0, adjustment
        assert (adjustment["amount_fen"] > 0) == (adjustment["kind"] == "shipping"), adjustment
    line_discounts = sum(int(a["amount_fen"]) for a in priced.adjustments if a["kind"] in LINE_KINDS
                         or (a["kind"] == "coupon" and a["source_id"] in discount_ids))
    assert line_discounts == sum(priced.line_due) - items
    goods = sum(priced.line_due)
    fee = 0 if rules.free_shipping_over_fen is not None and goods >= rules.free_shipping_over_fen \
        else rules.shipping_fee_fen
    assert amounts(priced, "shipping") == ([fee] if fee else [])
    waived = [int(a["amount_fen"]) for a in priced.adjustments if a["kind"] == "coupon" and a["source_id"] in free_ids]
    assert waived == ([-fee] if free_ids and fee else [])
    assert amounts(priced, "points") == ([-benefits.points_fen] if benefits.points_fen else [])
    assert amounts(priced, "wallet") == ([-benefits.wallet_fen] if benefits.wallet_fen else [])
    assert goods + fee + sum(waived) - benefits.points_fen - benefits.wallet_fen == priced.total_fen
    # every adjustment kept its part on each line, exactly; what each line costs in the end is never negative, sums
    # to the total, and for the line discounts is the line_due
    for adjustment in priced.adjustments:
        assert len(adjustment["line_shares"]) == len(lines)
        assert sum(adjustment["line_shares"]) == adjustment["amount_fen"], adjustment
        assert all((share >= 0) == (adjustment["kind"] == "shipping") or share == 0
                   for share in adjustment["line_shares"]), adjustment
    cash = line_cash(lines, priced.adjustments)
    assert sum(cash) == priced.total_fen
    assert all(cost >= 0 for cost in cash)
    line_discounted = line_cash(lines, [a for a in priced.adjustments if a["kind"] in LINE_KINDS
                                        or (a["kind"] == "coupon" and a["source_id"] in discount_ids)])
    assert line_discounted == priced.line_due
    # an order priced before the parts were kept: the split computed when read also sums exactly, never negative
    recomputed = line_cash(lines, [{**a, "line_shares": None} for a in priced.adjustments])
    assert sum(recomputed) == priced.total_fen
    assert all(cost >= 0 for cost in recomputed)
    # the documented order: campaign, member, voucher, discount coupons as chosen, shipping and its coupon, points,
    # wallet; one line at most each
    rank = {kind: i for i, kind in enumerate((*CAMPAIGN_KINDS, "member_discount", "gift_voucher"))}
    rank.update({("coupon", c): 10 + i for i, c in enumerate(discount_ids)})
    rank.update({"shipping": 20, ("coupon", free_ids[0] if free_ids else None): 21, "points": 22, "wallet": 23})
    order = [rank[(a["kind"], a["source_id"]) if a["kind"] == "coupon" else a["kind"]] for a in priced.adjustments]
    assert order == sorted(set(order)), priced.adjustments
    coupon_lines = [a for a in priced.adjustments if a["kind"] == "coupon"]
    faces = {c.coupon_id: c for c in benefits.coupons}
    for line in coupon_lines:
        coupon = faces[line["source_id"]]
        if coupon.kind == "amount":
            assert -line["amount_fen"] <= coupon.amount_fen
        elif coupon.kind == "percent" and coupon.cap_fen is not None:
            assert -line["amount_fen"] <= coupon.cap_fen
    # the stacking rules held
    assert len(discount_ids) <= 1 or all(c.stackable for c in benefits.coupons if c.kind != "free_shipping")
    assert len(free_ids) <= 1
    if benefits.coupons and benefits.campaign:
        assert rules.coupons_on_campaign_orders
    member = amounts(priced, "member_discount")
    if benefits.campaign and not rules.member_discount_on_campaign_orders:
        assert member == []
    elif benefits.member_percent_off:
        # per line, rounded down: at most the percentage of the whole, at most one fen short per further line
        before = items + sum(amounts(priced, kind)[0] if amounts(priced, kind) else 0 for kind in CAMPAIGN_KINDS)
        whole = before * benefits.member_percent_off // 100
        assert whole - (len(lines) - 1) <= -sum(member) <= whole


# --- price(): every fen explained, or the documented refusal --------------------------------------------------------


@settings(PROPERTY, max_examples=300)
@given(case=cases())
@example(case=([Line(1, 1, 10, 1000, 2)],
               Benefits(coupons=[CouponChoice(1, "a", "amount", amount_fen=300, stackable=True),
                                 CouponChoice(2, "b", "percent", percent_off=10, cap_fen=50, stackable=True),
                                 CouponChoice(3, "f", "free_shipping")], points_fen=100, wallet_fen=1000),
               Rules(shipping_fee_fen=800)))
def test_price_explains_every_fen_or_refuses_with_the_first_broken_rule(case):
    """Whatever the cart and benefits: the documented refusal, or adjustments that add up to the total exactly."""
    lines, benefits, rules = case
    discounts = [c for c in benefits.coupons if c.kind != "free_shipping"]
    voucher_ok = benefits.voucher is None or any(line.product_id == benefits.voucher.product_id for line in lines)
    campaign_ok = not (benefits.coupons and benefits.campaign and not rules.coupons_on_campaign_orders)
    stacking_ok = (len(discounts) <= 1 or all(c.stackable for c in discounts)) and \
        len(benefits.coupons) - len(discounts) <= 1
    try:
        priced = price(lines, benefits, rules)
    except PricingRefused as refused:
        assert refused.code in CODES
        expected = ("voucher_not_applicable" if not voucher_ok else "coupons_not_with_campaign" if not campaign_ok
                    else "coupons_not_stackable" if not stacking_ok else None)
        if expected is not None:
            assert (refused.code, refused.field) == (expected, "voucher_id" if expected.startswith("voucher")
                                                     else "coupon_ids")
            return
        assert refused.code not in ("voucher_not_applicable", "coupons_not_with_campaign", "coupons_not_stackable")
        if refused.code == "coupon_not_applicable":
            assert refused.field == "coupon_ids"
            assert any(not covered(c, lines) for c in discounts)
        elif refused.code == "coupon_threshold_not_met":
            assert refused.field == "coupon_ids"
            assert any(c.threshold_fen > 0 for c in benefits.coupons)
        else:
            # points or credit beyond what is left: exactly when the same cart without them leaves less
            assert refused.code == "benefit_exceeds_total"
            left = price(lines, replace(benefits, points_fen=0, wallet_fen=0), rules).total_fen
            if refused.field == "points_fen":
                assert benefits.points_fen > left
            else:
                assert refused.field == "wallet_fen"
                assert benefits.points_fen <= left < benefits.points_fen + benefits.wallet_fen
        return
    assert voucher_ok and campaign_ok and stacking_ok
    assert all(covered(c, lines) for c in discounts)
    check_explained(lines, benefits, rules, priced)


@PROPERTY
@given(lines=carts(), benefits_rules=st.data())
def test_refusals_only_for_a_reason(lines, benefits_rules):
    """Coupons that each cover the cart, with no threshold, and credit within the total are never refused."""
    rules = benefits_rules.draw(merchant_rules())
    coupon = benefits_rules.draw(coupons(1).filter(lambda c: covered(c, lines)))
    coupon = replace(coupon, threshold_fen=0)
    free = benefits_rules.draw(st.one_of(st.none(), coupons(2, kind="free_shipping")))
    chosen = [coupon] + ([replace(free, threshold_fen=0)] if free is not None else [])
    if coupon.kind == "free_shipping":
        chosen = chosen[:1]
    benefits = Benefits(coupons=chosen, member_percent_off=benefits_rules.draw(st.integers(0, 99)))
    left = price(lines, benefits, rules).total_fen
    points = benefits_rules.draw(st.integers(min_value=0, max_value=left))
    wallet = benefits_rules.draw(st.integers(min_value=0, max_value=left - points))
    paid = replace(benefits, points_fen=points, wallet_fen=wallet)
    priced = price(lines, paid, rules)
    assert priced.total_fen == left - points - wallet
    check_explained(lines, paid, rules, priced)
    if points + wallet == left:
        assert priced.total_fen == 0


@PROPERTY
@given(lines=carts(), data=st.data())
def test_a_non_stackable_discount_coupon_is_never_combined(lines, data):
    """Two discount coupons, at least one not stackable: always coupons_not_stackable, in either order."""
    first = data.draw(coupons(1, kind=data.draw(st.sampled_from(["amount", "percent"]))))
    second = data.draw(coupons(2, kind=data.draw(st.sampled_from(["amount", "percent"]))))
    if first.stackable and second.stackable:
        first = replace(first, stackable=False)
    for pair in ([first, second], [second, first]):
        refused = refusal(lines, Benefits(coupons=pair), data.draw(merchant_rules()))
        assert refused is not None and (refused.code, refused.field) == ("coupons_not_stackable", "coupon_ids")


@PROPERTY
@given(lines=carts(), data=st.data())
def test_coupons_on_a_campaign_cart_only_when_allowed(lines, data):
    """A campaign cart with any coupon: coupons_not_with_campaign unless the merchant allows coupons there."""
    coupon = replace(data.draw(coupons(1)), threshold_fen=0, scope="all", scope_ids=frozenset())
    campaign = [{"kind": "group_price", "name": "拼团价", "amount_fen": -data.draw(st.integers(0, 10**6)),
                 "source_id": 3}]
    rules = data.draw(merchant_rules())
    refused = refusal(lines, Benefits(campaign=campaign, coupons=[coupon]), replace(
        rules, coupons_on_campaign_orders=False))
    assert refused is not None and (refused.code, refused.field) == ("coupons_not_with_campaign", "coupon_ids")
    allowed = replace(rules, coupons_on_campaign_orders=True)
    priced = price(lines, Benefits(campaign=campaign, coupons=[coupon]), allowed)
    check_explained(lines, Benefits(campaign=campaign, coupons=[coupon]), allowed, priced)


@PROPERTY
@given(lines=carts(), data=st.data())
def test_one_coupon_on_the_whole_cart_is_spread_by_largest_remainder(lines, data):
    """A single all-items discount coupon takes coupon_discount(list price) off, split over lines by allocate."""
    coupon = replace(data.draw(coupons(1, kind=data.draw(st.sampled_from(["amount", "percent"])))), scope="all",
                     scope_ids=frozenset(), threshold_fen=0)
    priced = price(lines, Benefits(coupons=[coupon]), Rules())
    bases = [line.unit_price_fen * line.quantity for line in lines]
    off = min(coupon_discount(coupon, sum(bases)), sum(bases))
    parts = allocate(off, bases)
    assert priced.adjustments == ([{"kind": "coupon", "name": "coupon 1", "amount_fen": -off, "source_id": 1,
                                    "line_shares": [-part for part in parts]}] if off else [])
    assert priced.line_due == [b - part for b, part in zip(bases, parts, strict=True)]


# --- the documented order, on exact examples --------------------------------------------------------------------------


def test_stackable_coupons_apply_in_the_order_chosen():
    """Each coupon checks its threshold against what is left after the coupons chosen before it."""
    lines = [Line(1, 1, 10, 1000, 1)]
    big = CouponChoice(1, "减300", "amount", amount_fen=300, stackable=True)
    picky = CouponChoice(2, "满800减100", "amount", amount_fen=100, threshold_fen=800, stackable=True)
    refused = refusal(lines, Benefits(coupons=[big, picky]), Rules())
    assert refused is not None and refused.code == "coupon_threshold_not_met"
    priced = price(lines, Benefits(coupons=[picky, big]), Rules())
    assert [(a["name"], a["amount_fen"]) for a in priced.adjustments] == [("满800减100", -100), ("减300", -300)]
    assert priced.total_fen == 600


def test_every_step_in_the_documented_order():
    """campaign, member, voucher, coupon, shipping (waived by its coupon), points, wallet: each on what is left."""
    lines = [Line(1, 1, 10, 1000, 3), Line(2, 2, 11, 500, 2)]
    benefits = Benefits(
        campaign=[{"kind": "group_price", "name": "拼团价", "amount_fen": -400, "source_id": 5}],
        member_percent_off=10, voucher=VoucherChoice(8, "礼券", product_id=2, value_fen=10_000),
        coupons=[CouponChoice(1, "九折", "percent", percent_off=10, cap_fen=200, scope="categories",
                              scope_ids=frozenset({10})),
                 CouponChoice(2, "包邮", "free_shipping")],
        points_fen=100, wallet_fen=250)
    rules = Rules(coupons_on_campaign_orders=True, member_discount_on_campaign_orders=True, shipping_fee_fen=600,
                  free_shipping_over_fen=5000)
    priced = price(lines, benefits, rules)
    # 4000 → campaign 400 split 3000:1000 → 2700 + 900; member 10% → 270 + 90; voucher: one unit of product 2
    # (ceil(810 / 2) = 405); coupon 10% of 2430 = 243, capped at 200; goods 2230 + 405 < 5000 → fee 600, waived
    assert [(a["kind"], a["amount_fen"]) for a in priced.adjustments] == [
        ("group_price", -400), ("member_discount", -360), ("gift_voucher", -405), ("coupon", -200),
        ("shipping", 600), ("coupon", -600), ("points", -100), ("wallet", -250)]
    assert priced.line_due == [2230, 405]
    assert priced.total_fen == 4000 - 400 - 360 - 405 - 200 - 100 - 250 == 2285


# --- best_coupon ------------------------------------------------------------------------------------------------------


@PROPERTY
@given(case=cases(), held=coupon_lists(max_size=5))
def test_best_coupon_saves_the_most(case, held):
    """The coupon with the largest saving on its own (the first held on a tie), or None when none saves anything."""
    lines, benefits, rules = case
    base = replace(benefits, coupons=[])
    try:
        baseline = price(lines, base, rules).total_fen
    except PricingRefused as refused:
        with pytest.raises(PricingRefused) as again:
            best_coupon(lines, base, rules, held)
        assert again.value.code == refused.code
        return
    savings: list[int] = []
    for coupon in held:
        try:
            savings.append(baseline - price(lines, replace(base, coupons=[coupon]), rules).total_fen)
        except PricingRefused:
            savings.append(0)
    found = best_coupon(lines, base, rules, held)
    if max(savings, default=0) <= 0:
        assert found is None
        return
    assert found is not None
    top = max(savings)
    assert found == (held[savings.index(top)], top)
    assert all(found[1] >= s for s in savings)


def test_best_coupon_on_a_tie_is_the_first_held():
    """Equal savings: the earlier coupon (callers list the soonest to expire first)."""
    lines = [Line(1, 1, None, 1000, 2)]
    held = [CouponChoice(1, "a", "amount", amount_fen=200), CouponChoice(2, "b", "percent", percent_off=10),
            CouponChoice(3, "c", "percent", percent_off=10, cap_fen=150)]
    assert best_coupon(lines, Benefits(), Rules(), held) == (held[0], 200)
    assert best_coupon(lines, Benefits(), Rules(), held[::-1]) == (held[1], 200)
    assert best_coupon(lines, Benefits(), Rules(), held[2:]) == (held[2], 150)
    assert best_coupon(lines, Benefits(), Rules(), [CouponChoice(4, "f", "free_shipping")]) is None
