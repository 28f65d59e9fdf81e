"""The pure maths of campaign analytics: funnel rates, K, quantiles, and the structural virality of a cascade tree."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction

VIRALITY_CAP = 20_000
"""Structural virality is computed exactly (O(n) per tree) for campaigns whose tree has at most this many edges;
above, it is not computed and the answer says so."""


def rate(numerator: int, denominator: int) -> float | None:
    """numerator / denominator, or None when there is nothing to divide by."""
    return numerator / denominator if denominator else None


def funnel(shares: int, clicks: int, acts: int, orders: int) -> list[tuple[str, int, float | None]]:
    """分享 → 点击 → 参与 → 支付: each step's count and its rate from the step before."""
    steps = [("share", shares), ("click", clicks), ("act", acts), ("pay", orders)]
    return [(name, n, None if i == 0 else rate(n, steps[i - 1][1])) for i, (name, n) in enumerate(steps)]


def k_by_generation(sharers_at: Mapping[int, int], new_at: Mapping[int, int]
                    ) -> list[tuple[int, int, int, float | None]]:
    """K of generation g: the new customers at depth g + 1 over the customers at depth g who shared.
    (g, sharers, new customers they brought, K_g), for every depth with sharers."""
    return [(g, sharers_at[g], new_at.get(g + 1, 0), rate(new_at.get(g + 1, 0), sharers_at[g]))
            for g in sorted(sharers_at) if sharers_at[g]]


CYCLE_MINUTES_BELOW = 48 * 3600
"""Cycle times are kept in buckets a minute wide below this many seconds, an hour wide from it."""


def cycle_bucket(seconds: int) -> int:
    """The first second of the cycle-time bucket holding `seconds` (rounded down to the minute below 48 hours, to the
    hour from there; negative times, a parent who shared after the act, to the minute as well)."""
    width = 3600 if seconds >= CYCLE_MINUTES_BELOW else 60
    return seconds // width * width


def nearest_rank(q: float, n: int) -> int:
    """The 1-based nearest rank of the q-quantile among n values: ⌈q·n⌉ (q to 1/1000), at least 1."""
    return max(1, -(-int(q * 1000) * n // 1000))


def histogram_quantile(buckets: Iterable[tuple[int, int]], q: float) -> int | None:
    """The q-quantile (nearest rank) of values kept as (bucket start, count) in ascending order of start: the start
    of the bucket holding it, i.e. the exact quantile rounded down to its bucket. None without values."""
    rows = list(buckets)
    n = sum(count for _, count in rows)
    if n == 0:
        return None
    rank, seen = nearest_rank(q, n), 0
    for start, count in rows:
        seen += count
        if seen >= rank:
            return start
    raise AssertionError("unreachable: the ranks add up to n")


def pooled_r(roots: int, nodes: int) -> float | None:
    """The offspring mean of a branching process seen whole: every node but the roots is someone's child, and every
    node had its chance to have children, so R̂ = (nodes − roots) / nodes (the maximum-likelihood estimate)."""
    return rate(nodes - roots, nodes)


def beyond_first_hop(new_at: Mapping[int, int]) -> float | None:
    """The share of new customers reached at depth 2 or more (friends of friends and further)."""
    total = sum(new_at.values())
    return rate(sum(n for d, n in new_at.items() if d >= 2), total)


def per_new_customer(cost_fen: int, new_customers: int) -> int | None:
    """Cost per new customer, in fen rounded half up."""
    if not new_customers:
        return None
    return int((Fraction(cost_fen, new_customers) + Fraction(1, 2)) // 1)


def structural_virality(links: Iterable[tuple[int, int]]) -> tuple[float | None, list[tuple[int, float]]]:
    """Goel et al. (2016): the mean distance between all pairs of nodes of a cascade tree. In a tree the edge
    (parent, child) lies on the path of exactly s·(n − s) pairs, s the child's subtree size, so the mean distance is
    Σ_edges 2·s·(n − s) / (n·(n − 1)), exact in O(n). A campaign's forest is split into its trees (one per root);
    returns (the size-weighted mean over trees of two nodes or more, [(size, virality) per such tree]).
    """
    kids: dict[int, list[int]] = {}
    has_parent: set[int] = set()
    for parent, child in links:
        kids.setdefault(parent, []).append(child)
        has_parent.add(child)
    tops = [node for node in kids if node not in has_parent]
    trees: list[tuple[int, float]] = []
    for top in sorted(tops):
        order: list[int] = []
        stack = [top]
        while stack:  # preorder without recursion: trees can be deep
            node = stack.pop()
            order.append(node)
            stack.extend(kids.get(node, ()))
        size: dict[int, int] = {}
        for node in reversed(order):
            size[node] = 1 + sum(size[c] for c in kids.get(node, ()))
        n = size[top]
        if n < 2:
            continue
        pairs = sum(size[c] * (n - size[c]) for node in order for c in kids.get(node, ()))
        trees.append((n, 2 * pairs / (n * (n - 1))))
    if not trees:
        return None, []
    weight = sum(n for n, _ in trees)
    return sum(n * v for n, v in trees) / weight, trees


def days(hours: Sequence[tuple[int, Mapping[str, int]]], offset_hours: int = 8) -> list[tuple[int, dict[str, int]]]:
    """Hourly rows summed into days of the shoppers' calendar (UTC+8): (day number since the epoch, sums)."""
    out: dict[int, dict[str, int]] = {}
    for hour, row in hours:
        day = out.setdefault((hour + offset_hours) // 24, {})
        for key, value in row.items():
            day[key] = day.get(key, 0) + value
    return sorted(out.items())


def cumulative_k(rows: Sequence[tuple[int, Mapping[str, int]]]) -> list[float | None]:
    """K to date at each row: new customers so far over sharers so far."""
    sharers = new = 0
    out: list[float | None] = []
    for _, row in rows:
        sharers += row.get("sharers", 0)
        new += row.get("new_customers", 0)
        out.append(rate(new, sharers))
    return out
