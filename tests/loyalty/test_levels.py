"""Membership levels (会员等级) through the API, on either database.

A member's level comes from their own spending only: Σ (paid − refunded) of their paid orders, all of them
("cumulative") or last month's in China Standard Time ("monthly"); exactly a level's min_spend_fen reaches it.
Saving the plan re-evaluates every member at once; the worker re-evaluates once per China-time day (a second pass
the same day leaves member_levels untouched), so more spending upgrades and refunds downgrade on the next day's run.
At checkout (preview and order alike) the level's discount is one "member_discount" line named "<name>折扣", the
sum of each line's share rounded down, never on a group order; free shipping waives the merchant's fee; points earned
on completion are multiplied by the level's multiplier. Only the owner saves a plan; a plan that does not rise
strictly, or whose benefits are out of range, is 422 and saves nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import select

from fissionmall.catalog.models import Sku
from fissionmall.core.clock import FrozenClock
from fissionmall.core.runtime import Runtime
from fissionmall.loyalty.levels.models import MemberLevel
from tests.campaigns.groupbuy.test_group_flow import group_campaign
from tests.support import ADDRESS, SHIPMENT, Mall, Who, customer_id, problem, rows, snapshot_of

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")

SILVER = {"level": 1, "name": "银卡", "min_spend_fen": 1000, "discount_percent": 3, "free_shipping": False,
          "points_multiplier_percent": 100, "early_access_hours": 0}
GOLD = {"level": 2, "name": "金卡", "min_spend_fen": 3000, "discount_percent": 7, "free_shipping": False,
        "points_multiplier_percent": 150, "early_access_hours": 0}
DIAMOND = {"level": 3, "name": "钻石", "min_spend_fen": 5000, "discount_percent": 10, "free_shipping": True,
           "points_multiplier_percent": 250, "early_access_hours": 24}
PLAN: dict[str, Any] = {"basis": "cumulative", "levels": [SILVER, GOLD, DIAMOND]}
MONTHLY: dict[str, Any] = {**PLAN, "basis": "monthly"}
POINTS = {"earn_per_yuan": 3, "fen_per_100_points": 100, "max_redeem_percent": 50, "validity_days": 365,
          "checkin_points": 5, "streak_bonus": 1, "streak_cap": 7, "review_points": 0,
          "post_points": 0, "post_daily_cap": 3}
WATCHED = ("level_plans", "member_levels", "counters")
"""What a refused plan must leave exactly as it was."""


# --- helpers ----------------------------------------------------------------------------------------------------------


async def save(mall: Mall, plan: dict[str, Any]) -> None:
    response = await mall.client.put("/admin/levels", headers=await mall.staff("owner"), json=plan)
    assert response.status_code == 200, response.text
    assert response.json() == plan


async def membership(mall: Mall, who: Who) -> dict[str, Any]:
    response = await mall.client.get("/membership", headers=who)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def seen(level: dict[str, Any] | None, spend: int, upcoming: dict[str, Any] | None) -> dict[str, Any]:
    """What GET /membership must show for this level (None: level 0), spend and next level."""
    return {"level": level["level"] if level else 0, "name": level["name"] if level else None, "spend_fen": spend,
            "discount_percent": level["discount_percent"] if level else 0,
            "free_shipping": level["free_shipping"] if level else False,
            "points_multiplier_percent": level["points_multiplier_percent"] if level else 100,
            "early_access_hours": level["early_access_hours"] if level else 0,
            "next_level": upcoming["name"] if upcoming else None,
            "next_needs_fen": upcoming["min_spend_fen"] - spend if upcoming else None}


async def levels_of(runtime: Runtime) -> dict[int, tuple[int, int, datetime]]:
    """member_levels as {customer: (level, spend, evaluated_at)}."""
    async with runtime.sessionmaker() as session:
        found = (await session.execute(select(MemberLevel).order_by(MemberLevel.customer_id))).scalars()
        return {m.customer_id: (m.level, m.spend_fen, m.evaluated_at) for m in found}


snapshot = partial(snapshot_of, tables=WATCHED)


async def add_sku(mall: Mall, price_fen: int) -> int:
    """Another SKU of the mall's product at this price; its id."""
    async with mall.runtime.sessionmaker() as session:
        sku = Sku(merchant_id=mall.merchant_id, product_id=mall.product_id, code=f"{mall.slug}-tea-{price_fen}",
                  name=f"{price_fen}g", price_fen=price_fen, stock=50)
        session.add(sku)
        await session.commit()
        return sku.id


def cart(items: list[tuple[int, int]], **extra: Any) -> dict[str, Any]:
    return {"items": [{"sku_id": sku, "quantity": quantity} for sku, quantity in items], "address": ADDRESS, **extra}


async def buy(mall: Mall, who: Who, quantity: int = 1, sku_id: int | None = None) -> dict[str, Any]:
    """Place and pay an order (the payment's worker pass included); the paid order."""
    order = await mall.order(who, quantity) if sku_id is None else await placed(mall, who, [(sku_id, quantity)])
    paid = await mall.pay(who, order["id"])
    assert paid["status"] == "to_ship" and paid["paid_fen"] == order["total_fen"], paid
    return paid


async def placed(mall: Mall, who: Who, items: list[tuple[int, int]]) -> dict[str, Any]:
    response = await mall.client.post("/orders", headers=who, json=cart(items))
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def preview(mall: Mall, who: Who, items: list[tuple[int, int]]) -> dict[str, Any]:
    response = await mall.client.post("/checkout/preview", headers=who, json=cart(items))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def lines(body: dict[str, Any]) -> list[tuple[str, str, int]]:
    return [(a["kind"], a["name"], a["amount_fen"]) for a in body["adjustments"]]


async def refund(mall: Mall, order_id: int, amount_fen: int) -> None:
    """A refund by finance, carried out by the worker."""
    response = await mall.client.post(f"/admin/orders/{order_id}/refunds", headers=await mall.staff("finance"),
                                      json={"reason": "goodwill", "amount_fen": amount_fen})
    assert response.status_code == 201, response.text
    await mall.work()


async def set_shipping_fee(mall: Mall, fee_fen: int) -> None:
    response = await mall.client.patch("/admin/merchant", headers=await mall.staff("owner"),
                                       json={"shipping_fee_fen": fee_fen})
    assert response.status_code == 200, response.text
    assert response.json()["shipping_fee_fen"] == fee_fen


def china(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of 2026 in China Standard Time, as UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def move_to(clock: FrozenClock, moment: datetime) -> datetime:
    assert moment >= clock.now(), "the clock only moves forward"
    return clock.advance(seconds=(moment - clock.now()).total_seconds())


async def day_runs(mall: Mall) -> list[tuple[str, int]]:
    """The daily evaluation's counter: (China day, runs) per day."""
    return [(period, used) for period, used in await rows(
        mall.runtime, "SELECT period, used FROM counters WHERE key = :key ORDER BY period",
        key=f"levels:{mall.merchant_id}")]


# --- configuration ----------------------------------------------------------------------------------------------------


async def test_membership_is_404_without_a_plan_and_only_the_owner_saves_one(client, mall):
    """No plan: GET /membership is 404 levels_not_configured; operator, finance and support get 403 and save
    nothing; the owner's plan is stored as sent and a member who never paid shows level 0."""
    alice = await mall.shopper("alice")
    problem(await client.get("/membership", headers=alice), 404, "levels_not_configured")
    await buy(mall, alice, 3)
    for role in ("operator", "finance", "support"):
        before = await snapshot(mall.runtime)
        problem(await client.put("/admin/levels", headers=await mall.staff(role), json=PLAN), 403, "forbidden")
        assert await snapshot(mall.runtime) == before, role
    assert await rows(mall.runtime, "SELECT count(*) FROM level_plans") == [(0,)]
    assert await levels_of(mall.runtime) == {}
    problem(await client.get("/membership", headers=alice), 404, "levels_not_configured")
    bob = await mall.shopper("bob")
    await save(mall, PLAN)
    assert await rows(mall.runtime, "SELECT merchant_id, basis FROM level_plans") == [(mall.merchant_id, "cumulative")]
    assert await membership(mall, bob) == seen(None, 0, SILVER)
    assert await membership(mall, alice) == seen(GOLD, 3000, DIAMOND)


BAD_PLANS: list[tuple[str, dict[str, Any]]] = [
    ("levels", {**PLAN, "levels": [GOLD, SILVER, DIAMOND]}),
    ("levels", {**PLAN, "levels": [SILVER, {**GOLD, "level": 1}, DIAMOND]}),
    ("levels", {**PLAN, "levels": [SILVER, {**GOLD, "level": 4}, DIAMOND]}),
    ("levels", {**PLAN, "levels": [SILVER, {**GOLD, "min_spend_fen": 1000}, DIAMOND]}),
    ("levels", {**PLAN, "levels": [SILVER, {**GOLD, "min_spend_fen": 6000}, DIAMOND]}),
    ("levels", {**PLAN, "levels": []}),
    ("levels.0.discount_percent", {**PLAN, "levels": [{**SILVER, "discount_percent": 51}, GOLD, DIAMOND]}),
    ("levels.0.discount_percent", {**PLAN, "levels": [{**SILVER, "discount_percent": -1}, GOLD, DIAMOND]}),
    ("levels.1.points_multiplier_percent", {**PLAN, "levels": [SILVER, {**GOLD, "points_multiplier_percent": 99},
                                                               DIAMOND]}),
    ("levels.2.points_multiplier_percent", {**PLAN, "levels": [SILVER, GOLD, {**DIAMOND,
                                                                              "points_multiplier_percent": 1001}]}),
    ("levels.0.level", {**PLAN, "levels": [{**SILVER, "level": 0}, GOLD, DIAMOND]}),
    ("levels.0.min_spend_fen", {**PLAN, "levels": [{**SILVER, "min_spend_fen": -1}, GOLD, DIAMOND]}),
    ("levels.0.name", {**PLAN, "levels": [{**SILVER, "name": ""}, GOLD, DIAMOND]}),
    ("basis", {**PLAN, "basis": "yearly"}),
]


async def test_bad_plans_are_422_and_change_nothing(client, mall):
    """Levels that do not rise strictly in number and spend, or benefits out of range, are refused as 422 naming the
    field; the saved plan, every member's level and the day's counter stay exactly as they were."""
    alice = await mall.shopper("alice")
    await buy(mall, alice, 3)
    await save(mall, PLAN)
    await mall.work()  # the day's evaluation has run: its counter exists too
    before = await snapshot(mall.runtime)
    assert [len(before[table]) for table in WATCHED] == [1, 1, 1]
    for field, plan in BAD_PLANS:
        body = problem(await client.put("/admin/levels", headers=await mall.staff(), json=plan), 422,
                       "invalid_request")
        assert body["errors"][0]["field"] == field, (field, body)
        assert await snapshot(mall.runtime) == before, field
    assert await membership(mall, alice) == seen(GOLD, 3000, DIAMOND)


async def test_the_edges_of_the_benefits_are_accepted(client, mall):
    """discount 0 and 50, multiplier 100 and 1000, are all valid; the saved plan replaces the one row."""
    alice = await mall.shopper("alice")
    await buy(mall, alice, 1)
    await save(mall, PLAN)
    edges = {"basis": "monthly", "levels": [
        {**SILVER, "discount_percent": 0, "points_multiplier_percent": 100},
        {**GOLD, "discount_percent": 50, "points_multiplier_percent": 1000}]}
    await save(mall, edges)
    assert await rows(mall.runtime, "SELECT count(*), min(basis) FROM level_plans") == [(1, "monthly")]
    await save(mall, PLAN)
    assert await membership(mall, alice) == seen(SILVER, 1000, GOLD)


# --- evaluation -------------------------------------------------------------------------------------------------------


async def test_exactly_the_minimum_spend_reaches_a_level(client, mall, clock):
    """Spends of 0 (an unpaid order), 999, 1 000, 2 999 (3 000 less a 1-fen refund), 3 000 and 5 000: each at the
    level whose minimum it reaches exactly, with what is still needed for the next; the unpaid order counts nothing
    and its shopper gets no member_levels row."""
    cheap = await add_sku(mall, 999)
    who = {name: await mall.shopper(name) for name in ("ann", "bob", "cat", "dan", "eve", "fay")}
    await mall.order(who["ann"], 5)  # placed, never paid
    await buy(mall, who["bob"], 1, cheap)
    await buy(mall, who["cat"], 1)
    order = await buy(mall, who["dan"], 3)
    await refund(mall, order["id"], 1)
    await buy(mall, who["eve"], 3)
    await buy(mall, who["fay"], 5)
    await save(mall, PLAN)
    expected = {"ann": seen(None, 0, SILVER), "bob": seen(None, 999, SILVER), "cat": seen(SILVER, 1000, GOLD),
                "dan": seen(SILVER, 2999, GOLD), "eve": seen(GOLD, 3000, DIAMOND), "fay": seen(DIAMOND, 5000, None)}
    assert {name: await membership(mall, who[name]) for name in who} == expected
    ids = {name: await customer_id(mall, who[name]) for name in who}
    now = clock.now()
    assert await levels_of(mall.runtime) == {ids["bob"]: (0, 999, now), ids["cat"]: (1, 1000, now),
                                             ids["dan"]: (1, 2999, now), ids["eve"]: (2, 3000, now),
                                             ids["fay"]: (3, 5000, now)}


async def test_more_spending_upgrades_on_the_next_days_run_or_at_once_when_the_plan_is_saved(client, mall, clock):
    """Spending after the day's run changes nothing until the worker's first pass of the next China day; saving
    the plan re-evaluates at once, so raising a threshold downgrades at once too."""
    alice = await mall.shopper("alice")
    me = await customer_id(mall, alice)
    await save(mall, PLAN)
    assert (await mall.work())["loyalty.levels"] == 0  # the day's run: nobody has paid yet
    await buy(mall, alice, 3)  # its worker pass is the same day's: no new evaluation
    assert await membership(mall, alice) == seen(None, 0, SILVER)
    assert await levels_of(mall.runtime) == {}
    midnight = clock.advance(hours=4)  # 2026-01-02 00:00 China time
    assert (await mall.work())["loyalty.levels"] == 1
    assert await levels_of(mall.runtime) == {me: (2, 3000, midnight)}
    assert await membership(mall, alice) == seen(GOLD, 3000, DIAMOND)
    paid = await buy(mall, alice, 2)
    assert paid["paid_fen"] == 2000 - 140  # 金卡: 7% off
    assert await membership(mall, alice) == seen(GOLD, 3000, DIAMOND)
    saved_at = clock.advance(minutes=5)
    await save(mall, {**PLAN, "levels": [SILVER, GOLD, {**DIAMOND, "min_spend_fen": 4860}]})
    assert await levels_of(mall.runtime) == {me: (3, 4860, saved_at)}
    assert await membership(mall, alice) == seen(DIAMOND, 4860, None)
    await save(mall, PLAN)  # raised back: below the minimum by 140 fen
    assert await membership(mall, alice) == seen(GOLD, 4860, DIAMOND)


async def test_the_daily_run_happens_once_per_china_day(client, mall, clock):
    """Later passes of the same China day (up to 23:59:59) leave every row's evaluated_at as it was, even after more
    spending; the first pass at 00:00 re-evaluates, and the counter shows one run per day."""
    alice = await mall.shopper("alice")
    me = await customer_id(mall, alice)
    await buy(mall, alice, 1)
    saved_at = clock.now()
    await save(mall, PLAN)
    assert await levels_of(mall.runtime) == {me: (1, 1000, saved_at)}
    first = clock.advance(hours=1)  # 21:00 China time
    assert (await mall.work())["loyalty.levels"] == 1
    assert await levels_of(mall.runtime) == {me: (1, 1000, first)}
    clock.advance(hours=2, minutes=59, seconds=59)  # 23:59:59 China time, the same day
    assert (await buy(mall, alice, 3))["paid_fen"] == 2910  # 银卡: 3% off
    assert (await mall.work())["loyalty.levels"] == 0
    assert await levels_of(mall.runtime) == {me: (1, 1000, first)}
    assert await day_runs(mall) == [("2026-01-01", 1)]
    next_day = clock.advance(seconds=1)  # 00:00:00 on 2 January, China time
    assert (await mall.work())["loyalty.levels"] == 1
    assert await levels_of(mall.runtime) == {me: (2, 3910, next_day)}
    clock.advance(hours=23, minutes=59)
    assert (await mall.work())["loyalty.levels"] == 0
    assert await levels_of(mall.runtime) == {me: (2, 3910, next_day)}
    assert await day_runs(mall) == [("2026-01-01", 1), ("2026-01-02", 1)]


async def test_refunds_downgrade_a_cumulative_member_on_the_next_days_run(client, mall, clock):
    """A 1-fen refund takes 5 000 to 4 999: 钻石 until the next day's run, then 金卡; refunding everything leaves
    spend 0 and level 0 (the row stays, with nothing)."""
    alice = await mall.shopper("alice")
    me = await customer_id(mall, alice)
    first = await buy(mall, alice, 3)
    second = await buy(mall, alice, 2)
    await save(mall, PLAN)
    await mall.work()  # the day's run
    await refund(mall, first["id"], 1)
    assert await membership(mall, alice) == seen(DIAMOND, 5000, None)
    day2 = clock.advance(days=1)
    await mall.work()
    assert await levels_of(mall.runtime) == {me: (2, 4999, day2)}
    assert await membership(mall, alice) == seen(GOLD, 4999, DIAMOND)
    await refund(mall, second["id"], 2000)
    await refund(mall, first["id"], 2999)
    assert [(await mall.get_order(alice, o["id"]))["status"] for o in (first, second)] == ["refunded", "refunded"]
    assert await membership(mall, alice) == seen(GOLD, 4999, DIAMOND)
    day3 = clock.advance(days=1)
    await mall.work()
    assert await levels_of(mall.runtime) == {me: (0, 0, day3)}
    assert await membership(mall, alice) == seen(None, 0, SILVER)


async def test_monthly_levels_follow_last_months_spend_in_china_time(client, mall, clock):
    """On "monthly" the level is last month's spend, by China-time months: an order paid at 23:30 on 31 January
    counts for January and one at 00:30 on 1 February for February; in March a member who spent 5 000 in January
    and 1 800 in February drops from 钻石 to 银卡."""
    await save(mall, MONTHLY)  # evaluates December: nobody
    alice = await mall.shopper("alice")
    await buy(mall, alice, 5)
    assert await membership(mall, alice) == seen(None, 0, SILVER)
    move_to(clock, china(1, 31, 23, 30))
    bob = await mall.shopper("bob")
    await buy(mall, bob, 1)
    move_to(clock, china(2, 1, 0, 30))
    await buy(mall, bob, 2)  # its worker pass is February's first: January is evaluated
    alice = await mall.shopper("alice")
    ids = await customer_id(mall, alice), await customer_id(mall, bob)
    assert await levels_of(mall.runtime) == {ids[0]: (3, 5000, clock.now()), ids[1]: (1, 1000, clock.now())}
    assert await membership(mall, alice) == seen(DIAMOND, 5000, None)
    assert await membership(mall, bob) == seen(SILVER, 1000, GOLD)
    assert (await buy(mall, alice, 2))["paid_fen"] == 1800  # 钻石: 10% off
    march = move_to(clock, china(3, 1, 0, 0))
    await mall.work()
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    assert await levels_of(mall.runtime) == {ids[0]: (1, 1800, march), ids[1]: (1, 2000, march)}
    assert await membership(mall, alice) == seen(SILVER, 1800, GOLD)
    assert await membership(mall, bob) == seen(SILVER, 2000, GOLD)


async def test_monthly_member_who_spent_nothing_last_month_drops_to_level_0(client, mall, clock):
    """3 000 spent in January gives 金卡 in February; with nothing spent in February, March's run must show level 0,
    spend 0, and checkout must give no discount."""
    await save(mall, MONTHLY)
    alice = await mall.shopper("alice")
    me = await customer_id(mall, alice)
    await buy(mall, alice, 3)
    february = move_to(clock, china(2, 1, 0, 0))
    await mall.work()
    assert await levels_of(mall.runtime) == {me: (2, 3000, february)}
    march = move_to(clock, china(3, 1, 0, 0))
    await mall.work()
    alice = await mall.shopper("alice")
    assert await membership(mall, alice) == seen(None, 0, SILVER)
    assert lines(await preview(mall, alice, [(mall.sku_id, 1)])) == []
    assert await levels_of(mall.runtime) == {me: (0, 0, march)}


async def test_a_level_from_zero_spend_covers_a_new_member(client, mall):
    """A first level at min_spend_fen 0: a new member's spend 0 reaches it exactly, so they see it and get its
    discount at checkout."""
    base = {"level": 1, "name": "普通", "min_spend_fen": 0, "discount_percent": 2, "free_shipping": False,
            "points_multiplier_percent": 100, "early_access_hours": 0}
    await save(mall, {"basis": "cumulative", "levels": [base, {**GOLD, "level": 2}]})
    alice = await mall.shopper("alice")
    assert await membership(mall, alice) == seen(base, 0, GOLD)
    assert lines(await preview(mall, alice, [(mall.sku_id, 1)])) == [("member_discount", "普通折扣", -20)]


# --- benefits ---------------------------------------------------------------------------------------------------------


async def test_discount_per_line_rounded_down_and_free_shipping_at_checkout(client, mall):
    """With an 800-fen fee, on lines of 1 050 and 1 150 fen: level 0 pays 3 000; 金卡 7% takes 73 + 80 = 153 (each
    line rounded down; 7% of the whole would be 154) and pays the fee; 钻石 10% takes 220 and ships free. Preview and
    order agree, and the order is paid exactly that."""
    first, second = await add_sku(mall, 1050), await add_sku(mall, 1150)
    who = {name: await mall.shopper(name) for name in ("ann", "gus", "dee")}
    await buy(mall, who["gus"], 3)
    await buy(mall, who["dee"], 5)
    await save(mall, PLAN)
    await set_shipping_fee(mall, 800)
    items = [(first, 1), (second, 1)]
    expected = {"ann": ([("shipping", "运费", 800)], 3000),
                "gus": ([("member_discount", "金卡折扣", -153), ("shipping", "运费", 800)], 2847),
                "dee": ([("member_discount", "钻石折扣", -220)], 1980)}
    for name, (adjustments, total) in expected.items():
        priced = await preview(mall, who[name], items)
        assert (priced["items_fen"], lines(priced), priced["total_fen"]) == (2200, adjustments, total), name
        order = await placed(mall, who[name], items)
        assert (order["items_fen"], lines(order), order["total_fen"]) == (2200, adjustments, total), name
        paid = await mall.pay(who[name], order["id"])
        assert paid["paid_fen"] == total, name
    stored = await rows(mall.runtime, "SELECT o.customer_id, a.kind, a.name, a.amount_fen FROM order_adjustments a "
                        "JOIN orders o ON o.id = a.order_id WHERE a.kind = 'member_discount' ORDER BY a.id")
    ids = [await customer_id(mall, who[name]) for name in ("gus", "dee")]
    assert stored == [(ids[0], "member_discount", "金卡折扣", -153), (ids[1], "member_discount", "钻石折扣", -220)]


async def test_a_group_order_gets_no_member_discount(client, mall):
    """A 钻石 member's group order costs the group price, 800, with no member_discount line (preview and order);
    their ordinary order of the same item still takes 10% off."""
    campaign_id = await group_campaign(mall)
    alice = await mall.shopper("alice")
    await buy(mall, alice, 5)
    await save(mall, PLAN)
    group = {"kind": "group", "campaign_id": campaign_id, "target_id": None}
    response = await client.post("/checkout/preview", headers=alice, json=cart([(mall.sku_id, 1)], campaign=group))
    assert response.status_code == 200, response.text
    assert response.json()["total_fen"] == 800
    assert [a["kind"] for a in response.json()["adjustments"]] == ["group_price"]
    response = await client.post("/orders", headers=alice, json=cart([(mall.sku_id, 1)], campaign=group))
    assert response.status_code == 201, response.text
    order = response.json()
    assert (order["kind"], order["items_fen"], order["total_fen"]) == ("group", 1000, 800)
    assert [(a["kind"], a["amount_fen"]) for a in order["adjustments"]] == [("group_price", -200)]
    assert (await mall.pay(alice, order["id"]))["paid_fen"] == 800
    assert lines(await placed(mall, alice, [(mall.sku_id, 1)])) == [("member_discount", "钻石折扣", -100)]


async def test_points_earned_on_completion_are_multiplied_by_the_level(client, mall, clock):
    """3 points per yuan kept: level 0 keeps 1 000 fen and earns 30; 金卡 (×1.5) keeps 930 and earns 9 × 3 × 150 //
    100 = 40; 钻石 (×2.5) keeps 900 and earns 9 × 3 × 250 // 100 = 67 (67.5 rounded down)."""
    names = ("ann", "gus", "dee")
    who = {name: await mall.shopper(name) for name in names}
    await buy(mall, who["gus"], 3)
    await buy(mall, who["dee"], 5)
    await save(mall, PLAN)
    response = await client.put("/admin/points", headers=await mall.staff(), json=POINTS)
    assert response.status_code == 200, response.text
    orders = {name: await buy(mall, who[name], 1) for name in names}
    assert {name: orders[name]["paid_fen"] for name in names} == {"ann": 1000, "gus": 930, "dee": 900}
    for name in names:
        response = await client.post(f"/admin/orders/{orders[name]['id']}/ship", headers=await mall.staff("support"),
                                     json=SHIPMENT)
        assert response.status_code == 200, response.text
        response = await client.post(f"/orders/{orders[name]['id']}/receive", headers=who[name])
        assert response.status_code == 200, response.text
    clock.advance(days=8)
    await mall.work()
    await mall.work()
    who = {name: await mall.shopper(name) for name in names}
    assert [(await mall.get_order(who[name], orders[name]["id"]))["status"] for name in names] == ["completed"] * 3
    ids = {await customer_id(mall, who[name]): name for name in names}
    earned = await rows(mall.runtime, "SELECT customer_id, points, source_id FROM points_entries "
                        "WHERE kind = 'earned' ORDER BY customer_id")
    assert {ids[c]: (points, source) for c, points, source in earned} == {
        "ann": (30, orders["ann"]["id"]), "gus": (40, orders["gus"]["id"]), "dee": (67, orders["dee"]["id"])}
    assert len(earned) == 3
    # the levels at completion: ann now has 1 000 (银卡, ×1), gus 3 930 (金卡), dee 5 900 (钻石)
    assert [(await membership(mall, who[name]))["level"] for name in names] == [1, 2, 3]
