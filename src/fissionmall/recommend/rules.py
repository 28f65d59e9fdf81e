"""The recommender's pure maths: co-purchase counts and how a change of one customer's basket moves them, the shrunk
cosine similarity between two products, a product's top-K neighbours, and the blend of the sources into one list with
what the customer cannot buy left out."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

SHRINK = 5.0
"""Shrinkage λ: a pair seen together by c customers keeps c / (c + λ) of its cosine, so two products that happen to
share one or two rare buyers do not outrank a pair that hundreds of customers bought together."""
NEIGHBOURS = 20
"""K: neighbours kept per product."""

Pair = tuple[int, int]


def similarity(together: int, buyers_a: int, buyers_b: int, shrink: float = SHRINK) -> float:
    """Cosine of the two products' binary buyer vectors, shrunk toward 0 when few customers bought both:
    together / √(buyers_a · buyers_b) · together / (together + λ)."""
    if together <= 0 or buyers_a <= 0 or buyers_b <= 0:
        return 0.0
    return together / math.sqrt(buyers_a * buyers_b) * (together / (together + shrink))


def top_neighbours(product_id: int, partners: Mapping[int, int], buyers: Mapping[int, int], k: int = NEIGHBOURS,
                   shrink: float = SHRINK) -> list[tuple[int, float]]:
    """The k products most similar to `product_id`, from its co-purchase counts (partner → customers who bought
    both) and every product's buyer count: closest first, ties by the smaller id, so the list is a function of the
    counts alone (an incremental update and a full rebuild write the same rows)."""
    own = buyers.get(product_id, 0)
    scored = [(other, similarity(together, own, buyers.get(other, 0), shrink))
              for other, together in partners.items() if other != product_id]
    scored = [(other, score) for other, score in scored if score > 0]
    scored.sort(key=lambda pair: (-pair[1], pair[0]))
    return scored[:k]


def co_counts(baskets: Iterable[Collection[int]]) -> tuple[Counter[int], Counter[Pair]]:
    """Every product's buyers and every ordered pair's customers in common, from each customer's set of products: what
    a full rebuild computes."""
    buyers: Counter[int] = Counter()
    pairs: Counter[Pair] = Counter()
    for basket in baskets:
        items = set(basket)
        buyers.update(items)
        pairs.update((a, b) for a in items for b in items if a != b)
    return buyers, pairs


def _pairs_touching(touched: Collection[int], basket: Collection[int]) -> set[Pair]:
    return {pair for a in touched for b in basket if a != b for pair in ((a, b), (b, a))}


def basket_change(before: Collection[int], after: Collection[int]) -> tuple[Counter[int], Counter[Pair]]:
    """How one customer's change of basket moves the counts: +1 buyer for each product added, −1 for each removed;
    +1 for each ordered pair in the new basket with an added product, −1 for each pair in the old basket with a
    removed one. Applied to the counts of the old baskets it gives the counts of the new (`co_counts`)."""
    old, new = set(before), set(after)
    added, removed = new - old, old - new
    buyers: Counter[int] = Counter({p: 1 for p in added})
    buyers.update({p: -1 for p in removed})
    pairs: Counter[Pair] = Counter({pair: 1 for pair in _pairs_touching(added, new)})
    for pair in _pairs_touching(removed, old):
        pairs[pair] -= 1
    return buyers, pairs


def stale_products(buyer_deltas: Mapping[int, int], pair_deltas: Mapping[Pair, int], *,
                   partners_of_fallen: Mapping[int, Collection[int]],
                   listing_risen: Mapping[int, Collection[int]]) -> set[int]:
    """Exactly the products whose neighbour lists may have changed, given that every list was exact before:

    - those whose own buyer count moved, and both sides of every pair whose count moved;
    - for a product with more buyers than before, the products whose top-K lists it is in (`listing_risen`): its
      similarity to every other partner fell, so it cannot enter a list it was not in;
    - for a product with fewer buyers, all its partners (`partners_of_fallen`): its similarity to them rose, so it
      may enter any of their lists.

    A product bought by many is in many lists, so a purchase of it still touches many; a refund of it touches
    every product bought with it."""
    stale = {p for p, d in buyer_deltas.items() if d}
    for (a, b), d in pair_deltas.items():
        if d:
            stale.update((a, b))
    for p, d in buyer_deltas.items():
        if d > 0:
            stale.update(listing_risen.get(p, ()))
        elif d < 0:
            stale.update(partners_of_fallen.get(p, ()))
    return stale


def item_scores(bought: Iterable[int], neighbours: Mapping[int, Sequence[tuple[int, float]]]) -> dict[int, float]:
    """Item-to-item scores for a customer: each candidate's similarities to the products they bought, summed."""
    scores: dict[int, float] = {}
    for product_id in bought:
        for other, score in neighbours.get(product_id, ()):
            scores[other] = scores.get(other, 0.0) + score
    return scores


def newest_scores(newest_first: Sequence[int]) -> dict[int, float]:
    """The recently listed, as scores falling from 1 for the newest to 1/n for the n-th."""
    n = len(newest_first)
    return {product_id: (n - i) / n for i, product_id in enumerate(newest_first)}


Source = Literal["also_bought", "friends", "popular", "new"]
ALSO_BOUGHT: Final = "also_bought"
FRIENDS: Final = "friends"
POPULAR: Final = "popular"
NEW: Final = "new"
WEIGHTS: dict[Source, float] = {ALSO_BOUGHT: 1.0, FRIENDS: 0.3, POPULAR: 0.25, NEW: 0.1}
"""Each source's weight once its scores are scaled to [0, 1]: co-purchase neighbours lead, friends' purchases next;
the popular and the new mostly fill the list when the others have little to say (a new customer). Friends at 0.3:
in the bench (docs/recommendations.md) 0.2–0.3 gave the best recall, 0.6 less than the neighbours alone."""
REASONS: dict[Source, str] = {ALSO_BOUGHT: "买了又买", FRIENDS: "好友在买", POPULAR: "热销", NEW: "新品"}
"""What the shopper reads beside a recommendation: the source that gave it the most."""


@dataclass(frozen=True)
class Pick:
    product_id: int
    score: float
    source: Source


def blend(sources: Mapping[Source, Mapping[int, float]], *, exclude: Collection[int], limit: int,
          weights: Mapping[Source, float] = WEIGHTS) -> list[Pick]:
    """One list from every source's scores: each source scaled by its best score, weighted, summed per product;
    the highest first (ties by the smaller id); products in `exclude` (unavailable, already bought, the product
    on the page) never appear. Each pick names the source that gave it the most."""
    total: dict[int, float] = {}
    best: dict[int, tuple[float, Source]] = {}
    for name, scores in sources.items():
        top = max(scores.values(), default=0.0)
        weight = weights.get(name, 0.0)
        if top <= 0 or weight <= 0:
            continue
        for product_id, score in scores.items():
            if score <= 0 or product_id in exclude:
                continue
            part = weight * score / top
            total[product_id] = total.get(product_id, 0.0) + part
            if product_id not in best or part > best[product_id][0]:
                best[product_id] = (part, name)
    ranked = sorted(total.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [Pick(product_id, score, best[product_id][1]) for product_id, score in ranked]


def unavailable(candidates: Iterable[int], available: Collection[int]) -> set[int]:
    """The candidates a customer cannot buy: not listed, off sale or out of stock (not among `available`)."""
    return {p for p in candidates if p not in available}
