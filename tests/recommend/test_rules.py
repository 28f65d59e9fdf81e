"""The recommender's pure maths, with numbers checked by hand, and the incremental counts against a full count."""

from __future__ import annotations

import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fissionmall.recommend import rules
from fissionmall.recommend.rules import Pick

pytestmark = pytest.mark.backend_free


def test_similarity_is_cosine_shrunk_by_support() -> None:
    # 4 together, 4 and 16 buyers: cosine 4 / √64 = 0.5, shrunk by 4 / (4 + 5)
    assert rules.similarity(4, 4, 16) == pytest.approx(0.5 * 4 / 9)
    assert rules.similarity(4, 4, 16) == pytest.approx(2 / 9)
    assert rules.similarity(10, 10, 10, shrink=0) == 1.0
    assert rules.similarity(0, 3, 3) == 0.0
    assert rules.similarity(2, 0, 3) == 0.0
    # more support for the same cosine scores higher
    assert rules.similarity(100, 100, 100) > rules.similarity(2, 2, 2)


def test_top_neighbours_rank_by_similarity_then_id() -> None:
    partners = {2: 4, 3: 2, 4: 1}
    buyers = {1: 4, 2: 16, 3: 1, 4: 4}
    # 2: 0.5 · 4/9 = 0.2222; 3: 1.0 · 2/7 = 0.2857; 4: 0.25 · 1/6 = 0.0417
    found = rules.top_neighbours(1, partners, buyers)
    assert [p for p, _ in found] == [3, 2, 4]
    assert [round(s, 4) for _, s in found] == [0.2857, 0.2222, 0.0417]
    assert [p for p, _ in rules.top_neighbours(1, partners, buyers, k=2)] == [3, 2]
    # equal scores: the smaller id first
    assert [p for p, _ in rules.top_neighbours(1, {7: 1, 5: 1}, {1: 1, 5: 1, 7: 1})] == [5, 7]


def test_basket_change_moves_buyers_and_pairs() -> None:
    buyers, pairs = rules.basket_change({1, 2}, {2, 3})
    assert buyers == Counter({3: 1, 1: -1})
    assert pairs == Counter({(3, 2): 1, (2, 3): 1, (1, 2): -1, (2, 1): -1})
    assert rules.basket_change({1, 2}, {1, 2}) == (Counter(), Counter())


def test_stale_products_follow_the_counts_that_moved() -> None:
    # 3 gained a buyer: the lists it is in (5) may change; 1 lost one: every partner of it (4) may; the pair (3, 2)
    # and both products that moved themselves
    stale = rules.stale_products({3: 1, 1: -1}, {(3, 2): 1, (2, 3): 1},
                                 partners_of_fallen={1: [4], 3: [8]}, listing_risen={3: [5], 1: [9]})
    assert stale == {1, 2, 3, 4, 5}


def test_item_scores_sum_similarities_over_the_basket() -> None:
    neighbours = {1: [(5, 0.5), (6, 0.25)], 2: [(5, 0.125), (7, 1.0)]}
    assert rules.item_scores([1, 2], neighbours) == {5: 0.625, 6: 0.25, 7: 1.0}
    assert rules.item_scores([9], neighbours) == {}


def test_newest_scores_fall_with_age() -> None:
    assert rules.newest_scores([30, 20, 10, 5]) == {30: 1.0, 20: 0.75, 10: 0.5, 5: 0.25}


def test_blend_scales_weights_and_excludes() -> None:
    sources = {rules.ALSO_BOUGHT: {10: 2.0, 11: 1.0}, rules.FRIENDS: {11: 3.0, 12: 3.0},
               rules.POPULAR: {10: 50.0, 13: 100.0}}
    # 10: 1·2/2 + 0.25·50/100 = 1.125; 11: 1·1/2 + 0.3·3/3 = 0.8 (0.5 of it from the neighbours); 12: 0.3; 13: 0.25
    picks = rules.blend(sources, exclude=set(), limit=10)
    assert [(p.product_id, round(p.score, 4), p.source) for p in picks] == [
        (10, 1.125, "also_bought"), (11, 0.8, "also_bought"), (12, 0.3, "friends"), (13, 0.25, "popular")]
    # weights are a parameter: friends at 0.6 give 11 more from them than from the neighbours
    assert rules.blend(sources, exclude={10}, limit=1, weights={**rules.WEIGHTS, rules.FRIENDS: 0.6}) == [
        Pick(11, 1.1, "friends")]
    assert [p.product_id for p in rules.blend(sources, exclude={12, 10}, limit=10)] == [11, 13]
    assert rules.blend(sources, exclude=set(), limit=1) == [Pick(10, 1.125, "also_bought")]
    assert rules.blend({rules.POPULAR: {}}, exclude=set(), limit=5) == []


def test_blend_of_a_new_customer_is_the_popular_then_the_new() -> None:
    picks = rules.blend({rules.ALSO_BOUGHT: {}, rules.POPULAR: {1: 4.0, 2: 2.0},
                         rules.NEW: rules.newest_scores([3, 2])}, exclude=set(), limit=5)
    # 1: 0.25; 2: 0.125 + 0.1·0.5 = 0.175; 3: 0.1
    assert [(p.product_id, p.source) for p in picks] == [(1, "popular"), (2, "popular"), (3, "new")]
    assert math.isclose(picks[1].score, 0.175)


def test_unavailable_is_every_candidate_not_on_offer() -> None:
    assert rules.unavailable([1, 2, 3, 4], available={2, 4}) == {1, 3}


baskets = st.dictionaries(st.integers(1, 6), st.frozensets(st.integers(1, 8), max_size=5), max_size=6)


@given(st.lists(baskets, min_size=1, max_size=5))
@settings(max_examples=300, deadline=None)
def test_incremental_counts_equal_a_full_count(rounds: list[dict[int, frozenset[int]]]) -> None:
    """Customers' baskets change round after round (bought, refunded): counts moved by each change equal the counts
    of the last baskets, and every product whose neighbours changed is among the stale (lists of 2, so that a
    product can be a partner and not in the list)."""
    held: dict[int, frozenset[int]] = {}
    buyers: Counter[int] = Counter()
    pairs: Counter[rules.Pair] = Counter()
    for changes in rounds:
        before_lists = _lists(buyers, pairs)
        moved_buyers: Counter[int] = Counter()
        moved_pairs: Counter[rules.Pair] = Counter()
        for customer, basket in changes.items():
            b, p = rules.basket_change(held.get(customer, frozenset()), basket)
            moved_buyers.update(b)
            moved_pairs.update(p)
            held[customer] = basket
        buyers.update(moved_buyers)
        pairs.update(moved_pairs)
        buyers, pairs = +buyers, +pairs  # drop the zeros
        after_lists = _lists(buyers, pairs)
        partners_after: dict[int, set[int]] = {}
        for a, b in pairs:
            partners_after.setdefault(a, set()).add(b)
        listing: dict[int, set[int]] = {}
        for p, found in before_lists.items():
            for other, _ in found:
                listing.setdefault(other, set()).add(p)
        stale = rules.stale_products(moved_buyers, moved_pairs, partners_of_fallen=partners_after,
                                     listing_risen=listing)
        changed = {p for p in set(before_lists) | set(after_lists) if before_lists.get(p) != after_lists.get(p)}
        assert changed <= stale
    assert (buyers, pairs) == rules.co_counts(held.values())


def _lists(buyers: Counter[int], pairs: Counter[rules.Pair]) -> dict[int, list[tuple[int, float]]]:
    partners: dict[int, dict[int, int]] = {}
    for (a, b), n in pairs.items():
        partners.setdefault(a, {})[b] = n
    return {p: rules.top_neighbours(p, partners.get(p, {}), buyers, k=2) for p in buyers}
