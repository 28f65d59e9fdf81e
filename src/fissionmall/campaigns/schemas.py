from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from fissionmall.core.schemas import Patch

TOP_PRIZE_CAP_FEN = 5_000_000
"""¥50,000: the largest prize a promotion may offer (COMPLIANCE P3)."""


class CampaignIn(BaseModel):
    kind: str = Field(min_length=1, max_length=20)
    name: str = Field(min_length=1, max_length=100)
    starts_at: datetime
    ends_at: datetime
    stock_cap: int | None = Field(default=None, ge=1, le=10_000_000)
    settings: dict[str, Any]
    """Validated by the kind's own settings model; errors name the field as settings.<field>."""

    @model_validator(mode="after")
    def _window(self) -> CampaignIn:
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValueError("times need a zone, e.g. 2026-11-23T20:00:00+08:00")
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class CampaignPatch(Patch):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    stock_cap: int | None = Field(default=None, ge=1, le=10_000_000)
    settings: dict[str, Any] | None = None
    clearable = frozenset({"stock_cap"})


class Finding(BaseModel):
    """One result of the plan linter: a rule id, how serious, and why in plain words."""

    rule: str
    level: Literal["block", "approve", "warn"]
    reason: str
    check: str = ""
    """Which check of the rule found it (a rule such as G1 has several): with `facts`, what a client needs to say
    it in its own words (the console's Chinese, by rule and check)."""
    facts: dict[str, int | str] = Field(default_factory=dict)
    """The numbers the reason names (amounts in fen, ids)."""


class CampaignOut(BaseModel):
    id: int
    kind: str
    name: str
    status: str
    product_id: int | None
    starts_at: datetime
    ends_at: datetime
    stock_cap: int | None
    sold: int
    settings: dict[str, Any]


class LintOut(BaseModel):
    ok: bool
    """False when any finding blocks activation."""
    findings: list[Finding]
