"""Coupon packets under real concurrency (PostgreSQL): many claims at the same moment, each request on its own
connection.

500 distinct customers racing for a packet's 10 slots: exactly 10 claims succeed, one per customer, each with one
of the amounts fixed when the packet was made (slot n to the n-th claimer, every slot once), each issuing one coupon
of exactly that amount; everyone else is told the packet is empty or closed, and the sharer's reward is paid once.
One customer firing 20 claims at once gets one. The daily help limit holds however a customer's claims interleave.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable
from typing import Any

import pytest

from tests.campaigns.packets.test_packets import bought_packet, coupons, packet, packet_campaign, signup, slots, wallet
from tests.support import Mall, Who, problem, rows, together, value

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("signed_staff_tokens")]

SLOTS, CROWD = 10, 500
FAST = {"velocity": {"per_ip_range_hour": 100_000}}
"""Every test request comes from one address (one /24): the range limit must not be what refuses them."""


# --- helpers ----------------------------------------------------------------------------------------------------------

def device(who: Who, device_id: str) -> Who:
    return {**who, "X-Device-Id": device_id}


async def customer_ids(mall: Mall) -> dict[str, int]:
    """openid → customer id."""
    return {openid: customer_id for openid, customer_id in await rows(
        mall.runtime, "SELECT openid, id FROM customers WHERE merchant_id = :m", m=mall.merchant_id)}


# --- 500 customers, 10 slots ------------------------------------------------------------------------------------------

async def test_500_customers_race_for_10_slots(client, mall):
    """Exactly 10 of 500 simultaneous claims succeed, one per customer; their amounts are exactly the slots fixed at
    creation, slot n to the n-th; 10 coupons of those amounts; 490 answers 409 packet_empty or packet_closed; the
    sharer is rewarded once at the 5th friend."""
    campaign_id = await packet_campaign(mall, slots=SLOTS, total_fen=2000, min_fen=50, max_fen=400,
                                        sharer_reward_after=5, sharer_reward_fen=100,
                                        reward_budget={"total_fen": 10_000}, **FAST)
    alice = await signup(mall, "alice", "alice-phone")
    made = await bought_packet(mall, alice)
    amounts = await slots(mall.runtime, made["id"])
    assert (len(amounts), sum(amounts)) == (SLOTS, 2000)
    assert all(50 <= a <= 400 for a in amounts), amounts

    crowd = await together(signup(mall, f"c{i}", f"device-{i}") for i in range(CROWD))
    ids = await customer_ids(mall)
    answers = await together(client.post(f"/packets/{made['id']}/claims", headers=device(who, f"device-{i}"))
                             for i, who in enumerate(crowd))

    won = [i for i, answer in enumerate(answers) if answer.status_code == 201]
    assert len(won) == SLOTS, Counter(a.status_code for a in answers)
    lost = [answers[i] for i in range(CROWD) if i not in won]
    assert {(a.status_code, a.headers["content-type"].split(";")[0]) for a in lost} == {
        (409, "application/problem+json")}
    lost_codes = Counter(a.json()["code"] for a in lost)
    assert set(lost_codes) <= {"packet_empty", "packet_closed"}, lost_codes
    winners = {ids[f"c{i}"] for i in won}
    assert len(winners) == SLOTS

    # slots: each taken once, by a distinct winner; the helps record the same seq and amount
    taken = await rows(mall.runtime, "SELECT seq, amount_fen, taken_by FROM prize_slots WHERE owner_type = 'packet' "
                                     "AND owner_id = :p ORDER BY seq", p=made["id"])
    assert [(seq, amount) for seq, amount, _ in taken] == list(enumerate(amounts, start=1))
    assert {who for _, _, who in taken} == winners
    helps = await rows(mall.runtime, "SELECT seq, amount_fen, helper_id FROM helps WHERE target_type = 'packet' "
                                     "AND target_id = :p ORDER BY seq", p=made["id"])
    assert helps == taken
    # the n-th claimer (by slot) got slot n's amount in their answer
    by_customer = {who: (seq, amount) for seq, amount, who in taken}
    for i in won:
        mine = [c for c in answers[i].json()["claims"] if c["customer_id"] == ids[f"c{i}"]]
        assert [(c["seq"], c["amount_fen"]) for c in mine] == [by_customer[ids[f"c{i}"]]]

    # coupons: one per winner, of exactly its slot's amount, none for anyone else
    issued = await rows(mall.runtime, "SELECT customer_id, amount_fen, source_type, source_id FROM coupons")
    assert sorted(issued) == sorted((who, amount, "packet", made["id"]) for _, amount, who in taken)
    assert sum(amount for _, amount, _, _ in issued) == 2000
    template_id = await value(mall.runtime, "SELECT id FROM coupon_templates")
    for i in won:
        assert await coupons(mall, crowd[i]) == [(by_customer[ids[f"c{i}"]][1], "packet", template_id, "available", 0)]

    assert await rows(mall.runtime, "SELECT status, friends_claimed FROM coupon_packets") == [("finished", SLOTS)]
    assert await value(mall.runtime, "SELECT used FROM counters WHERE key = :k",
                       k=f"slots:packet:{made['id']}") == SLOTS
    assert await value(mall.runtime, "SELECT count(*) FROM events WHERE kind = 'packet_claim'") == SLOTS
    view = await packet(mall, made["id"])
    assert (view["status"], view["slots_left"], len(view["claims"])) == ("finished", 0, SLOTS)
    assert [c["luckiest"] for c in view["claims"]] == [a == max(amounts) and amounts.index(a) == n
                                                      for n, a in enumerate(amounts)]
    # the sharer: rewarded once, at the 5th friend
    assert await wallet(mall, alice) == (100, [(100, "sharer_reward", "packet", made["id"])])
    assert await value(mall.runtime, "SELECT used FROM counters WHERE key = :k",
                       k=f"budget:{campaign_id}:sharer_reward") == 100


async def test_one_customer_claiming_20_times_at_once_gets_one_claim(client, mall):
    """20 simultaneous claims of one packet by one customer: one 201, 19 × 409 already_helped; one help, one slot,
    one coupon."""
    await packet_campaign(mall, slots=SLOTS, total_fen=1000, **FAST)
    made = await bought_packet(mall, await mall.shopper("alice"))
    amounts = await slots(mall.runtime, made["id"])
    bob = await signup(mall, "bob", "bob-phone")
    answers = await together(client.post(f"/packets/{made['id']}/claims", headers=device(bob, "bob-phone"))
                             for _ in range(20))
    assert sorted(a.status_code for a in answers) == [201] + [409] * 19
    for answer in answers:
        if answer.status_code != 201:
            problem(answer, 409, "already_helped")
    bob_id = (await customer_ids(mall))["bob"]
    assert await rows(mall.runtime, "SELECT seq, amount_fen, helper_id FROM helps") == [(1, amounts[0], bob_id)]
    assert await rows(mall.runtime, "SELECT seq, taken_by FROM prize_slots WHERE taken_by IS NOT NULL") == [
        (1, bob_id)]
    assert await rows(mall.runtime, "SELECT customer_id, amount_fen FROM coupons") == [(bob_id, amounts[0])]
    assert await value(mall.runtime, "SELECT used FROM counters WHERE key = :k", k=f"slots:packet:{made['id']}") == 1
    assert await rows(mall.runtime, "SELECT status, friends_claimed FROM coupon_packets") == [("open", 1)]


async def test_the_daily_claim_limit_holds_under_concurrent_claims(client, mall):
    """30 customers each claim 5 packets at once with helps_per_helper_per_day 3: each gets exactly 3 claims, the
    other 2 are 409 help_limit_reached; one coupon per claim and no slot given twice."""
    await packet_campaign(mall, slots=30, total_fen=3000, helps_per_helper_per_day=3, **FAST)
    made = [await bought_packet(mall, await mall.shopper(f"buyer{i}")) for i in range(5)]
    crowd = await together(signup(mall, f"c{i}", f"device-{i}") for i in range(30))
    calls: list[Awaitable[Any]] = [client.post(f"/packets/{p['id']}/claims", headers=device(who, f"device-{i}"))
                                   for p in made for i, who in enumerate(crowd)]
    answers = await together(calls)
    assert Counter(a.status_code for a in answers) == {201: 90, 409: 60}
    for answer in answers:
        if answer.status_code != 201:
            problem(answer, 409, "help_limit_reached")
    assert sorted(n for (n,) in await rows(mall.runtime, "SELECT count(*) FROM helps GROUP BY helper_id")) == [3] * 30
    assert sorted(n for (n,) in await rows(mall.runtime, "SELECT count(*) FROM coupons GROUP BY customer_id")) == (
        [3] * 30)
    assert await value(mall.runtime, "SELECT count(*) FROM prize_slots WHERE taken_by IS NOT NULL") == 90
    # per packet the taken slots are exactly 1..k, each with its helper's coupon amount
    per_packet = await rows(mall.runtime, "SELECT owner_id, count(*), max(seq) FROM prize_slots "
                                          "WHERE taken_by IS NOT NULL GROUP BY owner_id")
    assert all(count == top for _, count, top in per_packet), per_packet
    assert await value(mall.runtime, "SELECT count(*) FROM prize_slots s JOIN coupons c ON c.customer_id = s.taken_by "
                                     "AND c.source_id = s.owner_id AND c.amount_fen = s.amount_fen") == 90
    assert await value(mall.runtime, "SELECT used FROM counters WHERE key LIKE 'helps:%' GROUP BY used") == 3
