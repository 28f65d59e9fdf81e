"""The simulator's request and answer. Rates are probabilities in [0, 1]; amounts are integer fen."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from fissionmall.simulation import rules

SimulatedKind = Literal["group", "bargain", "assist", "share_coupon", "credit", "invite"]
"""The kinds that spread through friends; gift vouchers and the points mall do not."""


class Assumptions(BaseModel):
    """What the merchant believes about the audience; defaults from its past campaigns of the kind, when any."""

    audience: int = Field(default=10_000, ge=1, le=rules.MAX_AUDIENCE,
                          description="People the campaign can reach at all (followers, their friends).")
    seeds: int = Field(default=20, ge=1, le=rules.MAX_SEEDS, description="Customers who start it (the first sharers).")
    share_rate: float = Field(default=0.3, ge=0, le=1, description="Share of participants who share it on.")
    friends_per_share: float = Field(default=8.0, gt=0, le=500,
                                     description="Friends one share reaches on average (the count is heavy-tailed).")
    conversion: float = Field(default=0.05, ge=0, le=1, description="Share of reached friends who act.")
    order_rate: float = Field(default=0.3, ge=0, le=1, description="Share of new customers who place an order.")
    cycle_hours: float = Field(default=12.0, ge=0.1, le=720, description="Mean time from a share to a friend's act.")


class SimulationIn(Assumptions):
    kind: SimulatedKind = "group"
    group_size: int = Field(default=3, ge=2, le=100, description="拼团: people per group.")
    helps_needed: int = Field(default=5, ge=1, le=100, description="砍价 / 助力: helps a sharer needs.")
    claims: int = Field(default=10, ge=1, le=1000,
                        description="分享领券 / 立减金: friends who can claim one packet; 邀请: friends rewarded per "
                                    "inviter.")
    reward_fen: int = Field(default=0, ge=0, le=1_000_000, description="Paid per new customer (fen).")
    budget_fen: int | None = Field(default=None, ge=1, le=10_000_000_000,
                                   description="The campaign ends when it is spent; none = no budget.")
    window_hours: int = Field(default=7 * 24, ge=1, le=rules.MAX_DAYS * 24)
    runs: int = Field(default=1000, ge=100, le=rules.MAX_RUNS)
    seed: int = Field(default=1, ge=0, le=2**32 - 1)


class Band(BaseModel):
    mean: float
    p10: float
    p50: float
    p90: float


class RunsOut(BaseModel):
    probability: float
    p10_hours: float | None
    median_hours: float | None
    p90_hours: float | None


class SizeBar(BaseModel):
    label: str
    low: int
    high: int | None
    share: float


class CascadeOut(BaseModel):
    mean: float
    q50: float
    q90: float
    q99: float
    p_size_1: float
    histogram: list[SizeBar]


class DayOut(Band):
    day: int
    cumulative_mean: float
    cumulative_p10: float
    cumulative_p90: float


class CapsOut(BaseModel):
    cascade_cap: int
    generation_cap: int
    runs_capped_by_cascade: int
    runs_capped_by_generations: int
    supercritical: bool
    hit: bool
    runs_asked: int
    """The runs asked for; `runs` in the answer is fewer when runs × seeds would pass the memory bound."""
    note: str = ""


class DefaultsFrom(BaseModel):
    """Where the assumptions' defaults came from: the merchant's past campaigns of the kind, or standard values."""

    campaigns: int
    shares: int
    new_customers: int
    used: list[str]
    """The assumptions that the history filled in."""


class SimulationOut(BaseModel):
    inputs: SimulationIn
    runs: int
    seed: int
    reproduction: float
    new_customers: Band
    orders: Band
    budget_spent_fen: Band
    budget_runs_out: RunsOut
    cascade: CascadeOut
    p_fizzle: float
    share_within_one_hop: float
    by_day: list[DayOut]
    caps: CapsOut


class DefaultsOut(BaseModel):
    assumptions: Assumptions
    defaults_from: DefaultsFrom


class ForecastIn(Assumptions):
    """A campaign's forecast: its own settings (kind, group size, helps, packet slots, reward, budget, time window)
    come from the campaign; the assumptions left out come from the merchant's history of the kind. Other fields
    sent (the simulator's whole form) are ignored."""

    runs: int = Field(default=1000, ge=100, le=rules.MAX_RUNS)
    seed: int = Field(default=1, ge=0, le=2**32 - 1)


class ForecastOut(BaseModel):
    campaign_id: int
    made_at: datetime
    made_by: int
    """The staff member who saved it."""
    forecast: SimulationOut
