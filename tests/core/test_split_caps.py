"""The `maximum` of the money splits (core/splits.py split() and capped()) behind coupon packets' slots.

For any valid (total, parts, minimum, maximum) — parts × minimum ≤ total ≤ parts × maximum — both rules return exactly
`parts` integer amounts summing to the total to the fen, each within [minimum, maximum]; a split that already fits
under the cap is left exactly as drawn; parts × maximum < total raises ValueError before any draw. capped() on its own
keeps the sum, never lowers a part below its own value or the cap, and never passes the cap.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fissionmall.core import splits

pytestmark = pytest.mark.backend_free

RULES = ("double_mean", "line_segment")
PROPERTY = settings(max_examples=300, deadline=None)


@st.composite
def capped_inputs(draw: st.DrawFn) -> tuple[int, int, int, int, int]:
    """(total, parts, minimum, maximum, seed) with parts × minimum ≤ total ≤ parts × maximum; often at an edge."""
    parts = draw(st.integers(min_value=1, max_value=100))
    minimum = draw(st.integers(min_value=1, max_value=10_000))
    maximum = minimum + draw(st.one_of(st.just(0), st.integers(min_value=0, max_value=5),
                                       st.integers(min_value=0, max_value=1_000_000)))
    low, high = parts * minimum, parts * maximum
    total = draw(st.one_of(st.just(low), st.just(high), st.integers(min_value=low, max_value=high)))
    return total, parts, minimum, maximum, draw(st.integers(min_value=0, max_value=2**32))


def check(amounts: list[int], total: int, parts: int, minimum: int, maximum: int) -> None:
    assert len(amounts) == parts
    assert all(type(a) is int for a in amounts), amounts
    assert sum(amounts) == total
    assert all(minimum <= a <= maximum for a in amounts), (amounts, minimum, maximum)


@pytest.mark.parametrize("rule", RULES)
@PROPERTY
@given(case=capped_inputs())
def test_a_capped_split_sums_exactly_and_stays_within_min_and_max(rule, case):
    """Money is conserved to the fen and every slot is within the published [min, max], whatever the numbers."""
    total, parts, minimum, maximum, seed = case
    check(splits.split(rule, total, parts, minimum, random.Random(seed), maximum), total, parts, minimum, maximum)


@PROPERTY
@given(case=capped_inputs(), rule=st.sampled_from(RULES))
def test_a_capped_split_without_an_rng_keeps_the_same_guarantees(case, rule):
    """The production path (system randomness) is bounded too."""
    total, parts, minimum, maximum, _ = case
    check(splits.split(rule, total, parts, minimum, maximum=maximum), total, parts, minimum, maximum)


@PROPERTY
@given(case=capped_inputs(), rule=st.sampled_from(RULES))
def test_a_cap_no_part_reaches_changes_nothing(case, rule):
    """With maximum at or above the largest drawn part, the split is exactly the uncapped one on the same stream."""
    total, parts, minimum, _, seed = case
    drawn = splits.split(rule, total, parts, minimum, random.Random(seed))
    assert splits.split(rule, total, parts, minimum, random.Random(seed), max(drawn)) == drawn
    assert splits.split(rule, total, parts, minimum, random.Random(seed), total) == drawn


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize(("total", "parts", "minimum", "maximum"), [
    (1000, 10, 1, 100),     # parts × maximum == total: every part is the cap
    (700, 7, 100, 100),     # minimum == maximum
    (1, 1, 1, 1),
    (5, 1, 1, 5),           # one part is the whole total, at the cap
])
def test_no_room_between_the_bounds_leaves_one_possible_split(rule, total, parts, minimum, maximum):
    """When the bounds leave a single way to split, both rules find it (parts × maximum == total, min == max)."""
    assert splits.split(rule, total, parts, minimum, random.Random(3), maximum) == [total // parts] * parts


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize(("total", "parts", "minimum", "maximum"), [
    (1000, 5, 1, 199),      # 5 × 199 = 995 < 1000
    (1001, 10, 1, 100),     # one fen too many
    (2, 1, 1, 1),
    (100, 5, 1, 0),         # a zero cap
    (100, 5, 1, -20),       # a negative cap
])
def test_parts_times_maximum_below_the_total_raises_before_drawing(rule, total, parts, minimum, maximum):
    """Impossible caps are refused with ValueError, and refused before the random stream is touched."""
    rng = random.Random(7)
    with pytest.raises(ValueError, match="at most"):
        splits.split(rule, total, parts, minimum, rng, maximum)
    assert rng.random() == random.Random(7).random()


@pytest.mark.parametrize("rule", RULES)
def test_an_impossible_minimum_is_still_refused_with_a_cap(rule):
    """A cap does not lift the minimum's own check: 5 parts of at least 201 fen cannot make 1000."""
    with pytest.raises(ValueError, match="cannot split"):
        splits.split(rule, 1000, 5, 201, random.Random(1), 400)


@st.composite
def capped_lists(draw: st.DrawFn) -> tuple[list[int], int, int]:
    """(amounts, maximum, seed) with len(amounts) × maximum ≥ sum(amounts): what capped() is promised."""
    amounts = draw(st.lists(st.integers(min_value=1, max_value=100_000), min_size=1, max_size=60))
    least = -(-sum(amounts) // len(amounts))  # the smallest cap that can hold the sum
    maximum = draw(st.one_of(st.just(least), st.integers(min_value=least, max_value=max(least, max(amounts)))))
    return amounts, maximum, draw(st.integers(min_value=0, max_value=2**32))


@PROPERTY
@given(case=capped_lists())
def test_capped_moves_only_the_excess_to_parts_with_room(case):
    """capped() keeps the count and the sum, puts every part at or under the cap, and never lowers a part below
    its own value or the cap (so the minimum of the input holds)."""
    amounts, maximum, seed = case
    result = splits.capped(amounts, maximum, random.Random(seed))
    assert (len(result), sum(result)) == (len(amounts), sum(amounts))
    assert all(r <= maximum for r in result), (result, maximum)
    assert all(r >= min(a, maximum) for r, a in zip(result, amounts, strict=True)), (result, amounts)
    assert min(result) >= min(amounts)


def test_capped_hands_the_excess_out_and_leaves_the_input_alone():
    """[800, 50, 50] capped at 300 can only end as 300 each; [900, 50, 50] capped at 400 keeps the big part at the
    cap and shares its 500 fen of excess between the small ones; the caller's list is not modified; a list already
    under the cap is returned as it is, drawing nothing."""
    assert splits.capped([800, 50, 50], 300, random.Random(1)) == [300, 300, 300]
    amounts = [900, 50, 50]
    for seed in range(20):
        result = splits.capped(amounts, 400, random.Random(seed))
        assert result[0] == 400 and result[1] + result[2] == 600 and all(200 <= r <= 400 for r in result[1:])
    assert amounts == [900, 50, 50]
    rng = random.Random(5)
    assert splits.capped([10, 20, 30], 30, rng) == [10, 20, 30]
    assert rng.random() == random.Random(5).random()
