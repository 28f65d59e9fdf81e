"""Every path of group buying (拼团) through the API: a group that fills ships everyone at once; one that runs out of
time refunds each paid member in full (or auto-completes with its real payers, or settles at a tier); leader price,
new-customers-only, limits, caps and every refusal — each refusal leaving every row as it was; the late payer of a
raced last seat; and what shoppers see (open groups, a group, the published rules)."""

from __future__ import annotations

from functools import partial
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from fissionmall.core.events import Event
from fissionmall.core.runtime import Runtime
from tests.campaigns.groupbuy.test_campaign_admin import act, add_sku, campaign_body, create
from tests.campaigns.groupbuy.test_group_flow import group_campaign, group_order
from tests.support import ADDRESS, Mall, Who, customer_id, problem, refused_unchanged, rows, snapshot_of

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")

WATCHED = ("orders", "order_items", "order_adjustments", "group_orders", "buying_groups", "campaigns",
           "campaign_quotas", "skus", "refunds", "events", "outbox_jobs", "payments")
"""What a refused group order must leave exactly as it was."""

# --- helpers ----------------------------------------------------------------------------------------------------------


snapshot = partial(snapshot_of, tables=WATCHED)


refused = partial(refused_unchanged, tables=WATCHED)


def join(mall: Mall, who: Who, campaign_id: int, group_id: int | None = None, *, quantity: int = 1,
         sku_id: int | None = None, items: list[dict[str, int]] | None = None) -> Any:
    """POST /orders through the campaign: opens a group without group_id, joins it with one. Not awaited."""
    return mall.client.post("/orders", headers=who, json={
        "items": items or [{"sku_id": sku_id or mall.sku_id, "quantity": quantity}], "address": ADDRESS,
        "campaign": {"kind": "group", "campaign_id": campaign_id, "target_id": group_id}})


async def placed(mall: Mall, who: Who, campaign_id: int, group_id: int | None = None, *,
                 quantity: int = 1) -> dict[str, Any]:
    response: httpx.Response = await join(mall, who, campaign_id, group_id, quantity=quantity)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def group_id_of(mall: Mall, order_id: int) -> int | None:
    [(group_id,)] = await rows(mall.runtime, "SELECT group_id FROM group_orders WHERE order_id = :o", o=order_id)
    return group_id


async def open_paid_group(mall: Mall, campaign_id: int, leader: str, *members: str,
                          quantities: dict[str, int] | None = None) -> tuple[int, dict[str, tuple[Who, int]]]:
    """A group opened and paid by `leader`, joined and paid by each member in turn: (group id, name → (who, order))."""
    quantities = quantities or {}
    who = await mall.shopper(leader)
    order = await placed(mall, who, campaign_id, quantity=quantities.get(leader, 1))
    await mall.pay(who, order["id"])
    group_id = await group_id_of(mall, order["id"])
    assert group_id is not None
    people = {leader: (who, order["id"])}
    for name in members:
        who = await mall.shopper(name)
        order = await placed(mall, who, campaign_id, group_id, quantity=quantities.get(name, 1))
        await mall.pay(who, order["id"])
        people[name] = (who, order["id"])
    return group_id, people


async def group(mall: Mall, group_id: int) -> dict[str, Any]:
    response = await mall.client.get(f"/groups/{group_id}", params={"merchant": mall.slug})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def open_list(mall: Mall, campaign_id: int) -> list[dict[str, Any]]:
    response = await mall.client.get(f"/group-campaigns/{campaign_id}/groups", params={"merchant": mall.slug})
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


async def group_events(runtime: Runtime) -> list[tuple[str, int | None, int | None, dict[str, Any]]]:
    """(kind, group id, actor, data) of every group_* event, in order."""
    async with runtime.sessionmaker() as session:
        found = await session.execute(select(Event.kind, Event.subject_id, Event.actor_id, Event.data)
                                      .where(Event.kind.like("group_%")).order_by(Event.id))
        return [tuple(row) for row in found]  # type: ignore[misc]


async def campaign_state(mall: Mall, campaign_id: int) -> tuple[int, dict[int, int], int]:
    """(campaign sold, customer → quota used, stock of the tea SKU) as stored."""
    [(sold,)] = await rows(mall.runtime, "SELECT sold FROM campaigns WHERE id = :c", c=campaign_id)
    quotas = dict(await rows(mall.runtime, "SELECT customer_id, used FROM campaign_quotas WHERE campaign_id = :c",
                             c=campaign_id))
    [(stock,)] = await rows(mall.runtime, "SELECT stock FROM skus WHERE id = :s", s=mall.sku_id)
    return sold, quotas, stock


def refunds(order: dict[str, Any]) -> list[tuple[int, str, str]]:
    return [(r["amount_fen"], r["requested_by"], r["status"]) for r in order["refunds"]]


# --- success ----------------------------------------------------------------------------------------------------------


async def test_last_paid_seat_ships_every_member_at_once(client, mall):
    """Members wait in paid; the payment of the last seat moves every order to to_ship and records group_success."""
    campaign_id = await group_campaign(mall, group_size=3)
    group_id, people = await open_paid_group(mall, campaign_id, "alice", "bob")
    for who, order_id in people.values():
        assert (await mall.get_order(who, order_id))["status"] == "paid"
    assert (await group(mall, group_id))["status"] == "open"
    carol = await mall.shopper("carol")
    order = await group_order(mall, carol, campaign_id, group_id)
    assert order["total_fen"] == 800
    await mall.pay(carol, order["id"])
    people["carol"] = (carol, order["id"])
    for who, order_id in people.values():
        shipped = await mall.get_order(who, order_id)
        assert (shipped["status"], shipped["paid_fen"], shipped["refunded_fen"]) == ("to_ship", 800, 0)
    view = await group(mall, group_id)
    assert (view["status"], view["paid_count"], view["places_left"], view["seconds_left"]) == ("succeeded", 3, 0, 0)
    assert [(m["nickname"], m["is_leader"]) for m in view["members"]] == [
        ("alice", True), ("bob", False), ("carol", False)]
    events = await group_events(mall.runtime)
    assert [e[0] for e in events] == ["group_open", "group_join", "group_join", "group_success"]
    assert events[-1][1:] == (group_id, await customer_id(mall, people["alice"][0]),
                              {"members": 3, "final_price_fen": None})
    assert (await campaign_state(mall, campaign_id))[0] == 3


# --- failure at expiry ------------------------------------------------------------------------------------------------


async def test_group_that_runs_out_of_time_refunds_each_paid_member_in_full_once(client, mall, clock):
    """Each paid member is refunded in full on their own order by the system; campaign units, quotas and SKU stock
    come back; a second worker pass changes nothing."""
    campaign_id = await group_campaign(mall, group_size=3, fill_minutes=60)
    group_id, people = await open_paid_group(mall, campaign_id, "alice", "bob", quantities={"bob": 2})
    alice_id, bob_id = (await customer_id(mall, people["alice"][0]), await customer_id(mall, people["bob"][0]))
    assert await campaign_state(mall, campaign_id) == (3, {alice_id: 1, bob_id: 1}, 97)
    clock.advance(minutes=59)
    await mall.work()
    assert (await group(mall, group_id))["status"] == "open"
    clock.advance(minutes=1)
    await mall.work()
    for name, total in (("alice", 800), ("bob", 1600)):
        who, order_id = people[name]
        order = await mall.get_order(who, order_id)
        assert (order["status"], order["paid_fen"], order["refunded_fen"]) == ("refunded", total, total)
        assert refunds(order) == [(total, "system", "succeeded")]
    view = await group(mall, group_id)
    assert (view["status"], view["paid_count"], view["places_left"], view["seconds_left"]) == ("failed", 2, 0, 0)
    events = await group_events(mall.runtime)
    assert [e[0] for e in events] == ["group_open", "group_join", "group_failed"]
    assert events[-1][1:] == (group_id, alice_id, {"members": 2})
    assert await campaign_state(mall, campaign_id) == (0, {alice_id: 0, bob_id: 0}, 100)
    before = await snapshot(mall.runtime)
    await mall.work()
    assert await snapshot(mall.runtime) == before


async def test_unpaid_joiner_of_a_failed_group_is_not_refunded_and_frees_its_units(client, mall, clock):
    """Only paid members count: an order left unpaid is cancelled at its deadline, never refunded."""
    campaign_id = await group_campaign(mall, group_size=3, fill_minutes=60)
    group_id, people = await open_paid_group(mall, campaign_id, "alice")
    bob = await mall.shopper("bob")
    pending = await group_order(mall, bob, campaign_id, group_id)
    clock.advance(minutes=61)
    await mall.work()
    assert (await mall.get_order(*people["alice"]))["status"] == "refunded"
    left = await mall.get_order(bob, pending["id"])
    assert (left["status"], left["paid_fen"], left["refunds"]) == ("cancelled", 0, [])
    assert (await campaign_state(mall, campaign_id))[0::2] == (0, 100)


# --- auto-complete ----------------------------------------------------------------------------------------------------


async def test_auto_complete_succeeds_with_its_real_payers_only(client, mall, clock):
    """P5: at expiry a group with ≥ N paid ships as it is — members and counts are the real payers, no refund —
    and a group below N fails and refunds."""
    campaign_id = await group_campaign(mall, group_size=4, fill_minutes=60, auto_complete_min_paid=2)
    complete_id, completed = await open_paid_group(mall, campaign_id, "alice", "bob")
    short_id, short = await open_paid_group(mall, campaign_id, "carol")
    clock.advance(minutes=61)
    await mall.work()
    view = await group(mall, complete_id)
    assert (view["status"], view["size"], view["paid_count"], view["places_left"]) == ("succeeded", 4, 2, 0)
    assert [m["nickname"] for m in view["members"]] == ["alice", "bob"]
    for who, order_id in completed.values():
        order = await mall.get_order(who, order_id)
        assert (order["status"], order["refunded_fen"], order["refunds"]) == ("to_ship", 0, [])
    assert (await group(mall, short_id))["status"] == "failed"
    carol = await mall.get_order(*short["carol"])
    assert (carol["status"], carol["refunded_fen"]) == ("refunded", 800)
    ends = ("group_success", "group_failed")
    outcomes = [(e[0], e[1], e[3]) for e in await group_events(mall.runtime) if e[0] in ends]
    assert sorted(outcomes, key=lambda e: e[1]) == [
        ("group_success", complete_id, {"members": 2, "final_price_fen": None}),
        ("group_failed", short_id, {"members": 1})]


# --- tiered groups ----------------------------------------------------------------------------------------------------

TIERS = [{"size": 2, "price_fen": 900}, {"size": 3, "price_fen": 800}]


async def tiered_campaign(mall: Mall) -> int:
    """Members pay 950 up front; the group ends at 900 with two paid, at 800 with three."""
    return await group_campaign(mall, group_size=3, fill_minutes=60, tiers=TIERS,
                                skus=[{"sku_id": mall.sku_id, "group_price_fen": 950}])


async def test_tiered_group_ending_at_the_smaller_tier_refunds_the_difference(client, mall, clock):
    """Two paid at expiry: the group succeeds at 900, each member gets (950 − 900) × quantity back and ships."""
    campaign_id = await tiered_campaign(mall)
    group_id, people = await open_paid_group(mall, campaign_id, "alice", "bob", quantities={"bob": 2})
    clock.advance(minutes=61)
    await mall.work()
    for name, paid, back in (("alice", 950, 50), ("bob", 1900, 100)):
        order = await mall.get_order(*people[name])
        assert (order["status"], order["paid_fen"], order["refunded_fen"]) == ("to_ship", paid, back), name
        assert refunds(order) == [(back, "system", "succeeded")]
    view = await group(mall, group_id)
    assert (view["status"], view["paid_count"]) == ("succeeded", 2)
    assert (await group_events(mall.runtime))[-1][0::3] == ("group_success", {"members": 2, "final_price_fen": 900})
    sold, _, stock = await campaign_state(mall, campaign_id)
    assert (sold, stock) == (3, 97)


async def test_full_tiered_group_refunds_down_to_the_largest_tier(client, mall):
    """Three paid: everyone ends at 800, 150 × quantity back each, at the moment the last seat is paid."""
    campaign_id = await tiered_campaign(mall)
    group_id, people = await open_paid_group(mall, campaign_id, "alice", "bob", "carol", quantities={"carol": 3})
    await mall.work()
    for name, paid, back in (("alice", 950, 150), ("bob", 950, 150), ("carol", 2850, 450)):
        order = await mall.get_order(*people[name])
        assert (order["status"], order["paid_fen"], order["refunded_fen"]) == ("to_ship", paid, back), name
        assert refunds(order) == [(back, "system", "succeeded")]
    assert (await group_events(mall.runtime))[-1][0::3] == ("group_success", {"members": 3, "final_price_fen": 800})


async def test_tiered_group_below_its_smallest_tier_fails(client, mall, clock):
    campaign_id = await tiered_campaign(mall)
    _, people = await open_paid_group(mall, campaign_id, "alice")
    clock.advance(minutes=61)
    await mall.work()
    order = await mall.get_order(*people["alice"])
    assert (order["status"], order["refunded_fen"]) == ("refunded", 950)
    assert refunds(order) == [(950, "system", "succeeded")]


# --- leader price, new customers, limits ------------------------------------------------------------------------------


async def test_leader_pays_the_group_price_less_the_leader_discount(client, mall):
    campaign_id = await group_campaign(mall, leader_discount_fen=150)
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    leader = await placed(mall, alice, campaign_id, quantity=2)
    assert (leader["items_fen"], leader["total_fen"]) == (2000, 1300)
    assert [(a["kind"], a["amount_fen"]) for a in leader["adjustments"]] == [("group_price", -700)]
    assert (await mall.pay(alice, leader["id"]))["paid_fen"] == 1300
    member = await placed(mall, bob, campaign_id, await group_id_of(mall, leader["id"]))
    assert (member["items_fen"], member["total_fen"]) == (1000, 800)


async def test_new_customers_only_refuses_old_customers_as_members_not_as_leader(client, mall):
    """老带新: a customer who has paid an order before may lead but not join; one who only ordered may join."""
    campaign_id = await group_campaign(mall, group_size=3, new_customers_only=True)
    alice, bob, carol = await mall.shopper("alice"), await mall.shopper("bob"), await mall.shopper("carol")
    for old in (alice, bob):
        await mall.pay(old, (await mall.order(old))["id"])
    await mall.order(carol)  # ordered, never paid: still new
    leader = await placed(mall, alice, campaign_id)
    await mall.pay(alice, leader["id"])
    group_id = await group_id_of(mall, leader["id"])
    await refused(mall, join(mall, bob, campaign_id, group_id), 409, "new_customers_only")
    joined = await placed(mall, carol, campaign_id, group_id)
    assert (await mall.pay(carol, joined["id"]))["status"] == "paid"
    assert [m["nickname"] for m in (await group(mall, group_id))["members"]] == ["alice", "carol"]


async def test_per_customer_limit_counts_group_orders_and_a_cancel_gives_one_back(client, mall):
    campaign_id = await group_campaign(mall, per_customer_limit=2)
    alice = await mall.shopper("alice")
    first = await placed(mall, alice, campaign_id)
    await placed(mall, alice, campaign_id)
    answer = await refused(mall, join(mall, alice, campaign_id), 409, "campaign_limit_reached")
    assert answer["limit"] == 2
    assert (await client.post(f"/orders/{first['id']}/cancel", headers=alice)).status_code == 200
    assert (await campaign_state(mall, campaign_id))[1] == {await customer_id(mall, alice): 1}
    await placed(mall, alice, campaign_id)


# --- refused joins ----------------------------------------------------------------------------------------------------


async def test_joining_ones_own_group_or_the_same_group_twice_is_refused(client, mall):
    campaign_id = await group_campaign(mall, group_size=3, per_customer_limit=5)
    group_id, people = await open_paid_group(mall, campaign_id, "alice")
    await refused(mall, join(mall, people["alice"][0], campaign_id, group_id), 409, "already_in_group")
    bob = await mall.shopper("bob")
    pending = await placed(mall, bob, campaign_id, group_id)
    await refused(mall, join(mall, bob, campaign_id, group_id), 409, "already_in_group")
    await mall.pay(bob, pending["id"])
    await refused(mall, join(mall, bob, campaign_id, group_id), 409, "already_in_group")
    carol = await mall.shopper("carol")
    cancelled = await placed(mall, carol, campaign_id, group_id)
    assert (await client.post(f"/orders/{cancelled['id']}/cancel", headers=carol)).status_code == 200
    await placed(mall, carol, campaign_id, group_id)  # a cancelled order leaves the group: she may join again


async def test_a_full_group_is_refused_as_full(client, mall):
    """A group whose seats are all paid says group_full (open a new one or join another)."""
    campaign_id = await group_campaign(mall)
    group_id, _ = await open_paid_group(mall, campaign_id, "alice", "bob")
    await refused(mall, join(mall, await mall.shopper("carol"), campaign_id, group_id), 409, "group_full")


async def test_an_expired_or_failed_group_is_closed(client, mall, clock):
    campaign_id = await group_campaign(mall, fill_minutes=60)
    group_id, _ = await open_paid_group(mall, campaign_id, "alice")
    bob = await mall.shopper("bob")
    clock.advance(minutes=60)
    await refused(mall, join(mall, bob, campaign_id, group_id), 409, "group_closed")  # time is up, not yet swept
    await mall.work()
    assert (await group(mall, group_id))["status"] == "failed"
    await refused(mall, join(mall, bob, campaign_id, group_id), 409, "group_closed")


async def test_a_group_of_another_campaign_or_no_group_is_not_found(client, mall):
    first, second = await group_campaign(mall), await group_campaign(mall)
    group_id, _ = await open_paid_group(mall, first, "alice")
    bob = await mall.shopper("bob")
    await refused(mall, join(mall, bob, second, group_id), 404, "group_not_found")
    await refused(mall, join(mall, bob, first, group_id + 1000), 404, "group_not_found")


async def test_a_sku_outside_the_campaign_or_two_items_are_refused(client, mall):
    other_sku = await add_sku(mall)
    campaign_id = await group_campaign(mall)
    alice = await mall.shopper("alice")
    answer = await refused(mall, join(mall, alice, campaign_id, sku_id=other_sku), 422, "sku_not_in_campaign")
    assert answer["field"] == "items"
    two = [{"sku_id": mall.sku_id, "quantity": 1}, {"sku_id": other_sku, "quantity": 1}]
    await refused(mall, join(mall, alice, campaign_id, items=two), 422, "one_item_per_group_order")


async def test_a_campaign_that_is_not_running_sells_nothing(client, mall):
    """Draft, paused, ended, not yet started: campaign_not_live, for leaders and joiners alike."""
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    draft = (await create(mall, campaign_body(mall))).json()["id"]
    await refused(mall, join(mall, alice, draft), 409, "campaign_not_live")
    later = (await create(mall, campaign_body(mall, starts_in_hours=2))).json()["id"]
    assert (await act(mall, later, "activate")).status_code == 200
    await refused(mall, join(mall, alice, later), 409, "campaign_not_live")
    running = await group_campaign(mall, group_size=3)
    group_id, _ = await open_paid_group(mall, running, "carol")
    for action in ("pause", "end"):
        assert (await act(mall, running, action)).status_code == 200
        await refused(mall, join(mall, alice, running), 409, "campaign_not_live")
        await refused(mall, join(mall, bob, running, group_id), 409, "campaign_not_live")


async def test_the_stock_cap_is_counted_in_units_and_freed_by_a_cancel(client, mall):
    response = await create(mall, campaign_body(mall, stock_cap=3))
    campaign_id = response.json()["id"]
    assert (await act(mall, campaign_id, "activate")).status_code == 200
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    first = await placed(mall, alice, campaign_id, quantity=2)
    await refused(mall, join(mall, bob, campaign_id, quantity=2), 409, "campaign_sold_out")
    await placed(mall, bob, campaign_id, quantity=1)
    await refused(mall, join(mall, await mall.shopper("carol"), campaign_id), 409, "campaign_sold_out")
    assert (await campaign_state(mall, campaign_id))[0::2] == (3, 97)
    assert (await client.post(f"/orders/{first['id']}/cancel", headers=alice)).status_code == 200
    assert (await campaign_state(mall, campaign_id))[0::2] == (1, 99)
    await placed(mall, await mall.shopper("carol"), campaign_id, quantity=2)


# --- the late payer of a raced last seat ------------------------------------------------------------------------------


async def raced_last_seat(mall: Mall, race_loser: str) -> tuple[int, int, dict[str, Any], Who]:
    """Bob and carol both order the last seat of alice's two-person group; bob pays first, then carol.
    Returns (campaign, group, carol's order after paying, carol)."""
    campaign_id = await group_campaign(mall, race_loser=race_loser)
    group_id, _ = await open_paid_group(mall, campaign_id, "alice")
    bob, carol = await mall.shopper("bob"), await mall.shopper("carol")
    bob_order = await group_order(mall, bob, campaign_id, group_id)
    carol_order = await group_order(mall, carol, campaign_id, group_id)
    assert (await mall.pay(bob, bob_order["id"]))["status"] == "to_ship"
    await mall.pay(carol, carol_order["id"])
    await mall.work()
    view = await group(mall, group_id)
    assert (view["status"], view["paid_count"]) == ("succeeded", 2)
    assert [m["nickname"] for m in view["members"]] == ["alice", "bob"]
    return campaign_id, group_id, await mall.get_order(carol, carol_order["id"]), carol


async def test_late_payer_of_the_last_seat_leads_a_new_group(client, mall):
    campaign_id, group_id, order, carol = await raced_last_seat(mall, "new_group")
    assert (order["status"], order["paid_fen"], order["refunds"]) == ("paid", 800, [])
    new_group = await group_id_of(mall, order["id"])
    assert new_group is not None and new_group != group_id
    view = await group(mall, new_group)
    assert (view["status"], view["paid_count"], view["places_left"]) == ("open", 1, 1)
    assert [(m["nickname"], m["is_leader"]) for m in view["members"]] == [("carol", True)]
    [(seat,)] = await rows(mall.runtime, "SELECT seat_no FROM group_orders WHERE order_id = :o", o=order["id"])
    assert seat == 1
    last = (await group_events(mall.runtime))[-1]
    assert (last[0], last[1], last[2]) == ("group_open", new_group, await customer_id(mall, carol))
    assert [g["id"] for g in await open_list(mall, campaign_id)] == [new_group]


async def test_late_payer_of_the_last_seat_is_refunded_in_full(client, mall):
    campaign_id, group_id, order, carol = await raced_last_seat(mall, "refund")
    assert (order["status"], order["paid_fen"], order["refunded_fen"]) == ("refunded", 800, 800)
    assert refunds(order) == [(800, "system", "succeeded")]
    assert await group_id_of(mall, order["id"]) == group_id
    assert await open_list(mall, campaign_id) == []
    sold, quotas, stock = await campaign_state(mall, campaign_id)
    assert (sold, quotas[await customer_id(mall, carol)], stock) == (2, 0, 98)


# --- what shoppers see ------------------------------------------------------------------------------------------------


async def test_open_groups_are_not_listed_when_the_merchant_keeps_them_private(client, mall):
    campaign_id = await group_campaign(mall, group_size=3, listed=False)
    group_id, _ = await open_paid_group(mall, campaign_id, "alice")
    assert await open_list(mall, campaign_id) == []
    assert (await group(mall, group_id))["places_left"] == 2  # still reachable through a share link


async def test_open_groups_are_listed_closest_to_filling_first(client, mall, clock):
    """凑团: fewest places left first, then the one that expires first; full, expired and paused are not shown."""
    campaign_id = await group_campaign(mall, group_size=3, fill_minutes=60)
    oldest, _ = await open_paid_group(mall, campaign_id, "alice")
    clock.advance(minutes=1)
    fullest, _ = await open_paid_group(mall, campaign_id, "bob", "carol")
    clock.advance(minutes=1)
    newest, _ = await open_paid_group(mall, campaign_id, "dave")
    await open_paid_group(mall, campaign_id, "erin", "frank", "grace")  # succeeded
    listing = await open_list(mall, campaign_id)
    assert [(g["id"], g["places_left"]) for g in listing] == [(fullest, 1), (oldest, 2), (newest, 2)]
    assert [m["nickname"] for m in listing[0]["members"]] == ["bob", "carol"]
    clock.advance(minutes=58)  # the oldest group's time is up
    assert [g["id"] for g in await open_list(mall, campaign_id)] == [fullest, newest]
    assert (await act(mall, campaign_id, "pause")).status_code == 200
    assert await open_list(mall, campaign_id) == []


async def test_a_group_shows_its_members_places_and_time_left(client, mall, clock):
    campaign_id = await group_campaign(mall, group_size=4, fill_minutes=90)
    group_id, _ = await open_paid_group(mall, campaign_id, "alice", "bob")
    clock.advance(minutes=30, seconds=15)
    view = await group(mall, group_id)
    assert (view["campaign_id"], view["status"], view["size"], view["paid_count"], view["places_left"],
            view["seconds_left"]) == (campaign_id, "open", 4, 2, 2, 59 * 60 + 45)
    assert [(m["nickname"], m["is_leader"]) for m in view["members"]] == [("alice", True), ("bob", False)]
    problem(await client.get(f"/groups/{group_id + 1000}", params={"merchant": mall.slug}), 404, "group_not_found")


async def test_campaign_page_publishes_its_rules(client, mall):
    """P3/P5: size, time to fill, full refund on failure, auto-complete without invented members, before buying."""
    campaign_id = await group_campaign(mall, group_size=3, fill_minutes=90, auto_complete_min_paid=2,
                                       leader_discount_fen=100, new_customers_only=True, per_customer_limit=2)
    response = await client.get(f"/group-campaigns/{campaign_id}", params={"merchant": mall.slug})
    assert response.status_code == 200, response.text
    page = response.json()
    assert (page["group_size"], page["fill_minutes"], page["leader_discount_fen"], page["new_customers_only"],
            page["per_customer_limit"], page["tiers"], page["status"]) == (3, 90, 100, True, 2, [], "active")
    assert page["skus"] == [{"sku_id": mall.sku_id, "group_price_fen": 800}]
    assert page["rules"] == ["3 人成团，开团后 1 小时 30 分钟内凑齐。",
                             "未成团：已付款的每位成员自动全额退款，原路返回。",
                             "到期时已付款满 2 人，按现有人数成团发货（不虚增成员）。", "团长再减 ¥1.00。",
                             "仅限新用户参团（团长不限）。", "每人限参与 2 次。"]


async def test_tiered_campaign_page_explains_the_difference_refund(client, mall):
    campaign_id = await tiered_campaign(mall)
    page = (await client.get(f"/group-campaigns/{campaign_id}", params={"merchant": mall.slug})).json()
    assert page["tiers"] == TIERS
    assert "阶梯价：2 人 ¥9.00，3 人 ¥8.00。先按团购价付款，成团后按最终人数对应的价格退还差价。" in page["rules"]


async def test_a_draft_campaign_has_no_public_page(client, mall):
    draft = (await create(mall, campaign_body(mall))).json()["id"]
    problem(await client.get(f"/group-campaigns/{draft}", params={"merchant": mall.slug}), 404, "campaign_not_found")
    problem(await client.get(f"/group-campaigns/{draft + 1000}", params={"merchant": mall.slug}), 404,
            "campaign_not_found")
