"""The pure maths of analytics."""

from __future__ import annotations

import itertools
from collections import deque

import pytest

from fissionmall.analytics import rules

pytestmark = pytest.mark.backend_free


def test_virality_formula_matches_all_pairs() -> None:
    """The O(n) formula against the definition: the mean of every pair's distance, by breadth-first search."""
    links = [(1, 2), (1, 3), (2, 4), (2, 5), (2, 6), (2, 7), (5, 8)]
    nodes = {a for link in links for a in link}
    around: dict[int, set[int]] = {n: set() for n in nodes}
    for a, b in links:
        around[a].add(b)
        around[b].add(a)

    def distances(start: int) -> dict[int, int]:
        seen, queue = {start: 0}, deque([start])
        while queue:
            node = queue.popleft()
            for other in around[node] - seen.keys():
                seen[other] = seen[node] + 1
                queue.append(other)
        return seen

    pairs = list(itertools.combinations(sorted(nodes), 2))
    mean = sum(distances(a)[b] for a, b in pairs) / len(pairs)
    assert rules.structural_virality(links)[0] == pytest.approx(mean) == pytest.approx(118 / 56)
    assert rules.structural_virality([(1, 2)])[0] == 1.0
    assert rules.structural_virality([(1, 2), (2, 3)])[0] == pytest.approx(4 / 3)  # a chain: (1+1+2)/3


def test_funnel_k_and_cost() -> None:
    assert rules.funnel(0, 0, 0, 0)[1:] == [("click", 0, None), ("act", 0, None), ("pay", 0, None)]
    assert rules.k_by_generation({0: 2, 1: 0}, {1: 3}) == [(0, 2, 3, 1.5)]
    assert rules.per_new_customer(1001, 2) == 501 and rules.per_new_customer(5, 0) is None
    assert rules.beyond_first_hop({1: 1, 2: 2, 3: 1}) == 0.75
    assert rules.days([(0, {"clicks": 1}), (15, {"clicks": 2}), (16, {"clicks": 4})]) == [(0, {"clicks": 3}),
                                                                                          (1, {"clicks": 4})]


def test_cycle_buckets_and_quantiles_from_a_histogram() -> None:
    """A minute wide below 48 hours, an hour wide from there; the quantile read from the histogram is the exact
    nearest-rank quantile rounded down to its bucket."""
    assert [rules.cycle_bucket(s) for s in (-1, 0, 59, 60, 172_799, 172_800, 176_399, 176_400)] == [
        -60, 0, 0, 60, 172_740, 172_800, 172_800, 176_400]
    values = [1200, 1800, 1800, 2100, 2700, 3600, 15600, 30, 200_000, 200_100]
    histogram: dict[int, int] = {}
    for v in values:
        histogram[rules.cycle_bucket(v)] = histogram.get(rules.cycle_bucket(v), 0) + 1
    ordered = sorted(values)
    for q in (0.01, 0.5, 0.9, 0.95, 1.0):
        exact = ordered[rules.nearest_rank(q, len(values)) - 1]
        assert rules.histogram_quantile(sorted(histogram.items()), q) == rules.cycle_bucket(exact)
    assert rules.histogram_quantile([], 0.5) is None
