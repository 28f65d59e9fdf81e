"""Tasks (任务) through the API and the worker, on either database.

A task counts what friends really do (COMPLIANCE S1): a friend who registers through the customer's share, a
friend's first paid order, a friend (logged in, never the sharer) opening the customer's share of a product; or the
customer's own check-in streak. Each friend or day counts once per period (the same friend clicking twice counts
once); the share itself, a self-click, an anonymous click and a click on anything but a product count nothing.
Periods are China Standard Time: 'once', a day, an ISO week, taken from when the event happened. Whoever reaches
the target is rewarded exactly once per (task, customer, period): points as a "task" ledger entry, a coupon with
source_type "task", or both. A coupon whose template is out of stock makes the job fail and retry: the whole reward
waits and is given once when stock returns. A switched-off task counts nothing and keeps its progress. GET /tasks
shows each active task with the count in its current period (capped at the target) and whether it is done.
What a friend did counts only when the friend passes the checks of every reward of value: for a registration or a
first purchase, no earlier account on the friend's device (F2), and for all three the risk check (F4: with the
default rules, no device id within 10 minutes of signing up is high risk). Friends here sign up from devices of their
own unless a test says otherwise.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest

from fissionmall.core.runtime import Runtime
from fissionmall.loyalty.tasks import rules
from fissionmall.loyalty.tasks import tasks as missions
from fissionmall.loyalty.tasks.rules import Step
from tests.loyalty.test_points import checkin, configure, settings_overrides  # noqa: F401  (settings_overrides: long-lived shopper tokens)
from tests.support import Mall, Who, customer_id, problem, refused_unchanged, rows, snapshot_of, value

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")

PROGRESS_JOB = "loyalty.task_progress"
WATCHED = ("loyalty_tasks", "task_progress", "task_hits", "points_entries", "points_balances", "coupons",
           "coupon_templates", "events", "outbox_jobs")
"""What a refused task request must leave exactly as it was."""


# --- helpers ----------------------------------------------------------------------------------------------------------


def task_body(**changes: Any) -> dict[str, Any]:
    """A valid task (invite 2 friends who register, once, for 50 points); keyword arguments replace its fields."""
    return {"name": "邀请好友注册", "kind": "invite_registered", "period": "once", "target": 2, "reward_points": 50,
            "reward_template_id": None, "active": True, **changes}


async def new_task(mall: Mall, **changes: Any) -> dict[str, Any]:
    """POST /admin/tasks as the owner: 201 with the task as sent, plus its id."""
    body = task_body(**changes)
    response = await mall.client.post("/admin/tasks", headers=await mall.staff(), json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    assert created == {**body, "id": created["id"]}
    return created


async def switch(mall: Mall, task_id: int, active: bool) -> dict[str, Any]:
    response = await mall.client.patch(f"/admin/tasks/{task_id}", headers=await mall.staff(), json={"active": active})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    assert result["active"] is active
    return result


async def make_template(mall: Mall, **changes: Any) -> int:
    """A coupon template (300 fen off, valid 7 days): its id."""
    response = await mall.client.post("/admin/coupon-templates", headers=await mall.staff(), json={
        "name": "立减3元", "kind": "amount", "amount_fen": 300, "valid_days": 7, **changes})
    assert response.status_code == 201, response.text
    template_id: int = response.json()["id"]
    return template_id


async def share(mall: Mall, who: Who, target_type: str = "product", target_id: int | None = None) -> str:
    """The code of the shopper's share (of the mall's product unless told)."""
    response = await mall.client.post("/shares", headers=who, json={
        "target_type": target_type, "target_id": target_id or mall.product_id})
    assert response.status_code == 201, response.text
    code: str = response.json()["code"]
    return code


async def friend(mall: Mall, name: str, code: str | None, device: str | None = None) -> Who:
    """A shopper signing in through the share `code` (None: through nobody's) from a device of their own (unless
    told), as a genuine friend does: no sign of a farm (F2, F4)."""
    body = {"merchant_slug": mall.slug, "openid": name, "nickname": name, **({"share_code": code} if code else {})}
    response = await mall.client.post("/auth/dev-login", headers={"X-Device-Id": device or f"phone-{name}"},
                                      json=body)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def open_share(mall: Mall, code: str, who: Who | None = None) -> None:
    response = await mall.client.get(f"/shares/{code}", headers=who or {})
    assert response.status_code == 200, response.text


async def buy(mall: Mall, who: Who) -> dict[str, Any]:
    """Place and pay one order (its worker pass included)."""
    order = await mall.order(who)
    paid = await mall.pay(who, order["id"])
    assert paid["status"] == "to_ship", paid
    return paid


async def my_tasks(mall: Mall, who: Who) -> list[dict[str, Any]]:
    response = await mall.client.get("/tasks", headers=who)
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


def shown(task: dict[str, Any], period_key: str, count: int, done: bool) -> dict[str, Any]:
    """One entry of GET /tasks."""
    return {"task": task, "period_key": period_key, "count": count, "done": done}


async def progress(runtime: Runtime) -> list[tuple[int, int, str, int, bool]]:
    """(task, customer, period, count, rewarded) of every progress row, by task, customer and period (periods sort
    in time; jobs of one worker pass run in no set order)."""
    found = await rows(runtime, "SELECT task_id, customer_id, period_key, count, rewarded_at FROM task_progress "
                                "ORDER BY task_id, customer_id, period_key")
    return [(task, customer, period, count, rewarded is not None) for task, customer, period, count, rewarded in found]


async def progress_id(runtime: Runtime, task_id: int, customer: int, period_key: str = "once") -> int:
    found: int = await value(runtime, "SELECT id FROM task_progress WHERE task_id = :t AND customer_id = :c "
                                      "AND period_key = :p", t=task_id, c=customer, p=period_key)
    return found


async def task_points(runtime: Runtime) -> list[tuple[Any, ...]]:
    """(customer, points, remaining, source type, source id) of every task reward in the points ledger."""
    return await rows(runtime, "SELECT customer_id, points, remaining, source_type, source_id FROM points_entries "
                               "WHERE kind = 'task' ORDER BY id")


async def task_coupons(runtime: Runtime) -> list[tuple[Any, ...]]:
    """(customer, template, amount, status, source id) of every coupon a task gave."""
    return await rows(runtime, "SELECT customer_id, template_id, amount_fen, status, source_id FROM coupons "
                               "WHERE source_type = 'task' ORDER BY id")


async def jobs(runtime: Runtime) -> list[tuple[str, int, bool]]:
    """(status, attempts, has an error) of every task job, oldest first."""
    found = await rows(runtime, "SELECT status, attempts, last_error FROM outbox_jobs WHERE kind = :k ORDER BY id",
                       k=PROGRESS_JOB)
    return [(status, attempts, error is not None) for status, attempts, error in found]


snapshot = partial(snapshot_of, tables=WATCHED)


refused = partial(refused_unchanged, tables=WATCHED)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --- the pure rules ---------------------------------------------------------------------------------------------------


PERIODS: list[tuple[str, datetime, str]] = [
    ("once", utc(2026, 1, 1, 12), "once"),
    ("daily", utc(2026, 1, 1, 15, 59, 59), "2026-01-01"),      # 23:59:59 in China
    ("daily", utc(2026, 1, 1, 16), "2026-01-02"),              # midnight in China, still 1 January in UTC
    ("daily", utc(2025, 12, 31, 16), "2026-01-01"),            # the new year begins at 16:00 UTC
    ("weekly", utc(2025, 12, 28, 15, 59, 59), "2025-W52"),     # Sunday 28 December 2025, 23:59:59 in China
    ("weekly", utc(2025, 12, 28, 16), "2026-W01"),             # Monday 29 December 2025 in China: ISO 2026-W01
    ("weekly", utc(2026, 1, 4, 15, 59, 59), "2026-W01"),       # Sunday 4 January 2026, 23:59:59 in China
    ("weekly", utc(2026, 1, 4, 16), "2026-W02"),
    ("weekly", utc(2026, 12, 31, 16), "2026-W53"),             # Friday 1 January 2027: ISO 2026-W53
    ("weekly", utc(2027, 1, 3, 16), "2027-W01"),               # Monday 4 January 2027
]


def test_period_keys_are_china_days_and_iso_weeks():
    """A daily period is the China date (the day turns at 16:00 UTC); a weekly one is the ISO week of the China
    date, whose year is the ISO year across new year."""
    assert [(period, at, rules.period_key(period, at)) for period, at, _ in PERIODS] == PERIODS


AT = utc(2026, 1, 1, 16, 30)
"""00:30 on 2 January 2026 in China."""
STEPS: list[tuple[str, int | None, int | None, dict[str, Any], Step | None]] = [
    ("register", 7, 3, {}, Step(3, 7)),
    ("register", 7, None, {}, None),                                       # registered without anyone's share
    ("first_purchase", 7, 3, {}, Step(3, 7)),
    ("first_purchase", 7, None, {}, None),
    ("click", 7, 3, {"target_type": "product"}, Step(3, 7)),
    ("click", 3, 3, {"target_type": "product"}, None),                     # the sharer opening their own share
    ("click", None, 3, {"target_type": "product"}, None),                  # anonymous
    ("click", 7, 3, {"target_type": "invite"}, None),
    ("click", 7, 3, {"target_type": "group"}, None),
    ("click", 7, 3, {"target_type": "bargain"}, None),
    ("click", 7, 3, {}, None),
    ("checkin", 7, None, {"streak": 4, "points": 8}, Step(7, 20260102, 4)),  # the China day, not the UTC one
    ("checkin", None, None, {"streak": 1}, None),
]


def test_the_step_an_event_makes():
    """A friend's register, first purchase or product click advances the inviter's task, the friend being what
    counts; a check-in advances the customer's own streak, the China day being what counts. A self-click, an
    anonymous click, a click on anything but a product and a friend without an inviter count nothing."""
    made = [(kind, actor, inviter, data, rules.step_of(kind, actor, inviter, data, AT))
            for kind, actor, inviter, data, _ in STEPS]
    assert made == STEPS


def test_only_what_a_friend_does_a_check_in_or_a_review_drives_tasks():
    """The event → task kind map: the share itself ("share") drives nothing (S1)."""
    assert rules.TASK_KINDS == {"register": "invite_registered", "first_purchase": "friend_first_purchase",
                                "click": "share_click", "checkin": "checkin_streak", "review": "review",
                                "post": "post"}
    assert {"register", "first_purchase", "click"} == rules.FRIEND_EVENTS


# --- friends ----------------------------------------------------------------------------------------------------------


async def test_the_second_friend_to_register_earns_the_reward_once(client, mall):
    """invite_registered, target 2, 50 points: the first friend makes 1/2; a friend signing in again, or a
    customer registering without the share, counts nothing; the second friend rewards 50 points once ("task" entry on
    the progress); a third friend counts (3 stored, 2 shown) and rewards nothing more."""
    await configure(mall)
    task = await new_task(mall)
    alice = await mall.shopper("alice")
    me = await customer_id(mall, alice)
    code = await share(mall, alice)

    await friend(mall, "bob", code)
    await mall.work()
    assert await progress(mall.runtime) == [(task["id"], me, "once", 1, False)]
    assert await my_tasks(mall, alice) == [shown(task, "once", 1, False)]
    await friend(mall, "bob", code)  # signing in again: not a registration
    await mall.shopper("erin")  # registered through nobody
    await mall.work()
    assert await progress(mall.runtime) == [(task["id"], me, "once", 1, False)]
    assert await task_points(mall.runtime) == []

    await friend(mall, "carol", code)
    await mall.work()
    assert await progress(mall.runtime) == [(task["id"], me, "once", 2, True)]
    rewarded = [(me, 50, 50, "task_progress", await progress_id(mall.runtime, task["id"], me))]
    assert await task_points(mall.runtime) == rewarded
    await friend(mall, "dave", code)
    await mall.work()
    assert await progress(mall.runtime) == [(task["id"], me, "once", 3, True)]
    assert await task_points(mall.runtime) == rewarded
    assert await my_tasks(mall, alice) == [shown(task, "once", 2, True)]
    assert (await client.get("/points", headers=alice)).json()["balance"] == 50
    assert await jobs(mall.runtime) == [("done", 1, False)] * 5  # alice, bob, erin, carol, dave


async def test_a_share_counts_nothing_only_a_friends_click_on_a_product_does(client, mall):
    """share_click, target 2 (S1): sharing queues no task job; the sharer opening their own share, an anonymous
    visitor and a friend opening an invite share count nothing; the same friend opening the product share twice
    counts once; a second friend completes the task, rewarded once."""
    await configure(mall)
    alice, bob = await mall.shopper("alice"), await friend(mall, "bob", None)  # before any task: no job
    me = await customer_id(mall, alice)
    task = await new_task(mall, kind="share_click", reward_points=30)
    code = await share(mall, alice)
    invite = await share(mall, alice, "invite", me)
    assert await jobs(mall.runtime) == []  # the share itself queues nothing
    await open_share(mall, code, alice)
    await open_share(mall, code)
    await open_share(mall, invite, bob)
    await mall.work()
    assert await progress(mall.runtime) == []
    assert await jobs(mall.runtime) == [("done", 1, False)] * 3  # the three clicks, counting nothing

    await open_share(mall, code, bob)
    await open_share(mall, code, bob)
    await mall.work()
    assert await progress(mall.runtime) == [(task["id"], me, "once", 1, False)]
    assert await value(mall.runtime, "SELECT count(*) FROM task_hits") == 1
    await open_share(mall, code, await friend(mall, "carol", None))
    await open_share(mall, code, await friend(mall, "dave", None))
    await mall.work()
    assert await progress(mall.runtime) == [(task["id"], me, "once", 3, True)]
    assert await task_points(mall.runtime) == [
        (me, 30, 30, "task_progress", await progress_id(mall.runtime, task["id"], me))]
    assert await my_tasks(mall, alice) == [shown(task, "once", 2, True)]


async def test_a_friends_first_paid_order_counts_and_nothing_else_does(client, mall):
    """friend_first_purchase, target 2: a friend's placed but unpaid order counts nothing; their payment counts
    once and their second paid order nothing more; the customer's own first purchase, and that of a customer who
    came through nobody, count for no one; a second friend's first payment rewards once."""
    await configure(mall)
    task = await new_task(mall, kind="friend_first_purchase", reward_points=40)
    alice = await mall.shopper("alice")
    me = await customer_id(mall, alice)
    code = await share(mall, alice)
    bob, carol = await friend(mall, "bob", code), await friend(mall, "carol", code)
    erin = await mall.shopper("erin")

    order = await mall.order(bob)
    await mall.work()
    assert await progress(mall.runtime) == []
    await mall.pay(bob, order["id"])
    assert await progress(mall.runtime) == [(task["id"], me, "once", 1, False)]
    await buy(mall, bob)
    await buy(mall, alice)
    await buy(mall, erin)
    assert await progress(mall.runtime) == [(task["id"], me, "once", 1, False)]
    assert await task_points(mall.runtime) == []

    await buy(mall, carol)
    assert await progress(mall.runtime) == [(task["id"], me, "once", 2, True)]
    assert await task_points(mall.runtime) == [
        (me, 40, 40, "task_progress", await progress_id(mall.runtime, task["id"], me))]
    assert await value(mall.runtime, "SELECT count(*) FROM events WHERE kind = 'first_purchase'") == 4


async def test_a_friend_on_a_device_an_earlier_account_used_counts_nothing(client, mall):
    """F2: an account signing up through the share on the device of an earlier account is not a new friend (as for
    邀请有礼): neither its registration nor its first payment counts, and nothing is rewarded."""
    await configure(mall)
    await new_task(mall, target=1)
    await new_task(mall, kind="friend_first_purchase", target=1, reward_points=40)
    alice = await mall.shopper("alice")
    code = await share(mall, alice)
    await friend(mall, "old", None, device="shared-phone")
    await buy(mall, await friend(mall, "farmed", code, device="shared-phone"))
    assert (await progress(mall.runtime), await task_points(mall.runtime)) == ([], [])


async def test_a_high_risk_friend_counts_nothing_until_the_risk_check_passes(client, mall, clock):
    """F4 with the default rules (as for 邀请有礼): a friend with no device id acting within 10 minutes of signing up
    is high risk, so neither their first payment nor their click counts; 10 minutes on, the same friend is only a
    mild signal and their next click counts."""
    await configure(mall)
    purchase = await new_task(mall, kind="friend_first_purchase", target=1, reward_points=40)
    click = await new_task(mall, kind="share_click", target=1, reward_points=30)
    alice = await mall.shopper("alice")
    me = await customer_id(mall, alice)
    code = await share(mall, alice)
    quick = await mall.shopper("quick", share_code=code)
    await open_share(mall, code, quick)
    await buy(mall, quick)
    assert (await progress(mall.runtime), await task_points(mall.runtime)) == ([], [])
    clock.advance(minutes=10)
    await open_share(mall, code, quick)
    await mall.work()
    assert await progress(mall.runtime) == [(click["id"], me, "once", 1, True)]
    assert await my_tasks(mall, alice) == [shown(purchase, "once", 0, False), shown(click, "once", 1, True)]


# --- check-in streaks -------------------------------------------------------------------------------------------------


Day = tuple[int, str, int, bool] | None
"""A China day of check-in: (the streak it makes, the progress's period, its count, rewarded); None: no check-in."""


async def day_by_day(mall: Mall, who: Who, task_id: int, days: list[Day]) -> None:
    """From today, one China day after another: check in (the worker running after it) and check the latest
    period's progress row; the clock ends on the day after the last."""
    me = await customer_id(mall, who)
    for i, day in enumerate(days):
        if day is not None:
            streak, period, count, rewarded = day
            assert (await checkin(mall, who))["streak"] == streak, i
            await mall.work()
            assert (await progress(mall.runtime))[-1] == (task_id, me, period, count, rewarded), i
        mall.runtime.clock.advance(days=1)  # type: ignore[attr-defined]


async def test_a_streak_task_is_rewarded_on_the_third_day_in_a_row(client, mall):
    """checkin_streak, once, target 3: the count is the longest streak so far, so a gap leaves it at 2 of 3 and the
    reward comes on the third consecutive day after the gap; a longer streak rewards nothing more."""
    await configure(mall, checkin_points=5, streak_bonus=0)
    task = await new_task(mall, kind="checkin_streak", target=3, reward_points=100)
    alice = await mall.shopper("alice")
    me = await customer_id(mall, alice)
    await day_by_day(mall, alice, task["id"], [(1, "once", 1, False), (2, "once", 2, False), None,
                                               (1, "once", 2, False), (2, "once", 2, False), (3, "once", 3, True),
                                               (4, "once", 4, True)])
    assert len(await progress(mall.runtime)) == 1
    assert await task_points(mall.runtime) == [
        (me, 100, 100, "task_progress", await progress_id(mall.runtime, task["id"], me))]
    assert await my_tasks(mall, alice) == [shown(task, "once", 3, True)]
    assert (await client.get("/points", headers=alice)).json()["balance"] == 6 * 5 + 100


async def test_a_daily_streak_task_counts_per_china_day(client, mall, clock):
    """checkin_streak, daily, target 3: a check-in at 23:59:59 counts for that China day and one a second later
    for the next, even when the worker runs after midnight; the third day in a row is rewarded; the next day
    starts at 0 and, the streak being 4, is rewarded again, once."""
    await configure(mall)
    task = await new_task(mall, kind="checkin_streak", period="daily", target=3, reward_points=10)
    alice = await mall.shopper("alice")
    me = await customer_id(mall, alice)
    clock.advance(hours=3, minutes=59, seconds=59)  # 1 January, 23:59:59 in China
    await checkin(mall, alice)
    clock.advance(seconds=1)  # 2 January, 00:00:00
    await checkin(mall, alice)
    await mall.work()
    assert await progress(mall.runtime) == [(task["id"], me, "2026-01-01", 1, False),
                                            (task["id"], me, "2026-01-02", 2, False)]
    clock.advance(days=1)
    await day_by_day(mall, alice, task["id"], [(3, "2026-01-03", 3, True)])
    assert await my_tasks(mall, alice) == [shown(task, "2026-01-04", 0, False)]
    await day_by_day(mall, alice, task["id"], [(4, "2026-01-04", 4, True)])
    clock.advance(seconds=-1)  # 23:59:59 on 4 January
    assert await my_tasks(mall, alice) == [shown(task, "2026-01-04", 3, True)]
    assert await task_points(mall.runtime) == [
        (me, 10, 10, "task_progress", await progress_id(mall.runtime, task["id"], me, day))
        for day in ("2026-01-03", "2026-01-04")]


async def test_a_weekly_streak_task_counts_per_iso_week(client, mall):
    """checkin_streak, weekly, target 3, from Thursday 1 January 2026 (ISO 2026-W01): rewarded on Saturday, Sunday
    adds nothing; Monday opens 2026-W02 at 0 and, the streak (5) carrying over, is rewarded at once; after a gap,
    the next week needs three new days in a row."""
    await configure(mall)
    task = await new_task(mall, kind="checkin_streak", period="weekly", target=3, reward_points=20)
    alice = await mall.shopper("alice")
    me = await customer_id(mall, alice)
    await day_by_day(mall, alice, task["id"], [(1, "2026-W01", 1, False), (2, "2026-W01", 2, False),
                                               (3, "2026-W01", 3, True), (4, "2026-W01", 4, True)])
    assert await my_tasks(mall, alice) == [shown(task, "2026-W02", 0, False)]  # Monday 5 January
    await day_by_day(mall, alice, task["id"], [(5, "2026-W02", 5, True)] + [None] * 6)
    await day_by_day(mall, alice, task["id"], [(1, "2026-W03", 1, False), (2, "2026-W03", 2, False),
                                               (3, "2026-W03", 3, True)])
    assert [row[2:] for row in await progress(mall.runtime)] == [("2026-W01", 4, True), ("2026-W02", 5, True),
                                                                 ("2026-W03", 3, True)]
    assert [(customer, points) for customer, points, *_ in await task_points(mall.runtime)] == [(me, 20)] * 3


# --- switching off, listing -------------------------------------------------------------------------------------------


async def test_a_switched_off_task_counts_nothing_and_keeps_its_progress(client, mall):
    """invite_registered, target 3: one friend counts; switched off, a friend registering then counts nothing,
    nor does one who registered while it was on but whose job runs after; GET /tasks hides it while the admin list
    shows it inactive; switched on again, the next friend continues from the kept count."""
    await configure(mall)
    task = await new_task(mall, target=3)
    alice = await mall.shopper("alice")
    me = await customer_id(mall, alice)
    code = await share(mall, alice)
    await friend(mall, "bob", code)
    await mall.work()
    await friend(mall, "carol", code)  # its job is queued while the task is on
    off = await switch(mall, task["id"], False)
    assert off == {**task, "active": False}
    await friend(mall, "dave", code)
    await mall.work()
    assert await progress(mall.runtime) == [(task["id"], me, "once", 1, False)]
    assert await my_tasks(mall, alice) == []
    listed = await client.get("/admin/tasks", headers=await mall.staff("support"))
    assert listed.status_code == 200 and listed.json() == [off]

    on = await switch(mall, task["id"], True)
    assert on == task
    await friend(mall, "erin", code)
    await mall.work()
    assert await progress(mall.runtime) == [(task["id"], me, "once", 2, False)]
    assert await my_tasks(mall, alice) == [shown(task, "once", 2, False)]
    assert await task_points(mall.runtime) == []


async def test_my_tasks_lists_every_active_task_in_its_own_period(client, mall, clock):
    """GET /tasks: every active task in creation order with the shopper's count in its current period, capped
    at the target, and done once rewarded; an inactive task is not listed; another shopper sees 0 everywhere; the
    next China day resets only the daily task."""
    await configure(mall)
    invite = await new_task(mall)
    click = await new_task(mall, kind="share_click", period="daily", target=1, reward_points=5)
    streak = await new_task(mall, kind="checkin_streak", period="weekly", target=3, reward_points=5)
    await new_task(mall, name="旧任务", kind="friend_first_purchase", active=False)
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    code = await share(mall, alice)
    await open_share(mall, code, await friend(mall, "carol", code))
    await checkin(mall, alice)
    await mall.work()
    assert await my_tasks(mall, alice) == [shown(invite, "once", 1, False), shown(click, "2026-01-01", 1, True),
                                           shown(streak, "2026-W01", 1, False)]
    assert await my_tasks(mall, bob) == [shown(invite, "once", 0, False), shown(click, "2026-01-01", 0, False),
                                         shown(streak, "2026-W01", 0, False)]
    clock.advance(days=1)
    assert await my_tasks(mall, alice) == [shown(invite, "once", 1, False), shown(click, "2026-01-02", 0, False),
                                           shown(streak, "2026-W01", 1, False)]
    problem(await client.get("/tasks"), 401, "unauthenticated")


# --- coupons as rewards -----------------------------------------------------------------------------------------------


async def test_a_coupon_reward_issues_one_coupon_with_the_points(client, mall):
    """invite_registered, target 1, rewarding 20 points and a coupon: the first friend gives exactly one coupon
    (source "task", the progress) and one points entry; a second friend, nothing more."""
    await configure(mall)
    template_id = await make_template(mall)
    task = await new_task(mall, target=1, reward_points=20, reward_template_id=template_id)
    alice = await mall.shopper("alice")
    me = await customer_id(mall, alice)
    code = await share(mall, alice)
    await friend(mall, "bob", code)
    await friend(mall, "carol", code)
    await mall.work()
    progress_of = await progress_id(mall.runtime, task["id"], me)
    assert await task_coupons(mall.runtime) == [(me, template_id, 300, "available", progress_of)]
    assert await task_points(mall.runtime) == [(me, 20, 20, "task_progress", progress_of)]
    assert await value(mall.runtime, "SELECT issued FROM coupon_templates") == 1
    mine = (await client.get("/coupons", headers=alice)).json()
    assert [(c["template_id"], c["source_type"], c["status"]) for c in mine] == [(template_id, "task", "available")]


async def test_a_coupon_reward_out_of_stock_waits_and_is_given_once_on_restock(client, mall, clock):
    """A coupon reward whose template is out of stock fails the job, which retries: the whole reward (coupon and
    points) and the count wait; a second friend's job waits too; after a restock both jobs run, and exactly one
    coupon and one points entry are given, with the count exact."""
    await configure(mall)
    template_id = await make_template(mall, stock=1)
    response = await client.post(f"/coupon-templates/{template_id}/claim", headers=await mall.shopper("zed"))
    assert response.status_code == 201, response.text  # the only coupon is gone
    alice = await mall.shopper("alice")
    me = await customer_id(mall, alice)
    code = await share(mall, alice)
    task = await new_task(mall, target=1, reward_points=20, reward_template_id=template_id)
    await friend(mall, "bob", code)
    await mall.work()
    assert await jobs(mall.runtime) == [("pending", 1, True)]
    error = await value(mall.runtime, "SELECT last_error FROM outbox_jobs WHERE kind = :k", k=PROGRESS_JOB)
    assert error.startswith("CouponRewardWaiting"), error
    assert (await progress(mall.runtime), await task_coupons(mall.runtime), await task_points(mall.runtime)) == (
        [], [], [])
    await friend(mall, "carol", code)
    clock.advance(seconds=2)
    await mall.work()
    assert await jobs(mall.runtime) == [("pending", 2, True), ("pending", 1, True)]
    assert await progress(mall.runtime) == []

    response = await client.patch(f"/admin/coupon-templates/{template_id}", headers=await mall.staff(),
                                  json={"stock": 2})
    assert response.status_code == 200, response.text
    clock.advance(seconds=4)
    await mall.work()
    assert [status for status, _, _ in await jobs(mall.runtime)] == ["done", "done"]
    assert await progress(mall.runtime) == [(task["id"], me, "once", 2, True)]
    progress_of = await progress_id(mall.runtime, task["id"], me)
    assert await task_coupons(mall.runtime) == [(me, template_id, 300, "available", progress_of)]
    assert await task_points(mall.runtime) == [(me, 20, 20, "task_progress", progress_of)]
    assert await value(mall.runtime, "SELECT issued FROM coupon_templates") == 2


async def test_a_waiting_coupon_reward_holds_back_no_other_task(client, mall, clock):
    """Two invite tasks, target 1: one rewards points, the other a coupon out of stock. The friend registering
    completes the points task at once; only the coupon task's reward waits, and the retry after a restock gives the
    coupon without counting the friend twice for the points task."""
    await configure(mall)
    template_id = await make_template(mall, stock=1)
    await client.post(f"/coupon-templates/{template_id}/claim", headers=await mall.shopper("zed"))
    alice = await mall.shopper("alice")
    me = await customer_id(mall, alice)
    points_task = await new_task(mall, target=1, reward_points=20)
    coupon_task = await new_task(mall, target=1, reward_points=0, reward_template_id=template_id)
    await friend(mall, "bob", await share(mall, alice))
    await mall.work()
    assert await my_tasks(mall, alice) == [shown(points_task, "once", 1, True), shown(coupon_task, "once", 0, False)]
    rewarded = [(me, 20, 20, "task_progress", await progress_id(mall.runtime, points_task["id"], me))]
    assert await task_points(mall.runtime) == rewarded
    assert await jobs(mall.runtime) == [("pending", 1, True)]

    response = await client.patch(f"/admin/coupon-templates/{template_id}", headers=await mall.staff(),
                                  json={"stock": 2})
    assert response.status_code == 200, response.text
    clock.advance(seconds=2)
    await mall.work()  # the retry completes the coupon task and counts nothing twice
    assert await jobs(mall.runtime) == [("done", 2, True)]
    assert await progress(mall.runtime) == [(points_task["id"], me, "once", 1, True),
                                            (coupon_task["id"], me, "once", 1, True)]
    assert await task_points(mall.runtime) == rewarded
    assert await task_coupons(mall.runtime) == [
        (me, template_id, 300, "available", await progress_id(mall.runtime, coupon_task["id"], me))]


# --- replays ----------------------------------------------------------------------------------------------------------


async def test_a_job_run_again_counts_nothing_more(client, mall, runtime):
    """A worker that dies after its commit runs the job again: replaying every event's handler (and an unknown
    event) changes no row."""
    await configure(mall)
    await new_task(mall, target=1)
    await new_task(mall, kind="share_click", target=3)
    alice = await mall.shopper("alice")
    code = await share(mall, alice)
    await open_share(mall, code, await friend(mall, "bob", code))
    await mall.work()
    before = await snapshot(runtime)
    assert len(before["task_progress"]) == 2 and len(before["task_hits"]) == 2
    for (event_id,) in await rows(runtime, "SELECT id FROM events ORDER BY id"):
        await missions.task_progress(runtime, {"event_id": event_id})
    await missions.task_progress(runtime, {"event_id": 424242})
    assert await snapshot(runtime) == before


# --- admin ------------------------------------------------------------------------------------------------------------


BAD_TASKS: list[tuple[str, dict[str, Any]]] = [
    ("body", task_body(reward_points=0)),
    ("name", task_body(name="")),
    ("name", task_body(name="任" * 61)),
    ("kind", task_body(kind="write_review")),
    ("kind", task_body(kind="share")),
    ("period", task_body(period="monthly")),
    ("target", task_body(target=0)),
    ("target", task_body(target=1001)),
    ("reward_points", task_body(reward_points=-1)),
    ("reward_points", task_body(reward_points=1_000_001)),
    ("reward_template_id", task_body(reward_template_id=0)),
    ("active", task_body(active="sometimes")),
]


async def test_bad_tasks_are_refused_with_stable_codes_and_change_nothing(client, mall, beta):
    """Out-of-range or missing fields are 422 invalid_request naming the field (no reward at all names the body);
    points as a reward before PUT /admin/points is 409 points_not_configured; a coupon template that is not the
    merchant's is 404 coupon_template_not_found; only the owner may create or switch a task (403); switching an
    unknown task, or another merchant's, is 404 task_not_found. None of them changes a row."""
    owner = await mall.staff()
    foreign = await make_template(beta)
    beta_task = await new_task(beta, reward_points=0, reward_template_id=foreign)
    for field, body in BAD_TASKS:
        answer = await refused(mall, client.post("/admin/tasks", headers=owner, json=body), 422, "invalid_request")
        assert answer["errors"][0]["field"] == field, (field, answer)
    await refused(mall, client.post("/admin/tasks", headers=owner, json=task_body()), 409, "points_not_configured")
    await refused(mall, client.post("/admin/tasks", headers=owner, json=task_body(reward_points=0,
                                                                                  reward_template_id=foreign)),
                  404, "coupon_template_not_found")
    await refused(mall, client.post("/admin/tasks", headers=owner, json=task_body(reward_points=0,
                                                                                  reward_template_id=foreign + 99)),
                  404, "coupon_template_not_found")
    await configure(mall)
    for role in ("operator", "finance", "support"):
        await refused(mall, client.post("/admin/tasks", headers=await mall.staff(role), json=task_body()), 403,
                      "forbidden")
    task = await new_task(mall)
    for role in ("operator", "finance", "support"):
        await refused(mall, client.patch(f"/admin/tasks/{task['id']}", headers=await mall.staff(role),
                                         json={"active": False}), 403, "forbidden")
    await refused(mall, client.patch(f"/admin/tasks/{beta_task['id']}", headers=owner, json={"active": False}), 404,
                  "task_not_found")
    await refused(mall, client.patch("/admin/tasks/424242", headers=owner, json={"active": False}), 404,
                  "task_not_found")
    await refused(mall, client.patch(f"/admin/tasks/{task['id']}", headers=owner, json={}), 422, "invalid_request")
    assert await rows(mall.runtime, "SELECT merchant_id, active FROM loyalty_tasks ORDER BY id") == [
        (beta.merchant_id, True), (mall.merchant_id, True)]


async def test_another_merchants_tasks_never_move(client, mall, beta):
    """Both malls run the same invite and click tasks, target 1. What happens in one mall (friends registering,
    clicking, a shopper of the other mall opening a share) advances only its own tasks; each mall's staff and
    shoppers see only their own tasks."""
    await configure(mall)
    await configure(beta)
    mine = [await new_task(mall, target=1), await new_task(mall, kind="share_click", target=1)]
    theirs = [await new_task(beta, target=1), await new_task(beta, kind="share_click", target=1)]
    alice = await mall.shopper("alice")
    me = await customer_id(mall, alice)
    code = await share(mall, alice)
    await open_share(mall, code, await beta.shopper("stranger"))  # another mall's shopper clicks anonymously
    await mall.work()
    assert await progress(mall.runtime) == []
    await open_share(mall, code, await friend(mall, "bob", code))
    await mall.work()
    assert await progress(mall.runtime) == [(mine[0]["id"], me, "once", 1, True), (mine[1]["id"], me, "once", 1, True)]

    beta_alice = await beta.shopper("alice")
    assert await my_tasks(beta, beta_alice) == [shown(theirs[0], "once", 0, False),
                                                shown(theirs[1], "once", 0, False)]
    assert await my_tasks(mall, alice) == [shown(mine[0], "once", 1, True), shown(mine[1], "once", 1, True)]
    listed = await client.get("/admin/tasks", headers=await beta.staff())
    assert listed.status_code == 200 and listed.json() == theirs
    await friend(beta, "bob", await share(beta, beta_alice))
    await beta.work()
    assert [row[0] for row in await progress(mall.runtime)] == [mine[0]["id"], mine[1]["id"], theirs[0]["id"]]
    assert [row[0] for row in await task_points(mall.runtime)] == [me, me, await customer_id(beta, beta_alice)]
