"""Assist red packets under real concurrency (PostgreSQL): many HTTP requests at the same moment, each on its own
connection.

1,000 friends help 250 packets (K = 4) at once, drawing on a pool of 100 prizes: every packet opens on exactly its
4th help, exactly 100 win and 150 find the pool empty; each prize is paid once, to one packet, and the money adds up
to the fen across the prizes, the budget counter, the wallet entries and the wallet balances. Racing friends never
push a packet past K helps, one friend helps a packet once, and a friend's daily help limit holds. High-risk
packets opening among genuine ones take no prize, so the genuine still win them all.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import httpx
import pytest

from tests.campaigns.assist.test_assist_paths import assist_campaign, open_packet, pool_state, prizes, try_help
from tests.support import Mall, Who, problem, rows, shoppers, together, value

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("signed_staff_tokens")]

PACKETS, K, WINNERS, POOL = 250, 4, 100, 10_000
CROWD = {"velocity": {"per_ip_range_hour": 100_000}}
"""Every in-process request comes from 127.0.0.1: one IP range, which must not be what limits the crowd."""


# --- helpers ----------------------------------------------------------------------------------------------------------

async def shoppers_with_devices(mall: Mall, prefix: str, count: int) -> list[Who]:
    """`count` shoppers, each with a device id of their own (so the risk check sees them as low risk)."""
    tokens = await shoppers(mall, prefix, count, at_once=True)
    return [{**who, "X-Device-Id": f"{prefix}-phone-{i}"} for i, who in enumerate(tokens)]


# --- 1,000 friends, 250 packets, 100 prizes ---------------------------------------------------------------------------


async def test_1000_helpers_open_250_packets_from_a_pool_of_100_prizes(client, mall):
    """Each packet opens on exactly its 4th help; exactly 100 win, each a distinct prize (seqs 1..100), 150 find
    the pool empty; the prizes given, the budget used, the credited entries and the wallet balances are all
    exactly the pool, so it is never overspent and no prize is paid twice."""
    campaign_id = await assist_campaign(mall, helpers_needed=K, winners=WINNERS, pool_fen=POOL,
                                        per_customer_limit=1, **CROWD)
    pool = await prizes(mall.runtime, campaign_id)
    assert (len(pool), sum(pool)) == (WINNERS, POOL)
    owners = await shoppers_with_devices(mall, "owner", PACKETS)
    packets = await together(open_packet(mall, who, campaign_id, who["X-Device-Id"]) for who in owners)
    packet_ids = [p["id"] for p in packets]
    assert len(set(packet_ids)) == PACKETS
    helpers = await shoppers_with_devices(mall, "friend", PACKETS * K)
    targets = [packet_ids[i // K] for i in range(len(helpers))]
    order = list(range(len(helpers)))
    random.Random(4).shuffle(order)  # the 4th help of one packet races the 1st of another

    answers: list[httpx.Response] = await together(try_help(mall, helpers[i], targets[i]) for i in order)
    assert Counter(r.status_code for r in answers) == {201: PACKETS * K}, [r.text for r in answers[:3]]
    views = [r.json() for r in answers]
    # each help saw its own step: 1, 2, 3 still open, the 4th opened the packet (its count, its friends listed)
    assert all(v["helps_done"] == len(v["helpers"]) == K - v["helps_remaining"] for v in views if v["status"] == "open")
    assert Counter((v["status"], v["helps_done"], len(v["helpers"])) for v in views) == {
        ("open", 1, 1): PACKETS, ("open", 2, 2): PACKETS, ("open", 3, 3): PACKETS, ("opened", 4, 4): PACKETS}
    opened_views = [v for v in views if v["status"] == "opened"]
    assert sorted(v["id"] for v in opened_views) == sorted(packet_ids)
    assert Counter(v["outcome"] for v in opened_views) == {"won": WINNERS, "pool_empty": PACKETS - WINNERS}

    found = await rows(mall.runtime, "SELECT id, customer_id, status, helps_done, outcome, prize_seq, prize_fen "
                                     "FROM assist_packets WHERE campaign_id = :c", c=campaign_id)
    assert len(found) == PACKETS
    assert {(status, done) for _, _, status, done, *_ in found} == {("opened", K)}
    winners = [row for row in found if row[4] == "won"]
    empty = [row for row in found if row[4] == "pool_empty"]
    assert (len(winners), len(empty)) == (WINNERS, PACKETS - WINNERS)
    assert all(seq is None and fen == 0 for *_, seq, fen in empty)
    # prize n went to exactly one packet, and that packet was paid prize n's amount
    assert sorted(seq for *_, seq, _ in winners) == list(range(1, WINNERS + 1))
    assert all(fen == pool[seq - 1] for *_, seq, fen in winners)
    assert {v["id"]: v["prize_fen"] for v in opened_views} == {row[0]: row[6] for row in found}

    # money: prizes given == the prize rows == the budget claimed == the credited entries == the balances
    assert await pool_state(mall.runtime, campaign_id) == (WINNERS, POOL, POOL, POOL)
    assert await value(mall.runtime, "SELECT used FROM counters WHERE key = :k AND period = 'all'",
                       k=f"budget:{campaign_id}:assist_prize") <= POOL
    entries = await rows(mall.runtime, "SELECT customer_id, source_type, source_id, amount_fen FROM wallet_entries "
                                       "WHERE kind = 'assist_prize'")
    assert sorted(entries) == sorted((customer, "assist", packet_id, fen) for packet_id, customer, *_, fen in winners)
    assert len({source_id for _, _, source_id, _ in entries}) == WINNERS
    balances = dict(await rows(mall.runtime, "SELECT customer_id, balance_fen FROM wallets"))
    assert balances == {customer: fen for _, customer, *_, fen in winners}
    assert await value(mall.runtime, "SELECT count(*) FROM wallet_entries") == WINNERS

    # helps: four per packet, steps 1..4, four different friends each
    helps = await rows(mall.runtime, "SELECT target_id, count(*), count(DISTINCT helper_id), min(seq), max(seq), "
                                     "count(DISTINCT seq) FROM helps GROUP BY target_id")
    assert sorted(helps) == [(packet_id, K, K, 1, K, K) for packet_id in sorted(packet_ids)]
    assert await value(mall.runtime, "SELECT count(DISTINCT helper_id) FROM helps") == PACKETS * K
    assert dict(await rows(mall.runtime, "SELECT kind, count(*) FROM events WHERE kind IN "
                                         "('assist_open', 'help', 'assist_opened') GROUP BY kind")) == {
        "assist_open": PACKETS, "help": PACKETS * K, "assist_opened": PACKETS}
    page = (await client.get(f"/assist-campaigns/{campaign_id}", params={"merchant": mall.slug})).json()
    assert page["prizes_left"] == 0


# --- smaller races ----------------------------------------------------------------------------------------------------


async def test_twenty_friends_racing_for_four_steps_open_the_packet_once(client, mall):
    """20 friends help one K = 4 packet at once: exactly 4 helps are taken, the rest are 409 packet_complete and
    leave no help row; one prize, paid once."""
    campaign_id = await assist_campaign(mall, helpers_needed=K, **CROWD)
    pool = await prizes(mall.runtime, campaign_id)
    [alice] = await shoppers_with_devices(mall, "alice", 1)
    opened = await open_packet(mall, alice, campaign_id, alice["X-Device-Id"])
    friends = await shoppers_with_devices(mall, "friend", 20)
    answers = await together(try_help(mall, who, opened["id"]) for who in friends)
    assert sorted(r.status_code for r in answers) == [201] * K + [409] * 16
    for refused in (r for r in answers if r.status_code != 201):
        problem(refused, 409, "packet_complete")
    assert sorted(len(r.json()["helpers"]) for r in answers if r.status_code == 201) == [1, 2, 3, 4]
    assert await rows(mall.runtime, "SELECT seq FROM helps ORDER BY seq") == [(1,), (2,), (3,), (4,)]
    assert await rows(mall.runtime, "SELECT status, helps_done, outcome, prize_seq, prize_fen FROM assist_packets") == [
        ("opened", K, "won", 1, pool[0])]
    assert await pool_state(mall.runtime, campaign_id) == (1, pool[0], pool[0], pool[0])
    assert await value(mall.runtime, "SELECT count(*) FROM events WHERE kind = 'assist_opened'") == 1


async def test_one_friend_helping_the_same_packet_five_times_at_once_counts_once(client, mall):
    """The unique (record, helper) key decides between concurrent helps: one 201, four 409 already_helped."""
    campaign_id = await assist_campaign(mall, helpers_needed=K, **CROWD)
    [alice, bob] = await shoppers_with_devices(mall, "pair", 2)
    opened = await open_packet(mall, alice, campaign_id, alice["X-Device-Id"])
    answers = await together(try_help(mall, bob, opened["id"]) for _ in range(5))
    assert sorted(r.status_code for r in answers) == [201] + [409] * 4
    for refused in (r for r in answers if r.status_code != 201):
        problem(refused, 409, "already_helped")
    assert await rows(mall.runtime, "SELECT helps_done FROM assist_packets") == [(1,)]
    assert await value(mall.runtime, "SELECT count(*) FROM helps") == 1
    assert await value(mall.runtime, "SELECT sum(used) FROM counters WHERE key LIKE 'helps:%'") == 1


async def test_daily_help_limit_holds_when_one_friend_helps_ten_packets_at_once(client, mall):
    """helps_per_helper_per_day = 3 under concurrency: exactly 3 of 10 simultaneous helps go through."""
    campaign_id = await assist_campaign(mall, helpers_needed=K, **CROWD)
    owners = await shoppers_with_devices(mall, "owner", 10)
    packets = await together(open_packet(mall, who, campaign_id, who["X-Device-Id"]) for who in owners)
    [bob] = await shoppers_with_devices(mall, "bob", 1)
    answers = await together(try_help(mall, bob, p["id"]) for p in packets)
    assert sorted(r.status_code for r in answers) == [201] * 3 + [409] * 7
    for refused in (r for r in answers if r.status_code != 201):
        body: dict[str, Any] = problem(refused, 409, "help_limit_reached")
        assert body["limit"] == 3
    assert await value(mall.runtime, "SELECT count(*) FROM helps") == 3
    assert await value(mall.runtime, "SELECT sum(helps_done) FROM assist_packets") == 3
    assert await rows(mall.runtime, "SELECT used FROM counters WHERE key LIKE 'helps:%'") == [(3,)]


async def test_each_raced_help_answers_with_the_packet_as_it_left_it(client, mall):
    """Racing friends: each answer's helps_done is its own step (1..K), helps_remaining what is left, and it
    agrees with the friends listed."""
    campaign_id = await assist_campaign(mall, helpers_needed=K, **CROWD)
    [alice] = await shoppers_with_devices(mall, "alice", 1)
    opened = await open_packet(mall, alice, campaign_id, alice["X-Device-Id"])
    friends = await shoppers_with_devices(mall, "friend", 20)
    answers = [r.json() for r in await together(try_help(mall, who, opened["id"]) for who in friends)
               if r.status_code == 201]
    assert sorted((a["helps_done"], a["helps_remaining"], len(a["helpers"])) for a in answers) == [
        (1, 3, 1), (2, 2, 2), (3, 1, 3), (4, 0, 4)]


async def test_risky_and_genuine_packets_opening_at_once_leave_every_prize_to_the_genuine(client, mall):
    """60 high-risk packets (young accounts, no device id) and 30 genuine ones open at the same moment on a pool of
    20 prizes: every risky packet is withheld and takes no prize, so exactly 20 genuine packets win, each a
    distinct prize (seqs 1..20, paid its amount), 10 find the pool empty; no prize is paid twice or lost, and
    the pool is paid exactly."""
    winners, pool_fen = 20, 2_000
    campaign_id = await assist_campaign(mall, helpers_needed=1, winners=winners, pool_fen=pool_fen,
                                        high_risk="nothing", per_customer_limit=1, **CROWD)
    pool = await prizes(mall.runtime, campaign_id)
    farm = await shoppers(mall, "farm", 60, at_once=True)  # no device id
    genuine = await shoppers_with_devices(mall, "genuine", 30)
    risky_ids = {p["id"] for p in await together(open_packet(mall, who, campaign_id, None) for who in farm)}
    genuine_ids = {p["id"] for p in await together(open_packet(mall, who, campaign_id, who["X-Device-Id"])
                                                   for who in genuine)}
    targets = sorted(risky_ids | genuine_ids)
    random.Random(5).shuffle(targets)  # risky and genuine openings interleave
    helpers = await shoppers_with_devices(mall, "friend", len(targets))

    answers = await together(try_help(mall, who, target) for who, target in zip(helpers, targets, strict=True))
    assert Counter(r.status_code for r in answers) == {201: len(targets)}, [r.text for r in answers[:3]]
    found = await rows(mall.runtime, "SELECT id, outcome, prize_seq, prize_fen FROM assist_packets "
                                     "WHERE campaign_id = :c", c=campaign_id)
    assert {(outcome, seq, fen) for packet_id, outcome, seq, fen in found if packet_id in risky_ids} == {
        ("withheld", None, 0)}
    genuine_rows = [row for row in found if row[0] in genuine_ids]
    assert Counter(outcome for _, outcome, _, _ in genuine_rows) == {"won": winners, "pool_empty": 10}
    won = [(seq, fen) for _, outcome, seq, fen in genuine_rows if outcome == "won"]
    assert sorted(won) == [(seq, pool[seq - 1]) for seq in range(1, winners + 1)]
    assert await pool_state(mall.runtime, campaign_id) == (winners, pool_fen, pool_fen, pool_fen)
    assert await value(mall.runtime, "SELECT count(*) FROM prize_slots WHERE owner_id = :c AND taken_by IS NULL",
                       c=campaign_id) == 0
