"""Durations in Chinese (core/durations.py): what rules texts and page countdowns print.

chinese_duration writes a period in whole days, hours, minutes and seconds, largest first, zero units left out, so
that reading the words back gives exactly the seconds it was given; it never prints a fraction ("1.5 小时") and
refuses a negative period. countdown shows the two largest units from the first that is not zero, rounded down: it
never shows more time than is left, and is short by less than one of its smaller unit.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fissionmall.core.durations import chinese_duration, countdown

pytestmark = pytest.mark.backend_free

PROPERTY = settings(max_examples=500, deadline=None)
SECONDS = {"天": 86_400, "小时": 3_600, "分钟": 60, "分": 60, "秒": 1}
WORD = re.compile(r"(\d+) (天|小时|分钟|分|秒)")


def read_back(text: str) -> list[tuple[int, int]]:
    """(count, seconds per unit) of each word, checking that the text is nothing but such words."""
    words = WORD.findall(text)
    assert " ".join(f"{n} {u}" for n, u in words) == text, text
    return [(int(n), SECONDS[u]) for n, u in words]


@pytest.mark.parametrize(("seconds", "text"), [
    (300, "5 分钟"),
    (7_200, "2 小时"),
    (86_400, "1 天"),
    (129_600, "1 天 12 小时"),
    (5_400, "1 小时 30 分钟"),
    (90_060, "1 天 1 小时 1 分钟"),
    (86_460, "1 天 1 分钟"),
    (45, "45 秒"),
    (0, "0 秒"),
    (7 * 86_400, "7 天"),
])
def test_a_period_reads_as_a_person_would_say_it(seconds, text):
    """Whole units, largest first, zeros dropped: 90 minutes is "1 小时 30 分钟", 36 hours "1 天 12 小时"."""
    assert chinese_duration(seconds) == text
    assert chinese_duration(timedelta(seconds=seconds)) == text


def test_a_timedelta_is_taken_in_whole_seconds():
    assert chinese_duration(timedelta(minutes=5, microseconds=999_999)) == "5 分钟"


def test_a_negative_period_is_refused():
    with pytest.raises(ValueError, match="negative"):
        chinese_duration(-1)
    with pytest.raises(ValueError, match="negative"):
        chinese_duration(timedelta(seconds=-30))


@PROPERTY
@given(seconds=st.integers(min_value=0, max_value=400 * 86_400))
def test_the_words_add_up_to_exactly_the_period_in_falling_units_without_zeros(seconds):
    """Read back, the text is the same number of seconds; each unit appears once, larger before smaller, never as
    0 (but for the zero period), and each count is below what the next larger unit holds."""
    words = read_back(chinese_duration(seconds))
    assert sum(n * size for n, size in words) == seconds
    sizes = [size for _, size in words]
    assert sizes == sorted(set(sizes), reverse=True)
    assert all(n > 0 for n, _ in words) or seconds == 0
    limits = {3_600: 24, 60: 60, 1: 60}
    assert all(n < limits[size] for n, size in words if size in limits)


@pytest.mark.parametrize(("seconds", "text"), [
    (2 * 86_400 + 3 * 3_600 + 59, "剩余 2 天 3 小时"),
    (5 * 3_600 + 12 * 60 + 59, "剩余 5 小时 12 分"),
    (3 * 60 + 20, "剩余 3 分 20 秒"),
    (40, "剩余 40 秒"),
    (86_400, "剩余 1 天 0 小时"),
    (3_600, "剩余 1 小时 0 分"),
    (1, "剩余 1 秒"),
    (0, "已结束"),
    (-5, "已结束"),
])
def test_a_countdown_shows_two_units_rounded_down(seconds, text):
    assert countdown(seconds) == text
    assert countdown(timedelta(seconds=seconds, microseconds=500_000)) == text


@PROPERTY
@given(seconds=st.integers(min_value=1, max_value=400 * 86_400))
def test_a_countdown_never_shows_more_time_than_is_left(seconds):
    """What it shows is at most the time left and short of it by less than its smaller unit."""
    text = countdown(seconds)
    assert text.startswith("剩余 ")
    words = read_back(text.removeprefix("剩余 "))
    assert 1 <= len(words) <= 2
    shown = sum(n * size for n, size in words)
    assert shown <= seconds < shown + words[-1][1]
