"""What the analytics API answers: a campaign's or a link's metrics, its time series, its cascade tree."""

from __future__ import annotations

from pydantic import BaseModel


class FunnelStep(BaseModel):
    step: str
    """share, click, act (join / help / claim), pay."""
    count: int
    rate: float | None
    """From the step before; None for the first step or when the step before is 0."""


class Generation(BaseModel):
    depth: int
    sharers: int
    new_customers: int
    """New customers at depth + 1 (brought by this generation)."""
    k: float | None


class Counts(BaseModel):
    shares: int
    sharers: int
    clicks: int
    unique_clickers: int
    acts: int
    orders: int
    paid_fen: int
    refunded_fen: int
    net_paid_fen: int
    new_customers: int
    signups: int
    cost_fen: int


class CampaignMetrics(BaseModel):
    campaign_id: int
    counts: Counts
    funnel: list[FunnelStep]
    k: float | None
    """New customers brought per customer who shared."""
    k_by_generation: list[Generation]
    cycle_median_seconds: int | None
    """Median time from a sharer's first share to a friend's first act through it (nearest rank), read from a
    histogram: the exact value rounded down to the whole minute below 48 hours, to the whole hour from there."""
    cycle_p90_seconds: int | None
    """The 90th percentile of the same, at the same resolution."""
    depth_distribution: dict[int, int]
    """Customers of the cascade tree by depth (0: its roots, brought by no one)."""
    new_by_depth: dict[int, int]
    beyond_first_hop: float | None
    structural_virality: float | None
    """Goel et al. 2016, exact; None above `virality_cap` edges (see `virality_computed`): it needs the whole tree."""
    virality_computed: bool
    virality_cap: int
    largest_tree: int
    cost_per_new_customer_fen: int | None


class ShareMetrics(BaseModel):
    campaign_id: int
    share_id: int
    counts: Counts
    funnel: list[FunnelStep]


class SeriesPoint(BaseModel):
    start: str
    """The bucket's start, Beijing time (YYYY-MM-DDTHH:00 or YYYY-MM-DD)."""
    counts: Counts
    k_to_date: float | None


class Series(BaseModel):
    campaign_id: int
    share_id: int
    bucket: str
    points: list[SeriesPoint]


class TreeNode(BaseModel):
    customer_id: int
    parent_id: int
    depth: int
    action: str
    first_act_at: str
    paid_fen: int
    refunded_fen: int
    is_new: bool
    children: int


class TreePage(BaseModel):
    campaign_id: int
    parent_id: int | None
    """None: the tree's first level (those brought by its roots)."""
    nodes: list[TreeNode]
    next_cursor: str | None


class Sharer(BaseModel):
    customer_id: int
    brought: int
    new_customers: int
    net_paid_fen: int


class CampaignSummary(BaseModel):
    campaign_id: int
    name: str
    kind: str
    new_customers: int
    k: float | None
    net_paid_fen: int
    cost_fen: int


class RebuildOut(BaseModel):
    events: int
    last_event_id: int
