"""Sign-in back-off: how long a source of failed sign-ins must wait before the next attempt is heard."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from fissionmall.core.auth import Failures

FREE_FAILURES_PER_ACCOUNT = 5
"""Wrong passwords for one account before the waits begin: enough for a person who mistypes."""
FREE_FAILURES_PER_ADDRESS = 20
"""Failed sign-ins from one address (across usernames) before the waits begin: a shop's staff share one address."""
FIRST_WAIT_SECONDS = 1
MAX_WAIT_SECONDS = 15 * 60
FORGET_AFTER = timedelta(hours=1)
"""Failures are forgotten once none has followed for this long."""


def wait_after(failures: int, free: int) -> int:
    """Seconds to wait after `failures` failures: none up to `free`, then 1 s, doubling with each failure, capped."""
    if failures < free:
        return 0
    return min(FIRST_WAIT_SECONDS << min(failures - free, 30), MAX_WAIT_SECONDS)


def seconds_left(failures: Failures | None, free: int, now: datetime) -> int:
    """Whole seconds until the next attempt is heard (0: at once)."""
    if failures is None or now - failures.last_at >= FORGET_AFTER:
        return 0
    left = wait_after(failures.count, free) - (now - failures.last_at).total_seconds()
    return max(0, math.ceil(left))
