"""The random money splits (core/splits.py) behind red packets and assist prizes.

Properties over any valid (total, parts, minimum): both rules return exactly `parts` integer amounts that sum to the
total to the fen, none below the minimum (so none above total − minimum × (parts − 1)); invalid input is refused with
ValueError before any draw. Statistics with a seeded random.Random: under the line-segment split the n-th claimer
draws from the same distribution as every other (same mean, variance and quartiles per position), while under
double-mean the expected part is the same but the spread grows with the order of claim: the first claimer can never
get more than twice the mean, the last often does. That is why line_segment is the fair default.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fissionmall.core import splits

pytestmark = pytest.mark.backend_free

Rule = Callable[[int, int, int, random.Random], list[int]]
RULES: dict[str, Rule] = {"double_mean": splits.double_mean, "line_segment": splits.line_segment}

PROPERTY = settings(max_examples=300, deadline=None)


@st.composite
def valid_inputs(draw: st.DrawFn) -> tuple[int, int, int, int]:
    """(total, parts, minimum, seed) with total ≥ parts × minimum; sometimes exactly that (no room to spare)."""
    parts = draw(st.integers(min_value=1, max_value=200))
    minimum = draw(st.integers(min_value=1, max_value=50_000))
    spare = draw(st.one_of(st.just(0), st.integers(min_value=0, max_value=parts),
                           st.integers(min_value=0, max_value=100_000_000)))
    return parts * minimum + spare, parts, minimum, draw(st.integers(min_value=0, max_value=2**32))


def check_split(amounts: list[int], total: int, parts: int, minimum: int) -> None:
    assert len(amounts) == parts
    assert all(type(a) is int for a in amounts), amounts
    assert sum(amounts) == total
    assert min(amounts) >= minimum
    assert max(amounts) <= total - minimum * (parts - 1)


# --- properties -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", sorted(RULES))
@PROPERTY
@given(case=valid_inputs())
def test_every_split_sums_exactly_and_respects_the_minimum(rule, case):
    """Money is conserved to the fen and nobody gets less than the published minimum, whatever the numbers."""
    total, parts, minimum, seed = case
    check_split(RULES[rule](total, parts, minimum, random.Random(seed)), total, parts, minimum)


@PROPERTY
@given(case=valid_inputs(), rule=st.sampled_from(sorted(RULES)))
def test_split_dispatches_to_the_named_rule_with_the_given_rng(case, rule):
    """split(rule, ...) is exactly the named rule on the same random stream (so prizes are reproducible in tests)."""
    total, parts, minimum, seed = case
    assert splits.split(rule, total, parts, minimum, random.Random(seed)) == RULES[rule](
        total, parts, minimum, random.Random(seed))


@PROPERTY
@given(case=valid_inputs(), rule=st.sampled_from(sorted(RULES)))
def test_split_without_an_rng_still_sums_exactly(case, rule):
    """The production path (system randomness) keeps the same guarantees."""
    total, parts, minimum, _ = case
    check_split(splits.split(rule, total, parts, minimum), total, parts, minimum)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_no_room_to_spare_gives_everyone_the_minimum(rule):
    """total == parts × minimum leaves one possible split: the minimum each."""
    assert RULES[rule](700, 7, 100, random.Random(1)) == [100] * 7
    assert RULES[rule](1, 1, 1, random.Random(1)) == [1]


@pytest.mark.parametrize("rule", sorted(RULES))
@PROPERTY
@given(total=st.integers(min_value=1, max_value=10**9), seed=st.integers(min_value=0, max_value=2**32))
def test_one_part_is_the_whole_total(rule, total, seed):
    """A single prize is the whole pool."""
    assert RULES[rule](total, 1, 1, random.Random(seed)) == [total]


@pytest.mark.parametrize("rule", sorted(RULES))
@pytest.mark.parametrize(("total", "parts", "minimum"), [
    (100, 0, 1),      # no parts
    (100, -3, 1),     # negative parts
    (100, 5, 0),      # a zero minimum would allow empty prizes
    (100, 5, -1),     # a negative minimum
    (99, 100, 1),     # not one fen each
    (499, 5, 100),    # one fen short of five prizes of 100
    (0, 1, 1),        # nothing to split
    (-5, 1, 1),       # a negative total
])
def test_invalid_input_raises_value_error_before_drawing(rule, total, parts, minimum):
    """Impossible splits are refused, and refused before the random stream is touched."""
    rng = random.Random(7)
    with pytest.raises(ValueError, match="cannot split"):
        RULES[rule](total, parts, minimum, rng)
    assert rng.random() == random.Random(7).random()
    with pytest.raises(ValueError, match="cannot split"):
        splits.split(rule, total, parts, minimum, random.Random(7))


# --- the order of claim -----------------------------------------------------------------------------------------------

RUNS, TOTAL, PARTS, MINIMUM = 20_000, 1000, 5, 1
MEAN = TOTAL / PARTS


def by_position(rule: Rule, seed: int) -> list[list[int]]:
    """RUNS splits of 1000 fen into 5: the amounts the 1st, 2nd, … claimer got, one list per position."""
    rng = random.Random(seed)
    columns: list[list[int]] = [[] for _ in range(PARTS)]
    for _ in range(RUNS):
        for column, amount in zip(columns, rule(TOTAL, PARTS, MINIMUM, rng), strict=True):
            column.append(amount)
    return columns


def quartiles(values: list[int]) -> list[float]:
    return statistics.quantiles(values, n=4)


def test_line_segment_does_not_depend_on_the_order_of_claim():
    """Every position gets the same distribution: mean 200 ± 5 fen, variances within 6% of each other and of the
    theory (995² × 4 / 150 ≈ 26,401 for uniform cuts), quartiles within 10 fen of the pooled ones, and even the
    first claimer can win a large share."""
    columns = by_position(splits.line_segment, seed=20260101)
    means = [statistics.fmean(c) for c in columns]
    variances = [statistics.pvariance(c) for c in columns]
    assert all(abs(m - MEAN) < 5 for m in means), means
    assert max(variances) / min(variances) < 1.06, variances
    theory = (TOTAL - PARTS * MINIMUM) ** 2 * 4 / 150
    assert all(abs(v / theory - 1) < 0.06 for v in variances), (variances, theory)
    pooled = quartiles([a for c in columns for a in c])
    for column in columns:
        assert all(abs(q - p) < 10 for q, p in zip(quartiles(column), pooled, strict=True)), (quartiles(column), pooled)
    assert all(max(c) > 3.5 * MEAN for c in columns), [max(c) for c in columns]
    assert all(min(c) == MINIMUM for c in columns)


def test_double_mean_gives_later_claimers_a_visibly_wider_spread():
    """Double-mean keeps the mean of every position at 200 but not its spread: the last claimer's variance is over
    40% larger than the first's and grows with each position, and the first claimer is capped at twice the mean
    (400 fen) while the last goes far beyond — the order of claim matters, so it is not the default."""
    columns = by_position(splits.double_mean, seed=20260101)
    means = [statistics.fmean(c) for c in columns]
    variances = [statistics.pvariance(c) for c in columns]
    assert all(abs(m - MEAN) < 5 for m in means), means
    assert variances[0] < variances[1] < variances[2] < min(variances[3:]), variances
    assert variances[-1] / variances[0] > 1.4, variances
    assert max(columns[0]) <= 2 * MEAN
    assert max(columns[-1]) > 3.5 * MEAN
    # the same check that passes for line_segment fails here
    assert max(variances) / min(variances) > 1.06
