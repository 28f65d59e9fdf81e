"""Prizes that grow, coupon prizes and helper gifts under real concurrency (PostgreSQL): many HTTP requests at the
same moment, each on its own connection.

Packets opening at once never overspend the ladder's pool (each credit is claimed by one guarded statement, the
rung's minimum when the draw no longer fits), and each is paid once; one customer's packets opening at once take
ranks 1..n exactly once each; coupon rungs and helper gifts never pass their stock or the template's; a goods prize
raced by two orders is held by one.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.campaigns.assist.test_assist_ladder import coupon_template, credit, ladder_campaign
from tests.campaigns.assist.test_assist_paths import assist_campaign, open_packet, try_help
from tests.campaigns.assist.test_assist_races_postgres import CROWD, shoppers_with_devices
from tests.support import Mall, Who, counter, customer_id, problem, rows, together, value

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("signed_staff_tokens")]


async def started_packets(mall: Mall, owners: list[Who], campaign_id: int) -> list[int]:
    return [(await open_packet(mall, who, campaign_id, who["X-Device-Id"]))["id"] for who in owners]


async def test_forty_packets_opening_at_once_never_overspend_the_ladders_pool(client, mall):
    """Pool ¥50 for ¥3–5 prizes: 40 packets open at once. What was credited, the pool's budget and the won packets'
    prizes are the same sum, never above the pool; every won packet has exactly one credit entry; the packets that
    found the pool short were paid nothing, gave their place back, and found less than the ¥3 minimum left."""
    pool = 5_000
    campaign_id = await ladder_campaign(mall, [credit(300, 500)], pool_fen=pool, winners=100, **CROWD)
    owners = await shoppers_with_devices(mall, "owner", 40)
    packet_ids = await started_packets(mall, owners, campaign_id)
    friends = await shoppers_with_devices(mall, "friend", 40)
    answers = await together(try_help(mall, who, packet_id) for who, packet_id in zip(friends, packet_ids,
                                                                                      strict=True))
    assert Counter(r.status_code for r in answers) == {201: 40}
    found = await rows(mall.runtime, "SELECT id, outcome, prize_fen FROM assist_packets WHERE campaign_id = :c",
                       c=campaign_id)
    won = {packet_id: fen for packet_id, outcome, fen in found if outcome == "won"}
    short = [packet_id for packet_id, outcome, _ in found if outcome == "pool_short"]
    assert len(won) + len(short) == 40 and len(won) >= pool // 500
    assert all(300 <= fen <= 500 for fen in won.values())
    entries = await rows(mall.runtime, "SELECT source_id, amount_fen FROM wallet_entries WHERE kind = 'assist_prize'")
    assert dict(entries) == won and len(entries) == len(won)
    used = await counter(mall.runtime, f"budget:{campaign_id}:assist_prize")
    assert used == sum(won.values()) <= pool
    assert await value(mall.runtime, "SELECT coalesce(sum(balance_fen), 0) FROM wallets") == used
    assert short and pool - used < 300
    assert await counter(mall.runtime, f"slots:assist:{campaign_id}") == len(won)


async def test_one_customers_packets_opening_at_once_take_each_rank_once(client, mall):
    """Alice's 5 packets open at the same moment: ranks 1..5 each once, and each paid its rung (¥1, ¥2, then ¥3)."""
    campaign_id = await ladder_campaign(mall, [credit(100), credit(200), credit(300)], **CROWD)
    [alice] = await shoppers_with_devices(mall, "alice", 1)
    packet_ids = await started_packets(mall, [alice] * 5, campaign_id)
    friends = await shoppers_with_devices(mall, "friend", 5)
    answers = await together(try_help(mall, who, packet_id) for who, packet_id in zip(friends, packet_ids,
                                                                                      strict=True))
    assert Counter(r.status_code for r in answers) == {201: 5}
    found = await rows(mall.runtime, "SELECT rank, prize_fen FROM assist_packets ORDER BY rank")
    assert found == [(1, 100), (2, 200), (3, 300), (4, 300), (5, 300)]
    assert await counter(mall.runtime, f"assist_rank:{campaign_id}:{await customer_id(mall, alice)}") == 5
    assert await value(mall.runtime, "SELECT balance_fen FROM wallets") == 1_200


@pytest.mark.parametrize(("rung_stock", "template_stock", "given"), [(5, None, 5), (50, 3, 3)])
async def test_a_coupon_rung_never_passes_its_stock_or_the_templates(client, mall, rung_stock, template_stock, given):
    """20 packets of a coupon rung open at once: exactly `given` coupons are issued (the lower of the rung's stock
    and the template's), one per winning packet; the rest are stock_out with their place given back."""
    template_id = await coupon_template(mall, **({"stock": template_stock} if template_stock else {}))
    campaign_id = await ladder_campaign(mall, [{"kind": "coupon", "coupon_template_id": template_id,
                                                "stock": rung_stock}], **CROWD)
    owners = await shoppers_with_devices(mall, "owner", 20)
    packet_ids = await started_packets(mall, owners, campaign_id)
    friends = await shoppers_with_devices(mall, "friend", 20)
    answers = await together(try_help(mall, who, packet_id) for who, packet_id in zip(friends, packet_ids,
                                                                                      strict=True))
    assert Counter(r.status_code for r in answers) == {201: 20}
    outcomes = await rows(mall.runtime, "SELECT outcome, count(*) FROM assist_packets GROUP BY outcome")
    assert dict(outcomes) == {"won": given, "stock_out": 20 - given}
    coupons = await rows(mall.runtime, "SELECT source_type, source_id FROM coupons")
    won = await rows(mall.runtime, "SELECT id, gift_ref FROM assist_packets WHERE outcome = 'won'")
    assert sorted(coupons) == sorted(("assist", packet_id) for packet_id, _ in won)
    assert await value(mall.runtime, "SELECT issued FROM coupon_templates") == given
    assert await counter(mall.runtime, f"gifts:{campaign_id}:rung1") == given
    assert await counter(mall.runtime, f"slots:assist:{campaign_id}") == given


async def test_twenty_helpers_at_once_share_a_helper_gift_of_seven(client, mall):
    """A packet needing 20 helps and a helper gift of 7 coupons: 20 friends help at once; exactly 7 coupons are
    issued, to 7 different helpers, one per help."""
    template_id = await coupon_template(mall, name="助力券")
    campaign_id = await assist_campaign(mall, helpers_needed=20, helper_gift={
        "kind": "coupon", "coupon_template_id": template_id, "stock": 7}, **CROWD)
    [alice] = await shoppers_with_devices(mall, "alice", 1)
    [packet_id] = await started_packets(mall, [alice], campaign_id)
    friends = await shoppers_with_devices(mall, "friend", 20)
    answers = await together(try_help(mall, who, packet_id) for who in friends)
    assert Counter(r.status_code for r in answers) == {201: 20}
    coupons = await rows(mall.runtime, "SELECT customer_id, source_type, source_id FROM coupons")
    help_of = dict(await rows(mall.runtime, "SELECT id, helper_id FROM helps"))
    assert len(coupons) == 7 and {source for _, source, _ in coupons} == {"help"}
    assert len({customer for customer, _, _ in coupons}) == 7
    assert all(help_of[help_id] == customer for customer, _, help_id in coupons)
    assert await counter(mall.runtime, f"gifts:{campaign_id}:helper_gift") == 7
    assert await value(mall.runtime, "SELECT issued FROM coupon_templates") == 7


async def test_a_goods_prize_raced_by_two_orders_is_held_by_one(client, mall):
    """Two orders of the same goods prize at once: one is placed, the other is 409 goods_prize_taken."""
    campaign_id = await ladder_campaign(mall, [{"kind": "goods", "product_id": mall.product_id,
                                                "sku_id": mall.sku_id, "stock": 1}], **CROWD)
    [alice] = await shoppers_with_devices(mall, "alice", 1)
    [packet_id] = await started_packets(mall, [alice], campaign_id)
    [friend] = await shoppers_with_devices(mall, "friend", 1)
    prize = (await try_help(mall, friend, packet_id)).json()["gift"]
    choice = {"campaign": {"kind": "prize", "campaign_id": campaign_id, "target_id": prize["ref"]}}
    answers = await together(mall.place_order(alice, **choice) for _ in range(2))
    assert sorted(r.status_code for r in answers) == [201, 409]
    problem(next(r for r in answers if r.status_code == 409), 409, "goods_prize_taken")
    placed = next(r for r in answers if r.status_code == 201).json()
    assert await rows(mall.runtime, "SELECT status, order_id FROM goods_prizes") == [("ordered", placed["id"])]
    assert await value(mall.runtime, "SELECT count(*) FROM orders") == 1
