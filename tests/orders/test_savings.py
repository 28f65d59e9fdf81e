"""What a paid order saved, for its show-off card: discounts only, grouped by name, accounted to the fen."""

from __future__ import annotations

import pytest

from fissionmall.orders.rules import savings

pytestmark = pytest.mark.backend_free


def test_discounts_are_saved_and_payments_and_charges_are_not() -> None:
    """Shop credit and a bought voucher pay for the order (not saved); shipping raises the price before."""
    found = savings(10_000, [("group_price", "拼团价", -2_000), ("coupon", "满100减10", -1_000),
                             ("coupon", "满100减10", -500), ("wallet", "余额抵扣", -3_000),
                             ("gift_voucher", "咖啡券", -1_200), ("shipping", "运费", 800),
                             ("points", "积分抵扣", -300)])
    assert found.lines == [("拼团价", 2_000), ("满100减10", 1_500), ("积分抵扣", 300)]
    assert (found.before_fen, found.after_fen) == (10_800, 10_800 - 3_800)


def test_a_merchants_own_price_change_is_named_generically() -> None:
    """Its name is staff text (it may name the customer): the card says only 商家优惠."""
    found = savings(5_000, [("merchant_adjustment", "给张三的老客优惠", -700)])
    assert found.lines == [("商家优惠", 700)] and found.after_fen == 4_300


def test_an_order_without_discounts_saved_nothing() -> None:
    found = savings(5_000, [("wallet", "余额抵扣", -5_000)])
    assert (found.lines, found.before_fen, found.after_fen) == ([], 5_000, 5_000)
