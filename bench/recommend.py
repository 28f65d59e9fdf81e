"""Benchmark: how well each recommendation strategy finds what a customer buys next (offline; nothing here is a test).

    .venv/bin/python -m bench recommend [--customers 3000] [--products 300] [--clusters 10] [--seed 1]

Draws a purchase history with known tastes: every customer belongs to a taste cluster, and each cluster prefers its
own set of products (a few favourites within it more than the rest); some purchases go to a head of products popular
with every cluster, some are noise. Friends (the referral graph and the share links opened) are mostly in the same
cluster. Each customer's last purchase is held out; every strategy is given the rest and asked for 10 products the
customer has not bought, exactly as the service asks (`recommend.rules`: the same similarity, neighbours and blend),
and is scored by recall@10 (share of held-out purchases among the 10) and catalogue coverage (share of the catalogue
recommended to anyone). It also checks that folding the held-out purchases into the model incrementally (only the
stale products' neighbours recomputed) gives the same neighbours as a full rebuild, and times both.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from fissionmall.recommend import rules

K = 10
FAVOURITES = 5
"""Products of a cluster's set it buys most (three times as often as the rest of the set)."""


@dataclass
class World:
    products: int
    cluster_of: list[int]
    history: list[list[int]]
    """Each customer's purchases, oldest first, each product once."""
    friends: list[set[int]]
    listed: list[int]
    """Products newest first (the "new" source)."""


def draw_world(customers: int, products: int, clusters: int, seed: int) -> World:
    draw = random.Random(seed)
    head = list(range(products // 10))  # popular with everyone
    rest = list(range(products // 10, products))
    draw.shuffle(rest)
    size = len(rest) // clusters
    taste = [rest[c * size:(c + 1) * size] for c in range(clusters)]
    head_weights = [1 / (rank + 1) for rank in range(len(head))]

    def one(cluster: int) -> int:
        roll = draw.random()
        if roll < 0.65:
            own = taste[cluster]
            return draw.choice(own[:FAVOURITES]) if draw.random() < 0.45 else draw.choice(own)
        if roll < 0.9:
            return draw.choices(head, head_weights)[0]
        return draw.randrange(products)

    cluster_of = [draw.randrange(clusters) for _ in range(customers)]
    history = []
    for c in range(customers):
        bought: list[int] = []
        for _ in range(draw.randint(3, 9)):
            item = one(cluster_of[c])
            if item not in bought:
                bought.append(item)
        history.append(bought)
    by_cluster: dict[int, list[int]] = {}
    for c, cluster in enumerate(cluster_of):
        by_cluster.setdefault(cluster, []).append(c)
    friends: list[set[int]] = [set() for _ in range(customers)]

    def someone_near(c: int) -> int:
        return draw.choice(by_cluster[cluster_of[c]]) if draw.random() < 0.75 else draw.randrange(customers)

    for c in range(customers):
        if draw.random() < 0.7:  # referred by someone (the referral is a friendship both ways)
            inviter = someone_near(c)
            if inviter != c:
                friends[c].add(inviter)
                friends[inviter].add(c)
        for _ in range(draw.randint(0, 3)):  # share links opened: the sharer becomes the opener's friend
            sharer = someone_near(c)
            if sharer != c:
                friends[c].add(sharer)
    listed = list(range(products))
    draw.shuffle(listed)
    return World(products, cluster_of, history, friends, listed)


def neighbours_of(baskets: list[set[int]]) -> tuple[dict[int, list[tuple[int, float]]], Counter[int],
                                                     Counter[rules.Pair]]:
    buyers, pairs = rules.co_counts(baskets)
    return _lists(buyers, pairs, buyers), buyers, pairs


def _lists(buyers: Mapping[int, int], pairs: Mapping[rules.Pair, int], which: Mapping[int, object] | set[int]
           ) -> dict[int, list[tuple[int, float]]]:
    partners: dict[int, dict[int, int]] = {}
    for (a, b), n in pairs.items():
        if n > 0:
            partners.setdefault(a, {})[b] = n
    return {p: rules.top_neighbours(p, partners.get(p, {}), buyers) for p in which}


Strategy = Callable[[int], dict[str, dict[int, float]]]


def evaluate(world: World, train: list[set[int]], held: list[int | None], strategy: Strategy
             ) -> tuple[float, float]:
    hits, asked, shown = 0, 0, set()
    for c, target in enumerate(held):
        if target is None:
            continue
        picks = [p.product_id for p in rules.blend(strategy(c), exclude=train[c], limit=K)]
        shown.update(picks)
        asked += 1
        hits += target in picks
    return hits / asked, len(shown) / world.products


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench recommend", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--products", type=int, default=300)
    parser.add_argument("--clusters", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 130)

    world = draw_world(options.customers, options.products, options.clusters, options.seed)
    train = [set(h[:-1]) for h in world.history]
    held: list[int | None] = [h[-1] if len(h) > 1 else None for h in world.history]
    started = time.perf_counter()
    neighbours, buyers, pairs = neighbours_of(train)
    full_seconds = time.perf_counter() - started
    popular = {p: float(n) for p, n in buyers.items()}
    newest = rules.newest_scores(world.listed[:100])

    def friends_of(c: int) -> dict[int, float]:
        counts: Counter[int] = Counter()
        for f in world.friends[c]:
            counts.update(train[f])
        return {p: float(n) for p, n in counts.items()}

    strategies: dict[str, Strategy] = {
        "popular (baseline)": lambda c: {rules.POPULAR: popular},
        "item-item (co-purchase)": lambda c: {rules.ALSO_BOUGHT: rules.item_scores(train[c], neighbours)},
        "friends bought": lambda c: {rules.FRIENDS: friends_of(c)},
        "blend (served)": lambda c: {rules.ALSO_BOUGHT: rules.item_scores(train[c], neighbours),
                                     rules.FRIENDS: friends_of(c), rules.POPULAR: popular, rules.NEW: newest},
    }
    table = Table(title=f"recall@{K} and catalogue coverage: {options.customers:,} customers, {options.products} "
                        f"products, {options.clusters} taste clusters, last purchase held out (seed {options.seed})",
                  title_justify="left")
    for column in ("strategy", f"recall@{K}", "coverage"):
        table.add_column(column, justify="left" if column == "strategy" else "right")
    results = {}
    for name, strategy in strategies.items():
        recall, coverage = evaluate(world, train, held, strategy)
        results[name] = recall
        table.add_row(name, f"{recall:.3f}", f"{coverage:.1%}")
    console.print(table)

    # a day's new purchases (1% of the customers buy their held-out product) folded in incrementally: the counts moved
    # by the difference, only the stale products' neighbours recomputed; then the same from scratch
    day = range(max(1, len(train) // 100))
    after = [set(h) if c in day else set(train[c]) for c, h in enumerate(world.history)]
    started = time.perf_counter()
    moved_buyers: Counter[int] = Counter()
    moved_pairs: Counter[rules.Pair] = Counter()
    for c in day:
        b, p = rules.basket_change(train[c], after[c])
        moved_buyers.update(b)
        moved_pairs.update(p)
    buyers.update(moved_buyers)
    pairs.update(moved_pairs)
    partners: dict[int, set[int]] = {}
    for (a, b), n in pairs.items():
        if n > 0:
            partners.setdefault(a, set()).add(b)
    listing: dict[int, set[int]] = {}
    for p, found in neighbours.items():
        for other, _ in found:
            listing.setdefault(other, set()).add(p)
    stale = rules.stale_products(moved_buyers, moved_pairs, partners_of_fallen=partners, listing_risen=listing)
    incremental = dict(neighbours)
    incremental.update(_lists(buyers, pairs, stale))
    incremental_seconds = time.perf_counter() - started
    started = time.perf_counter()
    rebuilt, _, _ = neighbours_of(after)
    rebuild_seconds = time.perf_counter() - started
    same = {p: v for p, v in incremental.items() if v} == {p: v for p, v in rebuilt.items() if v}
    console.print(f"model: full build {full_seconds * 1000:.0f} ms. A day's {len(day)} new purchases: incremental fold "
                  f"{incremental_seconds * 1000:.0f} ms, recomputing {len(stale)} of {len(buyers)} products' "
                  f"neighbours; full rebuild {rebuild_seconds * 1000:.0f} ms; incremental = full rebuild: "
                  f"[{'green' if same else 'red'}]{same}[/]")
    beats = results["blend (served)"] > results["popular (baseline)"]
    console.print(f"blend beats the popular baseline: [{'green' if beats else 'red'}]{beats}[/] "
                  f"({results['blend (served)']:.3f} against {results['popular (baseline)']:.3f})")
    return 0 if beats and same else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
