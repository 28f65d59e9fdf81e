"""A multi-product group under real concurrency (PostgreSQL): joiners choosing different products order and pay at
the same moment, each request on its own connection. The group never has more paid members than its size, whatever
each chose; no SKU is ever sold beyond its stock; every payment that finds the group full is refunded exactly once and
gives its stock back."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.campaigns.groupbuy.test_group_races_postgres import notify_paid, open_payment
from tests.campaigns.groupbuy.test_multi_product import FLAVOURS, choose, chosen, flavours, multi_campaign, stock
from tests.support import Mall, codes, rows, shoppers, together, value, work_until_idle

pytestmark = pytest.mark.postgres

SIZE, PER_FLAVOUR = 5, 10
STOCKS = {"原味": 3, "草莓": 2, "抹茶": 40}
"""原味 is left with 2 once the leader has bought one, 草莓 with 2: fewer than the joiners who want them."""


async def test_concurrent_joins_choosing_different_products_never_overfill_nor_oversell(client, runtime):
    mall = await Mall.create(client, runtime, slug="flavours")
    skus = await flavours(mall, stocks=STOCKS)
    campaign_id = await multi_campaign(mall, skus, group_size=SIZE, race_loser="refund", per_customer_limit=1)
    leader = await mall.shopper("leader")
    opened = await chosen(mall, leader, campaign_id, skus["原味"])
    await mall.pay(leader, opened["id"])
    [(group_id,)] = await rows(runtime, "SELECT group_id FROM group_orders WHERE order_id = :o", o=opened["id"])

    # 30 joiners, 10 per flavour, order at once: stock decides who gets an order, per SKU
    joiners = await shoppers(mall, "joiner", PER_FLAVOUR * len(FLAVOURS), at_once=True)
    wanted = [list(FLAVOURS)[i % len(FLAVOURS)] for i in range(len(joiners))]
    answers = await together(choose(mall, who, campaign_id, skus[flavour], group_id)
                             for who, flavour in zip(joiners, wanted, strict=True))
    assert codes(answers) == Counter({(201, None): 2 + 2 + PER_FLAVOUR, (409, "out_of_stock"): 16})
    assert await stock(mall, skus) == {"原味": 0, "草莓": 0, "抹茶": STOCKS["抹茶"] - PER_FLAVOUR}
    placed = [(who, flavour, answer.json()) for who, flavour, answer in zip(joiners, wanted, answers, strict=True)
              if answer.status_code == 201]
    assert {(flavour, order["total_fen"]) for _, flavour, order in placed} == \
        {(flavour, price) for flavour, (_, price) in FLAVOURS.items()}

    # the 14 who hold an order pay at once: 4 seats are left
    await together(open_payment(mall, who, order["id"]) for who, _, order in placed)
    paid = await together(notify_paid(client, runtime, order["order_no"], order["total_fen"])
                          for _, _, order in placed)
    assert {r.status_code for r in paid} == {200}
    await work_until_idle(mall)

    assert await rows(runtime, "SELECT status, paid_count, size FROM buying_groups") == [("succeeded", SIZE, SIZE)]
    seats = await rows(runtime, "SELECT go.seat_no, oi.sku_id FROM group_orders go JOIN order_items oi ON "
                                "oi.order_id = go.order_id WHERE go.group_id = :g AND go.active AND go.seat_no IS NOT "
                                "NULL ORDER BY go.seat_no", g=group_id)
    assert [seat for seat, _ in seats] == list(range(1, SIZE + 1))
    statuses = Counter(await rows(runtime, "SELECT o.status, oi.sku_id FROM orders o JOIN order_items oi ON "
                                           "oi.order_id = o.id WHERE o.campaign_id = :c", c=campaign_id))
    assert sum(n for (status, _), n in statuses.items() if status == "to_ship") == SIZE
    assert sum(n for (status, _), n in statuses.items() if status == "refunded") == len(placed) + 1 - SIZE
    assert set(statuses) <= {("to_ship", s) for s in skus.values()} | {("refunded", s) for s in skus.values()}
    # no SKU sold beyond its stock: what ships of each, plus what is left, is what there was
    left = await stock(mall, skus)
    for flavour, sku_id in skus.items():
        shipped = statuses[("to_ship", sku_id)]
        assert left[flavour] >= 0 and shipped + left[flavour] == STOCKS[flavour], (flavour, shipped, left)
    refunded = await rows(runtime, "SELECT o.id, o.paid_fen, o.refunded_fen, count(r.id) FROM orders o JOIN refunds r "
                                   "ON r.order_id = o.id WHERE o.campaign_id = :c "
                                   "GROUP BY o.id, o.paid_fen, o.refunded_fen", c=campaign_id)
    assert len(refunded) == len(placed) + 1 - SIZE
    assert all(paid_fen == refunded_fen and count == 1 for _, paid_fen, refunded_fen, count in refunded)
    assert await value(runtime, "SELECT sold FROM campaigns WHERE id = :c", c=campaign_id) == SIZE
