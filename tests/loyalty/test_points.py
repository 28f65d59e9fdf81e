"""Points (积分) and daily check-in (签到) through the API, on either database.

The ledger holds after every flow: the balance row equals what is left in the buckets, equals the sum of every
entry (earned + returned − spent − expired), and no swept bucket past its expiry keeps anything. Spending draws the
soonest-to-expire bucket first; expiry takes only what a bucket has left. Check-in days are China Standard Time
(UTC+8): the streak grows day by day, resets after a gap, and its bonus stops at the cap; a second check-in the same
day changes nothing. At checkout points are worth N × fen_per_100_points // 100, at most max_redeem_percent of the
order; a refused order changes no row; a cancelled order gives its points back as a fresh bucket, each refund gives
back the same share as of the cash (the shares summing exactly to what was spent), and a completed order earns
points once, for the money kept.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from fissionmall.core.clock import FrozenClock
from fissionmall.core.runtime import Runtime
from fissionmall.loyalty.points.models import PointsEntry
from tests.support import (
    LONG_TOKEN_TTL_SECONDS,
    SHIPMENT,
    Mall,
    Who,
    customer_id,
    problem,
    refused_unchanged,
    rows,
    snapshot_of,
    value,
)

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")

CONFIG = {"earn_per_yuan": 1, "fen_per_100_points": 100, "max_redeem_percent": 50, "validity_days": 365,
          "checkin_points": 5, "streak_bonus": 1, "streak_cap": 7, "review_points": 0,
          "post_points": 0, "post_daily_cap": 3}
"""The endpoint's defaults, spelled out: 1 point per yuan kept, 100 points take off 100 fen, at most 50%."""
WATCHED = ("orders", "order_items", "order_adjustments", "skus", "payments", "refunds", "points_entries",
           "points_balances", "points_configs", "events", "outbox_jobs")
"""What a refused checkout or check-in must leave exactly as it was."""
BUCKET_KINDS = ("earned", "returned", "checkin")


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Shopper tokens that outlive the weeks these tests move the clock by."""
    return {"token_ttl_seconds": LONG_TOKEN_TTL_SECONDS}


# --- helpers ----------------------------------------------------------------------------------------------------------


async def configure(mall: Mall, **overrides: int) -> dict[str, int]:
    body = {**CONFIG, **overrides}
    response = await mall.client.put("/admin/points", headers=await mall.staff("owner"), json=body)
    assert response.status_code == 200, response.text
    assert response.json() == body
    return body


async def mine(mall: Mall, who: Who) -> dict[str, Any]:
    response = await mall.client.get("/points", headers=who)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def checkin(mall: Mall, who: Who) -> dict[str, Any]:
    response = await mall.client.post("/points/checkin", headers=who)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


snapshot = partial(snapshot_of, tables=WATCHED)


refused = partial(refused_unchanged, tables=WATCHED)


async def entries(runtime: Runtime, customer: int) -> list[PointsEntry]:
    async with runtime.sessionmaker() as session:
        found = await session.execute(select(PointsEntry).where(PointsEntry.customer_id == customer)
                                      .order_by(PointsEntry.id))
        return list(found.scalars())


async def ledger(runtime: Runtime, customer: int, *, swept: bool = True) -> int:
    """Assert the ledger's invariants for one customer and return the balance.

    balance row == Σ remaining of the buckets == Σ every entry's points (earned + returned − spent − expired);
    buckets hold 0 ≤ remaining ≤ points, spending and expiry entries are negative with nothing remaining; each
    expired entry empties its own bucket; once the worker has swept (`swept`), no bucket past its expiry keeps
    anything, so the balance is exactly what is left in unexpired buckets."""
    every = await entries(runtime, customer)
    balance = await value(runtime, "SELECT coalesce(sum(balance), 0) FROM points_balances WHERE customer_id = :c",
                          c=customer)
    buckets = [e for e in every if e.kind in BUCKET_KINDS]
    others = [e for e in every if e.kind not in BUCKET_KINDS]
    assert all(e.points > 0 and 0 <= e.remaining <= e.points and e.expires_at is not None for e in buckets), buckets
    assert all(e.kind in ("spent", "expired") and e.points < 0 and e.remaining == 0 and e.expires_at is None
               for e in others), [(e.kind, e.points, e.remaining) for e in others]
    by_kind = {kind: sum(e.points for e in every if e.kind == kind) for kind in (*BUCKET_KINDS, "spent", "expired")}
    assert balance >= 0
    assert balance == sum(e.remaining for e in buckets)
    assert balance == sum(e.points for e in every) == sum(by_kind.values())
    by_id = {e.id: e for e in buckets}
    for expired in (e for e in others if e.kind == "expired"):
        bucket = by_id[expired.source_id]
        assert expired.source_type == "points" and bucket.remaining == 0 and -expired.points <= bucket.points
        assert expired.created_at >= bucket.expires_at  # type: ignore[operator]
    if swept:
        now = runtime.clock.now()
        assert all(e.remaining == 0 for e in buckets if e.expires_at <= now), "an expired bucket kept points"  # type: ignore[operator]
        assert balance == sum(e.remaining for e in buckets if e.expires_at > now)  # type: ignore[operator]
    return int(balance)


def remaining(found: list[PointsEntry]) -> list[tuple[str, int, int]]:
    """(kind, points, remaining) of each bucket, oldest first."""
    return [(e.kind, e.points, e.remaining) for e in found if e.kind in BUCKET_KINDS]


def moves(found: list[PointsEntry]) -> list[tuple[str, int, str, int]]:
    """(kind, points, source type, source id) of every entry, oldest first."""
    return [(e.kind, e.points, e.source_type, e.source_id) for e in found]


def move_to(clock: FrozenClock, moment: datetime) -> datetime:
    assert moment >= clock.now(), "the clock only moves forward"
    return clock.advance(seconds=(moment - clock.now()).total_seconds())


def china(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A moment of January 2026, China Standard Time, as UTC."""
    return datetime(2026, 1, day, hour, minute, second, tzinfo=UTC) - timedelta(hours=8)


def place(mall: Mall, who: Who, quantity: int = 1, points: int = 0) -> Awaitable[httpx.Response]:
    """POST /orders (not awaited), with points when asked."""
    return mall.place_order(who, quantity, **({"points": points} if points else {}))


async def ordered(mall: Mall, who: Who, quantity: int = 1, points: int = 0) -> dict[str, Any]:
    response = await mall.place_order(who, quantity, **({"points": points} if points else {}))
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def points_off(order: dict[str, Any]) -> list[int]:
    return [a["amount_fen"] for a in order["adjustments"] if a["kind"] == "points"]


async def ship_and_receive(mall: Mall, who: Who, order_id: int) -> None:
    response = await mall.client.post(f"/admin/orders/{order_id}/ship", headers=await mall.staff("support"),
                                      json=SHIPMENT)
    assert response.status_code == 200, response.text
    response = await mall.client.post(f"/orders/{order_id}/receive", headers=who)
    assert response.status_code == 200, response.text


async def complete(mall: Mall, who: Who, order_id: int) -> None:
    """Ship, receive, let the 7-day after-sale window pass, then two worker passes: completion, and the earning
    it queues."""
    await ship_and_receive(mall, who, order_id)
    mall.runtime.clock.advance(days=7, seconds=1)  # type: ignore[attr-defined]
    await mall.work()
    await mall.work()
    assert (await mall.get_order(who, order_id))["status"] == "completed"


async def merchant_refund(mall: Mall, order_id: int, amount_fen: int) -> None:
    """A refund by finance, carried out by the worker."""
    response = await mall.client.post(f"/admin/orders/{order_id}/refunds", headers=await mall.staff("finance"),
                                      json={"reason": "goodwill", "amount_fen": amount_fen})
    assert response.status_code == 201, response.text
    await mall.work()


async def seeded(mall: Mall, clock: FrozenClock, who: Who, *amounts: int) -> int:
    """One check-in bucket per amount, a China day apart (checkin_points set to each amount, no streak bonus):
    the customer's id."""
    for i, amount in enumerate(amounts):
        if i:
            clock.advance(days=1)
        await configure(mall, checkin_points=amount, streak_bonus=0)
        assert (await checkin(mall, who))["points"] == amount
    return await customer_id(mall, who)


# --- configuration ----------------------------------------------------------------------------------------------------


async def test_only_the_owner_configures_points_and_bad_values_are_refused(client, mall):
    """PUT /admin/points is the owner's; out-of-range values are 422; the saved rules are what checkout uses."""
    body = {**CONFIG, "fen_per_100_points": 40}
    for role in ("operator", "finance", "support"):
        response = await client.put("/admin/points", headers=await mall.staff(role), json=body)
        assert response.status_code == 403, (role, response.text)
    for field, bad in (("fen_per_100_points", 0), ("max_redeem_percent", 101), ("validity_days", 0),
                       ("streak_cap", 0), ("checkin_points", -1), ("earn_per_yuan", 101)):
        problem(await client.put("/admin/points", headers=await mall.staff(), json={**CONFIG, field: bad}),
                422, "invalid_request")
    assert await rows(mall.runtime, "SELECT count(*) FROM points_configs") == [(0,)]
    await configure(mall, fen_per_100_points=40)
    await configure(mall, fen_per_100_points=60, streak_cap=3)  # saving again updates the one row
    assert await rows(mall.runtime, "SELECT fen_per_100_points, streak_cap FROM points_configs") == [(60, 3)]
    alice = await mall.shopper("alice")
    assert await mine(mall, alice) == {
        "balance": 0, "worth_fen": 0, "streak": 0, "checked_in_today": False, "checkin_days": [],
        "checkin": {"points": 5, "streak_bonus": 1, "streak_cap": 3}, "entries": []}


# --- check-in ---------------------------------------------------------------------------------------------------------


async def test_checkin_days_are_china_standard_time(client, mall, clock):
    """23:59 and 00:01 China time are two days (streak 2) though the same UTC date; 07:30 and 23:59:59 China time
    of one day are one day though different UTC dates; 00:00:00 starts the next."""
    await configure(mall, checkin_points=10, streak_bonus=3)
    alice = await mall.shopper("alice")
    me = await customer_id(mall, alice)

    move_to(clock, china(1, 23, 59))  # 2026-01-01 15:59 UTC
    assert await checkin(mall, alice) == {"points": 10, "streak": 1, "balance": 10}
    move_to(clock, china(2, 0, 1))  # 2026-01-01 16:01 UTC: the same UTC date, the next China day
    assert await checkin(mall, alice) == {"points": 13, "streak": 2, "balance": 23}
    for moment in (china(2, 7, 30), china(2, 8, 30), china(2, 23, 59, 59)):  # 2026-01-01 23:30 UTC, then Jan 2
        move_to(clock, moment)
        await refused(mall, client.post("/points/checkin", headers=alice), 409, "already_checked_in")
    move_to(clock, china(3, 0, 0, 0))
    assert await checkin(mall, alice) == {"points": 16, "streak": 3, "balance": 39}

    assert moves(await entries(mall.runtime, me)) == [("checkin", 10, "checkin", 20260101),
                                                     ("checkin", 13, "checkin", 20260102),
                                                     ("checkin", 16, "checkin", 20260103)]
    assert await ledger(mall.runtime, me) == 39
    assert await rows(mall.runtime, "SELECT balance, last_checkin, streak FROM points_balances") == [
        (39, "2026-01-03", 3)]
    assert await value(mall.runtime, "SELECT count(*) FROM events WHERE kind = 'checkin'") == 3


async def test_the_calendar_shows_this_china_months_check_in_days(client, mall, clock):
    """The days checked in this month by the China date: a check-in at 23:30 on the last evening of January (China
    time) is January's; February's calendar starts empty."""
    await configure(mall)
    alice = await mall.shopper("alice")
    move_to(clock, china(29, 10))
    await checkin(mall, alice)
    move_to(clock, china(31, 23, 30))
    await checkin(mall, alice)
    assert (await mine(mall, alice))["checkin_days"] == [29, 31]
    move_to(clock, china(31, 23, 30) + timedelta(minutes=31))  # 00:01 on 1 February in China
    assert (await mine(mall, alice))["checkin_days"] == []
    await checkin(mall, alice)
    assert (await mine(mall, alice))["checkin_days"] == [1]


async def test_streak_bonus_grows_to_its_cap_and_resets_after_a_gap(client, mall, clock):
    """checkin 5 + bonus 2 × (min(streak, 3) − 1): 5, 7, 9, 9, 9 on five days; a missed day starts again at 5."""
    config = await configure(mall, checkin_points=5, streak_bonus=2, streak_cap=3, validity_days=30)
    alice = await mall.shopper("alice")
    me = await customer_id(mall, alice)
    got = []
    for day in range(5):
        if day:
            clock.advance(days=1)
        got.append(await checkin(mall, alice))
    assert [(g["points"], g["streak"]) for g in got] == [(5, 1), (7, 2), (9, 3), (9, 4), (9, 5)]
    assert [g["balance"] for g in got] == [5, 12, 21, 30, 39]
    seen = await mine(mall, alice)
    assert (seen["balance"], seen["worth_fen"], seen["streak"], seen["checked_in_today"]) == (39, 39, 5, True)
    assert [(e["kind"], e["points"], e["source_type"]) for e in seen["entries"]] == [
        ("checkin", p, "checkin") for p in (9, 9, 9, 7, 5)]
    assert datetime.fromisoformat(seen["entries"][0]["expires_at"]) == clock.now() + timedelta(
        days=config["validity_days"])

    clock.advance(days=1)  # the next day, not checked in yet: the streak is still alive
    seen = await mine(mall, alice)
    assert (seen["streak"], seen["checked_in_today"]) == (5, False)
    clock.advance(days=1)  # a day missed: the streak shown is gone
    seen = await mine(mall, alice)
    assert (seen["balance"], seen["streak"], seen["checked_in_today"]) == (39, 0, False)
    assert await checkin(mall, alice) == {"points": 5, "streak": 1, "balance": 44}
    clock.advance(days=1)
    assert await checkin(mall, alice) == {"points": 7, "streak": 2, "balance": 51}
    assert await ledger(mall.runtime, me) == 51


async def test_a_second_checkin_the_same_day_changes_nothing(client, mall, clock):
    """Once a day: the second call is 409 already_checked_in and no row moves (entries, balance, streak, events)."""
    await configure(mall, checkin_points=8)
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    assert await checkin(mall, alice) == {"points": 8, "streak": 1, "balance": 8}
    clock.advance(hours=3)  # 23:00 China time, the same day
    await refused(mall, client.post("/points/checkin", headers=alice), 409, "already_checked_in")
    assert await checkin(mall, bob) == {"points": 8, "streak": 1, "balance": 8}  # others are not held back
    assert await ledger(mall.runtime, await customer_id(mall, alice)) == 8
    assert await value(mall.runtime, "SELECT count(*) FROM points_entries") == 2


async def test_checkin_without_points_config_is_404(client, mall):
    """A mall without points has no check-in: 404 points_not_configured, no balance row created."""
    alice = await mall.shopper("alice")
    await refused(mall, client.post("/points/checkin", headers=alice), 404, "points_not_configured")
    assert await rows(mall.runtime, "SELECT count(*) FROM points_balances") == [(0,)]


# --- buckets: draw order and expiry ---------------------------------------------------------------------------------


async def test_spending_draws_the_soonest_to_expire_bucket_first_and_expiry_takes_only_what_is_left(
        client, mall, clock):
    """Buckets A (100, 60 days), B (200, 20 days, a day later), C (300, 40 days): spending 250 empties B and takes
    50 of C; spending 260 more empties C and takes 10 of A; each expiry sweep expires only what a bucket has left."""
    alice = await mall.shopper("alice")
    day1 = clock.now()
    await configure(mall, checkin_points=100, streak_bonus=0, validity_days=60)
    await checkin(mall, alice)
    clock.advance(days=1)
    await configure(mall, checkin_points=200, streak_bonus=0, validity_days=20)
    await checkin(mall, alice)
    clock.advance(days=1)
    await configure(mall, checkin_points=300, streak_bonus=0, validity_days=40)
    await checkin(mall, alice)
    me = await customer_id(mall, alice)
    found = await entries(mall.runtime, me)
    assert [e.expires_at for e in found] == [day1 + timedelta(days=60), day1 + timedelta(days=21),
                                            day1 + timedelta(days=42)]
    assert await ledger(mall.runtime, me) == 600

    first = await ordered(mall, alice, points=250)
    assert (points_off(first), first["total_fen"]) == ([-250], 750)
    assert remaining(await entries(mall.runtime, me)) == [("checkin", 100, 100), ("checkin", 200, 0),
                                                          ("checkin", 300, 250)]
    assert await ledger(mall.runtime, me) == 350
    second = await ordered(mall, alice, points=260)
    assert remaining(await entries(mall.runtime, me)) == [("checkin", 100, 90), ("checkin", 200, 0),
                                                          ("checkin", 300, 0)]
    assert await ledger(mall.runtime, me) == 90
    await mall.pay(alice, first["id"])
    await mall.pay(alice, second["id"])

    # B (empty) and C (empty) pass their expiry: nothing to expire
    move_to(clock, day1 + timedelta(days=42))
    await mall.work()
    assert [e.kind for e in await entries(mall.runtime, me)].count("expired") == 0
    assert await ledger(mall.runtime, me) == 90
    # one second before A's expiry it is still there; at its expiry the 90 left (not its 100) expire
    move_to(clock, day1 + timedelta(days=60, seconds=-1))
    await mall.work()
    assert await ledger(mall.runtime, me) == 90
    move_to(clock, day1 + timedelta(days=60))
    await mall.work()
    await mall.work()  # a second sweep expires nothing more
    found = await entries(mall.runtime, me)
    assert moves(found)[-1] == ("expired", -90, "points", found[0].id)
    assert [e.kind for e in found] == ["checkin", "checkin", "checkin", "spent", "spent", "expired"]
    assert [e.points for e in found if e.kind == "spent"] == [-250, -260]
    assert await ledger(mall.runtime, me) == 0
    seen = await mine(mall, alice)
    assert (seen["balance"], seen["worth_fen"]) == (0, 0)
    assert [(e["kind"], e["points"]) for e in seen["entries"]][:1] == [("expired", -90)]


async def test_expired_but_unswept_points_cannot_be_spent(client, mall, clock):
    """Spending first expires what is due: 100 points past their expiry (no sweep yet) do not pay; a refusal
    changes nothing; the fresh bucket pays."""
    alice = await mall.shopper("alice")
    await configure(mall, checkin_points=100, streak_bonus=0, validity_days=3)
    await checkin(mall, alice)
    clock.advance(days=2)
    await configure(mall, checkin_points=40, streak_bonus=0, validity_days=3)
    await checkin(mall, alice)
    me = await customer_id(mall, alice)
    clock.advance(days=1)  # the first bucket's expiry, not yet swept
    assert await ledger(mall.runtime, me, swept=False) == 140
    answer = await refused(mall, place(mall, alice, points=50), 409, "insufficient_points")
    assert answer["balance"] == 40  # what is left once the due bucket is expired (that expiry rolled back too)
    order = await ordered(mall, alice, points=40)
    assert points_off(order) == [-40]
    assert moves(await entries(mall.runtime, me))[2:] == [("expired", -100, "points", (await entries(
        mall.runtime, me))[0].id), ("spent", -40, "order", order["id"])]
    assert await ledger(mall.runtime, me) == 0


# --- checkout ---------------------------------------------------------------------------------------------------------


async def test_points_at_checkout_are_worth_the_rate_up_to_the_limit(client, mall, clock):
    """30 fen per 100 points, at most 50% of a 1 000-fen order: 1 669 points take off 500 fen (rounded down);
    1 670 would take 501 and are refused 422 points_over_limit with no row changed."""
    alice = await mall.shopper("alice")
    me = await seeded(mall, clock, alice, 1000, 1000)
    await configure(mall, fen_per_100_points=30, max_redeem_percent=50)
    seen = await mine(mall, alice)
    assert (seen["balance"], seen["worth_fen"]) == (2000, 600)

    answer = await refused(mall, place(mall, alice, points=1670), 422, "points_over_limit")
    assert answer["field"] == "points"
    order = await ordered(mall, alice, points=1669)
    assert (order["items_fen"], points_off(order), order["total_fen"]) == (1000, [-500], 500)
    assert [(a["kind"], a["name"]) for a in order["adjustments"] if a["kind"] == "points"] == [("points", "积分抵扣")]
    assert moves(await entries(mall.runtime, me))[-1] == ("spent", -1669, "order", order["id"])
    assert remaining(await entries(mall.runtime, me)) == [("checkin", 1000, 0), ("checkin", 1000, 331)]
    assert await ledger(mall.runtime, me) == 331
    assert await mall.sku_stock() == 99
    paid = await mall.pay(alice, order["id"])
    assert (paid["status"], paid["paid_fen"]) == ("to_ship", 500)

    # 2 items: the limit is half of 2 000; 331 points are all that is left
    two = await ordered(mall, alice, quantity=2, points=331)
    assert (points_off(two), two["total_fen"]) == ([-99], 1901)
    assert await ledger(mall.runtime, me) == 0


async def test_points_limit_of_zero_and_hundred_percent(client, mall, clock):
    """max_redeem_percent 0 refuses any points; 100 lets points pay the whole order but not one fen more."""
    alice = await mall.shopper("alice")
    me = await seeded(mall, clock, alice, 1000, 1000)
    await configure(mall, max_redeem_percent=0)
    await refused(mall, place(mall, alice, points=1), 422, "points_over_limit")
    await configure(mall, max_redeem_percent=100)
    await refused(mall, place(mall, alice, points=1001), 422, "points_over_limit")
    order = await ordered(mall, alice, points=1000)
    assert (points_off(order), order["total_fen"]) == ([-1000], 0)
    assert await ledger(mall.runtime, me) == 1000


async def test_insufficient_points_refuse_the_order_and_change_nothing(client, mall, clock):
    """Asking for more points than the balance is 409 insufficient_points (with the balance); stock, orders and the
    ledger are as they were; a customer who never had points is refused the same way."""
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    me = await seeded(mall, clock, alice, 300)
    await configure(mall)
    answer = await refused(mall, place(mall, alice, points=301), 409, "insufficient_points")
    assert answer["balance"] == 300
    answer = await refused(mall, place(mall, bob, points=1), 409, "insufficient_points")
    assert answer["balance"] == 0
    assert await mall.sku_stock() == 100
    assert await ledger(mall.runtime, me) == 300
    order = await ordered(mall, alice, points=300)
    assert points_off(order) == [-300]
    assert await ledger(mall.runtime, me) == 0


async def test_points_without_a_points_config_are_refused(client, mall):
    """A mall without points: an order with points is 422 points_not_configured (field points), no row changed;
    without points it is placed as usual."""
    alice = await mall.shopper("alice")
    answer = await refused(mall, place(mall, alice, points=10), 422, "points_not_configured")
    assert answer["field"] == "points"
    order = await ordered(mall, alice)
    assert (points_off(order), order["total_fen"]) == ([], 1000)


async def test_cancelled_order_gives_its_points_back_as_a_fresh_bucket(client, mall, clock):
    """A shopper's cancel returns the 400 spent as a 'returned' bucket expiring validity_days (now 30) from now; the
    drawn bucket stays drawn; the next spend draws the returned bucket (expiring sooner) before the older one."""
    alice = await mall.shopper("alice")
    me = await seeded(mall, clock, alice, 1000)
    config = await configure(mall, validity_days=30)
    order = await ordered(mall, alice, points=400)
    assert await ledger(mall.runtime, me) == 600
    cancelled_at = clock.advance(minutes=5)
    response = await client.post(f"/orders/{order['id']}/cancel", headers=alice)
    assert response.status_code == 200 and response.json()["status"] == "cancelled", response.text
    found = await entries(mall.runtime, me)
    assert moves(found) == [("checkin", 1000, "checkin", 20260101), ("spent", -400, "order", order["id"]),
                            ("returned", 400, "order", order["id"])]
    assert found[-1].expires_at == cancelled_at + timedelta(days=config["validity_days"])
    assert remaining(found) == [("checkin", 1000, 600), ("returned", 400, 400)]
    assert await ledger(mall.runtime, me) == 1000
    await mall.work()  # nothing more comes back
    assert await ledger(mall.runtime, me) == 1000

    again = await ordered(mall, alice, points=500)
    assert points_off(again) == [-500]
    assert remaining(await entries(mall.runtime, me)) == [("checkin", 1000, 500), ("returned", 400, 0)]
    assert await ledger(mall.runtime, me) == 500


async def test_payment_timeout_gives_the_points_back_once(client, mall, clock):
    """An unpaid order cancelled by the worker at its deadline returns its points; a second sweep returns nothing."""
    alice = await mall.shopper("alice")
    me = await seeded(mall, clock, alice, 500)
    await configure(mall)
    order = await ordered(mall, alice, points=250)
    clock.advance(minutes=29)
    await mall.work()
    assert await ledger(mall.runtime, me) == 250
    clock.advance(minutes=1, seconds=1)
    await mall.work()
    await mall.work()
    assert (await mall.get_order(alice, order["id"]))["status"] == "cancelled"
    assert moves(await entries(mall.runtime, me))[1:] == [("spent", -250, "order", order["id"]),
                                                         ("returned", 250, "order", order["id"])]
    assert await ledger(mall.runtime, me) == 500
    assert await mall.sku_stock() == 100


async def test_refunds_give_back_the_same_share_of_points_summing_to_what_was_spent(client, mall, clock):
    """1 000 points pay 1 000 of a 3 000-fen order (2 000 cash). Refunds of 333, 1 150 and 517 fen give back
    166, 575 and 259 points (the cumulative share 166.5, 741.5 rounded down; the last returns the rest): 1 000 in
    all, once."""
    alice = await mall.shopper("alice")
    me = await seeded(mall, clock, alice, 1000)
    await configure(mall)
    order = await ordered(mall, alice, quantity=3, points=1000)
    assert (points_off(order), order["total_fen"]) == ([-1000], 2000)
    assert (await mall.pay(alice, order["id"]))["paid_fen"] == 2000
    assert await ledger(mall.runtime, me) == 0
    for amount, returned in ((333, 166), (1150, 741), (517, 1000)):
        await merchant_refund(mall, order["id"], amount)
        assert await ledger(mall.runtime, me) == returned
    refunds = await rows(mall.runtime, "SELECT id, amount_fen, status FROM refunds ORDER BY id")
    assert [(a, s) for _, a, s in refunds] == [(333, "succeeded"), (1150, "succeeded"), (517, "succeeded")]
    assert (await mall.get_order(alice, order["id"]))["status"] == "refunded"
    assert moves(await entries(mall.runtime, me))[2:] == [("returned", 166, "refund", refunds[0][0]),
                                                         ("returned", 575, "refund", refunds[1][0]),
                                                         ("returned", 259, "refund", refunds[2][0])]
    await mall.work()
    assert await ledger(mall.runtime, me) == 1000


async def test_full_refund_at_once_returns_all_points_once(client, mall, clock):
    """A single full refund of an unshipped order gives back every point spent, once (not again on release)."""
    alice = await mall.shopper("alice")
    me = await seeded(mall, clock, alice, 777)
    await configure(mall)
    order = await ordered(mall, alice, quantity=2, points=777)
    await mall.pay(alice, order["id"])
    await merchant_refund(mall, order["id"], 2000 - 777)
    assert (await mall.get_order(alice, order["id"]))["status"] == "refunded"
    refund_id = await value(mall.runtime, "SELECT id FROM refunds")
    assert moves(await entries(mall.runtime, me))[1:] == [("spent", -777, "order", order["id"]),
                                                         ("returned", 777, "refund", refund_id)]
    assert await ledger(mall.runtime, me) == 777
    assert await mall.sku_stock() == 100


# --- earning ----------------------------------------------------------------------------------------------------------


async def test_completed_order_earns_points_once_for_the_money_kept(client, mall, clock):
    """3 points per yuan: an order of 2 000 fen earns nothing before completion, 60 points when the worker completes
    it, and nothing more on later passes."""
    config = await configure(mall, earn_per_yuan=3, validity_days=90)
    alice = await mall.shopper("alice")
    me = await customer_id(mall, alice)
    order = await ordered(mall, alice, quantity=2)
    await mall.pay(alice, order["id"])
    await ship_and_receive(mall, alice, order["id"])
    clock.advance(days=7, seconds=-1)
    await mall.work()
    await mall.work()
    assert await entries(mall.runtime, me) == []
    completed_at = clock.advance(seconds=2)
    await mall.work()
    await mall.work()
    found = await entries(mall.runtime, me)
    assert moves(found) == [("earned", 60, "order", order["id"])]
    assert found[0].expires_at == completed_at + timedelta(days=config["validity_days"])
    assert await ledger(mall.runtime, me) == 60
    before = await snapshot(mall.runtime)
    clock.advance(hours=1)
    await mall.work()
    await mall.work()
    assert await snapshot(mall.runtime) == before
    seen = await mine(mall, alice)
    assert (seen["balance"], seen["worth_fen"], [e["kind"] for e in seen["entries"]]) == (60, 60, ["earned"])


async def test_earning_counts_only_the_cash_kept(client, mall, clock):
    """An order paid 2 000 cash + 1 000 in points, 333 fen refunded, completes: 1 667 fen kept earn 16 × 2 = 32
    points (whole yuan, rounded down); the points paid and the refunded cash earn nothing."""
    alice = await mall.shopper("alice")
    me = await seeded(mall, clock, alice, 1000)
    await configure(mall, earn_per_yuan=2)
    order = await ordered(mall, alice, quantity=3, points=1000)
    await mall.pay(alice, order["id"])
    await merchant_refund(mall, order["id"], 333)
    assert await ledger(mall.runtime, me) == 166
    await complete(mall, alice, order["id"])
    found = await entries(mall.runtime, me)
    assert moves(found)[-1] == ("earned", 32, "order", order["id"])
    assert await ledger(mall.runtime, me) == 198
    await mall.work()
    assert await ledger(mall.runtime, me) == 198


async def test_earned_points_expire_after_validity_days(client, mall, clock):
    """An earned bucket of 20 points, 8 of them spent, expires validity_days after completion: 12 expire."""
    await configure(mall, earn_per_yuan=10, validity_days=10)
    alice = await mall.shopper("alice")
    me = await customer_id(mall, alice)
    order = await ordered(mall, alice, quantity=2)
    await mall.pay(alice, order["id"])
    await complete(mall, alice, order["id"])
    completed_at = clock.now()
    assert await ledger(mall.runtime, me) == 200
    spend = await ordered(mall, alice, points=80)
    await mall.pay(alice, spend["id"])
    move_to(clock, completed_at + timedelta(days=10))
    await mall.work()
    found = await entries(mall.runtime, me)
    assert moves(found) == [("earned", 200, "order", order["id"]), ("spent", -80, "order", spend["id"]),
                            ("expired", -120, "points", found[0].id)]
    assert await ledger(mall.runtime, me) == 0


async def test_points_ledgers_of_two_customers_stay_apart(client, mall, clock):
    """Alice spending and having points expire never touches Bob's buckets or balance."""
    await configure(mall, checkin_points=50, streak_bonus=0, validity_days=5)
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    await checkin(mall, alice)
    await checkin(mall, bob)
    a, b = await customer_id(mall, alice), await customer_id(mall, bob)
    order = await ordered(mall, alice, points=30)
    await mall.pay(alice, order["id"])
    assert (await ledger(mall.runtime, a), await ledger(mall.runtime, b)) == (20, 50)
    clock.advance(days=5)
    await mall.work()
    assert (await ledger(mall.runtime, a), await ledger(mall.runtime, b)) == (0, 0)
    assert await rows(mall.runtime, "SELECT customer_id, points FROM points_entries WHERE kind = 'expired' "
                                    "ORDER BY customer_id") == [(a, -20), (b, -50)]


async def test_points_page_reports_the_balance_and_its_worth(client, mall, clock):
    """GET /points reports the balance row and its worth at the current rate (rounded down)."""
    alice = await mall.shopper("alice")
    me = await seeded(mall, clock, alice, 333)
    await configure(mall, fen_per_100_points=45)
    seen = await mine(mall, alice)
    assert (seen["balance"], seen["worth_fen"]) == (333, 149)
    assert await value(mall.runtime, "SELECT balance FROM points_balances WHERE customer_id = :c", c=me) == 333
    assert await ledger(mall.runtime, me) == 333


async def test_late_payment_of_a_cancelled_order_returns_no_points_twice(client, mall, clock):
    """An order cancelled at its deadline gave its 200 points back; its payment arriving afterwards is refunded in
    full, and that refund returns no further points."""
    alice = await mall.shopper("alice")
    me = await seeded(mall, clock, alice, 200)
    await configure(mall)
    order = await ordered(mall, alice, points=200)
    response = await client.post(f"/orders/{order['id']}/pay", headers=alice)
    assert response.status_code == 200, response.text
    payment_id = response.json()["payment_id"]
    clock.advance(minutes=31)
    await mall.work()
    assert (await mall.get_order(alice, order["id"]))["status"] == "cancelled"
    assert await ledger(mall.runtime, me) == 200
    response = await client.post(f"/sandbox/payments/{payment_id}/complete", headers=alice)
    assert response.status_code == 202, response.text
    for _ in range(3):
        await mall.work()
    late = await mall.get_order(alice, order["id"])
    assert (late["status"], late["paid_fen"], late["refunded_fen"]) == ("cancelled", 800, 800)
    assert moves(await entries(mall.runtime, me))[1:] == [("spent", -200, "order", order["id"]),
                                                         ("returned", 200, "order", order["id"])]
    assert await ledger(mall.runtime, me) == 200
