"""The dividend pool's API shapes: the plan and a month's run."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, Field, field_validator


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


class MyShareOut(BaseModel):
    month: str
    spend_fen: int
    points: int
    amount_fen: int


class MyDividendOut(BaseModel):
    """A member's standing in this month's pool: their activity level from their own net spend so far, its dividend
    points, what the next level needs, and the shares of past months."""

    month: str
    spend_fen: int
    level: int
    """How many activity levels this month's spend reaches (0: none yet)."""
    points: int
    next_points: int | None
    next_needs_fen: int | None
    threshold_points: int
    pool_bp: int
    pay_day: int
    shares: list[MyShareOut]
