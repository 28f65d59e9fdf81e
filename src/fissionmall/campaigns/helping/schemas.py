from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

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


class HelperReward(BaseModel):
    """Shop credit each helper earns (bargains, assist packets), paid from its own budget (F5) after the risk
    check: high-risk helpers get nothing."""

    helper_reward_fen: int = Field(default=0, ge=0, le=1_000_000)
    reward_budget: Budget | None = Field(default=None, validate_default=True)

    @field_validator("reward_budget")
    @classmethod
    def _funded(cls, budget: Budget | None, info: ValidationInfo) -> Budget | None:
        if info.data.get("helper_reward_fen") and budget is None:
            raise ValueError("a helper reward needs a reward_budget (COMPLIANCE F5)")
        return budget
