from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from fissionmall.fraud.schemas import VelocityLimits


class HelpRules(BaseModel):
    """What every help-driven mechanic lets the merchant set about helpers (COMPLIANCE F1–F4)."""

    helps_per_helper_per_day: int = Field(default=3, ge=1, le=50)
    """How many records of this campaign one customer may help per day."""
    new_helpers_only: bool = False
    """Only customers who have never paid may help (F2)."""
    self_help: bool = False
    """Whether initiators may help their own record; off unless the campaign says so openly (F1)."""
    velocity: VelocityLimits = Field(default_factory=VelocityLimits)
    high_risk: Literal["minimum", "nothing"] = "nothing"
    """What a high-risk customer (risk rank ≥ 3) gets where a prize or reward of cash value is due (F4)."""


class HelpOut(BaseModel):
    seq: int
    helper_id: int
    nickname: str
    avatar_url: str
    amount_fen: int
    new_helper: bool
    created_at: datetime


class Budget(BaseModel):
    """What a campaign may grant in credit, in all and per day (COMPLIANCE F5)."""

    total_fen: int = Field(ge=1, le=1_000_000_000)
    daily_fen: int | None = Field(default=None, ge=1, le=1_000_000_000)
