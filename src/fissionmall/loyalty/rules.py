"""Pure calendar rules the loyalty sub-domains share: a month counted in China Standard Time, as members see it
(levels on last month's spending, the dividend pool of a month)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

CST = timezone(timedelta(hours=8))


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
