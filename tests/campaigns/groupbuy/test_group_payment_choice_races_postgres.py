"""Mixed payment choices racing for a group's seats (PostgreSQL): leaders and joiners who chose a deposit and
joiners who chose full payment all pay at the same moment. Each group takes exactly its size; the winners owe what
their way says (a balance after a deposit, nothing after full payment); every loser is refunded exactly what they
paid, once; money is conserved to the fen."""

from __future__ import annotations

import pytest

from tests.campaigns.groupbuy.test_group_flow import group_campaign
from tests.campaigns.groupbuy.test_group_payment_choice import CHOOSING, choose
from tests.campaigns.groupbuy.test_group_races_postgres import notify_paid, open_payment
from tests.support import Mall, rows, shoppers, together, value, work_until_idle

pytestmark = pytest.mark.postgres

GROUPS, SIZE, JOINERS_PER_GROUP = 8, 3, 6
PRICE, DEPOSIT = 800, 80


async def test_mixed_choices_race_for_the_seats_and_losers_get_back_what_they_paid(client, runtime):
    """2 free seats in each of 8 groups, 6 payers per group at once (half deposit, half full): exactly 2 are seated
    per group, every group succeeds with 3; each of the 32 losers gets their own 80 or 800 back and nothing else."""
    mall = await Mall.create(client, runtime, slug="mixed", stock=1000)
    campaign_id = await group_campaign(mall, **CHOOSING, group_size=SIZE, race_loser="refund")
    leaders = await shoppers(mall, "leader", GROUPS, at_once=True)
    opened = await together(choose(mall, who, campaign_id, None, "deposit") for who in leaders)
    for who, order in zip(leaders, opened, strict=True):
        await mall.client.post(f"/sandbox/payments/{await open_payment(mall, who, order['id'])}/complete", headers=who)
    await work_until_idle(mall)
    groups = dict(await rows(runtime, "SELECT order_id, group_id FROM group_orders"))
    group_ids = [groups[o["id"]] for o in opened]

    joiners = await shoppers(mall, "joiner", GROUPS * JOINERS_PER_GROUP, at_once=True)
    ways = ["deposit" if i % 2 else "full" for i in range(len(joiners))]
    targets = [group_ids[i % GROUPS] for i in range(len(joiners))]
    orders = await together(choose(mall, who, campaign_id, group_id, way)
                            for who, group_id, way in zip(joiners, targets, ways, strict=True))
    assert [o["deposit_fen"] for o in orders] == [DEPOSIT if way == "deposit" else None for way in ways]
    await together(open_payment(mall, who, o["id"]) for who, o in zip(joiners, orders, strict=True))
    answers = await together(notify_paid(client, runtime, o["order_no"], DEPOSIT if way == "deposit" else PRICE)
                             for o, way in zip(orders, ways, strict=True))
    assert {r.status_code for r in answers} == {200}
    await work_until_idle(mall)

    assert await rows(runtime, "SELECT status, paid_count, count(*) FROM buying_groups GROUP BY status, paid_count") \
        == [("succeeded", SIZE, GROUPS)]
    seated = {order_id for (order_id,) in await rows(
        runtime, "SELECT order_id FROM group_orders WHERE active AND seat_no IS NOT NULL")}
    way_of = {o["id"]: way for o, way in zip(orders, ways, strict=True)} | {o["id"]: "deposit" for o in opened}
    assert dict(await rows(runtime, "SELECT order_id, payment FROM group_orders")) == way_of
    state = {order_id: (status, paid, refunded) for order_id, status, paid, refunded in await rows(
        runtime, "SELECT id, status, paid_fen, refunded_fen FROM orders")}
    winners = [o["id"] for o in orders if o["id"] in seated]
    losers = [o["id"] for o in orders if o["id"] not in seated]
    assert (len(winners), len(losers)) == (GROUPS * (SIZE - 1), GROUPS * JOINERS_PER_GROUP - GROUPS * (SIZE - 1))
    for order_id in [*winners, *(o["id"] for o in opened)]:
        expected = ("balance_due", DEPOSIT, 0) if way_of[order_id] == "deposit" else ("to_ship", PRICE, 0)
        assert state[order_id] == expected, order_id
    for order_id in losers:
        paid = DEPOSIT if way_of[order_id] == "deposit" else PRICE
        assert state[order_id] == ("refunded", paid, paid), order_id
    refunds = await rows(runtime, "SELECT r.order_id, count(*), sum(r.amount_fen), count(DISTINCT s.id) FROM refunds r "
                                  "LEFT JOIN sandbox_refunds s ON s.out_refund_no = r.refund_no GROUP BY r.order_id")
    assert sorted(refunds) == sorted((order_id, 1, state[order_id][1], 1) for order_id in losers)
    [(paid, refunded)] = await rows(runtime, "SELECT sum(paid_fen), sum(refunded_fen) FROM orders")
    kept = sum(DEPOSIT if way_of[i] == "deposit" else PRICE for i in [*winners, *(o["id"] for o in opened)])
    assert paid - refunded == kept
    assert await value(runtime, "SELECT max(paid_count) FROM buying_groups") == SIZE
