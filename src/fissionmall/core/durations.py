"""Durations as a Chinese shopper reads them: "1 天 12 小时", "1 小时 30 分钟", never "1.5 小时".

Pure and whole-second: a rules text states a period a person can count on a clock, and a countdown never shows
more time than is left (it rounds down). The web layer registers both as Jinja2 filters.
"""

from __future__ import annotations

from datetime import timedelta

_UNITS = ((86_400, "天"), (3_600, "小时"), (60, "分钟"), (1, "秒"))
_COUNTDOWN_UNITS = ((86_400, "天"), (3_600, "小时"), (60, "分"), (1, "秒"))


def _seconds(value: int | timedelta) -> int:
    """Whole seconds, rounded down (a countdown never overstates what is left)."""
    return value // timedelta(seconds=1) if isinstance(value, timedelta) else value


def _parts(seconds: int, units: tuple[tuple[int, str], ...]) -> list[tuple[int, str]]:
    counted = []
    for size, name in units:
        count, seconds = divmod(seconds, size)
        counted.append((count, name))
    return counted


def chinese_duration(value: int | timedelta) -> str:
    """A period in the largest whole units, zero units left out: 300 → "5 分钟", 5400 → "1 小时 30 分钟",
    129600 → "1 天 12 小时"; what a rules text says a window lasts. Negative periods are refused."""
    seconds = _seconds(value)
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative: {seconds} s")
    words = [f"{count} {name}" for count, name in _parts(seconds, _UNITS) if count]
    return " ".join(words) or "0 秒"


def countdown(value: int | timedelta) -> str:
    """Time left as a page shows it: the two largest units from the first that is not zero, rounded down —
    "剩余 2 天 3 小时", "剩余 5 小时 12 分", "剩余 3 分 20 秒", "剩余 40 秒"; "已结束" once nothing is left."""
    seconds = _seconds(value)
    if seconds <= 0:
        return "已结束"
    counted = _parts(seconds, _COUNTDOWN_UNITS)
    first = next(i for i, (count, _) in enumerate(counted) if count)
    return "剩余 " + " ".join(f"{count} {name}" for count, name in counted[first:first + 2])
