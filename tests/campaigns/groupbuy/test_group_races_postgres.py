"""Group buying under real concurrency (PostgreSQL): many HTTP requests at the same moment, each on its own
connection.

A group never has more paid members than its size; the payment that finds it full gets what the campaign
promised (a group of its own, or its money back, exactly once); campaign stock caps, per-customer limits and
"one customer once per group" hold however the requests interleave; money is conserved to the fen.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Awaitable
from typing import Any

import httpx
import pytest

from fissionmall.core.runtime import Runtime
from fissionmall.orders import tasks as order_tasks
from fissionmall.payments.providers.sandbox import signed_headers
from tests.campaigns.groupbuy.test_group_flow import group_campaign, group_order
from tests.support import Mall, Who, problem, rows, shoppers, together, value, work_until_idle

pytestmark = pytest.mark.postgres

GROUPS, SIZE, JOINERS_PER_GROUP = 20, 5, 10
GROUP_PRICE, LEADER_PRICE = 800, 700  # the campaign's group price; the leader gets 100 fen off


# --- helpers ----------------------------------------------------------------------------------------------------------

async def try_group_order(mall: Mall, who: Who, campaign_id: int, group_id: int | None = None) -> httpx.Response:
    """A group order that may be refused (group_order asserts success)."""
    return await mall.place_order(who, campaign={"kind": "group", "campaign_id": campaign_id, "target_id": group_id})


async def open_payment(mall: Mall, who: Who, order_id: int) -> int:
    response = await mall.client.post(f"/orders/{order_id}/pay", headers=who)
    assert response.status_code == 200, response.text
    payment_id: int = response.json()["payment_id"]
    return payment_id


async def notify_paid(client: httpx.AsyncClient, runtime: Runtime, out_trade_no: str,
                      amount_fen: int) -> httpx.Response:
    """The sandbox's payment notification (same body as it queues), signed now, delivered by us."""
    body = json.dumps({"id": f"pay-{out_trade_no}", "event_type": "TRANSACTION.SUCCESS",
                       "create_time": runtime.clock.now().isoformat(),
                       "resource": {"out_trade_no": out_trade_no, "transaction_id": f"sbx-{out_trade_no}",
                                    "amount_fen": amount_fen}}, separators=(",", ":")).encode()
    return await client.post("/payments/notify/sandbox", content=body,
                             headers=signed_headers(runtime.settings.sandbox_key, body, runtime.clock.now()))


async def campaign_counts(runtime: Runtime, campaign_id: int) -> tuple[int, int, int]:
    """(campaigns.sold, orders, group_orders) of the campaign."""
    sold = await value(runtime, "SELECT sold FROM campaigns WHERE id = :id", id=campaign_id)
    orders = await value(runtime, "SELECT count(*) FROM orders WHERE campaign_id = :id", id=campaign_id)
    entries = await value(runtime, "SELECT count(*) FROM group_orders WHERE campaign_id = :id", id=campaign_id)
    return sold, orders, entries


# --- 200 payers race for 80 seats -------------------------------------------------------------------------------------

async def open_groups(mall: Mall, campaign_id: int) -> tuple[list[int], list[int]]:
    """GROUPS leaders order and pay (the worker delivers their notifications): (group ids, leader order ids)."""
    leaders = await shoppers(mall, "leader", GROUPS, at_once=True)
    orders = await together(group_order(mall, who, campaign_id) for who in leaders)
    payments = await together(open_payment(mall, who, o["id"]) for who, o in zip(leaders, orders, strict=True))
    completed = await together(mall.client.post(f"/sandbox/payments/{payment_id}/complete", headers=who)
                               for who, payment_id in zip(leaders, payments, strict=True))
    assert [r.status_code for r in completed] == [202] * GROUPS
    await work_until_idle(mall)
    order_ids = [o["id"] for o in orders]
    found = dict(await rows(mall.runtime, "SELECT order_id, group_id FROM group_orders WHERE order_id = ANY(:ids)",
                            ids=order_ids))
    assert await value(mall.runtime, "SELECT count(*) FROM buying_groups WHERE status = 'open' AND paid_count = 1 "
                                     "AND campaign_id = :c", c=campaign_id) == GROUPS
    return [found[order_id] for order_id in order_ids], order_ids


@pytest.mark.parametrize("race_loser", ["new_group", "refund"])
async def test_200_payers_race_for_80_seats(client, runtime, race_loser):
    """4 free seats in each of 20 groups, 10 payers per group at once: exactly 4 get a seat, every group ends
    with exactly 5 paid members and succeeds, and each of the 120 losers gets what the campaign promised."""
    mall = await Mall.create(client, runtime, slug="crowd", stock=1000)
    campaign_id = await group_campaign(mall, group_size=SIZE, leader_discount_fen=GROUP_PRICE - LEADER_PRICE,
                                       race_loser=race_loser)
    group_ids, leader_orders = await open_groups(mall, campaign_id)

    joiners = await shoppers(mall, "joiner", GROUPS * JOINERS_PER_GROUP, at_once=True)
    targets = [group_ids[i % GROUPS] for i in range(len(joiners))]
    orders = await together(group_order(mall, who, campaign_id, group_id)
                            for who, group_id in zip(joiners, targets, strict=True))
    assert {o["total_fen"] for o in orders} == {GROUP_PRICE}
    await together(open_payment(mall, who, o["id"]) for who, o in zip(joiners, orders, strict=True))

    answers = await together(notify_paid(client, runtime, o["order_no"], GROUP_PRICE) for o in orders)
    assert [(r.status_code, r.json()) for r in answers] == [(200, {"code": "SUCCESS", "message": "applied"})] * 200
    await work_until_idle(mall)

    # every original group: exactly SIZE paid members, seats 1..SIZE, succeeded
    groups = await rows(runtime, "SELECT id, status, paid_count FROM buying_groups WHERE id = ANY(:ids) ORDER BY id",
                        ids=group_ids)
    assert groups == [(group_id, "succeeded", SIZE) for group_id in sorted(group_ids)]
    seats = await rows(runtime, "SELECT group_id, seat_no, order_id FROM group_orders WHERE group_id = ANY(:ids) "
                                "AND active AND seat_no IS NOT NULL ORDER BY group_id, seat_no", ids=group_ids)
    assert Counter(g for g, _, _ in seats) == {group_id: SIZE for group_id in group_ids}
    assert {(g, s) for g, s, _ in seats} == {(g, s) for g in group_ids for s in range(1, SIZE + 1)}
    assert await value(runtime, "SELECT max(paid_count) FROM buying_groups") <= SIZE
    seated_orders = {order_id for _, _, order_id in seats}
    assert set(leader_orders) <= seated_orders
    winners = [o["id"] for o in orders if o["id"] in seated_orders]
    losers = [o["id"] for o in orders if o["id"] not in seated_orders]
    assert (len(winners), len(losers)) == (80, 120)
    # the winners of a group are among that group's own joiners
    joined = dict(zip((o["id"] for o in orders), targets, strict=True))
    assert all(joined[order_id] == group_id for group_id, seat, order_id in seats if seat > 1)
    statuses = dict(await rows(runtime, "SELECT id, status FROM orders WHERE campaign_id = :c", c=campaign_id))
    assert {statuses[order_id] for order_id in [*leader_orders, *winners]} == {"to_ship"}
    assert await value(runtime, "SELECT count(*) FROM events WHERE kind = 'group_success'") == GROUPS
    assert await value(runtime, "SELECT count(*) FROM events WHERE kind = 'group_join'") == 80

    if race_loser == "new_group":
        led = await rows(runtime, "SELECT go.order_id, go.is_leader, go.seat_no, go.active, bg.leader_id = "
                                  "go.customer_id, bg.status, bg.paid_count, bg.size FROM group_orders go "
                                  "JOIN buying_groups bg ON bg.id = go.group_id WHERE go.order_id = ANY(:ids)",
                         ids=losers)
        assert sorted(led) == [(order_id, True, 1, True, True, "open", 1, SIZE) for order_id in sorted(losers)]
        assert await value(runtime, "SELECT count(DISTINCT group_id) FROM group_orders WHERE order_id = ANY(:ids)",
                           ids=losers) == 120
        assert await value(runtime, "SELECT count(*) FROM buying_groups") == GROUPS + 120
        assert {statuses[order_id] for order_id in losers} == {"paid"}
        assert await value(runtime, "SELECT count(*) FROM refunds") == 0
        assert await value(runtime, "SELECT count(*) FROM events WHERE kind = 'group_open'") == GROUPS + 120
        assert await rows(runtime, "SELECT count(*), sum(used) FROM campaign_quotas") == [(220, 220)]
    else:
        refunded = await rows(runtime, "SELECT id, status, paid_fen, refund_reserved_fen, refunded_fen FROM orders "
                                       "WHERE id = ANY(:ids)", ids=losers)
        assert sorted(refunded) == [(order_id, "refunded", GROUP_PRICE, GROUP_PRICE, GROUP_PRICE)
                                    for order_id in sorted(losers)]
        entries = await rows(runtime, "SELECT order_id, group_id, seat_no, active FROM group_orders "
                                      "WHERE order_id = ANY(:ids)", ids=losers)
        assert sorted(entries) == sorted((order_id, joined[order_id], None, False) for order_id in losers)
        assert await value(runtime, "SELECT count(*) FROM buying_groups") == GROUPS
        # what the losers claimed is given back: campaign stock, their quota, the SKU stock
        assert await value(runtime, "SELECT sold FROM campaigns WHERE id = :c", c=campaign_id) == GROUPS * SIZE
        assert await value(runtime, "SELECT stock FROM skus WHERE id = :s", s=mall.sku_id) == 1000 - GROUPS * SIZE
        assert await rows(runtime, "SELECT count(*), sum(used) FROM campaign_quotas") == [(220, GROUPS * SIZE)]
        assert await value(runtime, "SELECT count(*) FROM campaign_quotas q JOIN orders o ON o.customer_id = "
                                    "q.customer_id WHERE o.id = ANY(:ids) AND q.used = 0", ids=losers) == 120

    # money: what was kept is exactly what the seated members owe; one refund (and one provider refund) each
    [(paid, refunded_total)] = await rows(runtime, "SELECT sum(paid_fen), sum(refunded_fen) FROM orders")
    owed = await value(runtime, "SELECT sum(o.total_fen) FROM orders o JOIN group_orders go ON go.order_id = o.id "
                                "WHERE go.active AND go.seat_no IS NOT NULL")
    assert paid - refunded_total == owed
    losers_kept = 120 * GROUP_PRICE if race_loser == "new_group" else 0
    assert owed == GROUPS * LEADER_PRICE + 80 * GROUP_PRICE + losers_kept
    refunds = await rows(runtime, "SELECT o.id, count(r.id), min(r.status), sum(r.amount_fen), count(DISTINCT s.id) "
                                  "FROM orders o JOIN refunds r ON r.order_id = o.id "
                                  "LEFT JOIN sandbox_refunds s ON s.out_refund_no = r.refund_no GROUP BY o.id")
    expected = [] if race_loser == "new_group" else [(order_id, 1, "succeeded", GROUP_PRICE, 1)
                                                     for order_id in sorted(losers)]
    assert sorted(refunds) == expected
    assert await value(runtime, "SELECT count(*) FROM sandbox_refunds") == len(expected)
    assert await value(runtime, "SELECT count(*) FROM orders WHERE status = 'refunded'") == len(expected)


# --- claims under concurrency -----------------------------------------------------------------------------------------

async def test_per_customer_limit_holds_under_concurrent_orders(client, mall):
    """One shopper firing 10 open-group orders at once gets exactly per_customer_limit of them."""
    campaign_id = await group_campaign(mall, per_customer_limit=2)
    alice = await mall.shopper("alice")
    answers = await together(try_group_order(mall, alice, campaign_id) for _ in range(10))
    assert sorted(r.status_code for r in answers) == [201] * 2 + [409] * 8
    for refused in (r for r in answers if r.status_code != 201):
        problem(refused, 409, "campaign_limit_reached")
    assert await campaign_counts(mall.runtime, campaign_id) == (2, 2, 2)
    assert await rows(mall.runtime, "SELECT used FROM campaign_quotas") == [(2,)]
    assert await mall.sku_stock() == 98
    assert await value(mall.runtime, "SELECT count(*) FROM order_items") == 2


async def test_campaign_stock_cap_holds_under_concurrent_orders(client, mall):
    """20 shoppers opening groups at once on a campaign capped at 5 units: 5 orders, the rest sold out."""
    campaign_id = await group_campaign(mall)
    owner = await mall.staff()
    assert (await client.post(f"/admin/campaigns/{campaign_id}/pause", headers=owner)).status_code == 200
    patched = await client.patch(f"/admin/campaigns/{campaign_id}", headers=owner, json={"stock_cap": 5})
    assert patched.status_code == 200 and patched.json()["stock_cap"] == 5, patched.text
    assert (await client.post(f"/admin/campaigns/{campaign_id}/activate", headers=owner)).status_code == 200
    crowd = await shoppers(mall, "s", 20, at_once=True)
    answers = await together(try_group_order(mall, who, campaign_id) for who in crowd)
    assert sorted(r.status_code for r in answers) == [201] * 5 + [409] * 15
    for refused in (r for r in answers if r.status_code != 201):
        problem(refused, 409, "campaign_sold_out")
    assert await campaign_counts(mall.runtime, campaign_id) == (5, 5, 5)
    assert await rows(mall.runtime, "SELECT count(*), sum(used) FROM campaign_quotas") == [(5, 5)]
    assert await mall.sku_stock() == 95


async def test_same_shopper_joins_a_group_once_under_concurrency(client, mall):
    """5 concurrent joins of one group by one shopper: the unique index lets exactly one order through."""
    campaign_id = await group_campaign(mall, group_size=5, per_customer_limit=5)
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    leader_order = await group_order(mall, alice, campaign_id)
    await mall.pay(alice, leader_order["id"])
    [(group_id,)] = await rows(mall.runtime, "SELECT id FROM buying_groups")
    answers = await together(try_group_order(mall, bob, campaign_id, group_id) for _ in range(5))
    assert sorted(r.status_code for r in answers) == [201] + [409] * 4
    for refused in (r for r in answers if r.status_code != 201):
        problem(refused, 409, "already_in_group")
    [joined] = [r.json() for r in answers if r.status_code == 201]
    entries = await rows(mall.runtime, "SELECT order_id, group_id, is_leader, seat_no, active FROM group_orders "
                                       "WHERE order_id <> :leader", leader=leader_order["id"])
    assert entries == [(joined["id"], group_id, False, None, True)]
    assert await campaign_counts(mall.runtime, campaign_id) == (2, 2, 2)
    assert await rows(mall.runtime, "SELECT c.openid, q.used FROM campaign_quotas q "
                                    "JOIN customers c ON c.id = q.customer_id ORDER BY c.openid") == [
        ("alice", 1), ("bob", 1)]
    assert await mall.sku_stock() == 98
    assert await rows(mall.runtime, "SELECT paid_count, status FROM buying_groups") == [(1, "open")]


# --- balances racing their deadline ---------------------------------------------------------------------------------


@pytest.mark.parametrize("on_lapse", ["refund", "forfeit"])
async def test_balances_racing_the_lapse_sweep_settle_each_order_once(client, runtime, clock, on_lapse):
    """20 deposit orders in succeeded groups open their balance payments; at the deadline the 20 notifications
    arrive while four workers sweep lapsed balances. Each order either ships (balance applied first) or lapses and
    gets the late balance back (and the deposit as published); never both, never a refund twice."""
    mall = await Mall.create(client, runtime, slug="balances", stock=100)
    campaign_id = await group_campaign(mall, group_size=2, deposit_percent=10, balance_hours=1,
                                       deposit_on_lapse=on_lapse)
    people = await shoppers(mall, "payer", 20, at_once=True)
    leaders, members = people[:10], people[10:]
    orders = await together(group_order(mall, who, campaign_id) for who in leaders)
    for who, order in zip(leaders, orders, strict=True):
        await mall.client.post(f"/sandbox/payments/{await open_payment(mall, who, order['id'])}/complete", headers=who)
    await work_until_idle(mall)
    groups = dict(await rows(runtime, "SELECT order_id, group_id FROM group_orders"))
    joined = await together(group_order(mall, who, campaign_id, groups[o["id"]])
                            for who, o in zip(members, orders, strict=True))
    for who, order in zip(members, joined, strict=True):
        await mall.client.post(f"/sandbox/payments/{await open_payment(mall, who, order['id'])}/complete", headers=who)
    await work_until_idle(mall)
    every = [*orders, *joined]
    assert {s for (s,) in await rows(runtime, "SELECT status FROM orders")} == {"balance_due"}
    await together(open_payment(mall, who, o["id"]) for who, o in zip(people, every, strict=True))

    clock.advance(hours=1, minutes=1)
    calls: list[Awaitable[Any]] = []
    for i, order in enumerate(every):  # a deadline sweep starts before every fifth notification
        calls += [order_tasks.lapse_balances(runtime, clock.now())] if i % 5 == 0 else []
        calls.append(notify_paid(client, runtime, f"{order['order_no']}B", 720))
    answers = await together(calls)
    assert [a.status_code for a in answers if isinstance(a, httpx.Response)] == [200] * 20
    await work_until_idle(mall)

    final = await rows(runtime, "SELECT id, status, paid_fen, refunded_fen, refund_reserved_fen FROM orders")
    shipped = [row for row in final if row[1] == "to_ship"]
    lapsed = [row for row in final if row[1] != "to_ship"]
    assert all(row[2:] == (800, 0, 0) for row in shipped)
    kept = 80 if on_lapse == "forfeit" else 0
    lapsed_state = ("cancelled", 800, 720, 720) if on_lapse == "forfeit" else ("refunded", 800, 800, 800)
    assert all(row[1:] == lapsed_state for row in lapsed), lapsed
    assert len(shipped) + len(lapsed) == 20
    [(paid, refunded)] = await rows(runtime, "SELECT sum(paid_fen), sum(refunded_fen) FROM orders")
    assert paid - refunded == 800 * len(shipped) + kept * len(lapsed)
    # each refund once, through the payment it returns, never more than that payment took
    per_payment = await rows(runtime, "SELECT p.out_trade_no, p.amount_fen, coalesce(sum(r.amount_fen), 0), "
                                      "count(r.id), count(DISTINCT s.id) FROM payments p "
                                      "LEFT JOIN refunds r ON r.out_trade_no = p.out_trade_no "
                                      "LEFT JOIN sandbox_refunds s ON s.out_refund_no = r.refund_no "
                                      "GROUP BY p.out_trade_no, p.amount_fen")
    assert all(taken <= amount and count == provider_refunds
               for _, amount, taken, count, provider_refunds in per_payment)
    assert await value(runtime, "SELECT count(*) FROM refunds WHERE status <> 'succeeded'") == 0
