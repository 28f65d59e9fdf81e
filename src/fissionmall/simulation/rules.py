"""The campaign simulator's model (效果预测): a seeded Monte Carlo branching process, pure numpy, no I/O.

Each run starts with a few participants (the seeds). An adopter shares with probability `share_rate`; a share
reaches a heavy-tailed number of friends (a discrete lognormal with the given mean: most shares reach a few
friends, a few reach hundreds), and a reached friend is new to the campaign with probability 1 − reached/audience
(friends overlap: the audience is finite, and a friend already reached is not reached again). A new friend adopts
(joins, helps, claims) with probability `conversion`, `cycle_hours` on average (exponential) after the sharer, and
becomes an adopter in turn. At most `per_share_cap` friends act on one share (a group's free places, a bargain's
helps, a packet's slots). A sharer whose friends reach `goal` completes (a group fills) and brings
`orders_on_goal` orders; each new customer orders with probability `order_rate`. Every new customer costs
`reward_fen`; when the budget is spent the campaign ends, as it does at the end of the time window.

A plain Galton–Watson setting (`galton_watson`) is the same engine with one seed, every adopter inviting exactly
i friends, no overlap, no time: its total size has the known mean 1/(1 − i·c) and P(size = 1) = (1 − c)^i.

Bounded whatever the inputs (the answer says when a bound was reached):
- runs ≤ MAX_RUNS, seeds ≤ MAX_SEEDS, audience ≤ MAX_AUDIENCE, friends per share ≤ MAX_FRIENDS_PER_SHARE;
- generations ≤ MAX_GENERATIONS (a run still spreading then is cut there);
- adopters per run ≤ min(max_cascade, NODE_BUDGET // runs): the adopters held in memory over all runs never pass
  NODE_BUDGET (about 12 bytes each), so a supercritical setting (R ≥ 1) stops at the cap instead of growing;
- runs × seeds ≤ NODE_BUDGET // 4 (`runs_within_budget`: fewer runs when many seeds, so every run has room to grow);
- days shown ≤ MAX_DAYS.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MAX_RUNS = 20_000
MAX_SEEDS = 1_000
MAX_AUDIENCE = 10_000_000
MAX_FRIENDS_PER_SHARE = 5_000
MAX_GENERATIONS = 200
MAX_CASCADE = 100_000
NODE_BUDGET = 2_000_000
MAX_DAYS = 90
SIZE_BUCKETS: tuple[tuple[int, int | None], ...] = (
    (1, 1), (2, 2), (3, 3), (4, 5), (6, 10), (11, 20), (21, 50), (51, 100), (101, 1000), (1001, None))
"""The cascade size histogram's bars: [low, high] inclusive, None = and more."""
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Model:
    """One simulation's settings: the campaign's own and the assumptions about its audience."""

    runs: int
    seed: int
    seeds: int = 1
    share_rate: float = 1.0
    friends_mean: float = 3.0
    friends_sigma: float = 1.0
    """The lognormal's shape: 0 = every share reaches exactly round(friends_mean) friends (Galton–Watson)."""
    conversion: float = 0.1
    audience: int | None = None
    """None: no overlap (an infinite audience)."""
    per_share_cap: int | None = None
    goal: int = 1
    orders_on_goal: int = 0
    order_rate: float = 0.0
    reward_fen: int = 0
    budget_fen: int | None = None
    cycle_hours: float | None = None
    window_hours: float | None = None
    """With cycle_hours: adopters after the window are not counted (and spread no further)."""
    max_cascade: int = MAX_CASCADE
    max_generations: int = MAX_GENERATIONS

    @property
    def reproduction(self) -> float:
        """R, new adopters per adopter at the start (before overlap and caps): share rate × friends × conversion."""
        friends = self.friends_mean if self.per_share_cap is None else min(self.friends_mean, self.per_share_cap)
        return self.share_rate * friends * self.conversion

    @property
    def cascade_cap(self) -> int:
        return max(1, min(self.max_cascade, NODE_BUDGET // max(1, self.runs)))


@dataclass
class Outcome:
    """Per run and per tree results of a simulation, before they are summarised."""

    model: Model
    tree_sizes: np.ndarray
    """Adopters in each seed's tree, the seed included (runs × seeds)."""
    new_customers: np.ndarray
    orders: np.ndarray
    spent_fen: np.ndarray
    runs_out_hours: np.ndarray
    """When the budget ran out in each run (NaN: it did not)."""
    within_one_hop: int
    adopters: int
    by_day: np.ndarray | None
    """New customers per run and day (runs × days), when the model has time."""
    capped_by_cascade: int
    capped_by_generations: int
    extra: dict[str, Any] = field(default_factory=dict)


def _friends(rng: np.random.Generator, model: Model, n: int) -> np.ndarray:
    if model.friends_sigma <= 0:
        return np.full(n, min(round(model.friends_mean), MAX_FRIENDS_PER_SHARE), dtype=np.int64)
    sigma = model.friends_sigma
    mu = math.log(max(model.friends_mean, 1e-9)) - sigma * sigma / 2
    drawn = np.rint(rng.lognormal(mu, sigma, n))
    return np.minimum(drawn, MAX_FRIENDS_PER_SHARE).astype(np.int64)


def _within_cap(run: np.ndarray, acts: np.ndarray, room: np.ndarray) -> np.ndarray:
    """Each parent's acts cut so that its run's new adopters fit in the run's `room`, first parent first served;
    done per parent (before any child exists), so a supercritical generation costs no more than the cap."""
    order = np.argsort(run, kind="stable")
    runs_sorted, acts_sorted = run[order], acts[order]
    totals = np.bincount(runs_sorted, weights=acts_sorted, minlength=len(room)).astype(np.int64)
    before = np.cumsum(acts_sorted) - acts_sorted - (np.cumsum(totals) - totals)[runs_sorted]
    cut = np.empty_like(acts)
    cut[order] = np.clip(room[runs_sorted] - before, 0, acts_sorted)
    return cut


def simulate(model: Model, progress: Progress | None = None) -> Outcome:
    """Run the branching process `model.runs` times, generation by generation, all runs at once; `progress` hears
    (generation, adopters still spreading) after each generation."""
    rng = np.random.default_rng(model.seed)
    runs, seeds, cap = model.runs, model.seeds, model.cascade_cap
    # the active generation: each adopter's run, tree and time
    run = np.repeat(np.arange(runs, dtype=np.int64), seeds)
    tree = np.arange(runs * seeds, dtype=np.int64)
    at = np.zeros(runs * seeds)
    sizes = np.full(runs, seeds, dtype=np.int64)
    reached = np.full(runs, seeds, dtype=np.float64)
    capped = np.zeros(runs, dtype=bool)
    # what is kept of every adopter, for the summary: run, tree, time, whether a seed
    kept_run, kept_tree, kept_at = [run.astype(np.int32)], [tree.astype(np.int32)], [at.astype(np.float32)]
    goal_run: list[np.ndarray] = []
    goal_at: list[np.ndarray] = []
    within_one_hop = runs * seeds
    generation = 0
    while len(run) and generation < model.max_generations:
        generation += 1
        n = len(run)
        sharing = rng.random(n) < model.share_rate if model.share_rate < 1 else np.ones(n, dtype=bool)
        friends = np.where(sharing, _friends(rng, model, n), 0)
        if model.audience is not None:
            fresh = np.clip(1.0 - reached[run] / model.audience, 0.0, 1.0)
            friends = rng.binomial(friends, fresh)
            reached = np.minimum(reached + np.bincount(run, weights=friends, minlength=runs), model.audience)
        acts = rng.binomial(friends, model.conversion)
        if model.per_share_cap is not None:
            acts = np.minimum(acts, model.per_share_cap)
        fitting = _within_cap(run, acts, cap - sizes)
        capped[run[fitting < acts]] = True
        parent = np.repeat(np.arange(n), fitting)
        child_run, child_tree = run[parent], tree[parent]
        child_at = at[parent]
        if model.cycle_hours is not None:
            child_at = child_at + rng.exponential(model.cycle_hours, len(parent))
        if model.cycle_hours is not None and model.window_hours is not None:
            keep = child_at <= model.window_hours
            parent, child_run, child_tree, child_at = parent[keep], child_run[keep], child_tree[keep], child_at[keep]
        if model.orders_on_goal and len(parent):
            # a sharer completes when its goal-th friend acts: that friend's time is the completion's
            counts = np.bincount(parent, minlength=n)
            order = np.lexsort((child_at, parent))
            starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
            done = np.flatnonzero(counts >= model.goal)
            goal_run.append(run[done].astype(np.int32))
            goal_at.append(child_at[order][starts[done] + model.goal - 1].astype(np.float32))
        if generation == 1:
            within_one_hop += len(parent)
        np.add.at(sizes, child_run, 1)
        run, tree, at = child_run, child_tree, child_at
        kept_run.append(run.astype(np.int32))
        kept_tree.append(tree.astype(np.int32))
        kept_at.append(at.astype(np.float32))
        if progress is not None:
            progress(generation, len(run))
    still = np.zeros(runs, dtype=bool)
    still[run] = True
    return _outcome(model, rng, np.concatenate(kept_run), np.concatenate(kept_tree), np.concatenate(kept_at),
                    np.concatenate(goal_run) if goal_run else np.zeros(0, np.int32),
                    np.concatenate(goal_at) if goal_at else np.zeros(0, np.float32),
                    within_one_hop, int(capped.sum()), int(still.sum()))


def _outcome(model: Model, rng: np.random.Generator, run: np.ndarray, tree: np.ndarray, at: np.ndarray,
             goal_run: np.ndarray, goal_at: np.ndarray, within_one_hop: int, capped_by_cascade: int,
             capped_by_generations: int) -> Outcome:
    runs, seeds = model.runs, model.seeds
    is_new = np.ones(len(run), dtype=bool)
    is_new[:runs * seeds] = False  # the seeds were customers already
    # the budget: the campaign ends when the k-th new customer's reward empties it
    ends = np.full(runs, np.inf)
    runs_out = np.full(runs, np.nan)
    if model.budget_fen is not None and model.reward_fen > 0:
        affordable = model.budget_fen // model.reward_fen
        new_run, new_at = run[is_new], at[is_new]
        order = np.lexsort((new_at, new_run))
        counts = np.bincount(new_run, minlength=runs)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        out = np.flatnonzero(counts > affordable) if affordable > 0 else np.flatnonzero(counts > 0)
        last = new_at[order][starts[out] + max(affordable - 1, 0)] if affordable > 0 else new_at[order][starts[out]]
        ends[out] = last
        runs_out[out] = last
        # the customer who spent the last fen is the last one counted (ties in time are kept)
        late = is_new & (at > ends[run])
    else:
        late = np.zeros(len(run), dtype=bool)
    counted = ~late
    new = is_new & counted
    new_customers = np.bincount(run[new], minlength=runs)
    tree_sizes = np.bincount(tree[counted], minlength=runs * seeds)
    rewarded = new_customers if model.budget_fen is None else np.minimum(
        new_customers, model.budget_fen // max(model.reward_fen, 1))
    spent = rewarded * model.reward_fen
    orders = np.zeros(runs, dtype=np.int64)
    if model.order_rate > 0:
        orders += np.bincount(run[new], weights=rng.random(int(new.sum())) < model.order_rate,
                              minlength=runs).astype(np.int64)
    if len(goal_run):
        in_time = goal_at <= ends[goal_run]
        orders += np.bincount(goal_run[in_time], minlength=runs) * model.orders_on_goal
    by_day = None
    if model.cycle_hours is not None and model.window_hours is not None:
        days = max(1, min(MAX_DAYS, math.ceil(model.window_hours / 24)))
        day = np.minimum((at[new] // 24).astype(np.int64), days - 1)
        by_day = np.bincount(run[new] * days + day, minlength=runs * days).reshape(runs, days)
    return Outcome(model=model, tree_sizes=tree_sizes, new_customers=new_customers, orders=orders, spent_fen=spent,
                   runs_out_hours=runs_out, within_one_hop=within_one_hop, adopters=len(run), by_day=by_day,
                   capped_by_cascade=capped_by_cascade, capped_by_generations=capped_by_generations)


def quantile(values: np.ndarray, q: float) -> float:
    """The empirical quantile as a value the runs took (the smallest x with F(x) ≥ q)."""
    return float(np.quantile(values, q, method="inverted_cdf")) if len(values) else 0.0


def band(values: np.ndarray) -> dict[str, float]:
    return {"mean": float(values.mean()) if len(values) else 0.0, "p10": quantile(values, 0.1),
            "p50": quantile(values, 0.5), "p90": quantile(values, 0.9)}


def size_histogram(sizes: np.ndarray) -> list[dict[str, Any]]:
    total = max(1, len(sizes))
    bars = []
    for low, high in SIZE_BUCKETS:
        inside = (sizes >= low) if high is None else ((sizes >= low) & (sizes <= high))
        label = f"{low}" if low == high else (f"{low}+" if high is None else f"{low}–{high}")
        bars.append({"label": label, "low": low, "high": high, "share": float(inside.sum()) / total})
    return bars


def summary(outcome: Outcome) -> dict[str, Any]:
    """The answer: expected figures with their 10th–90th percentile band over runs, the cascade size
    distribution of one seed's tree, the fizzle probability, the budget's run-out and the caps reached."""
    model = outcome.model
    sizes = outcome.tree_sizes
    runs_out = outcome.runs_out_hours[~np.isnan(outcome.runs_out_hours)]
    answer: dict[str, Any] = {
        "runs": model.runs, "seed": model.seed, "reproduction": model.reproduction,
        "new_customers": band(outcome.new_customers), "orders": band(outcome.orders),
        "budget_spent_fen": band(outcome.spent_fen),
        "budget_runs_out": {"probability": len(runs_out) / model.runs,
                            "p10_hours": quantile(runs_out, 0.1) if len(runs_out) else None,
                            "median_hours": quantile(runs_out, 0.5) if len(runs_out) else None,
                            "p90_hours": quantile(runs_out, 0.9) if len(runs_out) else None},
        "cascade": {"mean": float(sizes.mean()), "q50": quantile(sizes, 0.5), "q90": quantile(sizes, 0.9),
                    "q99": quantile(sizes, 0.99), "p_size_1": float((sizes == 1).mean()),
                    "histogram": size_histogram(sizes)},
        "p_fizzle": float((outcome.new_customers == 0).mean()),
        "share_within_one_hop": outcome.within_one_hop / max(1, outcome.adopters),
        "by_day": [],
        "caps": {"cascade_cap": model.cascade_cap, "generation_cap": model.max_generations,
                 "runs_capped_by_cascade": outcome.capped_by_cascade,
                 "runs_capped_by_generations": outcome.capped_by_generations,
                 "supercritical": model.reproduction >= 1,
                 "hit": bool(outcome.capped_by_cascade or outcome.capped_by_generations)},
    }
    if outcome.by_day is not None:
        cumulative = outcome.by_day.cumsum(axis=1)
        answer["by_day"] = [
            {"day": d + 1, **band(outcome.by_day[:, d]), "cumulative_mean": float(cumulative[:, d].mean()),
             "cumulative_p10": quantile(cumulative[:, d], 0.1), "cumulative_p90": quantile(cumulative[:, d], 0.9)}
            for d in range(outcome.by_day.shape[1])]
    return answer


def galton_watson(invites: int, conversion: float, runs: int, seed: int, max_cascade: int = MAX_CASCADE,
                  progress: Progress | None = None) -> dict[str, Any]:
    """The plain setting: one seed; every adopter invites exactly `invites` friends; each adopts with probability
    `conversion`; no overlap, no time. Sizes count the seed."""
    model = Model(runs=runs, seed=seed, seeds=1, share_rate=1.0, friends_mean=invites, friends_sigma=0.0,
                  conversion=conversion, max_cascade=max_cascade)
    outcome = simulate(model, progress)
    sizes = outcome.tree_sizes
    r = invites * conversion
    return {
        "invites": invites, "conversion": conversion, "runs": runs, "seed": seed, "reproduction": r,
        "mean_size": float(sizes.mean()), "p_size_1": float((sizes == 1).mean()),
        "q50": quantile(sizes, 0.5), "q90": quantile(sizes, 0.9), "q99": quantile(sizes, 0.99),
        "share_within_one_hop": outcome.within_one_hop / max(1, outcome.adopters),
        "theory": {"mean_size": 1 / (1 - r) if r < 1 else None, "p_size_1": (1 - conversion) ** invites,
                   "share_within_one_hop": (1 + r) * (1 - r) if r < 1 else None},
        "caps": {"cascade_cap": model.cascade_cap, "generation_cap": model.max_generations,
                 "runs_capped_by_cascade": outcome.capped_by_cascade,
                 "runs_capped_by_generations": outcome.capped_by_generations,
                 "supercritical": r >= 1, "hit": bool(outcome.capped_by_cascade or outcome.capped_by_generations)},
    }


def runs_within_budget(runs: int, seeds: int) -> int:
    """The runs a simulation may make with this many seeds: the seeds of all runs fill a quarter of NODE_BUDGET."""
    return max(1, min(runs, NODE_BUDGET // (4 * max(1, seeds))))


@dataclass(frozen=True)
class KindShape:
    """How a campaign kind turns friends' acts into completions and orders."""

    per_share_cap: int
    goal: int
    orders_on_goal: int
    orders_by_friends: bool
    """Whether a new customer may order on its own (not for a group: its members' orders are the group's)."""


def kind_shape(kind: str, group_size: int, helps_needed: int, claims: int) -> KindShape:
    """拼团: a leader's group fills with group_size − 1 friends and every member orders; 砍价: helps_needed helps
    and the sharer buys; 助力: helps_needed helps open the packet (no order by itself); 分享领券 / 立减金: up to
    `claims` friends claim one packet; 邀请: up to `claims` friends are rewarded per inviter."""
    if kind == "group":
        return KindShape(group_size - 1, group_size - 1, group_size, False)
    if kind == "bargain":
        return KindShape(helps_needed, helps_needed, 1, True)
    if kind == "assist":
        return KindShape(helps_needed, helps_needed, 0, True)
    return KindShape(claims, 1, 0, True)
