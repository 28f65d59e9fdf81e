"""The model kept by the worker: incremental folds after the watermark equal a full rebuild, refunds take purchases
back out, friends come from referrals and opened shares, and each merchant's model is its own."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from typing import Any

import pytest

from fissionmall.core.runtime import Runtime
from fissionmall.recommend import repository, rules, service
from tests.recommend.history import History
from tests.support import Mall, rows, value

TABLES = ("recommend_purchases", "recommend_buyers", "recommend_pairs", "recommend_neighbours", "recommend_friends")


async def catch_up(runtime: Runtime, chunk: int = service.CHUNK) -> int:
    total = 0
    while True:
        async with runtime.sessionmaker() as session:
            n = await service.catch_up(session, runtime.clock.now(), chunk=chunk, settle=timedelta(0))
            await session.commit()
        total += n
        if n == 0:
            return total


async def rebuild(runtime: Runtime, merchant_id: int | None = None) -> None:
    async with runtime.sessionmaker() as session:
        await service.rebuild(session, merchant_id)
        await session.commit()


async def model(runtime: Runtime, merchant_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the merchant's model but its surrogate id, sorted (scores to 12 places)."""
    out = {}
    for name in TABLES:
        found = await rows(runtime, f"SELECT * FROM {name} WHERE merchant_id = :m", m=merchant_id)
        out[name] = sorted(tuple(round(v, 12) if isinstance(v, float) else v for v in row[:-1]) for row in found)
    return out


async def test_incremental_folds_equal_a_full_rebuild(mall: Mall, runtime: Runtime) -> None:
    """Rounds of random purchases and refunds, each folded in small chunks, leave exactly the tables a rebuild
    writes from scratch; and the counts are those of the baskets the orders hold."""
    history = History(runtime, mall.merchant_id, runtime.clock.now())
    shuffle = random.Random(7)
    products = await history.add_products(8)
    customers = await history.add_customers(12, inviter_of={3: 0, 4: 0, 7: 3})
    refunded: set[int] = set()
    for round_no in range(4):
        for customer in shuffle.sample(customers, 6):
            await history.buy(customer, shuffle.sample(products, shuffle.randint(1, 3)))
        if round_no:
            gone = shuffle.choice(sorted(set(history.orders) - refunded))
            await history.refund(gone)
            refunded.add(gone)
        await history.open_share_of(customers[round_no + 5], customers[round_no])
        assert await catch_up(runtime, chunk=5) > 0
    incremental = await model(runtime, mall.merchant_id)
    await rebuild(runtime)
    assert await model(runtime, mall.merchant_id) == incremental

    buyers, pairs = rules.co_counts(history.baskets(refunded).values())
    assert sorted((p, n) for _, p, n in incremental["recommend_buyers"]) == sorted(buyers.items())
    assert sorted(((a, b), n) for _, a, b, n in incremental["recommend_pairs"]) == sorted(pairs.items())
    friends = {(c, f) for _, c, f in incremental["recommend_friends"]}
    c = customers
    assert {(c[3], c[0]), (c[0], c[3]), (c[4], c[0]), (c[7], c[3]), (c[3], c[7]), (c[5], c[0])} <= friends
    assert (c[0], c[5]) not in friends  # opening someone's link makes them your friend, not you theirs
    assert await catch_up(runtime) == 0  # nothing left: a second pass changes nothing


async def test_a_refund_takes_the_purchase_back_out(mall: Mall, runtime: Runtime) -> None:
    history = History(runtime, mall.merchant_id, runtime.clock.now())
    a, b, c = await history.add_products(3)
    x, y = await history.add_customers(2)
    await history.buy(x, [a, b])
    second = await history.buy(y, [a, c])
    await catch_up(runtime)
    before = await model(runtime, mall.merchant_id)
    assert [(p, rank, n) for _, p, rank, n, _ in before["recommend_neighbours"] if p == a] == [(a, 1, b), (a, 2, c)]
    await history.refund(second)
    await catch_up(runtime)
    after = await model(runtime, mall.merchant_id)
    assert {(cu, p) for _, cu, p in after["recommend_purchases"]} == {(x, a), (x, b)}
    assert [(p, n) for _, p, n in after["recommend_buyers"]] == [(a, 1), (b, 1)]
    assert [n for _, p, _, n, _ in after["recommend_neighbours"] if p in (a, c)] == [b]
    assert not [row for row in after["recommend_neighbours"] if row[1] == c or row[3] == c]


async def test_each_merchant_has_its_own_model(mall: Mall, beta: Mall, runtime: Runtime) -> None:
    ours = History(runtime, mall.merchant_id, runtime.clock.now())
    theirs = History(runtime, beta.merchant_id, runtime.clock.now())
    for history in (ours, theirs):
        p, q = await history.add_products(2)
        (x,) = await history.add_customers(1)
        await history.buy(x, [p, q])
    await catch_up(runtime)
    mine, other = await model(runtime, mall.merchant_id), await model(runtime, beta.merchant_id)
    assert {row[1] for row in mine["recommend_pairs"]} == set(ours.products)
    assert {row[1] for row in other["recommend_pairs"]} == set(theirs.products)
    await rebuild(runtime, beta.merchant_id)  # one merchant's repair leaves the other's rows alone
    assert await model(runtime, mall.merchant_id) == mine
    assert await model(runtime, beta.merchant_id) == other


@pytest.mark.postgres
async def test_two_workers_fold_each_event_once(mall: Mall, runtime: Runtime) -> None:
    """Two workers' sweeps at the same moment: the locked watermark lets one fold a range while the other waits and
    then finds it folded, so no count is added twice."""
    history = History(runtime, mall.merchant_id, runtime.clock.now())
    products = await history.add_products(5)
    for customer in await history.add_customers(8):
        await history.buy(customer, products[customer % 3:customer % 3 + 3])
    events = await value(runtime, "SELECT count(*) FROM events")

    async def one_worker() -> int:
        async with runtime.sessionmaker() as session:
            n = await service.catch_up(session, runtime.clock.now(), settle=timedelta(0))
            await asyncio.sleep(0.05)  # hold the watermark while the other one asks for it
            await session.commit()
        return n

    read = await asyncio.gather(one_worker(), one_worker())
    assert sorted(read) == [0, events]
    folded = await model(runtime, mall.merchant_id)
    await rebuild(runtime)
    assert await model(runtime, mall.merchant_id) == folded


async def test_the_popular_count_the_latest_paid_orders_only(mall: Mall, runtime: Runtime) -> None:
    history = History(runtime, mall.merchant_id, runtime.clock.now() - timedelta(days=40))
    a, b, c = await history.add_products(3)
    x, y, z = await history.add_customers(3)
    await history.buy(x, [a])  # 40 days ago: not recent
    for days_ago, customer, products in ((3, x, [b]), (2, y, [b, c]), (1, z, [c])):
        history.at = runtime.clock.now() - timedelta(days=days_ago)
        await history.buy(customer, products)
    since = runtime.clock.now() - timedelta(days=30)
    async with runtime.sessionmaker() as session:
        assert await repository.popular(session, mall.merchant_id, since, 10) == {b: 2, c: 2}
        assert await repository.popular(session, mall.merchant_id, since, 10, orders=2) == {b: 1, c: 2}
        assert await repository.popular(session, mall.merchant_id, since, 1) == {b: 2}
