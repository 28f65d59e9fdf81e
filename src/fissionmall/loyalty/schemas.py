from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from fissionmall.core.schemas import RowId


class ActivityLevel(BaseModel):
    min_spend_fen: int = Field(ge=1, le=100_000_000)
    points: int = Field(ge=1, le=10_000_000)


class DividendPlanIn(BaseModel):
    """The monthly pool: a share of net sales, split by points that only a member's own spending earns (D7)."""

    enabled: bool
    pool_bp: int = Field(ge=1, le=2000)
    """At most 20% of the month's net sales."""
    levels: list[ActivityLevel] = Field(min_length=1, max_length=10)
    threshold_points: int = Field(default=0, ge=0, le=100_000_000)
    pay_day: int = Field(default=1, ge=1, le=28)

    @field_validator("levels")
    @classmethod
    def _rising(cls, levels: list[ActivityLevel]) -> list[ActivityLevel]:
        spends = [level.min_spend_fen for level in levels]
        points = [level.points for level in levels]
        if spends != sorted(set(spends)) or points != sorted(set(points)):
            raise ValueError("levels must rise in spend and in points, strictly")
        return levels


class DividendPlanOut(DividendPlanIn):
    updated_at: datetime


class RunIn(BaseModel):
    month: str = Field(description="YYYY-MM, a month that has ended")

    @field_validator("month")
    @classmethod
    def _month(cls, month: str) -> str:
        if not re.fullmatch(r"20\d\d-(0[1-9]|1[0-2])", month):
            raise ValueError("month is YYYY-MM")
        return month


class RunOut(BaseModel):
    id: int
    month: str
    net_sales_fen: int
    pool_fen: int
    members: int
    total_points: int
    status: str
    created_at: datetime
    finished_at: datetime | None


class PointsConfigIn(BaseModel):
    earn_per_yuan: int = Field(default=1, ge=0, le=100)
    fen_per_100_points: int = Field(default=100, ge=1, le=10_000)
    max_redeem_percent: int = Field(default=50, ge=0, le=100)
    validity_days: int = Field(default=365, ge=1, le=3650)
    checkin_points: int = Field(default=5, ge=0, le=1000)
    streak_bonus: int = Field(default=1, ge=0, le=1000)
    streak_cap: int = Field(default=7, ge=1, le=365)
    review_points: int = Field(default=0, ge=0, le=10_000)


class PointsEntryOut(BaseModel):
    points: int
    kind: str
    source_type: str
    expires_at: datetime | None
    created_at: datetime


class PointsOut(BaseModel):
    balance: int
    worth_fen: int
    """What the balance takes off at checkout now."""
    streak: int
    checked_in_today: bool
    entries: list[PointsEntryOut]


class CheckinOut(BaseModel):
    points: int
    streak: int
    balance: int


class Level(BaseModel):
    level: int = Field(ge=1, le=20)
    name: str = Field(min_length=1, max_length=30)
    min_spend_fen: int = Field(ge=0, le=10_000_000_000)
    discount_percent: int = Field(default=0, ge=0, le=50)
    free_shipping: bool = False
    points_multiplier_percent: int = Field(default=100, ge=100, le=1000)
    early_access_hours: int = Field(default=0, ge=0, le=168)
    """Members of this level may buy into a campaign this many hours before it opens to everyone."""


class LevelPlanIn(BaseModel):
    """Levels earned by the member's own spending only (COMPLIANCE D3: a level gives discounts, never the right to
    earn)."""

    basis: Literal["cumulative", "monthly"] = "cumulative"
    levels: list[Level] = Field(min_length=1, max_length=20)

    @field_validator("levels")
    @classmethod
    def _ordered(cls, levels: list[Level]) -> list[Level]:
        numbers = [level.level for level in levels]
        spends = [level.min_spend_fen for level in levels]
        if numbers != sorted(set(numbers)) or spends != sorted(set(spends)):
            raise ValueError("levels must rise in number and in spend, strictly")
        return levels


class MembershipOut(BaseModel):
    level: int
    name: str | None
    spend_fen: int
    discount_percent: int
    free_shipping: bool
    points_multiplier_percent: int
    early_access_hours: int
    next_level: str | None
    next_needs_fen: int | None
    """How much more spending reaches the next level."""


TaskKind = Literal["invite_registered", "friend_first_purchase", "share_click", "checkin_streak", "review"]


class TaskIn(BaseModel):
    name: str = Field(min_length=1, max_length=60)
    kind: TaskKind
    """invite_registered: a friend registers through the customer's share; friend_first_purchase: such a friend
    pays for the first time; share_click: a friend opens the customer's product share (the share itself counts
    for nothing); checkin_streak: check in `target` days in a row; review: write reviews."""
    period: Literal["once", "daily", "weekly"] = "once"
    target: int = Field(default=1, ge=1, le=1000)
    reward_points: int = Field(default=0, ge=0, le=1_000_000)
    reward_template_id: RowId | None = None
    active: bool = True

    @model_validator(mode="after")
    def _rewarded(self) -> TaskIn:
        if not self.reward_points and self.reward_template_id is None:
            raise ValueError("a task rewards points, a coupon, or both")
        return self


class TaskPatch(BaseModel):
    active: bool


class TaskOut(TaskIn):
    id: int


class MyTaskOut(BaseModel):
    task: TaskOut
    period_key: str
    count: int
    done: bool
