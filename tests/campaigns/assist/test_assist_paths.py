"""Every path of assist red packets (助力拆红包) through the API.

A packet opens on exactly the K-th help and pays the next prize of the pool split at activation (the n-th winner
gets prize n, credited once to the owner's wallet and claimed against the pool's budget); every refusal (packet
complete, already helped, own packet, daily help limit, velocity, closed packet) answers with its code and leaves
every row as it was; the odds, the equal split, the worker's expiry, the high-risk rules ("nothing" withholds the
prize and leaves it in the pool, so a farm of risky accounts cannot use up the prizes; "minimum" pays the minimum
and leaves the rest unspent); settings validation, the P3 top-prize lint, and the published campaign page.
"""

from __future__ import annotations

import json
from datetime import timedelta
from functools import partial
from typing import Any

import httpx
import pytest

from fissionmall.core.runtime import Runtime
from tests.campaigns.groupbuy.test_campaign_admin import act
from tests.support import (
    Mall,
    Who,
    counter,
    customer_id,
    problem,
    refused_unchanged,
    rows,
    shoppers,
    snapshot_of,
    value,
)

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")

WATCHED = ("assist_packets", "prize_slots", "helps", "counters", "wallets", "wallet_entries", "events",
           "campaigns", "campaign_quotas", "outbox_jobs", "customers")
"""What a refused help (or a refused campaign change) must leave exactly as it was."""

# --- helpers ----------------------------------------------------------------------------------------------------------


def campaign_body(mall: Mall, **settings: Any) -> dict[str, Any]:
    """An assist campaign running for a week from an hour ago: 4 helpers, a pool of 1000 fen in 5 prizes."""
    now = mall.runtime.clock.now()
    return {"kind": "assist", "name": "助力拆红包", "starts_at": (now - timedelta(hours=1)).isoformat(),
            "ends_at": (now + timedelta(days=7)).isoformat(),
            "settings": {"helpers_needed": 4, "pool_fen": 1000, "winners": 5, **settings}}


async def create(mall: Mall, **settings: Any) -> httpx.Response:
    return await mall.client.post("/admin/campaigns", headers=await mall.staff(), json=campaign_body(mall, **settings))


async def assist_campaign(mall: Mall, **settings: Any) -> int:
    """A live assist campaign (created, then activated, which splits the pool); its id."""
    response = await create(mall, **settings)
    assert response.status_code == 201, response.text
    campaign_id: int = response.json()["id"]
    activated = await act(mall, campaign_id, "activate")
    assert activated.status_code == 200, activated.text
    return campaign_id


async def prizes(runtime: Runtime, campaign_id: int) -> list[int]:
    """The pool's prizes in the order they are handed out (seq 1, 2, …)."""
    return [amount for (amount,) in await rows(
        runtime, "SELECT amount_fen FROM prize_slots WHERE owner_type = 'assist' AND owner_id = :c ORDER BY seq",
        c=campaign_id)]


def device(who: Who, device_id: str | None) -> Who:
    return {**who, "X-Device-Id": device_id} if device_id else who


def try_open(mall: Mall, who: Who, campaign_id: int, device_id: str | None = "owner-phone") -> Any:
    """POST /assists (not awaited); the owner's device id is what the risk check sees when the packet opens."""
    return mall.client.post("/assists", headers=device(who, device_id), json={"campaign_id": campaign_id})


async def open_packet(mall: Mall, who: Who, campaign_id: int, device_id: str | None = "owner-phone") -> dict[str, Any]:
    response = await try_open(mall, who, campaign_id, device_id)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def try_help(mall: Mall, who: Who, packet_id: int, device_id: str | None = None) -> Any:
    """POST /assists/{id}/helps (not awaited)."""
    return mall.client.post(f"/assists/{packet_id}/helps", headers=device(who, device_id))


async def help_packet(mall: Mall, who: Who, packet_id: int, device_id: str | None = None) -> dict[str, Any]:
    response = await try_help(mall, who, packet_id, device_id)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def complete(mall: Mall, packet_id: int, helpers: list[Who]) -> dict[str, Any]:
    """Every helper helps once, in order: the packet as the last help answered it."""
    answer: dict[str, Any] = {}
    for who in helpers:
        answer = await help_packet(mall, who, packet_id)
    return answer


async def packet(mall: Mall, packet_id: int) -> dict[str, Any]:
    response = await mall.client.get(f"/assists/{packet_id}", params={"merchant": mall.slug})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def wallet(mall: Mall, who: Who) -> tuple[int, list[tuple[int, str, str, int]]]:
    """(balance, [(amount, kind, source type, source id)] newest first) of the shopper's wallet."""
    response = await mall.client.get("/wallet", headers=who)
    assert response.status_code == 200, response.text
    body = response.json()
    return body["balance_fen"], [(e["amount_fen"], e["kind"], e["source_type"], e["source_id"])
                                 for e in body["entries"]]


async def pool_state(runtime: Runtime, campaign_id: int) -> tuple[int | None, int | None, int, int]:
    """(prizes handed out, budget used in fen, sum of assist_prize wallet entries, sum of wallet balances)."""
    given = await counter(runtime, f"slots:assist:{campaign_id}")
    budget = await counter(runtime, f"budget:{campaign_id}:assist_prize")
    credited = await value(runtime, "SELECT coalesce(sum(amount_fen), 0) FROM wallet_entries "
                                    "WHERE kind = 'assist_prize' AND campaign_id = :c", c=campaign_id)
    balances = await value(runtime, "SELECT coalesce(sum(balance_fen), 0) FROM wallets")
    return given, budget, credited, balances


snapshot = partial(snapshot_of, tables=WATCHED)


refused = partial(refused_unchanged, tables=WATCHED)


async def assist_events(runtime: Runtime) -> list[tuple[str, int | None, dict[str, Any]]]:
    """(kind, subject id, data) of every assist-related event, in order."""
    found = await rows(runtime, "SELECT kind, subject_id, data FROM events WHERE kind IN "
                                "('assist_open', 'help', 'assist_opened', 'assist_expired') ORDER BY id")
    return [(kind, subject, data if isinstance(data, dict) else json.loads(data))
            for kind, subject, data in found]


# --- opening on the K-th help -----------------------------------------------------------------------------------------


async def test_packet_opens_on_exactly_the_kth_help_with_the_first_prize(client, mall):
    """Helps 1..K−1 only count; the K-th opens the packet, pays prize 1 of the pool to the owner's wallet once and
    claims exactly that much of the pool's budget; the next winner gets prize 2."""
    campaign_id = await assist_campaign(mall)
    pool = await prizes(mall.runtime, campaign_id)
    assert (len(pool), sum(pool), min(pool) >= 1) == (5, 1000, True)
    alice = await mall.shopper("alice")
    opened = await open_packet(mall, alice, campaign_id)
    assert (opened["status"], opened["helpers_needed"], opened["helps_done"], opened["helps_remaining"],
            opened["outcome"], opened["prize_fen"], opened["seconds_left"], opened["helpers"]) == (
        "open", 4, 0, 4, None, 0, 24 * 3600, [])
    helpers = await shoppers(mall, "friend", 4)
    for done, who in enumerate(helpers[:3], start=1):
        answer = await help_packet(mall, who, opened["id"])
        assert (answer["status"], answer["helps_done"], answer["helps_remaining"], answer["outcome"],
                answer["prize_fen"]) == ("open", done, 4 - done, None, 0)
        assert await wallet(mall, alice) == (0, [])
    assert await pool_state(mall.runtime, campaign_id) == (None, None, 0, 0)
    last = await help_packet(mall, helpers[3], opened["id"])
    assert (last["status"], last["helps_done"], last["helps_remaining"], last["outcome"], last["prize_fen"],
            last["seconds_left"]) == ("opened", 4, 0, "won", pool[0], 0)
    assert [(h["seq"], h["nickname"], h["amount_fen"]) for h in last["helpers"]] == [
        (1, "friend0", 0), (2, "friend1", 0), (3, "friend2", 0), (4, "friend3", 0)]
    assert await packet(mall, opened["id"]) == last
    assert await rows(mall.runtime, "SELECT status, outcome, prize_seq, prize_fen FROM assist_packets") == [
        ("opened", "won", 1, pool[0])]
    assert await wallet(mall, alice) == (pool[0], [(pool[0], "assist_prize", "assist", opened["id"])])
    assert await pool_state(mall.runtime, campaign_id) == (1, pool[0], pool[0], pool[0])
    events = await assist_events(mall.runtime)
    assert [e[0] for e in events] == ["assist_open", "help", "help", "help", "help", "assist_opened"]
    assert [e[2] for e in events if e[0] == "help"] == [{"seq": s, "reward_fen": 0} for s in (1, 2, 3, 4)]
    assert events[-1] == ("assist_opened", opened["id"], {"outcome": "won", "prize_fen": pool[0]})

    bob = await mall.shopper("bob")
    second = await open_packet(mall, bob, campaign_id)
    assert (await complete(mall, second["id"], helpers))["prize_fen"] == pool[1]
    assert await wallet(mall, bob) == (pool[1], [(pool[1], "assist_prize", "assist", second["id"])])
    assert await pool_state(mall.runtime, campaign_id) == (2, pool[0] + pool[1], pool[0] + pool[1],
                                                           pool[0] + pool[1])


async def test_help_after_the_packet_opened_is_refused_as_complete(client, mall):
    """The K+1-th friend gets 409 packet_complete: no help row, no second prize, nothing changed."""
    campaign_id = await assist_campaign(mall, helpers_needed=2)
    alice = await mall.shopper("alice")
    opened = await open_packet(mall, alice, campaign_id)
    helpers = await shoppers(mall, "friend", 3)
    assert (await complete(mall, opened["id"], helpers[:2]))["status"] == "opened"
    await refused(mall, try_help(mall, helpers[2], opened["id"]), 409, "packet_complete")
    await refused(mall, try_help(mall, helpers[0], opened["id"]), 409, "packet_complete")
    assert await value(mall.runtime, "SELECT count(*) FROM helps") == 2


async def test_same_helper_twice_is_refused_and_changes_nothing(client, mall):
    """One help per helper per packet (F1): the second is 409 already_helped, the packet still counts one."""
    campaign_id = await assist_campaign(mall)
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    opened = await open_packet(mall, alice, campaign_id)
    await help_packet(mall, bob, opened["id"])
    await refused(mall, try_help(mall, bob, opened["id"]), 409, "already_helped")
    view = await packet(mall, opened["id"])
    assert (view["helps_done"], [h["nickname"] for h in view["helpers"]]) == (1, ["bob"])
    # the refusal did not use up one of bob's daily helps either
    bob_id = await customer_id(mall, bob)
    assert await rows(mall.runtime, "SELECT period, used FROM counters WHERE key = :k",
                      k=f"helps:{campaign_id}:{bob_id}") == [("2026-01-01", 1)]


async def test_owner_cannot_help_their_own_packet(client, mall):
    """F1: helping one's own packet is 403 cannot_help_self unless the campaign discloses self-help."""
    campaign_id = await assist_campaign(mall)
    alice = await mall.shopper("alice")
    opened = await open_packet(mall, alice, campaign_id)
    await refused(mall, try_help(mall, alice, opened["id"], "owner-phone"), 403, "cannot_help_self")
    assert (await packet(mall, opened["id"]))["helps_done"] == 0


async def test_disclosed_self_help_lets_the_owner_help_once(client, mall):
    """With self_help on, the owner's own help counts like a friend's (and still only once)."""
    campaign_id = await assist_campaign(mall, self_help=True, helpers_needed=2)
    alice = await mall.shopper("alice")
    opened = await open_packet(mall, alice, campaign_id)
    assert (await help_packet(mall, alice, opened["id"]))["helps_done"] == 1
    await refused(mall, try_help(mall, alice, opened["id"]), 409, "already_helped")


async def test_new_helpers_only_refuses_a_friend_who_has_bought_before(client, mall):
    """F2: with new_helpers_only, a friend with a paid order is 403 new_helpers_only; a new friend helps and is
    recorded as new."""
    campaign_id = await assist_campaign(mall, new_helpers_only=True)
    alice, buyer, newcomer = await mall.shopper("alice"), await mall.shopper("buyer"), await mall.shopper("newcomer")
    await mall.pay(buyer, (await mall.order(buyer))["id"])
    opened = await open_packet(mall, alice, campaign_id)
    await refused(mall, try_help(mall, buyer, opened["id"]), 403, "new_helpers_only")
    answer = await help_packet(mall, newcomer, opened["id"])
    assert [(h["nickname"], h["new_helper"]) for h in answer["helpers"]] == [("newcomer", True)]


async def test_packets_open_only_in_a_live_assist_campaign_and_unknown_packets_are_404(client, mall):
    """A draft or paused campaign takes no packet (409 campaign_not_live), another kind's id or an unknown id is
    404, and helping or reading an unknown packet is 404 packet_not_found — none of it changing a row."""
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    draft = (await create(mall)).json()["id"]
    await refused(mall, try_open(mall, alice, draft), 409, "campaign_not_live")
    live = await assist_campaign(mall)
    assert (await act(mall, live, "pause")).status_code == 200
    await refused(mall, try_open(mall, alice, live), 409, "campaign_not_live")
    await refused(mall, try_open(mall, alice, live + 100), 404, "campaign_not_found")
    group = await mall.client.post("/admin/campaigns", headers=await mall.staff(), json={
        **campaign_body(mall), "kind": "group", "settings": {
            "product_id": mall.product_id, "skus": [{"sku_id": mall.sku_id, "group_price_fen": 800}],
            "group_size": 2}})
    assert group.status_code == 201, group.text
    assert (await act(mall, group.json()["id"], "activate")).status_code == 200
    await refused(mall, try_open(mall, alice, group.json()["id"]), 404, "campaign_not_found")
    await refused(mall, try_help(mall, bob, 12345), 404, "packet_not_found")
    problem(await mall.client.get("/assists/12345", params={"merchant": mall.slug}), 404, "packet_not_found")
    assert await value(mall.runtime, "SELECT count(*) FROM assist_packets") == 0


# --- helpers' limits --------------------------------------------------------------------------------------------------


async def test_fourth_help_of_the_day_is_refused_and_allowed_the_next_day(client, mall, clock):
    """helps_per_helper_per_day (default 3) counts per business day (China time): the 4th help is 409
    help_limit_reached, changing nothing; after midnight in Shanghai the same help goes through."""
    campaign_id = await assist_campaign(mall)
    owners = await shoppers(mall, "owner", 4)
    packets = [await open_packet(mall, who, campaign_id) for who in owners]
    bob = await mall.shopper("bob")
    for opened in packets[:3]:
        await help_packet(mall, bob, opened["id"])
    body = await refused(mall, try_help(mall, bob, packets[3]["id"]), 409, "help_limit_reached")
    assert body["limit"] == 3
    clock.advance(hours=3, minutes=59)  # 23:59 in Shanghai: still the same day
    await refused(mall, try_help(mall, bob, packets[3]["id"]), 409, "help_limit_reached")
    clock.advance(minutes=1)  # 00:00 on 2 January, Shanghai time
    answer = await help_packet(mall, bob, packets[3]["id"])
    assert (answer["helps_done"], answer["helpers"][0]["nickname"]) == (1, "bob")
    bob_id = await customer_id(mall, bob)
    assert await rows(mall.runtime, "SELECT period, used FROM counters WHERE key = :k ORDER BY period",
                      k=f"helps:{campaign_id}:{bob_id}") == [("2026-01-01", 3), ("2026-01-02", 1)]


async def test_velocity_limit_per_device_refuses_the_extra_help_from_that_device(client, mall, clock):
    """per_device_hour: a third help from the same X-Device-Id within the hour is 429 velocity_limited (scope
    device), whoever sends it; another device still helps, and the device is welcome again the next hour."""
    campaign_id = await assist_campaign(mall, velocity={"per_device_hour": 2})
    alice = await mall.shopper("alice")
    opened = await open_packet(mall, alice, campaign_id)
    helpers = await shoppers(mall, "friend", 4)
    await help_packet(mall, helpers[0], opened["id"], "farm-phone")
    await help_packet(mall, helpers[1], opened["id"], "farm-phone")
    body = await refused(mall, try_help(mall, helpers[2], opened["id"], "farm-phone"), 429, "velocity_limited")
    assert (body["scope"], body["limit"]) == ("device", 2)
    assert (await help_packet(mall, helpers[3], opened["id"], "other-phone"))["helps_done"] == 3
    clock.advance(hours=1)
    last = await help_packet(mall, helpers[2], opened["id"], "farm-phone")
    assert (last["helps_done"], last["status"], last["outcome"]) == (4, "opened", "won")
    assert [h["nickname"] for h in last["helpers"]] == ["friend0", "friend1", "friend3", "friend2"]
    assert await rows(mall.runtime, "SELECT device_id, count(*) FROM helps GROUP BY device_id ORDER BY 1") == [
        ("farm-phone", 3), ("other-phone", 1)]


async def test_per_customer_limit_caps_the_packets_one_customer_opens(client, mall):
    """A customer opens at most per_customer_limit packets in the campaign; the extra one is refused."""
    campaign_id = await assist_campaign(mall, per_customer_limit=2)
    alice = await mall.shopper("alice")
    for _ in range(2):
        await open_packet(mall, alice, campaign_id)
    body = await refused(mall, try_open(mall, alice, campaign_id), 409, "campaign_limit_reached")
    assert body["limit"] == 2
    assert await value(mall.runtime, "SELECT count(*) FROM assist_packets") == 2


# --- odds and the pool ------------------------------------------------------------------------------------------------


async def test_win_percent_odds_mostly_lose_and_losers_take_no_prize(client, mall):
    """win_percent=1: of 30 opened packets nearly all are "lost" (more than 5 wins has odds below 1e-6); a lost
    packet takes no prize, no budget and no credit, so the prizes left are exactly the winners' count less."""
    campaign_id = await assist_campaign(mall, helpers_needed=1, win_percent=1, split=None, pool_fen=500,
                                        per_customer_limit=30, helps_per_helper_per_day=30,
                                        velocity={"per_customer_hour": 100})
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    outcomes = []
    for _ in range(30):
        opened = await open_packet(mall, alice, campaign_id)
        answer = await help_packet(mall, bob, opened["id"])
        assert answer["status"] == "opened"
        outcomes.append((answer["outcome"], answer["prize_fen"]))
    won = outcomes.count(("won", 100))
    assert outcomes.count(("lost", 0)) + won == 30, outcomes
    assert won <= 5, outcomes
    assert await rows(mall.runtime, "SELECT count(*), count(prize_seq), sum(prize_fen) FROM assist_packets "
                                    "WHERE outcome = 'lost'") == [(30 - won, 0, 0)]
    assert await pool_state(mall.runtime, campaign_id) == (
        won or None, 100 * won or None, 100 * won, 100 * won)
    balance, entries = await wallet(mall, alice)
    assert (balance, len(entries)) == (100 * won, won)
    page = (await mall.client.get(f"/assist-campaigns/{campaign_id}", params={"merchant": mall.slug})).json()
    assert (page["win_percent"], page["prizes_left"]) == (1, 5 - won)
    assert "拆开红包的中奖概率为 1%。" in page["rules"]


async def test_equal_split_gives_equal_prizes_with_the_remainder_first(client, mall):
    """split null: the pool is divided evenly to the fen, the odd fen going to the earliest prizes; the page
    publishes the largest prize and says who gets the odd fen."""
    campaign_id = await assist_campaign(mall, split=None, pool_fen=1003, winners=4, helpers_needed=1)
    assert await prizes(mall.runtime, campaign_id) == [251, 251, 251, 250]
    owners, helpers = await shoppers(mall, "owner", 5), await shoppers(mall, "friend", 5)
    paid = []
    for owner, helper in zip(owners, helpers, strict=True):
        answer = await help_packet(mall, helper, (await open_packet(mall, owner, campaign_id))["id"])
        paid.append((answer["outcome"], answer["prize_fen"]))
    assert paid == [("won", 251), ("won", 251), ("won", 251), ("won", 250), ("pool_empty", 0)]
    assert await pool_state(mall.runtime, campaign_id) == (4, 1003, 1003, 1003)
    page = (await mall.client.get(f"/assist-campaigns/{campaign_id}", params={"merchant": mall.slug})).json()
    assert (page["split"], page["max_prize_fen"], page["prizes_left"]) == (None, 251, 0)
    assert "平均分配，每份 ¥2.50，最先领取的 3 份各多 ¥0.01。" in page["rules"]


async def test_pool_runs_out_after_the_last_prize(client, mall):
    """Winners beyond the prize count open as pool_empty: no prize seq, no credit, the budget is the pool."""
    campaign_id = await assist_campaign(mall, helpers_needed=1, winners=2, pool_fen=300, split="double_mean")
    pool = await prizes(mall.runtime, campaign_id)
    assert sum(pool) == 300 and len(pool) == 2
    helpers = await shoppers(mall, "friend", 3)
    owners = await shoppers(mall, "owner", 3)
    results = []
    for owner, who in zip(owners, helpers, strict=True):
        opened = await open_packet(mall, owner, campaign_id)
        answer = await help_packet(mall, who, opened["id"])
        results.append((answer["outcome"], answer["prize_fen"]))
    assert results == [("won", pool[0]), ("won", pool[1]), ("pool_empty", 0)]
    assert await rows(mall.runtime, "SELECT outcome, prize_seq FROM assist_packets ORDER BY id") == [
        ("won", 1), ("won", 2), ("pool_empty", None)]
    assert await pool_state(mall.runtime, campaign_id) == (2, 300, 300, 300)
    assert await wallet(mall, owners[2]) == (0, [])


# --- risk (F4) --------------------------------------------------------------------------------------------------------


async def test_high_risk_owner_gets_nothing_when_the_campaign_says_nothing(client, mall):
    """An account minutes old that opened its packet with no device id ranks high risk: with high_risk "nothing"
    the packet opens as withheld — no credit, no budget used, no prize taken: the first prize is still the next
    winner's."""
    campaign_id = await assist_campaign(mall, high_risk="nothing")
    pool = await prizes(mall.runtime, campaign_id)
    farm = await mall.shopper("farm")
    opened = await open_packet(mall, farm, campaign_id, device_id=None)
    last = await complete(mall, opened["id"], await shoppers(mall, "friend", 4))
    assert (last["status"], last["outcome"], last["prize_fen"]) == ("opened", "withheld", 0)
    assert await rows(mall.runtime, "SELECT outcome, prize_seq, prize_fen FROM assist_packets") == [
        ("withheld", None, 0)]
    assert await wallet(mall, farm) == (0, [])
    assert await pool_state(mall.runtime, campaign_id) == (None, None, 0, 0)
    assert (await assist_events(mall.runtime))[-1] == ("assist_opened", opened["id"],
                                                       {"outcome": "withheld", "prize_fen": 0})
    # a low-risk owner (same young account age, but a device id) is paid the first prize in full
    alice = await mall.shopper("alice")
    second = await open_packet(mall, alice, campaign_id, device_id="alice-phone")
    assert (await complete(mall, second["id"], await shoppers(mall, "other", 4)))["prize_fen"] == pool[0]
    assert await pool_state(mall.runtime, campaign_id) == (1, pool[0], pool[0], pool[0])


async def test_a_farm_of_risky_accounts_cannot_use_up_the_prizes_genuine_customers_win(client, mall):
    """Twice as many high-risk packets as prizes open first (young accounts with no device id, the farm's
    signature) and every one is withheld; then genuine customers still win every prize, in order, and the
    prizes paid sum exactly to the pool; one more genuine packet finds it empty."""
    campaign_id = await assist_campaign(mall, high_risk="nothing", helpers_needed=1, pool_fen=1000, winners=5)
    pool = await prizes(mall.runtime, campaign_id)
    for i in range(10):
        farmed = await open_packet(mall, await mall.shopper(f"farm{i}"), campaign_id, device_id=None)
        answer = await help_packet(mall, await mall.shopper(f"sybil{i}"), farmed["id"])
        assert (answer["outcome"], answer["prize_fen"]) == ("withheld", 0)
    page = (await mall.client.get(f"/assist-campaigns/{campaign_id}", params={"merchant": mall.slug})).json()
    assert page["prizes_left"] == 5
    won = []
    for i in range(6):
        opened = await open_packet(mall, await mall.shopper(f"genuine{i}"), campaign_id, f"genuine-phone-{i}")
        answer = await help_packet(mall, await mall.shopper(f"friend{i}"), opened["id"])
        won.append((answer["outcome"], answer["prize_fen"]))
    assert won == [("won", prize) for prize in pool] + [("pool_empty", 0)]
    assert await pool_state(mall.runtime, campaign_id) == (5, 1000, 1000, 1000)
    assert await value(mall.runtime, "SELECT count(*) FROM assist_packets WHERE outcome = 'withheld' "
                                     "AND prize_seq IS NULL AND prize_fen = 0") == 10


async def test_high_risk_owner_gets_the_minimum_and_the_rest_stays_in_the_pool(client, mall):
    """With high_risk "minimum" the withheld part of the prize is never claimed from the budget: the budget used
    is exactly what was credited (the minimum), and the next low-risk winner is paid their prize in full."""
    campaign_id = await assist_campaign(mall, high_risk="minimum", min_prize_fen=50, pool_fen=1000, winners=5)
    pool = await prizes(mall.runtime, campaign_id)
    assert min(pool) >= 50 and sum(pool) == 1000
    farm = await mall.shopper("farm")
    opened = await open_packet(mall, farm, campaign_id, device_id=None)
    last = await complete(mall, opened["id"], await shoppers(mall, "friend", 4))
    assert (last["outcome"], last["prize_fen"]) == ("won", 50)
    assert await wallet(mall, farm) == (50, [(50, "assist_prize", "assist", opened["id"])])
    assert await pool_state(mall.runtime, campaign_id) == (1, 50, 50, 50)
    alice = await mall.shopper("alice")
    second = await open_packet(mall, alice, campaign_id, device_id="alice-phone")
    assert (await complete(mall, second["id"], await shoppers(mall, "other", 4)))["prize_fen"] == pool[1]
    assert await pool_state(mall.runtime, campaign_id) == (2, 50 + pool[1], 50 + pool[1], 50 + pool[1])


async def test_risk_is_ranked_when_the_packet_opens_not_when_it_was_started(client, mall, clock):
    """Only young AND anonymous is high risk: an owner without a device id whose account is over 10 minutes old
    by the time the K-th friend helps wins the prize in full."""
    campaign_id = await assist_campaign(mall, high_risk="nothing", helpers_needed=1)
    pool = await prizes(mall.runtime, campaign_id)
    owner = await mall.shopper("owner")
    opened = await open_packet(mall, owner, campaign_id, device_id=None)
    clock.advance(minutes=10)
    answer = await help_packet(mall, await mall.shopper("friend"), opened["id"])
    assert (answer["outcome"], answer["prize_fen"]) == ("won", pool[0])


async def test_helper_reward_is_paid_within_its_budget_and_withheld_from_high_risk_helpers(client, mall):
    """helper_reward_fen comes out of reward_budget: helpers are paid while it lasts; a high-risk helper
    (young, no device) gets nothing, and the budget is claimed only for what was credited."""
    campaign_id = await assist_campaign(mall, helper_reward_fen=10, reward_budget={"total_fen": 25})
    alice = await mall.shopper("alice")
    opened = await open_packet(mall, alice, campaign_id)
    helpers = await shoppers(mall, "friend", 4)
    for i, who in enumerate(helpers):
        await help_packet(mall, who, opened["id"], None if i == 0 else f"phone-{i}")
    assert [e[2]["reward_fen"] for e in await assist_events(mall.runtime) if e[0] == "help"] == [0, 10, 10, 0]
    help_ids = [help_id for (help_id,) in await rows(mall.runtime, "SELECT id FROM helps ORDER BY seq")]
    assert [await wallet(mall, who) for who in helpers] == [
        (0, []), (10, [(10, "helper_reward", "help", help_ids[1])]), (10, [(10, "helper_reward", "help", help_ids[2])]),
        (0, [])]
    assert await counter(mall.runtime, f"budget:{campaign_id}:helper_reward") == 20


# --- expiry -----------------------------------------------------------------------------------------------------------


async def test_worker_expires_packets_after_their_duration_and_later_helps_are_refused(client, mall, clock):
    """A packet still short of K helps at its deadline is expired by the worker (once, with an event); further
    helps are 409 packet_closed and change nothing; an opened packet is never expired."""
    campaign_id = await assist_campaign(mall, duration_minutes=60, helpers_needed=2)
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    short = await open_packet(mall, alice, campaign_id)
    done = await open_packet(mall, bob, campaign_id)
    helpers = await shoppers(mall, "friend", 3)
    await help_packet(mall, helpers[0], short["id"])
    await complete(mall, done["id"], helpers[:2])
    clock.advance(minutes=59)
    assert (await mall.work())["assist.expire"] == 0
    view = await packet(mall, short["id"])
    assert (view["status"], view["seconds_left"], view["helps_remaining"]) == ("open", 60, 1)
    clock.advance(minutes=1)
    # due but not yet swept: shown as expired, and no help is taken
    assert (await packet(mall, short["id"]))["status"] == "expired"
    await refused(mall, try_help(mall, helpers[2], short["id"]), 409, "packet_closed")
    assert (await mall.work())["assist.expire"] == 1
    assert await rows(mall.runtime, "SELECT id, status, helps_done, outcome FROM assist_packets ORDER BY id") == [
        (short["id"], "expired", 1, None), (done["id"], "opened", 2, "won")]
    view = await packet(mall, short["id"])
    assert (view["status"], view["helps_done"], view["helps_remaining"], view["seconds_left"]) == ("expired", 1, 0, 0)
    await refused(mall, try_help(mall, helpers[2], short["id"]), 409, "packet_closed")
    assert [e for e in await assist_events(mall.runtime) if e[0] == "assist_expired"] == [
        ("assist_expired", short["id"], {"helps_done": 1})]
    before = await snapshot(mall.runtime)
    assert (await mall.work())["assist.expire"] == 0
    assert await snapshot(mall.runtime) == before


# --- settings, lint, publication --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("settings", "field"), [
    ({"pool_fen": 100, "winners": 5, "min_prize_fen": 21}, "settings.min_prize_fen"),
    ({"helper_reward_fen": 10, "reward_budget": None}, "settings.reward_budget"),
    ({"helper_reward_fen": 10}, "settings.reward_budget"),  # left out: the default is validated too
    ({"helpers_needed": 0}, "settings.helpers_needed"),
    ({"win_percent": 0}, "settings.win_percent"),
    ({"split": "lucky"}, "settings.split"),
    ({"high_risk": "everything"}, "settings.high_risk"),
    ({"duration_minutes": 4}, "settings.duration_minutes"),
])
async def test_bad_settings_are_refused_by_field_and_create_nothing(client, mall, settings, field):
    """Settings are checked field by field: 422 invalid_settings naming the field, and no campaign row."""
    body = await refused(mall, create(mall, **settings), 422, "invalid_settings")
    assert body["field"] == field


async def test_pool_exactly_covering_the_minimum_prizes_is_accepted(client, mall):
    """pool == winners × min_prize is the edge that is still valid: every prize is exactly the minimum."""
    campaign_id = await assist_campaign(mall, pool_fen=100, winners=5, min_prize_fen=20)
    assert await prizes(mall.runtime, campaign_id) == [20] * 5


@pytest.mark.parametrize(("settings", "top", "blocked"), [
    ({"pool_fen": 5_000_001, "winners": 1}, 5_000_001, True),
    ({"pool_fen": 5_000_000, "winners": 1}, 5_000_000, False),
    ({"pool_fen": 10_000_000, "winners": 2}, 9_999_999, True),                      # line segment: all but 1 fen
    ({"pool_fen": 10_000_000, "winners": 2, "min_prize_fen": 5_000_000}, 5_000_000, False),
    ({"pool_fen": 10_000_000, "winners": 2, "split": None}, 5_000_000, False),
    ({"pool_fen": 10_000_001, "winners": 2, "split": None}, 5_000_001, True),       # the odd fen tips it over
    ({"pool_fen": 10_000_000, "winners": 2, "split": "double_mean"}, 9_999_999, True),
])
async def test_p3_lint_blocks_a_possible_top_prize_above_fifty_thousand_yuan(client, mall, settings, top, blocked):
    """P3: the largest prize the rules allow must not exceed 5,000,000 fen; above it activation is 409
    lint_blocked, the campaign stays a draft and no prize is split."""
    response = await create(mall, **settings)
    assert response.status_code == 201, response.text
    campaign_id = response.json()["id"]
    lint = (await act(mall, campaign_id, "lint")).json()
    assert lint["ok"] is not blocked
    if not blocked:
        assert (await act(mall, campaign_id, "activate")).status_code == 200
        assert sum(await prizes(mall.runtime, campaign_id)) == settings["pool_fen"]
        page = (await mall.client.get(f"/assist-campaigns/{campaign_id}", params={"merchant": mall.slug})).json()
        assert page["max_prize_fen"] == top
        return
    assert [(f["rule"], f["level"]) for f in lint["findings"]] == [("P3", "block")]
    assert str(top) in lint["findings"][0]["reason"]
    body = await refused(mall, act(mall, campaign_id, "activate"), 409, "lint_blocked")
    assert [(f["rule"], f["level"]) for f in body["findings"]] == [("P3", "block")]
    assert await rows(mall.runtime, "SELECT status FROM campaigns") == [("draft",)]
    assert await prizes(mall.runtime, campaign_id) == []


async def test_published_campaign_page_states_every_number_before_anyone_takes_part(client, mall):
    """P3: the page (no login needed) shows organiser, pool, prize count, min/max prize, odds, conditions and
    what is left; a draft is not published; prizes_left falls as packets win."""
    draft = await create(mall, pool_fen=1000, winners=5, min_prize_fen=100)
    draft_id = draft.json()["id"]
    problem(await mall.client.get(f"/assist-campaigns/{draft_id}", params={"merchant": mall.slug}), 404,
            "campaign_not_found")
    assert (await act(mall, draft_id, "activate")).status_code == 200
    response = await mall.client.get(f"/assist-campaigns/{draft_id}", params={"merchant": mall.slug})
    assert response.status_code == 200, response.text
    page = response.json()
    assert {k: v for k, v in page.items() if k not in ("ends_at", "rules")} == {
        "id": draft_id, "name": "助力拆红包", "status": "active", "organiser": "acme mall", "helpers_needed": 4,
        "pool_fen": 1000, "winners": 5, "split": "line_segment", "min_prize_fen": 100, "max_prize_fen": 600,
        "win_percent": 100, "prizes_left": 5, "pool_left_fen": 1000, "ladder": None, "ladder_prizes": []}
    assert page["rules"] == [
        "邀请 4 位好友助力即可拆开红包；每位好友每天最多助力 3 次，同一红包只能助力一次。",
        "奖池共 ¥10.00，分为 5 份店铺余额，先拆先得，发完即止。",
        "每份金额随机，最少 ¥1.00，最多 ¥6.00。",
        "经风控判定为高风险的账户不发放奖励，也不占用名额：该份奖金留在奖池，由其他用户继续领取。",
        "红包 1 天内有效；每人最多发起 3 个。"]
    alice = await mall.shopper("alice")
    opened = await open_packet(mall, alice, draft_id)
    assert (await packet(mall, opened["id"]))["rules"] == page["rules"]
    await complete(mall, opened["id"], await shoppers(mall, "friend", 4))
    page = (await mall.client.get(f"/assist-campaigns/{draft_id}", params={"merchant": mall.slug})).json()
    assert page["prizes_left"] == 4
    problem(await mall.client.get(f"/assist-campaigns/{draft_id + 1000}", params={"merchant": mall.slug}), 404,
            "campaign_not_found")


async def test_pool_is_split_once_and_survives_pause_and_reactivation(client, mall):
    """The prizes are fixed on first activation (P3): pausing and going live again does not re-draw them."""
    campaign_id = await assist_campaign(mall, pool_fen=100_000, winners=50)
    pool = await prizes(mall.runtime, campaign_id)
    assert (len(pool), sum(pool)) == (50, 100_000)
    assert (await act(mall, campaign_id, "pause")).status_code == 200
    assert (await act(mall, campaign_id, "activate")).status_code == 200
    assert await prizes(mall.runtime, campaign_id) == pool
    assert await value(mall.runtime, "SELECT count(*) FROM prize_slots") == 50


@pytest.mark.parametrize("change", [{"winners": 3}, {"pool_fen": 200}])
async def test_split_pool_cannot_be_changed_once_live(client, mall, change):
    """P3: rules cannot change once live (except in the customers' favour): a campaign whose pool was split never
    goes live again with a pool or prize count that differs from its prizes."""
    fixed = {"helpers_needed": 1, "winners": 2, "pool_fen": 300, "min_prize_fen": 100}
    campaign_id = await assist_campaign(mall, **fixed)
    assert (await act(mall, campaign_id, "pause")).status_code == 200
    patched = await mall.client.patch(f"/admin/campaigns/{campaign_id}", headers=await mall.staff(),
                                      json={"settings": campaign_body(mall, **{**fixed, **change})["settings"]})
    if patched.status_code == 200:
        assert (await act(mall, campaign_id, "activate")).status_code == 409
    else:
        assert 400 <= patched.status_code < 500, patched.text
    [(status, stored)] = await rows(mall.runtime, "SELECT status, settings FROM campaigns")
    stored = stored if isinstance(stored, dict) else json.loads(stored)
    pool = await prizes(mall.runtime, campaign_id)
    assert status != "active" or (stored["pool_fen"], stored["winners"]) == (sum(pool), len(pool))
