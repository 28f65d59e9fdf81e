"""Time comes from here, so every expiry can be tested without sleeping."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that moves only when told to (tests, simulations)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, **kwargs: float) -> datetime:
        self._now += timedelta(**kwargs)
        return self._now


def days_between(first: date | None, last: date | None, zone: tzinfo) -> tuple[datetime | None, datetime | None]:
    """A filter's first and last day, both whole, as [start, end) instants in `zone`; a day at the calendar's edge
    (0001-01-01, 9999-12-31: what a date field lets a person type) bounds nothing, as its instant or the day after it
    does not exist in UTC."""
    start = datetime.combine(first, time.min, zone) if first and first > date.min else None
    end = datetime.combine(last + timedelta(days=1), time.min, zone) if last and last < date.max else None
    return start, end
