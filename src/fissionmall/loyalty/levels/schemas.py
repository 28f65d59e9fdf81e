"""The membership levels' API shapes: the plan and a member's standing."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator


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
