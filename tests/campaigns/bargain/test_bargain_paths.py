"""Every path of bargaining (砍价) through the API, on SQLite and PostgreSQL: the published rules; settings refused
field by field; N distinct friends take the price to exactly the floor, the N-th one and no other, with the schedule
and salt revealed to match the hash published at the start; every refused help (own bargain, twice, complete,
closed, old customer where only new ones may help, velocity, daily allowance) changing no row; the initiator's own
cut; buying at the current price or only at the floor through the order flow, one order at a time; expiry by the
worker giving the campaign unit and the customer's start back; new-helper bonuses that never pass the floor; helper
rewards paid once each from a budget that is never overspent, and withheld from high-risk helpers."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from fissionmall.campaigns.bargain.models import Bargain
from fissionmall.core.events import Event
from fissionmall.core.runtime import Runtime
from tests.support import Mall, Who, customer_id, problem, refused_unchanged, rows, snapshot_of, value

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")

START, FLOOR, N = 1000, 100, 5
WATCHED = ("bargains", "helps", "counters", "campaigns", "campaign_quotas", "wallets", "wallet_entries", "events",
           "orders", "order_items", "order_adjustments", "skus", "outbox_jobs", "payments", "idempotency_keys")
"""What a refused bargain request must leave exactly as it was."""

# --- helpers ----------------------------------------------------------------------------------------------------------


snapshot = partial(snapshot_of, tables=WATCHED)


refused = partial(refused_unchanged, tables=WATCHED)


def campaign_body(mall: Mall, **settings: Any) -> dict[str, Any]:
    """A bargain on the mall's tea from 1000 fen to a floor of 100 in 5 helps, running for a week."""
    now = mall.runtime.clock.now()
    return {"kind": "bargain", "name": "砍价", "starts_at": (now - timedelta(hours=1)).isoformat(),
            "ends_at": (now + timedelta(days=7)).isoformat(),
            "settings": {"product_id": mall.product_id, "sku_id": mall.sku_id, "start_price_fen": START,
                         "floor_price_fen": FLOOR, "helps_needed": N, **settings}}


async def bargain_campaign(mall: Mall, **settings: Any) -> int:
    """An active bargain campaign; its id."""
    owner = await mall.staff()
    created = await mall.client.post("/admin/campaigns", headers=owner, json=campaign_body(mall, **settings))
    assert created.status_code == 201, created.text
    campaign_id: int = created.json()["id"]
    activated = await mall.client.post(f"/admin/campaigns/{campaign_id}/activate", headers=owner)
    assert activated.status_code == 200, activated.text
    return campaign_id


def start(mall: Mall, who: Who, campaign_id: int, **headers: str) -> Any:
    """POST /bargains (not awaited)."""
    return mall.client.post("/bargains", headers={**who, **headers}, json={"campaign_id": campaign_id})


async def started(mall: Mall, who: Who, campaign_id: int) -> dict[str, Any]:
    response = await start(mall, who, campaign_id)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def help_(mall: Mall, who: Who, bargain_id: int, device: str | None = None) -> Any:
    """POST /bargains/{id}/helps, from this device if given (not awaited)."""
    headers = {**who, **({"X-Device-Id": device} if device else {})}
    return mall.client.post(f"/bargains/{bargain_id}/helps", headers=headers)


async def helped(mall: Mall, who: Who, bargain_id: int, device: str | None = None) -> dict[str, Any]:
    response: httpx.Response = await help_(mall, who, bargain_id, device)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def view(mall: Mall, bargain_id: int) -> dict[str, Any]:
    """The bargain page as anyone sees it (no login)."""
    response = await mall.client.get(f"/bargains/{bargain_id}", params={"merchant": mall.slug})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def buy(mall: Mall, who: Who, campaign_id: int, bargain_id: int, quantity: int = 1) -> Any:
    """POST /orders buying the bargain (not awaited)."""
    return mall.place_order(who, quantity, campaign={"kind": "bargain", "campaign_id": campaign_id,
                                                     "target_id": bargain_id})


async def bought(mall: Mall, who: Who, campaign_id: int, bargain_id: int) -> dict[str, Any]:
    response: httpx.Response = await buy(mall, who, campaign_id, bargain_id)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def stored(mall: Mall, bargain_id: int) -> Bargain:
    """The bargain row as stored (schedule and salt included)."""
    async with mall.runtime.sessionmaker() as session:
        found = (await session.execute(select(Bargain).where(Bargain.id == bargain_id))).scalar_one()
        session.expunge(found)
        return found


async def wallet(mall: Mall, who: Who) -> tuple[int, list[tuple[int, str, str, int]]]:
    """(balance, [(amount, kind, source type, source id)]) from GET /wallet."""
    response = await mall.client.get("/wallet", headers=who)
    assert response.status_code == 200, response.text
    body = response.json()
    return body["balance_fen"], [(e["amount_fen"], e["kind"], e["source_type"], e["source_id"])
                                 for e in body["entries"]]


async def help_events(runtime: Runtime) -> list[dict[str, Any]]:
    async with runtime.sessionmaker() as session:
        found = await session.execute(select(Event.data).where(Event.kind == "help").order_by(Event.id))
        return [dict(data) for data in found.scalars()]


async def old_customer(mall: Mall, openid: str) -> Who:
    """A customer who has paid an order before: no longer new."""
    who = await mall.shopper(openid)
    order = await mall.order(who)
    assert (await mall.pay(who, order["id"]))["status"] == "to_ship"
    return who


def proof(salt: str, schedule: list[int]) -> str:
    return hashlib.sha256(f"{salt}:{','.join(str(c) for c in schedule)}".encode()).hexdigest()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- the published rules and the settings -----------------------------------------------------------------------------


async def test_the_campaign_page_publishes_n_the_floor_and_the_deadline(client, mall):
    """P1: before anyone starts, anyone sees N, start and floor prices, the duration, how to buy and the end."""
    settings = {"duration_minutes": 90, "self_cut_percent": 10, "per_customer_limit": 2, "buy_at": "floor"}
    campaign_id = await bargain_campaign(mall, **settings)
    response = await client.get(f"/bargain-campaigns/{campaign_id}", params={"merchant": mall.slug})
    assert response.status_code == 200, response.text
    page = response.json()
    admin = (await client.get(f"/admin/campaigns/{campaign_id}", headers=await mall.staff())).json()
    assert {k: page[k] for k in ("id", "name", "status", "product_id", "sku_id", "start_price_fen",
                                 "floor_price_fen", "helps_needed", "duration_minutes", "buy_at")} == {
        "id": campaign_id, "name": "砍价", "status": "active", "product_id": mall.product_id, "sku_id": mall.sku_id,
        "start_price_fen": START, "floor_price_fen": FLOOR, "helps_needed": N, "duration_minutes": 90,
        "buy_at": "floor"}
    assert at(page["ends_at"]) == at(admin["ends_at"])
    assert page["rules"] == [
        "原价 ¥10.00，5 位好友各砍一刀即到底价 ¥1.00（砍价方案在发起时已确定，可凭公示的校验码核对）。",
        "发起后 1 小时 30 分钟内有效；每位好友对同一砍价只能砍一刀，每天最多帮砍 3 次。",
        "发起人先自砍差价的 10%。",
        "砍到底价后方可购买。",
        "每人限发起 2 次。"]
    bargain = await started(mall, await mall.shopper("alice"), campaign_id)
    assert bargain["rules"] == page["rules"]


async def test_a_draft_or_unknown_bargain_campaign_is_not_found(client, mall):
    """Nothing is published before the campaign goes live."""
    created = await client.post("/admin/campaigns", headers=await mall.staff(), json=campaign_body(mall))
    assert created.status_code == 201, created.text
    draft_id = created.json()["id"]
    for campaign_id in (draft_id, draft_id + 1000):
        problem(await client.get(f"/bargain-campaigns/{campaign_id}", params={"merchant": mall.slug}), 404,
                "campaign_not_found")
    await refused(mall, start(mall, await mall.shopper("alice"), draft_id), 409, "campaign_not_live")


@pytest.mark.parametrize(("settings", "field"), [
    ({"floor_price_fen": START}, "settings.floor_price_fen"),
    ({"floor_price_fen": START + 1}, "settings.floor_price_fen"),
    ({"floor_price_fen": START - N + 1}, "settings.helps_needed"),  # 4 fen between start and floor, 5 cuts
    ({"floor_price_fen": 990, "self_cut_percent": 50, "helps_needed": 6}, "settings.helps_needed"),  # 5 fen left
    ({"helper_reward_fen": 30, "reward_budget": None}, "settings.reward_budget"),
    ({"helper_reward_fen": 30}, "settings.reward_budget"),
])
async def test_settings_that_cannot_be_honest_are_refused_naming_the_field(client, mall, settings, field):
    """P2/F5: a floor not below the start, fewer fen than cuts after the initiator's cut, or a reward without a
    budget: 422 invalid_settings naming the field, and no campaign is created."""
    answer = await refused(mall, client.post("/admin/campaigns", headers=await mall.staff(),
                                             json=campaign_body(mall, **settings)), 422, "invalid_settings")
    assert answer["field"] == field
    assert await value(mall.runtime, "SELECT count(*) FROM campaigns") == 0


async def test_the_tightest_valid_plan_is_accepted_and_reached_by_one_fen_cuts(client, mall):
    """Exactly N fen left after the initiator's cut is enough: N cuts of 1 fen, the last one at the floor."""
    campaign_id = await bargain_campaign(mall, floor_price_fen=990, self_cut_percent=50)
    bargain = await started(mall, await mall.shopper("alice"), campaign_id)
    assert (bargain["self_cut_fen"], bargain["price_fen"], bargain["progress_percent"]) == (5, 995, 50)
    for i in range(N):
        after = await helped(mall, await mall.shopper(f"friend{i}"), bargain["id"])
        assert after["price_fen"] == 994 - i
    assert (after["status"], after["schedule"]) == ("reached_floor", [1] * N)


# --- N distinct friends to the floor ----------------------------------------------------------------------------------


async def test_five_distinct_helpers_reach_exactly_the_floor_on_the_fifth(client, mall):
    """The k-th friend takes cut k of the schedule fixed at the start; the 5th lands exactly on the floor; the
    schedule and salt then revealed hash to what was published; every other help is refused and changes nothing."""
    campaign_id = await bargain_campaign(mall)
    alice = await mall.shopper("alice")
    first = await started(mall, alice, campaign_id)
    bargain_id, published = first["id"], first["schedule_hash"]
    assert {k: first[k] for k in ("status", "customer_id", "sku_id", "start_price_fen", "floor_price_fen",
                                  "self_cut_fen", "price_fen", "helps_needed", "helps_done", "helps_remaining",
                                  "progress_percent", "can_buy", "seconds_left", "cuts", "schedule", "salt")} == {
        "status": "ongoing", "customer_id": await customer_id(mall, alice), "sku_id": mall.sku_id,
        "start_price_fen": START, "floor_price_fen": FLOOR, "self_cut_fen": 0, "price_fen": START, "helps_needed": N,
        "helps_done": 0, "helps_remaining": N, "progress_percent": 0, "can_buy": True, "seconds_left": 24 * 3600,
        "cuts": [], "schedule": None, "salt": None}
    assert len(published) == 64 and int(published, 16) >= 0
    row = await stored(mall, bargain_id)
    schedule = list(row.schedule)
    assert (len(schedule), sum(schedule), row.schedule_hash) == (N, START - FLOOR, published)
    assert schedule == sorted(schedule, reverse=True) and min(schedule) >= 1

    await refused(mall, help_(mall, alice, bargain_id), 403, "cannot_help_self")
    friends = [await mall.shopper(f"friend{i}") for i in range(1, N + 2)]
    price = START
    for k, friend in enumerate(friends[:N], start=1):
        if k == 3:
            await refused(mall, help_(mall, friends[0], bargain_id), 409, "already_helped")
        page = await helped(mall, friend, bargain_id)
        price -= schedule[k - 1]
        assert (page["price_fen"], page["helps_done"], page["helps_remaining"], page["progress_percent"]) == (
            price, k, N - k, (START - price) * 100 // (START - FLOOR))
        assert [(c["seq"], c["nickname"], c["amount_fen"], c["new_helper"]) for c in page["cuts"]] == [
            (i, f"friend{i}", schedule[i - 1], True) for i in range(1, k + 1)]
        assert page["schedule_hash"] == published
        if k < N:
            assert (page["status"], page["schedule"], page["salt"]) == ("ongoing", None, None)

    final = await view(mall, bargain_id)
    assert (final["status"], final["price_fen"], final["helps_done"], final["helps_remaining"],
            final["progress_percent"], final["can_buy"]) == ("reached_floor", FLOOR, N, 0, 100, True)
    assert [c["amount_fen"] for c in final["cuts"]] == schedule == final["schedule"]
    assert sum(c["amount_fen"] for c in final["cuts"]) == START - FLOOR
    assert final["salt"] == row.salt and len(final["salt"]) == 32
    assert proof(final["salt"], final["schedule"]) == published == final["schedule_hash"]

    await refused(mall, help_(mall, friends[N], bargain_id), 409, "bargain_complete")
    await refused(mall, help_(mall, friends[0], bargain_id), 409, "bargain_complete")
    await refused(mall, help_(mall, alice, bargain_id), 409, "bargain_complete")
    helps = await rows(mall.runtime, "SELECT c.openid, h.seq, h.amount_fen, h.target_type, h.target_id FROM helps h "
                                     "JOIN customers c ON c.id = h.helper_id ORDER BY h.seq")
    assert helps == [(f"friend{k}", k, schedule[k - 1], "bargain", bargain_id) for k in range(1, N + 1)]
    assert [(e["seq"], e["cut_fen"], e["bonus_fen"], e["reward_fen"]) for e in await help_events(mall.runtime)] == [
        (k, schedule[k - 1], 0, 0) for k in range(1, N + 1)]
    stored_row = await stored(mall, bargain_id)
    assert (stored_row.status, stored_row.price_fen, stored_row.helps_done) == ("reached_floor", FLOOR, N)


async def test_an_unknown_bargain_is_not_found(client, mall):
    campaign_id = await bargain_campaign(mall)
    bargain = await started(mall, await mall.shopper("alice"), campaign_id)
    missing = bargain["id"] + 1000
    problem(await client.get(f"/bargains/{missing}", params={"merchant": mall.slug}), 404, "bargain_not_found")
    await refused(mall, help_(mall, await mall.shopper("bob"), missing), 404, "bargain_not_found")


async def test_the_initiators_own_cut_comes_first_and_n_cuts_still_reach_the_floor(client, mall):
    """self_cut_percent: the price starts at start − (start − floor) × p%, and the N friends' cuts cover the rest."""
    campaign_id = await bargain_campaign(mall, self_cut_percent=20, helps_needed=4)
    bargain = await started(mall, await mall.shopper("alice"), campaign_id)
    own = (START - FLOOR) * 20 // 100
    assert (bargain["self_cut_fen"], bargain["price_fen"], bargain["progress_percent"]) == (own, START - own, 20)
    schedule = list((await stored(mall, bargain["id"])).schedule)
    assert (len(schedule), sum(schedule)) == (4, START - FLOOR - own)
    for i in range(4):
        page = await helped(mall, await mall.shopper(f"friend{i}"), bargain["id"])
        assert page["price_fen"] == START - own - sum(schedule[:i + 1])
    assert (page["status"], page["price_fen"], page["schedule"]) == ("reached_floor", FLOOR, schedule)
    assert proof(page["salt"], schedule) == bargain["schedule_hash"]


async def test_starting_twice_with_one_idempotency_key_is_one_bargain(client, mall):
    """A retried start replays the first answer: one bargain, one start counted against the limit."""
    campaign_id = await bargain_campaign(mall)
    alice = await mall.shopper("alice")
    first = await start(mall, alice, campaign_id, **{"Idempotency-Key": "start-1"})
    again = await start(mall, alice, campaign_id, **{"Idempotency-Key": "start-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert await value(mall.runtime, "SELECT count(*) FROM bargains") == 1
    assert await rows(mall.runtime, "SELECT used FROM campaign_quotas") == [(1,)]


# --- starting: limits -------------------------------------------------------------------------------------------------


async def test_per_customer_limit_bounds_the_bargains_one_customer_starts(client, mall):
    """per_customer_limit 2: a third start is 409 campaign_limit_reached and changes nothing; others may start."""
    campaign_id = await bargain_campaign(mall, per_customer_limit=2)
    alice = await mall.shopper("alice")
    await started(mall, alice, campaign_id)
    await started(mall, alice, campaign_id)
    answer = await refused(mall, start(mall, alice, campaign_id), 409, "campaign_limit_reached")
    assert answer["limit"] == 2
    await started(mall, await mall.shopper("bob"), campaign_id)
    assert await value(mall.runtime, "SELECT sold FROM campaigns WHERE id = :c", c=campaign_id) == 3
    assert await rows(mall.runtime, "SELECT c.openid, q.used FROM campaign_quotas q JOIN customers c "
                                    "ON c.id = q.customer_id ORDER BY c.openid") == [("alice", 2), ("bob", 1)]


# --- buying -----------------------------------------------------------------------------------------------------------


async def test_buying_at_the_current_price_one_order_at_a_time(client, mall):
    """buy_at current: the order costs the price reached (a bargain_price adjustment), a second order while one is
    pending is refused, cancelling frees the bargain, and once paid the order ships and the bargain is purchased."""
    campaign_id = await bargain_campaign(mall)
    alice, bob, carol = [await mall.shopper(n) for n in ("alice", "bob", "carol")]
    bargain_id = (await started(mall, alice, campaign_id))["id"]
    await helped(mall, bob, bargain_id)
    await helped(mall, carol, bargain_id)
    schedule = list((await stored(mall, bargain_id)).schedule)
    price = START - schedule[0] - schedule[1]

    await refused(mall, buy(mall, alice, campaign_id, bargain_id, quantity=2), 422, "bargain_item_mismatch")
    await refused(mall, buy(mall, bob, campaign_id, bargain_id), 404, "bargain_not_found")  # not bob's bargain
    order = await bought(mall, alice, campaign_id, bargain_id)
    assert (order["kind"], order["campaign_id"], order["status"], order["items_fen"], order["total_fen"]) == (
        "bargain", campaign_id, "pending_payment", START, price)
    assert [(a["kind"], a["name"], a["amount_fen"]) for a in order["adjustments"]] == [
        ("bargain_price", "砍价", price - START)]
    assert ((await view(mall, bargain_id))["can_buy"], (await stored(mall, bargain_id)).order_id) == (
        False, order["id"])
    await refused(mall, buy(mall, alice, campaign_id, bargain_id), 409, "bargain_in_order")

    cancelled = await client.post(f"/orders/{order['id']}/cancel", headers=alice)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled", cancelled.text
    assert ((await view(mall, bargain_id))["can_buy"], (await stored(mall, bargain_id)).order_id) == (True, None)
    assert await mall.sku_stock() == 100

    second = await bought(mall, alice, campaign_id, bargain_id)
    assert second["total_fen"] == price
    paid = await mall.pay(alice, second["id"])
    assert (paid["status"], paid["paid_fen"]) == ("to_ship", price)
    page = await view(mall, bargain_id)
    assert (page["status"], page["price_fen"], page["can_buy"], page["schedule"]) == (
        "purchased", price, False, schedule)
    assert await mall.sku_stock() == 99
    assert await value(mall.runtime, "SELECT sold FROM campaigns WHERE id = :c", c=campaign_id) == 1
    await refused(mall, buy(mall, alice, campaign_id, bargain_id), 409, "bargain_closed")
    await refused(mall, help_(mall, await mall.shopper("dave"), bargain_id), 409, "bargain_closed")


async def test_buy_at_floor_refuses_an_order_before_the_floor_and_sells_at_it(client, mall):
    """buy_at floor: 409 floor_not_reached until the N-th help, then the order costs exactly the floor."""
    campaign_id = await bargain_campaign(mall, buy_at="floor", helps_needed=2)
    alice = await mall.shopper("alice")
    bargain_id = (await started(mall, alice, campaign_id))["id"]
    assert (await view(mall, bargain_id))["can_buy"] is False
    await refused(mall, buy(mall, alice, campaign_id, bargain_id), 409, "floor_not_reached")
    page = await helped(mall, await mall.shopper("bob"), bargain_id)
    assert (page["status"], page["can_buy"]) == ("ongoing", False)
    await refused(mall, buy(mall, alice, campaign_id, bargain_id), 409, "floor_not_reached")
    page = await helped(mall, await mall.shopper("carol"), bargain_id)
    assert (page["status"], page["price_fen"], page["can_buy"]) == ("reached_floor", FLOOR, True)
    order = await bought(mall, alice, campaign_id, bargain_id)
    assert (order["total_fen"], [(a["kind"], a["amount_fen"]) for a in order["adjustments"]]) == (
        FLOOR, [("bargain_price", FLOOR - START)])
    paid = await mall.pay(alice, order["id"])
    assert (paid["status"], paid["paid_fen"]) == ("to_ship", FLOOR)
    assert (await view(mall, bargain_id))["status"] == "purchased"


async def test_a_bargain_is_purchased_at_the_price_its_order_paid(client, mall):
    """Whatever happens while an order is pending, the bargain bought must show the price that was paid, and its
    cuts must add up to start − paid price."""
    campaign_id = await bargain_campaign(mall)
    alice = await mall.shopper("alice")
    bargain_id = (await started(mall, alice, campaign_id))["id"]
    await helped(mall, await mall.shopper("bob"), bargain_id)
    order = await bought(mall, alice, campaign_id, bargain_id)
    await help_(mall, await mall.shopper("carol"), bargain_id)  # refused once fixed; today it cuts again
    paid = await mall.pay(alice, order["id"])
    page = await view(mall, bargain_id)
    assert page["status"] == "purchased"
    assert page["price_fen"] == paid["paid_fen"] == order["total_fen"]
    assert sum(c["amount_fen"] for c in page["cuts"]) == START - paid["paid_fen"]


# --- expiry -----------------------------------------------------------------------------------------------------------


async def test_the_worker_expires_an_unbought_bargain_and_gives_its_start_back(client, mall, clock):
    """After duration_minutes, helps and orders are refused, the sweep marks it expired (revealing the schedule),
    and the campaign unit and the customer's start come back: with per_customer_limit 1 she may start again."""
    campaign_id = await bargain_campaign(mall, duration_minutes=60)
    alice = await mall.shopper("alice")
    bargain_id = (await started(mall, alice, campaign_id))["id"]
    answer = await refused(mall, start(mall, alice, campaign_id), 409, "campaign_limit_reached")
    assert answer["limit"] == 1
    page = await helped(mall, await mall.shopper("bob"), bargain_id)
    price = page["price_fen"]
    alice_id = await customer_id(mall, alice)

    clock.advance(minutes=59)
    await mall.work()
    assert ((await stored(mall, bargain_id)).status, (await view(mall, bargain_id))["seconds_left"]) == (
        "ongoing", 60)
    clock.advance(minutes=1)
    page = await view(mall, bargain_id)  # time is up, not yet swept
    assert (page["status"], page["can_buy"], page["seconds_left"]) == ("expired", False, 0)
    await refused(mall, help_(mall, await mall.shopper("carol"), bargain_id), 409, "bargain_closed")
    await refused(mall, buy(mall, alice, campaign_id, bargain_id), 409, "bargain_closed")

    await mall.work()
    row = await stored(mall, bargain_id)
    assert (row.status, row.price_fen, row.helps_done) == ("expired", price, 1)
    page = await view(mall, bargain_id)
    assert (page["status"], page["schedule"], page["salt"]) == ("expired", list(row.schedule), row.salt)
    assert proof(page["salt"], page["schedule"]) == page["schedule_hash"]
    assert await value(mall.runtime, "SELECT sold FROM campaigns WHERE id = :c", c=campaign_id) == 0
    assert await rows(mall.runtime, "SELECT customer_id, used FROM campaign_quotas") == [(alice_id, 0)]
    expired = await rows(mall.runtime, "SELECT subject_id, actor_id FROM events WHERE kind = 'bargain_expired'")
    assert expired == [(bargain_id, alice_id)]
    before = await snapshot(mall.runtime)
    await mall.work()
    assert await snapshot(mall.runtime) == before

    again = await started(mall, alice, campaign_id)
    assert (again["id"] != bargain_id, again["status"], again["price_fen"]) == (True, "ongoing", START)
    assert await rows(mall.runtime, "SELECT customer_id, used FROM campaign_quotas") == [(alice_id, 1)]


async def test_a_bargain_whose_order_is_pending_at_its_deadline_expires_once_that_order_lapses(client, mall, clock):
    """An order placed in time holds the bargain past its deadline (it may still be paid); when the unpaid order is
    cancelled at its own deadline, the sweep expires the bargain and gives the start back."""
    campaign_id = await bargain_campaign(mall, duration_minutes=10)
    alice = await mall.shopper("alice")
    bargain_id = (await started(mall, alice, campaign_id))["id"]
    order = await bought(mall, alice, campaign_id, bargain_id)
    clock.advance(minutes=11)
    await mall.work()
    assert ((await stored(mall, bargain_id)).status, (await mall.get_order(alice, order["id"]))["status"]) == (
        "ongoing", "pending_payment")
    clock.advance(minutes=30)  # the merchant's 30-minute payment deadline
    await mall.work()
    await mall.work()
    assert (await mall.get_order(alice, order["id"]))["status"] == "cancelled"
    row = await stored(mall, bargain_id)
    assert (row.status, row.order_id) == ("expired", None)
    assert await value(mall.runtime, "SELECT sold FROM campaigns WHERE id = :c", c=campaign_id) == 0
    assert await rows(mall.runtime, "SELECT used FROM campaign_quotas") == [(0,)]
    await started(mall, alice, campaign_id)


# --- who may help -----------------------------------------------------------------------------------------------------


async def test_new_helpers_only_refuses_a_customer_who_has_paid_before(client, mall):
    """F2: 403 new_helpers_only for an old customer (nothing changes); a new one cuts as usual."""
    campaign_id = await bargain_campaign(mall, new_helpers_only=True)
    bargain_id = (await started(mall, await mall.shopper("alice"), campaign_id))["id"]
    await refused(mall, help_(mall, await old_customer(mall, "bob"), bargain_id), 403, "new_helpers_only")
    page = await helped(mall, await mall.shopper("carol"), bargain_id)
    assert [(c["nickname"], c["new_helper"]) for c in page["cuts"]] == [("carol", True)]


async def test_a_new_helper_bonus_cuts_more_but_never_below_the_floor(client, mall):
    """The k-th help by a new customer cuts schedule[k] + bonus (an old customer just schedule[k]), capped at what
    is left to the floor, which may then come before the N-th friend; the schedule itself is unchanged."""
    bonus = 60
    campaign_id = await bargain_campaign(mall, new_helper_bonus_fen=bonus)
    bargain_id = (await started(mall, await mall.shopper("alice"), campaign_id))["id"]
    schedule = list((await stored(mall, bargain_id)).schedule)
    page = await helped(mall, await old_customer(mall, "old"), bargain_id, device="old-phone")
    assert (page["price_fen"], page["cuts"][0]["amount_fen"], page["cuts"][0]["new_helper"]) == (
        START - schedule[0], schedule[0], False)
    price, expected = START - schedule[0], [schedule[0]]
    for k in range(1, N):
        cut = min(schedule[k] + bonus, price - FLOOR)
        price -= cut
        expected.append(cut)
        page = await helped(mall, await mall.shopper(f"new{k}"), bargain_id, device=f"phone-{k}")
        assert (page["price_fen"], page["cuts"][-1]["amount_fen"], page["cuts"][-1]["new_helper"]) == (
            price, cut, True)
        if price == FLOOR:
            break
    assert len(expected) < N  # 3 bonuses of 60 fen cover the last cut, at most 180 fen (the mean of 900 / 5)
    assert (page["status"], page["price_fen"], page["helps_done"], page["helps_remaining"]) == (
        "reached_floor", FLOOR, len(expected), 0)
    assert [c["amount_fen"] for c in page["cuts"]] == expected and sum(expected) == START - FLOOR
    assert page["schedule"] == schedule and proof(page["salt"], schedule) == page["schedule_hash"]
    assert [e["bonus_fen"] for e in await help_events(mall.runtime)] == [
        0, *(max(0, cut - schedule[k]) for k, cut in enumerate(expected) if k > 0)]
    await refused(mall, help_(mall, await mall.shopper("late"), bargain_id, device="late-phone"), 409,
                  "bargain_complete")


async def test_a_bonus_larger_than_what_is_left_stops_exactly_at_the_floor(client, mall):
    """One new helper with a huge bonus takes the price to the floor, not a fen below."""
    campaign_id = await bargain_campaign(mall, new_helper_bonus_fen=100_000)
    bargain_id = (await started(mall, await mall.shopper("alice"), campaign_id))["id"]
    page = await helped(mall, await mall.shopper("bob"), bargain_id, device="bob-phone")
    assert (page["status"], page["price_fen"], page["helps_done"], page["helps_remaining"], page["progress_percent"],
            [c["amount_fen"] for c in page["cuts"]]) == ("reached_floor", FLOOR, 1, 0, 100, [START - FLOOR])
    await refused(mall, help_(mall, await mall.shopper("carol"), bargain_id), 409, "bargain_complete")


# --- helper rewards: budget and risk ----------------------------------------------------------------------------------


async def test_helper_rewards_are_paid_once_each_until_the_budget_is_spent(client, mall):
    """F5: a budget of two rewards pays the first two helpers 30 fen each, exactly once, and the third nothing;
    the wallet entries add up to the budget used."""
    campaign_id = await bargain_campaign(mall, helper_reward_fen=30, reward_budget={"total_fen": 60})
    bargain_id = (await started(mall, await mall.shopper("alice"), campaign_id))["id"]
    helpers = [await mall.shopper(f"helper{i}") for i in range(3)]
    for i, who in enumerate(helpers):
        await helped(mall, who, bargain_id, device=f"phone-{i}")
    help_ids = dict(await rows(mall.runtime, "SELECT c.openid, h.id FROM helps h JOIN customers c "
                                             "ON c.id = h.helper_id"))
    assert await wallet(mall, helpers[0]) == (30, [(30, "helper_reward", "help", help_ids["helper0"])])
    assert await wallet(mall, helpers[1]) == (30, [(30, "helper_reward", "help", help_ids["helper1"])])
    assert await wallet(mall, helpers[2]) == (0, [])
    await refused(mall, help_(mall, helpers[0], bargain_id, device="phone-0"), 409, "already_helped")
    assert await wallet(mall, helpers[0]) == (30, [(30, "helper_reward", "help", help_ids["helper0"])])
    assert [e["reward_fen"] for e in await help_events(mall.runtime)] == [30, 30, 0]
    assert await rows(mall.runtime, "SELECT count(*), sum(amount_fen) FROM wallet_entries "
                                    "WHERE campaign_id = :c", c=campaign_id) == [(2, 60)]
    assert await rows(mall.runtime, "SELECT period, used FROM counters WHERE key = :k",
                      k=f"budget:{campaign_id}:helper_reward") == [("all", 60)]


async def test_a_brand_new_anonymous_helper_gets_no_reward(client, mall, clock):
    """F4: an account minutes old with no X-Device-Id is high risk and gets nothing (its cut still counts); with a
    device id, or once the account is older than 10 minutes, the reward is paid."""
    campaign_id = await bargain_campaign(mall, helper_reward_fen=30, reward_budget={"total_fen": 1000})
    bargain_id = (await started(mall, await mall.shopper("alice"), campaign_id))["id"]
    anonymous, with_device, later = (await mall.shopper("anon"), await mall.shopper("device"),
                                     await mall.shopper("later"))
    page = await helped(mall, anonymous, bargain_id)
    assert (page["helps_done"], await wallet(mall, anonymous)) == (1, (0, []))
    assert await rows(mall.runtime, "SELECT used FROM counters WHERE key = :k",
                      k=f"budget:{campaign_id}:helper_reward") in ([], [(0,)])
    await helped(mall, with_device, bargain_id, device="phone-1")
    assert (await wallet(mall, with_device))[0] == 30
    clock.advance(minutes=11)
    await helped(mall, later, bargain_id)
    assert (await wallet(mall, later))[0] == 30
    assert [e["reward_fen"] for e in await help_events(mall.runtime)] == [0, 30, 30]
    assert await rows(mall.runtime, "SELECT used FROM counters WHERE key = :k",
                      k=f"budget:{campaign_id}:helper_reward") == [(60,)]
    assert await value(mall.runtime, "SELECT sum(amount_fen) FROM wallet_entries") == 60


# --- velocity and the daily allowance ---------------------------------------------------------------------------------


async def test_a_device_over_its_hourly_limit_is_refused_until_the_next_hour(client, mall, clock):
    """F3: per_device_hour 2: a third help from the same X-Device-Id is 429 velocity_limited (nothing changes), another
    device is not affected, and an hour later the same device may help again."""
    campaign_id = await bargain_campaign(mall, velocity={"per_device_hour": 2})
    bargain_id = (await started(mall, await mall.shopper("alice"), campaign_id))["id"]
    first, second, third, other = [await mall.shopper(n) for n in ("first", "second", "third", "other")]
    await helped(mall, first, bargain_id, device="shared-phone")
    await helped(mall, second, bargain_id, device="shared-phone")
    answer = await refused(mall, help_(mall, third, bargain_id, device="shared-phone"), 429, "velocity_limited")
    assert (answer["scope"], answer["limit"]) == ("device", 2)
    await helped(mall, other, bargain_id, device="own-phone")
    clock.advance(hours=1)
    page = await helped(mall, third, bargain_id, device="shared-phone")
    assert [c["nickname"] for c in page["cuts"]] == ["first", "second", "other", "third"]


async def test_a_helper_may_help_at_most_h_bargains_a_day(client, mall, clock):
    """F1: helps_per_helper_per_day 2: the third bargain that day is 409 help_limit_reached (nothing changes); the
    next day the allowance is back."""
    campaign_id = await bargain_campaign(mall, helps_per_helper_per_day=2, duration_minutes=3 * 24 * 60)
    bargains = [(await started(mall, await mall.shopper(f"starter{i}"), campaign_id))["id"] for i in range(3)]
    helper = await mall.shopper("helper")
    await helped(mall, helper, bargains[0])
    await helped(mall, helper, bargains[1])
    answer = await refused(mall, help_(mall, helper, bargains[2]), 409, "help_limit_reached")
    assert answer["limit"] == 2
    clock.advance(days=1)
    page = await helped(mall, helper, bargains[2])
    assert [c["nickname"] for c in page["cuts"]] == ["helper"]
