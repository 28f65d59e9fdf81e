"""The points API's shapes: the merchant's points rules, a member's balance and check-in."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class PointsConfigIn(BaseModel):
    earn_per_yuan: int = Field(default=1, ge=0, le=100)
    fen_per_100_points: int = Field(default=100, ge=1, le=10_000)
    max_redeem_percent: int = Field(default=50, ge=0, le=100)
    validity_days: int = Field(default=365, ge=1, le=3650)
    checkin_points: int = Field(default=5, ge=0, le=1000)
    streak_bonus: int = Field(default=1, ge=0, le=1000)
    streak_cap: int = Field(default=7, ge=1, le=365)
    review_points: int = Field(default=0, ge=0, le=10_000)
    post_points: int = Field(default=0, ge=0, le=10_000)
    post_daily_cap: int = Field(default=3, ge=1, le=100)


class PointsEntryOut(BaseModel):
    points: int
    kind: str
    source_type: str
    expires_at: datetime | None
    created_at: datetime


class CheckinRules(BaseModel):
    points: int
    """A check-in's points on the first day of a streak."""
    streak_bonus: int
    """Added for each further day in a row …"""
    streak_cap: int
    """… up to this many days."""


class PointsOut(BaseModel):
    balance: int
    worth_fen: int
    """What the balance takes off at checkout now."""
    streak: int
    checked_in_today: bool
    checkin_days: list[int]
    """The days of this month (China time) checked in, for the calendar."""
    checkin: CheckinRules | None
    """How a check-in is rewarded; None when the mall has no points."""
    entries: list[PointsEntryOut]


class CheckinOut(BaseModel):
    points: int
    streak: int
    balance: int
