"""What a distribution or reward plan says, in a form the linter can judge (COMPLIANCE D1–D7, S1, S2).

A plan is a list of rewards; each says what it pays, on what basis, how deep in the referral chain it reaches,
what unlocks it, and which structural features it has. `rules.lint` turns a plan into findings.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Basis = Literal["referral_purchase", "own_spend", "own_net_spend", "recruits", "team_size", "downline_sales",
                "level_fill", "matrix_position", "share", "dividend_points"]
Unlock = Literal["entry_fee", "package_purchase", "spend_threshold", "paid_membership"]
Feature = Literal["width_limit", "spillover", "pass_up", "exit_after_payout", "forced_repurchase", "jiandian",
                  "duipeng", "jicha"]


class Condition(BaseModel):
    basis: Basis
    value: int = Field(ge=0)
    """The threshold (fen for spend, people for recruits or team size)."""


class Reward(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    kind: Literal["commission", "bonus", "rank", "dividend_points", "dividend_pool", "discount"]
    basis: Basis
    """What the amount is computed from, or (rank, points) what earns it."""
    depth: int = Field(default=1, ge=0, le=20)
    """How far down the referral chain it pays: 1 = on a direct referral's purchase, 0 = on one's own."""
    amount_fen: int | None = Field(default=None, ge=0)
    rate_percent: float | None = Field(default=None, ge=0, le=100)
    conditions: list[Condition] = Field(default_factory=list, max_length=10)
    unlocked_by: list[Unlock] = Field(default_factory=list, max_length=4)
    """What a member must pay or buy before earning it."""
    features: list[Feature] = Field(default_factory=list, max_length=8)
    weights: Basis | None = None
    """For a dividend pool: what each member's share is weighted by."""


class Plan(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    item_price_fen: int | None = Field(default=None, ge=1)
    item_cost_fen: int | None = Field(default=None, ge=0)
    discount_percent: float = Field(default=0, ge=0, le=100)
    """Discounts given on the item besides the rewards (member price …), for D5."""
    freeze_days: int = Field(default=7, ge=0, le=365)
    """How long commission stays frozen after the order completes."""
    after_sale_days: int = Field(default=7, ge=0, le=30)
    points_bought_with_money: bool = False
    points_to_cash: bool = False
    copy_text: list[str] = Field(default_factory=list, max_length=20)
    """What the plan says to customers (posters, pages): checked for promises of returns and induced sharing."""
    legal_approval: str | None = Field(default=None, max_length=300)
    """A recorded legal approval (who, when, reference) that allows level-2 commission (D1)."""
    rewards: list[Reward] = Field(default_factory=list, max_length=50)


class Finding(BaseModel):
    rule: str
    level: Literal["block", "approve", "warn", "ok"]
    reward: str | None
    """The reward (or None for the plan as a whole) the finding is about."""
    reason: str
    message: str = ""
    """The same in Chinese, for the merchant: what is wrong and why, in the words of COMPLIANCE.md."""


class LintReport(BaseModel):
    ok: bool
    """Nothing blocks it, and every part needing approval has one."""
    kept: list[str]
    refused: list[str]
    findings: list[Finding]
