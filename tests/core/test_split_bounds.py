"""The published range of a split (core/splits.py smallest_part, largest_part, describe): what a rules text may
promise about a prize or a coupon slot.

Both bounds hold and are tight, for every split kind, with and without a cap: over many seeds no part falls outside
[smallest_part, largest_part]; and for each bound there is a draw that lands on it exactly — shown by feeding split()
a random stream scripted to make that draw, each scripted number checked to lie in the range the rule asked for (so
the draw has a chance, however small). An even split (rule None) is deterministic: its parts are exactly the floor
and the ceiling of the mean. The text names exactly those bounds, and says "金额相同" only when they are equal.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fissionmall.core import splits
from fissionmall.core.money import allocate, yuan

pytestmark = pytest.mark.backend_free

RULES: tuple[splits.SplitRule, ...] = ("double_mean", "line_segment")
PROPERTY = settings(max_examples=400, deadline=None)


@st.composite
def terms(draw: st.DrawFn) -> tuple[int, int, int, int | None]:
    """(total, parts, minimum, maximum or None), as the settings' validators admit them; often at an edge."""
    parts = draw(st.integers(min_value=1, max_value=60))
    minimum = draw(st.integers(min_value=1, max_value=5_000))
    spare = draw(st.one_of(st.just(0), st.integers(min_value=0, max_value=parts),
                           st.integers(min_value=0, max_value=10_000_000)))
    total = parts * minimum + spare
    least = max(minimum, -(-total // parts))  # the smallest cap that can hold the total
    maximum = draw(st.one_of(st.none(), st.just(least), st.integers(min_value=least, max_value=least + 50),
                             st.integers(min_value=least, max_value=total + 10)))
    return total, parts, minimum, maximum


class Scripted(random.Random):
    """A random stream that answers randint() from a script, failing if an answer is outside the asked range (a
    real stream could not give it); it never needs to shuffle, because a scripted draw stays under the cap."""

    def __init__(self, answers: list[int]) -> None:
        super().__init__(0)
        self.answers: Iterator[int] = iter(answers)

    def randint(self, a: int, b: int) -> int:
        answer = next(self.answers)
        assert a <= answer <= b, (a, answer, b)
        return answer

    def shuffle(self, x: object, random: object = None) -> None:
        raise AssertionError("a scripted draw under the cap is never capped")


def draw_ending_in(extreme: int, total: int, parts: int) -> list[int]:
    """A split whose last part is `extreme` and whose others share the rest evenly."""
    return [*allocate(total - extreme, [1] * (parts - 1)), extreme] if parts > 1 else [total]


def script(rule: splits.SplitRule, target: list[int], minimum: int) -> list[int]:
    """The randint() answers that make `rule` draw `target`: double mean draws each part but the last; the line
    segment draws the cuts, which are the running sums of what each part has above the minimum."""
    if rule == "double_mean":
        return target[:-1]
    running, cuts = 0, []
    for part in target[:-1]:
        running += part - minimum
        cuts.append(running)
    return cuts


@pytest.mark.parametrize("rule", RULES)
@PROPERTY
@given(case=terms(), seed=st.integers(min_value=0, max_value=2**32))
def test_no_draw_leaves_the_published_range(rule, case, seed):
    total, parts, minimum, maximum = case
    low, high = (splits.smallest_part(rule, total, parts, minimum, maximum),
                 splits.largest_part(rule, total, parts, minimum, maximum))
    amounts = splits.split(rule, total, parts, minimum, random.Random(seed), maximum)
    assert low <= min(amounts) and max(amounts) <= high, (amounts, low, high)
    assert high <= total and (maximum is None or high <= maximum)


@pytest.mark.parametrize("rule", RULES)
@PROPERTY
@given(case=terms())
def test_a_draw_reaches_the_published_maximum_and_the_published_minimum(rule, case):
    """The top prize a text names is one a draw can give (and the total pays for), and so is the least."""
    total, parts, minimum, maximum = case
    for extreme in (splits.largest_part(rule, total, parts, minimum, maximum),
                    splits.smallest_part(rule, total, parts, minimum, maximum)):
        target = draw_ending_in(extreme, total, parts)
        drawn = splits.split(rule, total, parts, minimum, Scripted(script(rule, target, minimum)), maximum)
        assert drawn == target
        assert extreme in drawn


@PROPERTY
@given(case=terms())
def test_an_even_split_is_exactly_the_floor_and_the_ceiling_of_the_mean(case):
    total, parts, minimum, maximum = case
    amounts = splits.split(None, total, parts, minimum, maximum=maximum)
    assert (min(amounts), max(amounts)) == (splits.smallest_part(None, total, parts, minimum, maximum),
                                            splits.largest_part(None, total, parts, minimum, maximum))


def test_a_cap_above_what_the_total_can_give_is_not_the_maximum():
    """4 slots of ¥10.00 in all, at least ¥1.00 each: no slot can pass ¥7.00, whatever the cap says (¥9.00, or
    more than the total); a binding cap of ¥3.00 is the maximum and lifts the least to ¥1.00."""
    assert splits.largest_part("line_segment", 1000, 4, 100, 900) == 700
    assert splits.largest_part("double_mean", 1000, 4, 100, 40_100) == 700
    assert splits.largest_part("line_segment", 1000, 4, 100, 300) == 300
    assert splits.smallest_part("line_segment", 1000, 4, 1, 300) == 100
    assert splits.smallest_part("line_segment", 1000, 4, 1, 900) == 1


@pytest.mark.parametrize(("rule", "total", "parts", "minimum", "maximum", "text"), [
    (None, 1000, 4, 1, None, "每份 ¥2.50，金额相同"),
    (None, 1000, 3, 1, None, "平均分配，每份 ¥3.33，最先领取的 1 份各多 ¥0.01"),
    (None, 1001, 3, 1, None, "平均分配，每份 ¥3.33，最先领取的 2 份各多 ¥0.01"),
    ("line_segment", 1000, 4, 100, 900, "每份金额随机，最少 ¥1.00，最多 ¥7.00"),
    ("double_mean", 1000, 4, 1, 300, "每份金额随机，最少 ¥1.00，最多 ¥3.00"),
    ("line_segment", 700, 7, 100, None, "每份 ¥1.00，金额相同"),
    ("line_segment", 1000, 10, 1, 100, "每份 ¥1.00，金额相同"),
])
def test_the_text_names_the_range_a_draw_reaches(rule, total, parts, minimum, maximum, text):
    """No cap the total cannot give, no "随机" when every part must be the same, the odd fen of an even split said."""
    assert splits.describe(rule, total, parts, minimum, maximum) == text


@PROPERTY
@given(case=terms(), rule=st.sampled_from((None, *RULES)))
def test_the_text_quotes_the_bounds(case, rule):
    total, parts, minimum, maximum = case
    low, high = (splits.smallest_part(rule, total, parts, minimum, maximum),
                 splits.largest_part(rule, total, parts, minimum, maximum))
    text = splits.describe(rule, total, parts, minimum, maximum)
    assert f"¥{yuan(low)}" in text and f"¥{yuan(high)}" in text or f"¥{yuan(high - low)}" in text
    assert ("金额相同" in text) == (low == high)
