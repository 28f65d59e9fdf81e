"""Pure task rules: which event counts toward which kind of task, for whom, and in which period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fissionmall.core.counters import BUSINESS_OFFSET, day_of

TASK_KINDS = {"register": "invite_registered", "first_purchase": "friend_first_purchase", "click": "share_click",
              "checkin": "checkin_streak", "review": "review",
              "post": "post"}
"""Event kind → the task kind it advances."""
FRIEND_EVENTS = frozenset({"register", "first_purchase", "click"})
"""Events that count what a friend did (for their inviter), not what the customer did."""


@dataclass(frozen=True)
class Step:
    customer_id: int
    """Whose task advances: the inviter for what a friend did, the customer for their own check-in."""
    subject_id: int
    """What counts once per period: the friend, or the day."""
    streak: int | None = None
    """A check-in streak sets the progress instead of adding one."""


def step_of(event_kind: str, actor_id: int | None, inviter_id: int | None, data: dict[str, Any],
            at: datetime) -> Step | None:
    """The step an event makes, or None when it counts for nothing: an anonymous or self click, a click on a
    share of anything but a product, a friend with no inviter."""
    if event_kind == "checkin":
        return Step(actor_id, int(day_of(at).replace("-", "")), int(data["streak"])) if actor_id else None
    if event_kind == "review":
        return Step(actor_id, int(data["review_id"])) if actor_id else None
    if event_kind == "post":
        return Step(actor_id, int(data["post_id"])) if actor_id else None
    if actor_id is None or inviter_id is None or actor_id == inviter_id:
        return None
    if event_kind == "click" and data.get("target_type") != "product":
        return None
    return Step(inviter_id, actor_id)


def period_key(period: str, at: datetime) -> str:
    """The period a task's progress counts in, in China Standard Time: 'once', a day, or an ISO week."""
    if period == "daily":
        return day_of(at)
    if period == "weekly":
        year, week, _ = (at + BUSINESS_OFFSET).isocalendar()
        return f"{year}-W{week:02d}"
    return "once"
