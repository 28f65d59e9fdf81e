"""Properties of the pure group-buying maths (campaigns/groupbuy/rules.py), over any valid settings: tier prices only
fall as a group grows, tier refunds are never negative and conserve money, auto-complete never succeeds below its
threshold, and the leader's price is exactly the member price less the discount, never below 1 fen."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fissionmall.campaigns.groupbuy.rules import outcome_at_expiry, tier_difference, tier_price, unit_price
from fissionmall.campaigns.groupbuy.schemas import MAX_PRICE_FEN, GroupBuySettings, Tier

pytestmark = pytest.mark.backend_free

# the autouse table-emptying fixture does nothing for tests without a database
settings.register_profile("groupbuy", suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=150,
                          deadline=None)
PROFILE = settings.get_profile("groupbuy")

prices = st.integers(min_value=1, max_value=MAX_PRICE_FEN)


@st.composite
def tier_lists(draw: st.DrawFn, group_size: int | None = None, top_price: int | None = None) -> list[Tier]:
    """Valid tiers: sizes strictly growing to the group size, prices strictly falling from at most the top price."""
    size = group_size if group_size is not None else draw(st.integers(min_value=2, max_value=100))
    top = top_price if top_price is not None else draw(st.integers(min_value=10, max_value=MAX_PRICE_FEN))
    smaller: set[int] = set()
    if size > 2:
        smaller = draw(st.sets(st.integers(min_value=2, max_value=size - 1), max_size=min(9, size - 2)))
    sizes = [*sorted(smaller), size]
    tier_prices = sorted(draw(st.sets(st.integers(min_value=1, max_value=top), min_size=len(sizes),
                                      max_size=len(sizes))), reverse=True)
    return [Tier(size=s, price_fen=p) for s, p in zip(sizes, tier_prices, strict=True)]


@st.composite
def valid_settings(draw: st.DrawFn, tiered: bool | None = None) -> GroupBuySettings:
    """Any GroupBuySettings the model accepts, tiered or not."""
    is_tiered = draw(st.booleans()) if tiered is None else tiered
    group_size = draw(st.integers(min_value=2, max_value=100))
    sku_count = 1 if is_tiered else draw(st.integers(min_value=1, max_value=5))
    sku_ids = draw(st.lists(st.integers(min_value=1, max_value=10**9), min_size=sku_count, max_size=sku_count,
                            unique=True))
    floor = 10 if is_tiered else 1
    sku_prices = draw(st.lists(st.integers(min_value=floor, max_value=MAX_PRICE_FEN), min_size=sku_count,
                               max_size=sku_count))
    values: dict[str, Any] = {
        "product_id": draw(st.integers(min_value=1, max_value=10**9)),
        "skus": [{"sku_id": i, "group_price_fen": p} for i, p in zip(sku_ids, sku_prices, strict=True)],
        "group_size": group_size,
        "fill_minutes": draw(st.integers(min_value=5, max_value=7 * 24 * 60)),
        "per_customer_limit": draw(st.integers(min_value=1, max_value=100)),
        "leader_discount_fen": draw(st.integers(min_value=0, max_value=min(sku_prices) - 1)),
        "new_customers_only": draw(st.booleans()),
        "listed": draw(st.booleans()),
        "race_loser": draw(st.sampled_from(["new_group", "refund"])),
    }
    if is_tiered:
        values["tiers"] = draw(tier_lists(group_size, sku_prices[0]))
    else:
        values["auto_complete_min_paid"] = draw(st.none() | st.integers(min_value=1, max_value=group_size - 1))
    return GroupBuySettings.model_validate(values)


# --- tier prices ------------------------------------------------------------------------------------------------------


@PROFILE
@given(tier_lists())
def test_tier_price_is_none_below_the_smallest_tier_and_never_rises(tiers: list[Tier]) -> None:
    previous: int | None = None
    for paid_count in range(0, tiers[-1].size + 3):
        price = tier_price(tiers, paid_count)
        if paid_count < tiers[0].size:
            assert price is None
            continue
        assert price == max((t for t in tiers if t.size <= paid_count), key=lambda t: t.size).price_fen
        assert previous is None or price <= previous
        previous = price


# --- tier refunds -----------------------------------------------------------------------------------------------------


@PROFILE
@given(prices, st.integers(min_value=1, max_value=10_000), st.none() | prices)
def test_tier_difference_is_the_saving_per_unit_times_quantity_and_never_negative(paid: int, quantity: int,
                                                                             final: int | None) -> None:
    refund = tier_difference(paid, quantity, final)
    assert refund >= 0
    if final is None or final >= paid:
        assert refund == 0
    else:
        assert refund == (paid - final) * quantity


@PROFILE
@given(st.data())
def test_tier_differences_over_the_members_conserve_money(data: st.DataObject) -> None:
    """Whatever the tiers and the final size, the members together get back exactly (paid − final) × all units."""
    group_price = data.draw(st.integers(min_value=10, max_value=MAX_PRICE_FEN), label="group price")
    tiers = data.draw(tier_lists(top_price=group_price), label="tiers")
    final_size = data.draw(st.integers(min_value=1, max_value=tiers[-1].size), label="final size")
    quantities = data.draw(st.lists(st.integers(min_value=1, max_value=50), min_size=final_size, max_size=final_size),
                           label="quantities")
    final = tier_price(tiers, final_size)
    refunded = sum(tier_difference(group_price, quantity, final) for quantity in quantities)
    if final is None:
        assert refunded == 0  # below the smallest tier the group fails: full refunds, not tier differences
    else:
        assert final <= group_price
        assert refunded == (group_price - final) * sum(quantities)


# --- outcome at expiry ------------------------------------------------------------------------------------------------


@PROFILE
@given(valid_settings(tiered=False), st.data())
def test_auto_complete_succeeds_exactly_from_its_threshold(group: GroupBuySettings, data: st.DataObject) -> None:
    """P5: never in the merchant's favour below N paid; always in the buyers' favour at or above it."""
    paid_count = data.draw(st.integers(min_value=0, max_value=group.group_size - 1), label="paid count")
    outcome = outcome_at_expiry(group, paid_count)
    threshold = group.auto_complete_min_paid
    if threshold is None or paid_count < threshold:
        assert outcome == "fail"
    else:
        assert outcome == "succeed"


@PROFILE
@given(valid_settings(tiered=True), st.data())
def test_tiered_group_succeeds_at_expiry_exactly_from_its_smallest_tier(group: GroupBuySettings,
                                                                        data: st.DataObject) -> None:
    paid_count = data.draw(st.integers(min_value=0, max_value=group.group_size), label="paid count")
    expected = "succeed" if paid_count >= group.tiers[0].size else "fail"
    assert outcome_at_expiry(group, paid_count) == expected


# --- prices -----------------------------------------------------------------------------------------------------------


@PROFILE
@given(valid_settings(), st.integers(min_value=1, max_value=10**9))
def test_leader_pays_the_member_price_less_the_discount_and_at_least_one_fen(group: GroupBuySettings,
                                                                              stranger: int) -> None:
    for sku in group.skus:
        member = unit_price(group, sku.sku_id, leader=False)
        leader = unit_price(group, sku.sku_id, leader=True)
        assert member == sku.group_price_fen
        assert leader == sku.group_price_fen - group.leader_discount_fen
        assert leader >= 1
    if stranger not in {sku.sku_id for sku in group.skus}:
        assert unit_price(group, stranger, leader=True) is None
        assert unit_price(group, stranger, leader=False) is None


# --- the settings model -----------------------------------------------------------------------------------------------


@PROFILE
@given(valid_settings())
def test_valid_settings_round_trip(group: GroupBuySettings) -> None:
    """What is stored (model_dump as JSON) reads back as the same settings."""
    assert GroupBuySettings.model_validate(group.model_dump()) == group
    assert GroupBuySettings.model_validate(group.model_dump(mode="json")) == group
    assert GroupBuySettings.model_validate_json(group.model_dump_json()) == group
