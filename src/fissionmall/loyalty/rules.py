"""Pure calendar rules the loyalty sub-domains share: a month counted in China Standard Time, as members see it
(levels on last month's spending, the dividend pool of a month)."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Literal

CST = timezone(timedelta(hours=8))

PayDay = int | Literal["last"]
"""The day of the month a monthly payout is made: 1–28, or "last" for the month's last day (月末)."""


def month_window(month: str) -> tuple[datetime, datetime]:
    """The month's start and end, in China Standard Time days."""
    year, number = int(month[:4]), int(month[5:])
    start = datetime(year, number, 1, tzinfo=CST)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=CST)
    return start.astimezone(UTC), end.astimezone(UTC)


def previous_month(now: datetime) -> str:
    local = now.astimezone(CST)
    first = local.replace(day=1)
    last = first - timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


def month_of(now: datetime) -> str:
    local = now.astimezone(CST)
    return f"{local.year:04d}-{local.month:02d}"


def activity_level(levels: list[tuple[int, int]], spend_fen: int) -> int:
    """How many of the (min spend, points) activity levels, rising, a month's own net spend reaches (0: none); the
    same choice the dividend run's statement makes, for the member to see before the month ends."""
    return sum(1 for min_spend, _ in levels if spend_fen >= min_spend)


def next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:])
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def pay_date(month: str, pay_day: PayDay) -> date:
    """The date in `month` (China Standard Time) of a payout on `pay_day`: the day itself, or the month's real last
    day (Feb 28 or 29, 30, 31)."""
    year, number = int(month[:4]), int(month[5:])
    return date(year, number, calendar.monthrange(year, number)[1] if pay_day == "last" else pay_day)


def pay_day_due(now: datetime, pay_day: PayDay) -> bool:
    """Whether this month's pay day has come (China Standard Time): last month's pool may be paid."""
    return now.astimezone(CST).date() >= pay_date(month_of(now), pay_day)

