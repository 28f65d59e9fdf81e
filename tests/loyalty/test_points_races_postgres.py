"""Points under real concurrency (PostgreSQL): many HTTP requests at the same moment, each on its own connection.

Twenty orders each spending most of one balance at once: exactly as many succeed as the balance affords, the
balance never goes below zero, the buckets are drawn soonest-to-expire first and the ledger sums to the balance.
Ten check-ins by one customer at once: exactly one counts. Spending at the very moment a bucket expires, while the
worker's expiry sweeps run: the bucket expires exactly once and never pays.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import httpx
import pytest

from fissionmall.catalog.models import Sku
from fissionmall.loyalty.points import tasks as points_tasks
from tests.loyalty.test_points import checkin, configure, entries, ledger, moves, remaining, seeded, settings_overrides  # noqa: F401  (settings_overrides: long-lived shopper tokens)
from tests.support import ADDRESS, Mall, customer_id, problem, rows, together, value

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("signed_staff_tokens")]



async def own_skus(mall: Mall, count: int, stock: int = 5) -> list[int]:
    """One SKU (1 000 fen) per order, so the racing orders contend for nothing but the points balance."""
    async with mall.runtime.sessionmaker() as session:
        skus = [Sku(merchant_id=mall.merchant_id, product_id=mall.product_id, code=f"race-{i}", name=f"tin {i}",
                    price_fen=1000, stock=stock) for i in range(count)]
        session.add_all(skus)
        await session.commit()
        return [sku.id for sku in skus]


def order_with_points(mall: Mall, who: dict[str, str], sku_id: int, points: int) -> Awaitable[httpx.Response]:
    return mall.client.post("/orders", headers=who, json={
        "items": [{"sku_id": sku_id, "quantity": 1}], "address": ADDRESS, "points": points})


@pytest.mark.parametrize(("spend", "affordable", "left_in_buckets"), [
    (1600, 1, [0, 400, 1000]),   # each order wants more than half: exactly one
    (700, 4, [0, 0, 200]),       # four fit in 3 000, the fifth would not
])
async def test_concurrent_orders_never_spend_more_than_the_balance(client, mall, clock, spend, affordable,
                                                                   left_in_buckets):
    """3 000 points in three buckets; 20 orders at once each spend `spend`: exactly `affordable` are placed, the
    rest are 409 insufficient_points and keep nothing (no order, no stock), the buckets are drawn oldest first."""
    alice = await mall.shopper("alice")
    me = await seeded(mall, clock, alice, 1000, 1000, 1000)
    await configure(mall, fen_per_100_points=50, max_redeem_percent=80)
    skus = await own_skus(mall, 20)

    answers = await together(order_with_points(mall, alice, sku_id, spend) for sku_id in skus)
    placed = [r.json() for r in answers if r.status_code == 201]
    assert len(placed) == affordable, [r.status_code for r in answers]
    for refused in (r for r in answers if r.status_code != 201):
        assert problem(refused, 409, "insufficient_points")["balance"] in range(0, spend)
    assert all(o["total_fen"] == 1000 - spend // 2 for o in placed)

    balance = await ledger(mall.runtime, me)
    assert balance == 3000 - affordable * spend >= 0
    found = await entries(mall.runtime, me)
    assert sorted(m for m in moves(found) if m[0] == "spent") == sorted(
        ("spent", -spend, "order", o["id"]) for o in placed)
    assert [r for _, _, r in remaining(found)] == left_in_buckets
    assert await value(mall.runtime, "SELECT count(*) FROM orders") == affordable
    assert await value(mall.runtime, "SELECT count(*) FROM order_items") == affordable
    assert await value(mall.runtime, "SELECT count(*) FROM order_adjustments WHERE kind = 'points'") == affordable
    placed_skus = {o["items"][0]["sku_id"] for o in placed}
    stock = dict(await rows(mall.runtime, "SELECT id, stock FROM skus WHERE id = ANY(:ids)", ids=skus))
    assert stock == {sku_id: 4 if sku_id in placed_skus else 5 for sku_id in skus}
    seen = (await client.get("/points", headers=alice)).json()
    assert (seen["balance"], seen["worth_fen"]) == (balance, balance // 2)


@pytest.mark.parametrize("yesterday", [False, True], ids=["first_ever", "streak_continues"])
async def test_ten_concurrent_checkins_count_once(client, mall, clock, yesterday):
    """One customer checks in 10 times at once (with no balance row yet, or after yesterday's check-in): exactly
    one 201 with the right streak and points, nine 409 already_checked_in, one entry and one event."""
    await configure(mall, checkin_points=10, streak_bonus=5)
    alice = await mall.shopper("alice")
    me = await customer_id(mall, alice)
    before = 0
    if yesterday:
        before = (await checkin(mall, alice))["balance"]
        clock.advance(days=1)
    streak, points = (2, 15) if yesterday else (1, 10)

    answers = await together(client.post("/points/checkin", headers=alice) for _ in range(10))
    assert sorted(r.status_code for r in answers) == [201] + [409] * 9
    for refused in (r for r in answers if r.status_code != 201):
        problem(refused, 409, "already_checked_in")
    [won] = [r.json() for r in answers if r.status_code == 201]
    assert won == {"points": points, "streak": streak, "balance": before + points}
    assert await rows(mall.runtime, "SELECT balance, streak FROM points_balances") == [(before + points, streak)]
    assert await value(mall.runtime, "SELECT count(*) FROM points_entries") == (2 if yesterday else 1)
    assert await value(mall.runtime, "SELECT count(*) FROM events WHERE kind = 'checkin'") == (2 if yesterday else 1)
    assert await ledger(mall.runtime, me) == before + points


async def test_spending_as_a_bucket_expires_races_the_expiry_sweep(client, mall, clock, runtime):
    """A bucket of 500 expires now, a younger one of 1 000 lives: 10 orders of 300 points and 4 expiry sweeps at
    once. The old bucket expires exactly once (−500) and pays for nothing; exactly 3 orders are placed."""
    alice = await mall.shopper("alice")
    await configure(mall, checkin_points=500, streak_bonus=0, validity_days=2)
    await checkin(mall, alice)
    clock.advance(days=1)
    await configure(mall, checkin_points=1000, streak_bonus=0, validity_days=30)
    await checkin(mall, alice)
    me = await customer_id(mall, alice)
    await configure(mall, max_redeem_percent=50)
    skus = await own_skus(mall, 10)
    clock.advance(days=1)  # the first bucket's expiry, to the second

    calls: list[Awaitable[Any]] = []
    for i, sku_id in enumerate(skus):  # a sweep starts before every third order
        calls += [points_tasks.expire_points(runtime, clock.now())] if i % 3 == 0 else []
        calls.append(order_with_points(mall, alice, sku_id, 300))
    answers = [a for a in await together(calls) if isinstance(a, httpx.Response)]
    assert sorted(a.status_code for a in answers) == [201] * 3 + [409] * 7
    found = await entries(mall.runtime, me)
    [old, young] = [e for e in found if e.kind == "checkin"]
    assert [(e.kind, e.points, e.source_id) for e in found if e.kind == "expired"] == [("expired", -500, old.id)]
    assert (old.remaining, young.remaining) == (0, 100)
    assert sorted(e.points for e in found if e.kind == "spent") == [-300] * 3
    assert await ledger(mall.runtime, me) == 100
