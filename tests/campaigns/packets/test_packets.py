"""Coupon packets after payment — share coupons (分享券, kind "share_coupon") and social discount credit (社交立减金,
kind "credit") — through the API, on both databases.

A paid order gets one packet per live packet campaign it qualifies for (enough spent, campaign stock left), made by
the worker; the packet's slot amounts are fixed at that moment (they sum to total_fen exactly, each within min/max)
and handed out in slot order, each claim issuing a coupon of exactly its slot's amount; the largest slot is marked
luckiest (the earliest on a tie); every customer claims a packet once, within the daily help limit, only while the
packet is open and the campaign live, and only if new when the campaign says so; the sharer is rewarded exactly once,
at the k-th friend (the buyer's own claim is no friend), after the risk check and within the reward budget; packets
expire by the worker; settings and the lint refuse what cannot work; a credit pays at checkout. Every refusal answers
with its code and leaves every row as it was.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from fissionmall.core.runtime import Runtime
from tests.campaigns.groupbuy.test_campaign_admin import act
from tests.campaigns.groupbuy.test_group_deposits import deposit_group, pay_stage
from tests.support import (
    LONG_TOKEN_TTL_SECONDS,
    Mall,
    Who,
    customer_id,
    problem,
    refused_unchanged,
    rows,
    shoppers,
    snapshot_of,
    value,
)

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")

WATCHED = ("coupon_packets", "prize_slots", "helps", "counters", "coupons", "coupon_templates", "wallets",
           "wallet_entries", "events", "campaigns", "outbox_jobs", "customers", "orders", "idempotency_keys")
"""What a refused claim (or a refused campaign) must leave exactly as it was."""


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Shopper tokens that outlive the days some tests move the clock by."""
    return {"token_ttl_seconds": LONG_TOKEN_TTL_SECONDS}


# --- helpers ----------------------------------------------------------------------------------------------------------


async def template(mall: Mall, **overrides: Any) -> int:
    """The coupon every slot issues: an amount coupon (its own amount_fen is replaced by the slot's), 7 days."""
    body = {"name": "分享券", "kind": "amount", "amount_fen": 1, "valid_days": 7, "claimable": False,
            "threshold_fen": 0, **overrides}
    response = await mall.client.post("/admin/coupon-templates", headers=await mall.staff(), json=body)
    assert response.status_code == 201, response.text
    template_id: int = response.json()["id"]
    return template_id


def campaign_body(mall: Mall, kind: str, template_id: int, stock_cap: int | None = None,
                  **settings: Any) -> dict[str, Any]:
    """A packet campaign running for a week from an hour ago: 5 slots, 1000 fen in all, unless told otherwise."""
    now = mall.runtime.clock.now()
    return {"kind": kind, "name": "分享有礼", "starts_at": (now - timedelta(hours=1)).isoformat(),
            "ends_at": (now + timedelta(days=7)).isoformat(), "stock_cap": stock_cap,
            "settings": {"template_id": template_id, "slots": 5, "total_fen": 1000, **settings}}


async def create(mall: Mall, kind: str, template_id: int, stock_cap: int | None = None,
                 **settings: Any) -> httpx.Response:
    return await mall.client.post("/admin/campaigns", headers=await mall.staff(),
                                  json=campaign_body(mall, kind, template_id, stock_cap, **settings))


async def packet_campaign(mall: Mall, kind: str = "share_coupon", stock_cap: int | None = None,
                          template_id: int | None = None, **settings: Any) -> int:
    """A live packet campaign (its own template unless one is given); its id."""
    response = await create(mall, kind, template_id or await template(mall), stock_cap, **settings)
    assert response.status_code == 201, response.text
    campaign_id: int = response.json()["id"]
    activated = await act(mall, campaign_id, "activate")
    assert activated.status_code == 200, activated.text
    return campaign_id


async def signup(mall: Mall, openid: str, device_id: str | None = None) -> Who:
    """A shopper signed up now, from this device (the risk check sees the signup device)."""
    headers = {"X-Device-Id": device_id} if device_id else {}
    response = await mall.client.post("/auth/dev-login", headers=headers, json={
        "merchant_slug": mall.slug, "openid": openid, "nickname": openid})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def buy(mall: Mall, who: Who, quantity: int = 1) -> int:
    """An order of `quantity` teas (1000 fen each), paid; the worker has run. The order's id."""
    order = await mall.order(who, quantity)
    paid = await mall.pay(who, order["id"])
    assert paid["status"] == "to_ship", paid
    order_id: int = order["id"]
    return order_id


async def order_packets(mall: Mall, who: Who, order_id: int) -> list[dict[str, Any]]:
    response = await mall.client.get(f"/orders/{order_id}/packets", headers=who)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


async def bought_packet(mall: Mall, who: Who, quantity: int = 1) -> dict[str, Any]:
    """Buy and pay: the order's one packet."""
    [found] = await order_packets(mall, who, await buy(mall, who, quantity))
    return found


async def packet(mall: Mall, packet_id: int) -> dict[str, Any]:
    response = await mall.client.get(f"/packets/{packet_id}", params={"merchant": mall.slug})
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def try_claim(mall: Mall, who: Who, packet_id: int) -> Any:
    """POST /packets/{id}/claims (not awaited)."""
    return mall.client.post(f"/packets/{packet_id}/claims", headers=who)


async def claim(mall: Mall, who: Who, packet_id: int) -> dict[str, Any]:
    response = await try_claim(mall, who, packet_id)
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


async def slots(runtime: Runtime, packet_id: int) -> list[int]:
    """The packet's slot amounts in the order they are handed out (seq 1, 2, …)."""
    return [amount for (amount,) in await rows(
        runtime, "SELECT amount_fen FROM prize_slots WHERE owner_type = 'packet' AND owner_id = :p ORDER BY seq",
        p=packet_id)]


async def coupons(mall: Mall, who: Who) -> list[tuple[int, str, int, str, int]]:
    """(amount, source type, template id, status, threshold) of each of the shopper's coupons, as listed."""
    response = await mall.client.get("/coupons", headers=who)
    assert response.status_code == 200, response.text
    return [(c["amount_fen"], c["source_type"], c["template_id"], c["status"], c["threshold_fen"])
            for c in response.json()]


async def wallet(mall: Mall, who: Who) -> tuple[int, list[tuple[int, str, str, int]]]:
    """(balance, [(amount, kind, source type, source id)] newest first)."""
    response = await mall.client.get("/wallet", headers=who)
    assert response.status_code == 200, response.text
    body = response.json()
    return body["balance_fen"], [(e["amount_fen"], e["kind"], e["source_type"], e["source_id"])
                                 for e in body["entries"]]


snapshot = partial(snapshot_of, tables=WATCHED)


refused = partial(refused_unchanged, tables=WATCHED)


async def execute(runtime: Runtime, sql: str, **params: Any) -> None:
    async with runtime.sessionmaker() as session:
        await session.execute(text(sql), params)
        await session.commit()


async def packet_events(runtime: Runtime) -> list[tuple[str, int | None, dict[str, Any]]]:
    """(kind, packet id, data) of every packet event, in order."""
    found = await rows(runtime, "SELECT kind, subject_id, data FROM events WHERE kind LIKE 'packet%' ORDER BY id")
    return [(kind, subject, data if isinstance(data, dict) else json.loads(data)) for kind, subject, data in found]


def claimed(view: dict[str, Any]) -> list[tuple[int, str, int, bool]]:
    """(seq, nickname, amount, luckiest) of each claim shown on a packet."""
    return [(c["seq"], c["nickname"], c["amount_fen"], c["luckiest"]) for c in view["claims"]]


def luckiest_seq(amounts: list[int]) -> int | None:
    """The slot marked luckiest: the largest amount, the earliest on a tie; none when all are the same."""
    if len(set(amounts)) == 1:
        return None
    return min(range(len(amounts)), key=lambda i: (-amounts[i], i)) + 1


# --- the packet a paid order brings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "split"), [("share_coupon", "line_segment"), ("credit", "double_mean")])
async def test_a_paid_order_gets_one_packet_whose_amounts_are_fixed_when_it_is_made(client, mall, clock, kind, split):
    """The worker makes the packet right after payment: slots summing to total_fen exactly, each within
    [min_fen, max_fen], none taken yet; one campaign unit, one event; a second worker pass changes nothing."""
    campaign_id = await packet_campaign(mall, kind, slots=5, total_fen=1000, min_fen=50, max_fen=400, split=split)
    alice = await mall.shopper("alice")
    order_id = await buy(mall, alice)
    [made] = await order_packets(mall, alice, order_id)
    assert (made["campaign_id"], made["kind"], made["order_id"], made["owner_id"], made["status"], made["slots"],
            made["slots_left"], made["claims"], made["coupon_name"], made["threshold_fen"]) == (
        campaign_id, kind, order_id, await customer_id(mall, alice), "open", 5, 5, [], "分享券", 0)
    assert datetime.fromisoformat(made["expires_at"]) == clock.now() + timedelta(hours=24)
    amounts = await slots(mall.runtime, made["id"])
    assert (len(amounts), sum(amounts)) == (5, 1000)
    assert all(50 <= a <= 400 for a in amounts), amounts
    assert await rows(mall.runtime, "SELECT count(*) FROM prize_slots WHERE taken_by IS NOT NULL") == [(0,)]
    assert await rows(mall.runtime, "SELECT campaign_id, order_id, friends_claimed, status FROM coupon_packets") == [
        (campaign_id, order_id, 0, "open")]
    assert await value(mall.runtime, "SELECT sold FROM campaigns WHERE id = :c", c=campaign_id) == 1
    assert await packet_events(mall.runtime) == [("packet_created", made["id"], {"order_id": order_id})]
    # anyone with the link sees the same packet
    assert await packet(mall, made["id"]) == made
    before = await snapshot(mall.runtime)
    await mall.work()
    assert await snapshot(mall.runtime) == before
    assert await slots(mall.runtime, made["id"]) == amounts


async def test_each_live_packet_campaign_gives_the_order_its_own_packet(client, mall):
    """A share-coupon and a credit campaign live at once: the order gets two packets, one per campaign, each
    split from its own total."""
    share_id = await packet_campaign(mall, "share_coupon", slots=3, total_fen=600)
    credit_id = await packet_campaign(mall, "credit", slots=2, total_fen=500, split=None)
    alice = await mall.shopper("alice")
    found = await order_packets(mall, alice, await buy(mall, alice))
    assert [(p["campaign_id"], p["kind"], p["slots"]) for p in found] == [
        (share_id, "share_coupon", 3), (credit_id, "credit", 2)]
    assert sum(await slots(mall.runtime, found[0]["id"])) == 600
    assert await slots(mall.runtime, found[1]["id"]) == [250, 250]


async def test_equal_split_gives_every_slot_the_same_amount_the_odd_fen_first(client, mall):
    """split null: 1000 fen in 3 slots is 334, 333, 333 (largest remainder, earlier first); the published rules
    say so (and that any paid order qualifies when there is no minimum); the odd fen is no luck: no claim is
    marked luckiest."""
    await packet_campaign(mall, slots=3, total_fen=1000, split=None, template_id=await template(
        mall, name="满5元可用", threshold_fen=500))
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    made = await bought_packet(mall, alice)
    assert await slots(mall.runtime, made["id"]) == [334, 333, 333]
    assert made["rules"] == [
        "每笔支付成功的订单获得一个分享券包：共 3 份，合计 ¥10.00，平均分配，每份 ¥3.33，最先领取的 1 份各多 ¥0.01；"
        "金额在生成时已确定。",
        "每人每包限领一份；1 天内有效。券：满5元可用，满 ¥5.00 可用。"]
    assert (made["coupon_name"], made["threshold_fen"]) == ("满5元可用", 500)
    assert claimed(await claim(mall, bob, made["id"])) == [(1, "bob", 334, False)]
    carol, dave = await mall.shopper("carol"), await mall.shopper("dave")
    await claim(mall, carol, made["id"])
    assert claimed(await claim(mall, dave, made["id"])) == [
        (1, "bob", 334, False), (2, "carol", 333, False), (3, "dave", 333, False)]


async def test_a_random_split_that_drew_the_same_amount_everywhere_has_no_luckiest_slot(client, mall):
    """Among equal amounts nobody is luckiest, even under a random rule."""
    await packet_campaign(mall, slots=3, total_fen=900)
    made = await bought_packet(mall, await mall.shopper("alice"))
    await execute(mall.runtime, "UPDATE prize_slots SET amount_fen = 300")
    friends = await shoppers(mall, "f", 3)
    for who in friends:
        answer = await claim(mall, who, made["id"])
    assert claimed(answer) == [(1, "f0", 300, False), (2, "f1", 300, False), (3, "f2", 300, False)]


async def test_the_rules_name_the_minimum_order_and_a_maximum_a_slot_can_reach(client, mall):
    """A minimum order is stated; a cap above what the total can give is not published: 4 slots of ¥10.00 in all,
    at least ¥1.00 each, reach ¥7.00 at most, whatever max_fen says."""
    await packet_campaign(mall, slots=4, total_fen=1000, min_fen=100, max_fen=900, min_order_fen=500)
    made = await bought_packet(mall, await mall.shopper("alice"))
    assert made["rules"][0] == ("支付满 ¥5.00 的订单获得一个分享券包：共 4 份，合计 ¥10.00，"
                                "每份金额随机，最少 ¥1.00，最多 ¥7.00；金额在生成时已确定。")
    assert max(await slots(mall.runtime, made["id"])) <= 700


# --- claims -----------------------------------------------------------------------------------------------------------


async def test_claims_hand_out_the_slots_in_order_each_as_a_coupon_of_its_amount(client, mall, clock):
    """The n-th claimer gets slot n and a coupon of exactly that amount (the template's terms, 7 days from the
    claim); the last slot finishes the packet; a later claimer is 409 packet_closed and changes nothing."""
    template_id = await template(mall)
    await packet_campaign(mall, slots=4, total_fen=1000, min_fen=100, max_fen=400, template_id=template_id)
    alice = await mall.shopper("alice")
    made = await bought_packet(mall, alice)
    amounts = await slots(mall.runtime, made["id"])
    friends = await shoppers(mall, "friend", 5)
    for n, who in enumerate(friends[:4], start=1):
        answer = await claim(mall, who, made["id"])
        assert (answer["slots_left"], answer["status"]) == (4 - n, "open" if n < 4 else "finished")
        assert [(c["seq"], c["nickname"], c["amount_fen"]) for c in answer["claims"]] == [
            (i, f"friend{i - 1}", amounts[i - 1]) for i in range(1, n + 1)]
        assert await coupons(mall, who) == [(amounts[n - 1], "packet", template_id, "available", 0)]
    assert [c["luckiest"] for c in answer["claims"]] == [i == luckiest_seq(amounts) for i in range(1, 5)]
    issued = await rows(mall.runtime, "SELECT customer_id, amount_fen, source_type, source_id, valid_until, "
                                      "kind, status FROM coupons ORDER BY id")
    friend_ids = [await customer_id(mall, who) for who in friends[:4]]
    stamp = await value(mall.runtime, "SELECT valid_until FROM coupons ORDER BY id LIMIT 1")
    assert issued == [(friend_ids[i], amounts[i], "packet", made["id"], stamp, "amount", "available")
                      for i in range(4)]
    valid_until = stamp if isinstance(stamp, datetime) else datetime.fromisoformat(str(stamp))
    assert valid_until.replace(tzinfo=None) == (clock.now() + timedelta(days=7)).replace(tzinfo=None)
    assert await rows(mall.runtime, "SELECT seq, taken_by FROM prize_slots ORDER BY seq") == [
        (i + 1, friend_ids[i]) for i in range(4)]
    assert await rows(mall.runtime, "SELECT status, friends_claimed FROM coupon_packets") == [("finished", 4)]
    assert [e[2] for e in await packet_events(mall.runtime) if e[0] == "packet_claim"] == [
        {"seq": i + 1, "amount_fen": amounts[i], "reward_fen": 0} for i in range(4)]
    await refused(mall, try_claim(mall, friends[4], made["id"]), 409, "packet_closed")
    assert await packet(mall, made["id"]) == answer


async def test_the_largest_slot_is_the_luckiest_and_the_earliest_wins_a_tie(client, mall):
    """Only the claim of the largest slot is marked; with two slots of the same largest amount, the earlier one;
    before it is claimed, no claim is marked."""
    await packet_campaign(mall, slots=4, total_fen=1000)
    made = await bought_packet(mall, await mall.shopper("alice"))
    # the packet as if the split had drawn 200, 350, 350, 100 (a tie for the largest)
    for seq, amount in enumerate((200, 350, 350, 100), start=1):
        await execute(mall.runtime, "UPDATE prize_slots SET amount_fen = :a WHERE seq = :s", a=amount, s=seq)
    friends = await shoppers(mall, "f", 4)
    assert claimed(await claim(mall, friends[0], made["id"])) == [(1, "f0", 200, False)]
    assert [c[3] for c in claimed(await claim(mall, friends[1], made["id"]))] == [False, True]
    await claim(mall, friends[2], made["id"])
    assert claimed(await claim(mall, friends[3], made["id"])) == [
        (1, "f0", 200, False), (2, "f1", 350, True), (3, "f2", 350, False), (4, "f3", 100, False)]
    assert [(amount, source) for amount, source, *_ in await coupons(mall, friends[2])] == [(350, "packet")]


async def test_a_customer_claims_a_packet_only_once(client, mall):
    """A second claim of the same packet is 409 already_helped and changes nothing; the customer keeps one
    coupon, and can still claim another packet."""
    await packet_campaign(mall)
    first = await bought_packet(mall, await mall.shopper("alice"))
    bob = await mall.shopper("bob")
    await claim(mall, bob, first["id"])
    await refused(mall, try_claim(mall, bob, first["id"]), 409, "already_helped")
    assert len(await coupons(mall, bob)) == 1
    second = await bought_packet(mall, await mall.shopper("carol"))
    assert claimed(await claim(mall, bob, second["id"]))[0][:2] == (1, "bob")
    assert len(await coupons(mall, bob)) == 2


async def test_a_retried_claim_with_its_idempotency_key_replays_the_first_answer(client, mall):
    """A claim retried with the same Idempotency-Key answers the same 201 (marked replayed) and issues no second
    coupon; a new key is a new claim, refused as already_helped."""
    await packet_campaign(mall)
    made = await bought_packet(mall, await mall.shopper("alice"))
    bob = await mall.shopper("bob")
    first = await client.post(f"/packets/{made['id']}/claims", headers={**bob, "Idempotency-Key": "claim-1"})
    assert first.status_code == 201, first.text
    before = await snapshot(mall.runtime)
    again = await client.post(f"/packets/{made['id']}/claims", headers={**bob, "Idempotency-Key": "claim-1"})
    assert (again.status_code, again.json(), again.headers.get("Idempotent-Replayed")) == (201, first.json(), "true")
    assert await snapshot(mall.runtime) == before
    await refused(mall, client.post(f"/packets/{made['id']}/claims", headers={**bob, "Idempotency-Key": "claim-2"}),
                  409, "already_helped")
    assert len(await coupons(mall, bob)) == 1


async def test_a_customer_claims_at_most_the_daily_limit_of_packets(client, mall, clock):
    """helps_per_helper_per_day 2: a third packet the same day is 409 help_limit_reached (nothing changes); the
    next day it may be claimed."""
    await packet_campaign(mall, helps_per_helper_per_day=2, duration_hours=48)
    made = [await bought_packet(mall, await mall.shopper(f"buyer{i}")) for i in range(3)]
    dave = await mall.shopper("dave")
    await claim(mall, dave, made[0]["id"])
    await claim(mall, dave, made[1]["id"])
    body = await refused(mall, try_claim(mall, dave, made[2]["id"]), 409, "help_limit_reached")
    assert body["limit"] == 2
    clock.advance(days=1)
    await claim(mall, dave, made[2]["id"])
    assert len(await coupons(mall, dave)) == 3


async def test_the_buyer_may_claim_their_own_packet_but_is_not_a_friend(client, mall):
    """self_help (the default): the buyer claims slot 1 like anyone, but friends_claimed stays 0 and the sharer
    reward waits for a real friend."""
    await packet_campaign(mall, sharer_reward_after=1, sharer_reward_fen=100, reward_budget={"total_fen": 1000})
    alice = await signup(mall, "alice", "alice-phone")
    made = await bought_packet(mall, alice)
    amounts = await slots(mall.runtime, made["id"])
    assert claimed(await claim(mall, alice, made["id"]))[0][:3] == (1, "alice", amounts[0])
    assert [c[0] for c in await coupons(mall, alice)] == [amounts[0]]
    assert await rows(mall.runtime, "SELECT friends_claimed FROM coupon_packets") == [(0,)]
    assert await wallet(mall, alice) == (0, [])
    await claim(mall, await mall.shopper("bob"), made["id"])
    assert await rows(mall.runtime, "SELECT friends_claimed FROM coupon_packets") == [(1,)]
    assert await wallet(mall, alice) == (100, [(100, "sharer_reward", "packet", made["id"])])


async def test_without_self_help_the_buyer_cannot_claim_their_own_packet(client, mall):
    """self_help false: the buyer's claim is 403 cannot_help_self and changes nothing; a friend still claims."""
    await packet_campaign(mall, self_help=False)
    alice = await mall.shopper("alice")
    made = await bought_packet(mall, alice)
    await refused(mall, try_claim(mall, alice, made["id"]), 403, "cannot_help_self")
    await claim(mall, await mall.shopper("bob"), made["id"])


async def test_new_helpers_only_refuses_anyone_who_has_paid_before(client, mall):
    """A customer with a paid order (the buyer included) is 403 new_helpers_only and changes nothing; a customer
    who never paid claims."""
    await packet_campaign(mall, new_helpers_only=True)
    alice = await mall.shopper("alice")
    made = await bought_packet(mall, alice)
    carol = await mall.shopper("carol")
    await buy(mall, carol)
    await refused(mall, try_claim(mall, carol, made["id"]), 403, "new_helpers_only")
    await refused(mall, try_claim(mall, alice, made["id"]), 403, "new_helpers_only")
    answer = await claim(mall, await mall.shopper("newbie"), made["id"])
    assert claimed(answer)[0][:2] == (1, "newbie")
    assert await rows(mall.runtime, "SELECT new_helper FROM helps") == [(True,)]


async def test_new_helpers_only_refuses_a_second_account_from_the_same_device(client, mall):
    """F2: "new" means no earlier paid order and no earlier account on the same phone or device."""
    await packet_campaign(mall, new_helpers_only=True)
    made = await bought_packet(mall, await mall.shopper("alice"))
    first = await signup(mall, "farm1", "shared-phone")
    await claim(mall, first, made["id"])
    second = await signup(mall, "farm2", "shared-phone")
    await refused(mall, try_claim(mall, second, made["id"]), 403, "new_helpers_only")


# --- the sharer's reward ----------------------------------------------------------------------------------------------


async def test_the_sharer_is_rewarded_exactly_once_at_the_kth_friend(client, mall):
    """sharer_reward_after 3: friends 1 and 2 earn nothing; the 3rd credits 150 to the buyer's wallet once (from
    the reward budget); friends 4 and 5 add nothing."""
    campaign_id = await packet_campaign(mall, sharer_reward_after=3, sharer_reward_fen=150,
                                        reward_budget={"total_fen": 10_000})
    alice = await signup(mall, "alice", "alice-phone")
    made = await bought_packet(mall, alice)
    friends = await shoppers(mall, "friend", 5)
    for who in friends[:2]:
        await claim(mall, who, made["id"])
    assert await wallet(mall, alice) == (0, [])
    await claim(mall, friends[2], made["id"])
    rewarded = (150, [(150, "sharer_reward", "packet", made["id"])])
    assert await wallet(mall, alice) == rewarded
    for who in friends[3:]:
        await claim(mall, who, made["id"])
    assert await wallet(mall, alice) == rewarded
    assert [e[2]["reward_fen"] for e in await packet_events(mall.runtime) if e[0] == "packet_claim"] == [
        0, 0, 150, 0, 0]
    assert await value(mall.runtime, "SELECT used FROM counters WHERE key = :k",
                       k=f"budget:{campaign_id}:sharer_reward") == 150
    assert await rows(mall.runtime, "SELECT status, friends_claimed FROM coupon_packets") == [("finished", 5)]
    assert all(balance == 0 for balance, _ in [await wallet(mall, who) for who in friends])


@pytest.mark.parametrize(("device_id", "minutes", "reward"), [
    ("alice-phone", 0, 150),   # young account, known device: low risk
    (None, 11, 150),           # no device, but the account is over 10 minutes old
    (None, 0, 0),              # young and anonymous: high risk, the reward is withheld
])
async def test_the_sharer_reward_follows_the_risk_check(client, mall, clock, device_id, minutes, reward):
    """F4: the reward is granted after the risk check; a high-risk sharer gets nothing, and no budget is used."""
    campaign_id = await packet_campaign(mall, sharer_reward_after=1, sharer_reward_fen=150,
                                        reward_budget={"total_fen": 10_000})
    alice = await signup(mall, "alice", device_id)
    made = await bought_packet(mall, alice)
    clock.advance(minutes=minutes)
    await claim(mall, await mall.shopper("bob"), made["id"])
    assert await wallet(mall, alice) == ((150, [(150, "sharer_reward", "packet", made["id"])]) if reward
                                         else (0, []))
    budget = await rows(mall.runtime, "SELECT used FROM counters WHERE key = :k",
                        k=f"budget:{campaign_id}:sharer_reward")
    assert budget == ([(150,)] if reward else [])


async def test_the_reward_budget_is_never_overspent(client, mall):
    """A budget of 250 covers one reward of 150: the first sharer is paid, the second's reward is refused whole
    (never part of it), and the budget used is exactly what was credited."""
    campaign_id = await packet_campaign(mall, sharer_reward_after=1, sharer_reward_fen=150,
                                        reward_budget={"total_fen": 250})
    alice, carol = await signup(mall, "alice", "alice-phone"), await signup(mall, "carol", "carol-phone")
    first, second = await bought_packet(mall, alice), await bought_packet(mall, carol)
    bob = await mall.shopper("bob")
    await claim(mall, bob, first["id"])
    await claim(mall, bob, second["id"])
    assert await wallet(mall, alice) == (150, [(150, "sharer_reward", "packet", first["id"])])
    assert await wallet(mall, carol) == (0, [])
    assert await value(mall.runtime, "SELECT used FROM counters WHERE key = :k",
                       k=f"budget:{campaign_id}:sharer_reward") == 150
    assert await value(mall.runtime, "SELECT coalesce(sum(amount_fen), 0) FROM wallet_entries") == 150


# --- when packets are made, and when not ------------------------------------------------------------------------------


async def test_orders_below_min_order_fen_get_no_packet(client, mall):
    """min_order_fen 2000: an order of 1000 gets none (and takes no campaign unit); an order of exactly 2000 does."""
    campaign_id = await packet_campaign(mall, min_order_fen=2000)
    alice = await mall.shopper("alice")
    small = await buy(mall, alice, 1)
    assert await order_packets(mall, alice, small) == []
    assert await value(mall.runtime, "SELECT sold FROM campaigns WHERE id = :c", c=campaign_id) == 0
    enough = await buy(mall, alice, 2)
    assert [p["order_id"] for p in await order_packets(mall, alice, enough)] == [enough]
    assert await rows(mall.runtime, "SELECT order_id FROM coupon_packets") == [(enough,)]
    assert await value(mall.runtime, "SELECT sold FROM campaigns WHERE id = :c", c=campaign_id) == 1


async def test_a_campaign_with_stock_cap_hands_out_at_most_that_many_packets(client, mall):
    """stock_cap 2: the first two paid orders get packets, the third none; sold stays at the cap."""
    campaign_id = await packet_campaign(mall, stock_cap=2)
    buyers = await shoppers(mall, "buyer", 3)
    got = [len(await order_packets(mall, who, await buy(mall, who))) for who in buyers]
    assert got == [1, 1, 0]
    assert await value(mall.runtime, "SELECT sold FROM campaigns WHERE id = :c", c=campaign_id) == 2
    assert await value(mall.runtime, "SELECT count(*) FROM coupon_packets") == 2
    assert await value(mall.runtime, "SELECT count(*) FROM prize_slots") == 10


async def test_a_packet_job_run_again_takes_no_second_campaign_unit(client, mall, clock):
    """The outbox runs a job again when its worker lost the lease: the order still has one packet, the campaign
    still one unit sold, and the next buyer of a campaign capped at 2 still gets a packet."""
    campaign_id = await packet_campaign(mall, stock_cap=2)
    alice = await mall.shopper("alice")
    await bought_packet(mall, alice)
    # the worker died after the job's work but before marking it done: the job is pending, its lease runs out
    await execute(mall.runtime, "UPDATE outbox_jobs SET status = 'pending', done_at = NULL, locked_until = :t "
                                "WHERE kind = 'packets.create'", t=clock.now() + timedelta(minutes=2))
    clock.advance(minutes=3)
    assert (await mall.work())["jobs"] == 1
    assert await value(mall.runtime, "SELECT count(*) FROM coupon_packets") == 1
    assert await value(mall.runtime, "SELECT sold FROM campaigns WHERE id = :c", c=campaign_id) == 1
    bob = await mall.shopper("bob")
    assert len(await order_packets(mall, bob, await buy(mall, bob))) == 1


async def test_an_order_paid_in_deposit_and_balance_gets_its_packet_once_paid_in_full(client, mall):
    """A group order paid 80 + 720 gets nothing for its deposit (not paid in full) and its packet when the balance
    pays it in full; the other member, still owing the balance, has none."""
    packet_id = await packet_campaign(mall)
    _, people = await deposit_group(mall)
    alice, order_id = people["alice"]
    assert await order_packets(mall, alice, order_id) == []
    await pay_stage(mall, alice, order_id, "balance", 720)
    assert [(p["campaign_id"], p["order_id"]) for p in await order_packets(mall, alice, order_id)] == [
        (packet_id, order_id)]
    bob, bob_order = people["bob"]
    assert await order_packets(mall, bob, bob_order) == []
    assert await value(mall.runtime, "SELECT sold FROM campaigns WHERE id = :c", c=packet_id) == 1


async def test_a_paused_campaign_refuses_claims_and_makes_no_packets(client, mall):
    """Paused: a claim is 409 campaign_not_live and changes nothing, a paid order gets no packet; live again, the
    packet made before can be claimed."""
    campaign_id = await packet_campaign(mall)
    made = await bought_packet(mall, await mall.shopper("alice"))
    assert (await act(mall, campaign_id, "pause")).status_code == 200
    bob = await mall.shopper("bob")
    await refused(mall, try_claim(mall, bob, made["id"]), 409, "campaign_not_live")
    carol = await mall.shopper("carol")
    assert await order_packets(mall, carol, await buy(mall, carol)) == []
    assert (await act(mall, campaign_id, "activate")).status_code == 200
    assert claimed(await claim(mall, bob, made["id"]))[0][:2] == (1, "bob")
    assert await value(mall.runtime, "SELECT count(*) FROM coupon_packets") == 1


async def test_packets_expire_by_the_worker_after_duration_hours(client, mall, clock):
    """duration_hours 2: at the deadline the packet shows expired and a claim is 409 packet_closed (nothing
    changes), before and after the worker marks it expired; a finished packet is never expired."""
    await packet_campaign(mall, slots=1, total_fen=100, duration_hours=2)
    short = await bought_packet(mall, await mall.shopper("alice"))
    full = await bought_packet(mall, await mall.shopper("bob"))
    friends = await shoppers(mall, "friend", 2)
    await claim(mall, friends[0], full["id"])
    clock.advance(hours=1, minutes=59)
    assert (await mall.work())["packets.expire"] == 0
    assert (await packet(mall, short["id"]))["status"] == "open"
    clock.advance(minutes=1)
    assert (await packet(mall, short["id"]))["status"] == "expired"
    await refused(mall, try_claim(mall, friends[1], short["id"]), 409, "packet_closed")
    assert (await mall.work())["packets.expire"] == 1
    assert await rows(mall.runtime, "SELECT id, status FROM coupon_packets ORDER BY id") == [
        (short["id"], "expired"), (full["id"], "finished")]
    await refused(mall, try_claim(mall, friends[1], short["id"]), 409, "packet_closed")
    assert await coupons(mall, friends[1]) == []
    before = await snapshot(mall.runtime)
    assert (await mall.work())["packets.expire"] == 0
    assert await snapshot(mall.runtime) == before


# --- who sees what ----------------------------------------------------------------------------------------------------


async def test_only_the_buyer_lists_an_order_s_packets_and_unknown_packets_are_404(client, mall):
    """Another shopper cannot list someone's order packets; an unknown packet is 404 to view and to claim."""
    await packet_campaign(mall)
    alice = await mall.shopper("alice")
    order_id = await buy(mall, alice)
    bob = await mall.shopper("bob")
    problem(await client.get(f"/orders/{order_id}/packets", headers=bob), 404, "order_not_found")
    problem(await client.get("/packets/9999", params={"merchant": mall.slug}), 404, "packet_not_found")
    await refused(mall, try_claim(mall, bob, 9999), 404, "packet_not_found")


# --- settings and lint ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("settings", "field"), [
    ({"slots": 5, "total_fen": 1000, "max_fen": 199}, "settings.max_fen"),           # 5 × 199 < 1000
    ({"slots": 5, "total_fen": 1000, "min_fen": 201, "max_fen": 400}, "settings.max_fen"),  # 1000 < 5 × 201
    ({"sharer_reward_after": 3, "sharer_reward_fen": 100}, "settings.reward_budget"),    # no budget
    ({"sharer_reward_after": 3, "sharer_reward_fen": 100, "reward_budget": None}, "settings.reward_budget"),
    ({"sharer_reward_fen": 100, "reward_budget": {"total_fen": 1000}}, "settings.reward_budget"),  # no k
    ({"slots": 0}, "settings.slots"),
    ({"slots": 101}, "settings.slots"),
    ({"split": "lucky"}, "settings.split"),
    ({"template_id": 0}, "settings.template_id"),
    ({"duration_hours": 0}, "settings.duration_hours"),
])
async def test_bad_settings_are_refused_by_field_and_create_nothing(client, mall, settings, field):
    """422 invalid_settings naming the field; no campaign row."""
    request = campaign_body(mall, "share_coupon", await template(mall))
    request["settings"].update(settings)
    body = await refused(mall, client.post("/admin/campaigns", headers=await mall.staff(), json=request),
                         422, "invalid_settings")
    assert body["field"] == field


async def test_slots_exactly_at_their_bounds_are_accepted(client, mall):
    """slots × max == total and total == slots × min are the valid edges: every slot is exactly that amount."""
    await packet_campaign(mall, slots=4, total_fen=1000, max_fen=250)
    await packet_campaign(mall, "credit", slots=5, total_fen=500, min_fen=100)
    alice = await mall.shopper("alice")
    found = await order_packets(mall, alice, await buy(mall, alice))
    assert [await slots(mall.runtime, p["id"]) for p in found] == [[250] * 4, [100] * 5]


async def test_a_total_below_slots_times_min_is_refused_without_max_fen(client, mall):
    """10 slots of at least 1 fen cannot be made from 5 fen: 422 whether or not max_fen is given."""
    body = await refused(mall, create(mall, "share_coupon", await template(mall), slots=10, total_fen=5),
                         422, "invalid_settings")
    assert body["field"] in ("settings.max_fen", "settings.total_fen", "settings.min_fen")


@pytest.mark.parametrize(("template_of", "reason", "check", "facts"), [
    (None, "coupon template 9999 does not exist", "coupon_missing", {"template_id": 9999}),
    ({"name": "九折", "kind": "percent", "percent_off": 10, "amount_fen": 0}, "packet slots issue amount coupons only",
     "coupon_not_amount", {}),
])
async def test_activation_is_blocked_by_a_template_that_is_missing_or_not_an_amount_coupon(client, mall, template_of,
                                                                                            reason, check, facts):
    """Lint G1: 409 lint_blocked naming the finding; the campaign stays a draft and nothing changes."""
    template_id = 9999 if template_of is None else await template(mall, **template_of)
    created = await create(mall, "share_coupon", template_id)
    assert created.status_code == 201, created.text
    campaign_id = created.json()["id"]
    body = await refused(mall, act(mall, campaign_id, "activate"), 409, "lint_blocked")
    assert body["findings"] == [{"rule": "G1", "level": "block", "reason": reason, "check": check, "facts": facts}]
    assert await value(mall.runtime, "SELECT status FROM campaigns WHERE id = :c", c=campaign_id) == "draft"


async def test_a_claimable_template_is_only_a_warning(client, mall):
    """A template also in the coupon centre warns but does not block."""
    created = await create(mall, "credit", await template(mall, claimable=True))
    campaign_id = created.json()["id"]
    lint = (await act(mall, campaign_id, "lint")).json()
    assert (lint["ok"], [(f["rule"], f["level"]) for f in lint["findings"]]) == (True, [("G1", "warn")])
    assert (await act(mall, campaign_id, "activate")).status_code == 200


async def test_activation_is_blocked_when_a_slot_could_exceed_fifty_thousand_yuan(client, mall):
    """P3: one slot of 5,000,001 fen is a top prize above ¥50,000: 409 lint_blocked."""
    created = await create(mall, "share_coupon", await template(mall), slots=1, total_fen=5_000_001)
    assert created.status_code == 201, created.text
    body = await refused(mall, act(mall, created.json()["id"], "activate"), 409, "lint_blocked")
    assert [(f["rule"], f["level"]) for f in body["findings"]] == [("P3", "block")]


# --- credit at checkout -----------------------------------------------------------------------------------------------


async def test_a_claimed_credit_pays_part_of_the_next_order(client, mall):
    """Social discount credit: a friend's claimed credit, chosen at checkout, takes exactly its amount off the
    total, is locked by the unpaid order and used once it is paid."""
    template_id = await template(mall, name="立减金", threshold_fen=500)
    await packet_campaign(mall, "credit", slots=3, total_fen=900, min_fen=100, max_fen=500,
                          template_id=template_id)
    made = await bought_packet(mall, await mall.shopper("alice"))
    bob = await mall.shopper("bob")
    answer = await claim(mall, bob, made["id"])
    amount = (await slots(mall.runtime, made["id"]))[0]
    assert claimed(answer)[0][2] == amount
    [coupon] = (await client.get("/coupons", headers=bob)).json()
    assert (coupon["amount_fen"], coupon["name"], coupon["threshold_fen"]) == (amount, "立减金", 500)
    response = await mall.place_order(bob, coupon_ids=[coupon["id"]])
    assert response.status_code == 201, response.text
    order = response.json()
    assert (order["items_fen"], order["total_fen"]) == (1000, 1000 - amount)
    assert [a["amount_fen"] for a in order["adjustments"]] == [-amount]
    assert await coupons(mall, bob) == [(amount, "packet", template_id, "locked", 500)]
    paid = await mall.pay(bob, order["id"])
    assert (paid["status"], paid["paid_fen"]) == ("to_ship", 1000 - amount)
    assert await coupons(mall, bob) == [(amount, "packet", template_id, "used", 500)]

