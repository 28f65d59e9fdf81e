"""The dividend pool's API shapes: the plan and a month's run."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from fissionmall.loyalty.rules import PayDay

LAST_DAY: Literal["last"] = "last"
PayDayField = Annotated[int, Field(ge=1, le=28)] | Literal["last"]


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
    pay_day: PayDayField = 1
    """The day of the next month the pool is paid: 1–28, or "last" for that month's last day (月末: Feb 28 or 29,
    30, 31)."""

    @field_validator("pay_day", mode="plain", json_schema_input_type=PayDayField)
    @classmethod
    def _pay_day(cls, value: Any) -> PayDay:
        """One message for any wrong value, on the field itself (a union would name each of its members)."""
        if value == LAST_DAY:
            return LAST_DAY
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 28:
            return value
        raise ValueError('pay_day is a day from 1 to 28, or "last" for the last day of the month')

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
    credited: bool
    """Credited to the member's shop credit (False while the month's run is still being paid out)."""


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
    qualified: bool
    """This month's points reach the threshold (and are above 0): the member would share the pool as it stands."""
    pool_bp: int
    pay_day: PayDayField
    pay_date: date
    """The day (China Standard Time) this month's pool is paid: `pay_day` of next month, its real last day for
    "last"."""
    rules: list[str]
    """The pool's rules in plain Chinese: the pool, the pay day, how points are earned, the threshold."""
    shares: list[MyShareOut]
