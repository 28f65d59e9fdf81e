"""Properties of the named roundings in core/money.py: `allocate` splits exactly, fairly and deterministically;
each rate function rounds the way its docstring says; yuan strings parse exactly or are refused."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fissionmall.core.money import (
    allocate,
    apply_rate,
    fen_from_yuan,
    per_unit_rounded_up,
    percent_of,
    rate_bp_from_percent,
    share_of,
    yuan,
)
from fissionmall.orders.rules import split_refund

pytestmark = pytest.mark.backend_free

PROPERTY = settings(max_examples=100, deadline=None)
totals = st.integers(min_value=0, max_value=10**9)
weight_lists = st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=12).filter(any)


@PROPERTY
@given(totals, weight_lists)
def test_allocate_sums_exactly_and_each_part_is_within_a_fen_of_its_share(total, weights):
    parts = allocate(total, weights)
    assert sum(parts) == total
    for part, weight in zip(parts, weights, strict=True):
        exact = Fraction(total * weight, sum(weights))
        assert exact - 1 < part < exact + 1
        assert part >= 0 and (weight or part == 0)


@PROPERTY
@given(totals, weight_lists)
def test_allocate_is_monotone_in_weight_and_breaks_ties_to_the_earlier(total, weights):
    parts = allocate(total, weights)
    assert parts == allocate(total, list(weights))
    for i in range(len(weights)):
        for j in range(i + 1, len(weights)):
            if weights[i] >= weights[j]:
                assert parts[i] >= parts[j]
            else:
                assert parts[i] <= parts[j]


@PROPERTY
@given(st.integers(min_value=1, max_value=20), st.integers(min_value=0, max_value=19))
def test_allocate_gives_the_odd_fen_of_equal_weights_to_the_first(parts_count, total):
    parts = allocate(total, [7] * parts_count)
    assert parts == sorted(parts, reverse=True)
    assert parts[0] - parts[-1] <= 1


@PROPERTY
@given(totals, st.integers(min_value=0, max_value=10_000), st.integers(min_value=0, max_value=100))
def test_rates_round_down(amount, rate_bp, percent):
    assert apply_rate(amount, rate_bp) == int(Fraction(amount * rate_bp, 10_000))
    assert percent_of(amount, percent) == int(Fraction(amount * percent, 100))
    assert percent_of(amount, percent) == apply_rate(amount, percent * 100)


@PROPERTY
@given(totals, st.integers(min_value=1, max_value=1000))
def test_per_unit_rounded_up_is_the_largest_equal_part(amount, units):
    assert per_unit_rounded_up(amount, units) == max(allocate(amount, [1] * units))


@PROPERTY
@given(st.integers(min_value=0, max_value=10**7), st.integers(min_value=1, max_value=10**7),
       st.lists(st.integers(min_value=1, max_value=10**6), max_size=6))
def test_running_shares_give_back_exactly_once(benefit, whole, steps):
    """share_of over a running total only grows, never passes the benefit, and the whole returns all of it."""
    running, returned = 0, 0
    for step in [*steps, whole]:
        running = min(whole, running + step)
        now = share_of(benefit, running, whole)
        assert now >= returned
        returned = now
    assert returned == benefit


@PROPERTY
@given(st.integers(min_value=-10**9, max_value=10**9))
def test_yuan_strings_round_trip(amount):
    assert fen_from_yuan(yuan(amount)) == amount


@pytest.mark.parametrize(("text", "fen"), [("12", 1200), ("12.3", 1230), ("0.05", 5), ("-1.5", -150), (" 7.00 ", 700)])
def test_yuan_strings_parse_exactly(text, fen):
    assert fen_from_yuan(text) == fen


@pytest.mark.parametrize("text", ["1.234", "0.1e2", "1,00", "", "¥1", "1.", ".5", "nan"])
def test_yuan_strings_with_more_than_two_decimals_or_not_numbers_are_refused(text):
    with pytest.raises(ValueError):
        fen_from_yuan(text)


def test_a_typed_percent_is_exact_basis_points():
    assert rate_bp_from_percent(10.5) == 1050
    assert rate_bp_from_percent(0.1) * 3 == rate_bp_from_percent("0.3")


payments = st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=2).map(
    lambda amounts: [(f"T{i}", amount) for i, amount in enumerate(amounts)])


@PROPERTY
@given(payments, st.data())
def test_refund_split_goes_back_through_the_payments_newest_first_exactly(paid, data):
    """Any sequence of refunds up to what was paid: each splits exactly over the payments, none past what a
    payment has left, the newest used up first; one more fen is refused."""
    taken: dict[str, int] = {}
    left = sum(amount for _, amount in paid)
    while left:
        amount = data.draw(st.integers(min_value=1, max_value=left))
        parts = split_refund(amount, paid, taken)
        assert sum(part for _, part in parts) == amount
        for number, part in parts:
            taken[number] = taken.get(number, 0) + part
        assert all(0 <= taken.get(number, 0) <= cap for number, cap in paid)
        used = [taken.get(number, 0) for number, _ in paid]
        assert all(later == cap for later, (_, cap), earlier in zip(used, paid, used[1:], strict=False) if earlier)
        left -= amount
    with pytest.raises(ValueError):
        split_refund(1, paid, taken)
