"""The commission ledger balances after a long random life (seeded, so every run is the same story).

Customers in referral chains (some distributors approved, one pending until mid-way, one rejected, some plain
customers) place orders of odd amounts, partly paid with shop credit, pay some and leave others to lapse; the
merchant ships, refunds in parts and in full, the clock runs orders to completion, and the switch and the level-2
approval are flipped on and off. Afterwards, computed independently of the code under test: every order's entries
per level add up to its commission less the reversed share of what was refunded, to the fen, with the right
beneficiary and status; every customer's frozen + settled is the sum of their entries; every wallet is the sum of
its entries; no unpaid order has any commission. On PostgreSQL, two workers reversing two refunds of one order side
by side must still take back exactly the commission.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import text

from fissionmall.distribution import repository
from fissionmall.distribution import tasks as distribution
from fissionmall.wallet import service as wallet_service
from tests.distribution.test_commissions import (
    APPROVAL,
    Person,
    add_sku,
    buy,
    configure,
    configured,
    family,
    join,
    mine,
)
from tests.support import LONG_TOKEN_TTL_SECONDS, SHIPMENT, Mall, rows

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")

SEED = 20261201
STEPS = 120
LEVEL1_BP, LEVEL2_BP = 1050, 333
CREDITED = ("c1", "c3", "c5", "e")
"""Customers given 1 500 fen of shop credit at the start."""
"""Odd rates, so that rounding down shows on almost every order."""


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Shopper tokens that outlive the weeks the scenario moves the clock by."""
    return {"token_ttl_seconds": LONG_TOKEN_TTL_SECONDS}


# --- the independent model --------------------------------------------------------------------------------------------

@dataclass
class Expected:
    """What one order should have in the ledger, worked out by the test, not by the code under test."""

    order_id: int
    buyer: Person
    paid_fen: int = 0
    refunded_fen: int = 0
    commissions: dict[int, tuple[int, int]] = field(default_factory=dict)
    """level → (beneficiary id, commission fen)."""

    def net(self, level: int) -> int:
        """The commission less the share of it the refunds take back (same share as the money, rounded down)."""
        amount = self.commissions[level][1]
        taken = amount * self.refunded_fen // self.paid_fen
        return amount - taken


@dataclass
class World:
    mall: Mall
    rng: random.Random
    people: dict[str, Person]
    inviter: dict[int, int | None]
    approved: set[int]
    skus: dict[int, int]
    """sku id → price."""
    enabled: bool = True
    level2: bool = True
    orders: dict[int, Expected] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    async def reconfigure(self) -> None:
        body = {"enabled": self.enabled, "auto_approve": False,
                "grades": [{"grade": 1, "name": "分销员", "level1_bp": LEVEL1_BP,
                            "level2_bp": LEVEL2_BP if self.level2 else 0}],
                "level2_approval": APPROVAL if self.level2 else None}
        response = await configure(self.mall, body)
        assert response.status_code == 200, response.text

    def expected_commissions(self, buyer: Person, paid_fen: int) -> dict[int, tuple[int, int]]:
        """On a payment in full while switched on: level 1 to the referrer, level 2 (with approval) to theirs, each
        only if approved, rounded down, nothing written for 0."""
        if not self.enabled:
            return {}
        found: dict[int, tuple[int, int]] = {}
        first = self.inviter[buyer.id]
        second = self.inviter[first] if first is not None else None
        for level, beneficiary, rate in ((1, first, LEVEL1_BP), (2, second, LEVEL2_BP if self.level2 else 0)):
            if beneficiary is not None and beneficiary in self.approved and paid_fen * rate // 10_000 > 0:
                found[level] = (beneficiary, paid_fen * rate // 10_000)
        return found

    async def order(self, order_id: int) -> dict[str, Any]:
        return await self.mall.get_order(self.orders[order_id].buyer.who, order_id)

    async def with_status(self, *statuses: str) -> list[int]:
        return [order_id for order_id, status in await rows(self.mall.runtime, "SELECT id, status FROM orders "
                                                            "ORDER BY id") if status in statuses]


# --- the actions ------------------------------------------------------------------------------------------------------

async def place(world: World) -> None:
    """A random buyer orders 1–3 of a random SKU, paying part with credit when they have some (never all: something
    is paid in cash); most pay at once, the others later or never."""
    mall, rng = world.mall, world.rng
    buyer = rng.choice(list(world.people.values()))
    quantity, sku = rng.randint(1, 3), rng.choice(list(world.skus))
    extra: dict[str, Any] = {}
    if buyer.name in CREDITED and rng.random() < 0.7:
        balance = (await mall.client.get("/wallet", headers=buyer.who)).json()["balance_fen"]
        if balance:
            extra["wallet_fen"] = rng.randint(1, min(balance, quantity * world.skus[sku] - 1))
            world.counts["with_credit"] += 1
    response = await mall.place_order(buyer.who, quantity, sku_id=sku, **extra)
    assert response.status_code == 201, response.text
    assert response.json()["total_fen"] == quantity * world.skus[sku] - extra.get("wallet_fen", 0)
    order_id = response.json()["id"]
    world.orders[order_id] = Expected(order_id, buyer)
    if rng.random() < 0.8:
        await pay(world, order_id)


async def pay(world: World, order_id: int) -> None:
    expected = world.orders[order_id]
    paid = await world.mall.pay(expected.buyer.who, order_id)
    assert (paid["status"], paid["paid_fen"]) == ("to_ship", paid["total_fen"]), paid
    expected.paid_fen = paid["paid_fen"]
    expected.commissions = world.expected_commissions(expected.buyer, expected.paid_fen)
    world.counts["paid"] += 1
    world.counts["paid_while_off" if not world.enabled else "paid_while_on"] += 1


async def pay_later(world: World) -> None:
    waiting = await world.with_status("pending_payment")
    if waiting:
        await pay(world, world.rng.choice(waiting))


async def refund(world: World) -> None:
    """The merchant refunds all that is left (a third of the time) or a random part of it."""
    mall, rng = world.mall, world.rng
    candidates = [o for o in await world.with_status("to_ship", "shipped", "received")
                  if world.orders[o].paid_fen > world.orders[o].refunded_fen]
    if not candidates:
        return
    expected = world.orders[rng.choice(candidates)]
    left = expected.paid_fen - expected.refunded_fen
    amount = left if rng.random() < 0.34 else rng.randint(1, left)
    response = await mall.client.post(f"/admin/orders/{expected.order_id}/refunds", headers=await mall.staff("finance"),
                                      json={"amount_fen": amount, "reason": "random"})
    if response.status_code == 409 and response.json()["code"] == "after_sale_closed":
        return
    assert response.status_code == 201, response.text
    await mall.work()
    await mall.work()
    expected.refunded_fen += amount
    assert (await world.order(expected.order_id))["refunded_fen"] == expected.refunded_fen
    world.counts["full_refund" if amount == left else "partial_refund"] += 1


async def ship(world: World) -> None:
    ready = await world.with_status("to_ship")
    if ready:
        response = await world.mall.client.post(f"/admin/orders/{world.rng.choice(ready)}/ship",
                                                headers=await world.mall.staff("support"), json=SHIPMENT)
        assert response.status_code == 200, response.text


async def receive(world: World) -> None:
    shipped = await world.with_status("shipped")
    if shipped:
        order_id = world.rng.choice(shipped)
        response = await world.mall.client.post(f"/orders/{order_id}/receive", headers=world.orders[order_id].buyer.who)
        assert response.status_code == 200, response.text


async def time_passes(world: World) -> None:
    """Hours to days: unpaid orders lapse, shipped ones are received, received ones complete and settle."""
    world.mall.runtime.clock.advance(hours=world.rng.randint(1, 60))
    await world.mall.work()


async def flip_switch(world: World) -> None:
    world.enabled = not world.enabled
    await world.reconfigure()
    world.counts["switch_flips"] += 1


async def flip_level2(world: World) -> None:
    world.level2 = not world.level2
    await world.reconfigure()
    world.counts["level2_flips"] += 1


async def approve_pending(world: World) -> None:
    pending = world.people["b4"]
    if pending.id not in world.approved:
        response = await world.mall.client.post(f"/admin/distributors/{pending.id}/approve",
                                                headers=await world.mall.staff())
        assert response.status_code == 200, response.text
        world.approved.add(pending.id)


ACTIONS = [(place, 30), (pay_later, 6), (refund, 16), (ship, 12), (receive, 8), (time_passes, 10),
           (flip_switch, 4), (flip_level2, 3), (approve_pending, 1)]


# --- the scenario -----------------------------------------------------------------------------------------------------

async def build_world(mall: Mall) -> World:
    """a1 → b1 → c1 → d1, a1 → b1 → c2, a1 → b2 → c3, a2 → b3 → c4, a2 → b4 (pending) → c5, a1 → b5 (plain) → c6,
    a2 → b6 (rejected) → c7, and e on their own; c1 is a distributor, the other c's, d1 and e are not."""
    skus = {mall.sku_id: 1000, await add_sku(mall, 999, "acme-999"): 999, await add_sku(mall, 1337, "acme-1337"): 1337}
    world = World(mall, random.Random(SEED), {}, {}, set(), skus)
    await world.reconfigure()
    tree = [("a1", None, True), ("a2", None, True), ("b1", "a1", True), ("b2", "a1", True), ("b3", "a2", True),
            ("b4", "a2", True), ("b5", "a1", False), ("b6", "a2", True), ("c1", "b1", True), ("c2", "b1", False),
            ("c3", "b2", False), ("c4", "b3", False), ("c5", "b4", False), ("c6", "b5", False), ("c7", "b6", False),
            ("d1", "c1", False), ("e", None, False)]
    owner = await mall.staff()
    for name, referrer, distributor in tree:
        person = await join(mall, name, world.people[referrer] if referrer else None, distributor=distributor)
        world.people[name] = person
        world.inviter[person.id] = world.people[referrer].id if referrer else None
        if distributor and name not in ("b4", "b6"):
            response = await mall.client.post(f"/admin/distributors/{person.id}/approve", headers=owner)
            assert response.status_code == 200, response.text
            world.approved.add(person.id)
    response = await mall.client.post(f"/admin/distributors/{world.people['b6'].id}/reject", headers=owner)
    assert response.status_code == 200, response.text
    async with mall.runtime.sessionmaker() as session:
        for name in CREDITED:
            assert await wallet_service.credit(session, mall.merchant_id, world.people[name].id, 1500, "test_grant",
                                               ("test", 1), mall.runtime.clock.now())
        await session.commit()
    return world


async def test_a_long_random_scenario_keeps_every_ledger_balanced(client, mall, runtime, clock):
    """Whatever happens in whatever order, the ledgers agree with an independent model to the fen."""
    world = await build_world(mall)
    actions, weights = zip(*ACTIONS, strict=True)
    for _ in range(STEPS):
        await world.rng.choices(actions, weights)[0](world)
    clock.advance(days=12)
    await mall.work()
    clock.advance(days=8)
    await mall.work()

    # the story really had every twist (the seed fixes it; a change to the scenario must keep these)
    statuses = dict(await rows(runtime, "SELECT id, status FROM orders"))
    counts = world.counts
    assert counts["paid_while_on"] >= 10 and counts["paid_while_off"] >= 2, dict(counts)
    assert counts["partial_refund"] >= 3 and counts["full_refund"] >= 2, dict(counts)
    assert counts["with_credit"] >= 2 and counts["switch_flips"] >= 2 and counts["level2_flips"] >= 1, dict(counts)
    assert list(statuses.values()).count("completed") >= 3, statuses
    assert "cancelled" in statuses.values() and "to_ship" in statuses.values(), statuses
    assert world.people["b4"].id in world.approved
    assert any(level == 2 for e in world.orders.values() for level in e.commissions)

    entries = await rows(runtime, "SELECT order_id, level, kind, beneficiary_id, amount_fen, status, base_fen, "
                                  "rate_bp FROM commission_entries ORDER BY id")
    by_order: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for entry in entries:
        by_order[entry[0]].append(entry)

    assert sum(1 for e in entries if e[2] == "commission") >= 20
    assert any(e[2] == "reversal" and e[5] == "settled" for e in entries), "no refunded order went on to complete"

    # every order: per level, the entries add up to commission − reversed share, for the right person
    expected_money: dict[int, dict[str, int]] = defaultdict(lambda: {"frozen": 0, "settled": 0})
    refunded = dict(await rows(runtime, "SELECT id, refunded_fen FROM orders"))
    for order_id, expected in world.orders.items():
        assert refunded[order_id] == expected.refunded_fen, order_id
        found = by_order.pop(order_id, [])
        assert sorted({e[1] for e in found}) == sorted(expected.commissions), (order_id, found, expected)
        status = "settled" if statuses[order_id] == "completed" else "frozen"
        for level, (beneficiary, amount) in expected.commissions.items():
            mine_ = [e for e in found if e[1] == level]
            assert [(e[2], e[3], e[4], e[6]) for e in mine_ if e[2] == "commission"] == [
                ("commission", beneficiary, amount, expected.paid_fen)], (order_id, level, mine_)
            assert {e[3] for e in mine_} == {beneficiary}
            assert all(e[4] < 0 for e in mine_ if e[2] == "reversal")
            assert sum(e[4] for e in mine_) == expected.net(level), (order_id, level, mine_, expected)
            assert {e[5] for e in mine_} == {status}, (order_id, statuses[order_id], mine_)
            expected_money[beneficiary][status] += expected.net(level)
        if expected.refunded_fen == expected.paid_fen and expected.paid_fen:
            assert sum(e[4] for e in found) == 0
    assert by_order == {}, "entries for orders the scenario never placed"

    # every customer: frozen + settled on their page == the sum of their entries == the model
    for person in world.people.values():
        page = await mine(mall, person)
        [(total,)] = await rows(runtime, "SELECT coalesce(sum(amount_fen), 0) FROM commission_entries "
                                         "WHERE beneficiary_id = :c", c=person.id)
        assert page["frozen_fen"] + page["settled_fen"] == total, person.name
        assert (page["frozen_fen"], page["settled_fen"]) == (expected_money[person.id]["frozen"],
                                                             expected_money[person.id]["settled"]), person.name
    earners = {e[3] for e in entries}
    assert earners <= world.approved
    assert world.people["b6"].id not in earners and world.people["b5"].id not in earners

    # every wallet is the sum of its entries, never below zero
    wallets = await rows(runtime, "SELECT w.customer_id, w.balance_fen, (SELECT coalesce(sum(e.amount_fen), 0) "
                                  "FROM wallet_entries e WHERE e.customer_id = w.customer_id) FROM wallets w")
    assert len(wallets) >= 4
    for customer_id, balance, total in wallets:
        assert balance == total >= 0, customer_id

    # no commission on an order that was never paid
    assert await rows(runtime, "SELECT c.id FROM commission_entries c JOIN orders o ON o.id = c.order_id "
                               "WHERE o.paid_at IS NULL OR o.paid_fen < o.total_fen") == []


# --- two workers at once (PostgreSQL) ---------------------------------------------------------------------------------

@pytest.mark.postgres
async def test_two_workers_reversing_one_order_never_take_back_more_than_its_commission(client, mall, runtime,
                                                                                       monkeypatch):
    """Refunds of 500 and then 499 of a 999 payment land while two workers run their reversal jobs side by side:
    the ledger must still take back exactly 99 and 49, however the jobs interleave."""
    await configured(mall)
    a, b, c = await family(mall)
    order = await buy(mall, c, 1, sku_id=await add_sku(mall, 999, "acme-999"))
    assert await rows(runtime, "SELECT level, amount_fen FROM commission_entries ORDER BY level") == [(1, 99), (2, 49)]

    first_read, both_read = asyncio.Event(), asyncio.Barrier(2)
    real = repository.reversed_so_far

    async def side_by_side(session: Any, order_id: int, level: int) -> int:
        """The interleaving two workers can produce: each has read before either writes (a guard of 5 s lets a
        locking implementation, where the second job waits for the first, finish)."""
        found = await real(session, order_id, level)
        first_read.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(both_read.wait(), timeout=5)
        return found

    monkeypatch.setattr(repository, "reversed_so_far", side_by_side)

    async def refunded_so_far(amount: int) -> None:
        """What refund_succeeded commits for each of the two refunds (the money side is not under test here)."""
        async with runtime.sessionmaker() as session:
            await session.execute(text("UPDATE orders SET refund_reserved_fen = 999, refunded_fen = :r WHERE id = :o"),
                                  {"r": amount, "o": order})
            await session.commit()

    payload = {"merchant_id": mall.merchant_id, "subject_id": order}
    await refunded_so_far(500)
    first = asyncio.create_task(distribution.reverse(runtime, payload))
    await first_read.wait()
    await refunded_so_far(999)
    second = asyncio.create_task(distribution.reverse(runtime, payload))
    await asyncio.gather(first, second)
    assert await rows(runtime, "SELECT level, sum(amount_fen) FROM commission_entries WHERE kind = 'reversal' "
                               "GROUP BY level ORDER BY level") == [(1, -99), (2, -49)]
