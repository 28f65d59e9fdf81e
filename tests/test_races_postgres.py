"""Races on PostgreSQL: many real HTTP requests (each on its own connection) or workers at the same moment.

Whatever the interleaving, stock is never oversold, a payment applies once, refunds never exceed what was paid,
an idempotent POST creates one thing, an outbox job runs once, and a late payment is either kept or returned.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from functools import partial
from typing import Any

import httpx
import pytest
import sqlalchemy.exc
from sqlalchemy import select, text

from fissionmall.core.events import Event
from fissionmall.core.outbox import enqueue, job, run_due_jobs
from fissionmall.core.runtime import Runtime
from fissionmall.orders import repository as order_repository
from fissionmall.orders import tasks as order_tasks
from fissionmall.payments.providers.sandbox import signed_headers
from tests.support import ADDRESS, Mall, Who, problem, rows, shoppers, snapshot_of

pytestmark = pytest.mark.postgres

WATCHED = ("orders", "order_items", "payments", "payment_notifications", "events", "outbox_jobs", "refunds",
           "sandbox_refunds", "skus", "idempotency_keys")

snapshot = partial(snapshot_of, tables=WATCHED)


# --- helpers ----------------------------------------------------------------------------------------------------------

async def money_of(runtime: Runtime, order_id: int) -> tuple[str, int, int, int]:
    """(status, paid, reserved, refunded) as stored."""
    [row] = await rows(runtime, "SELECT status, paid_fen, refund_reserved_fen, refunded_fen FROM orders "
                                "WHERE id = :id", id=order_id)
    return row  # type: ignore[return-value]


async def paying(mall: Mall, who: Who) -> dict[str, Any]:
    """An order of 1 000 fen whose sandbox payment is opened."""
    order = await mall.order(who)
    response = await mall.client.post(f"/orders/{order['id']}/pay", headers=who)
    assert response.status_code == 200, response.text
    return order


async def notify(client: httpx.AsyncClient, runtime: Runtime, out_trade_no: str, *,
                 event_id: str | None = None) -> httpx.Response:
    """Deliver a payment notification as the sandbox does: its own body, freshly signed."""
    body = json.dumps({"id": event_id or f"pay-{out_trade_no}", "event_type": "TRANSACTION.SUCCESS",
                       "create_time": runtime.clock.now().isoformat(),
                       "resource": {"out_trade_no": out_trade_no, "transaction_id": f"sbx-{out_trade_no}",
                                    "amount_fen": 1000}}, separators=(",", ":")).encode()
    return await client.post("/payments/notify/sandbox", content=body,
                             headers=signed_headers(runtime.settings.sandbox_key, body, runtime.clock.now()))


def statuses(responses: list[httpx.Response]) -> list[int]:
    return sorted(r.status_code for r in responses)


def codes(responses: list[httpx.Response]) -> set[str]:
    return {r.json()["code"] for r in responses if r.status_code >= 400}


# --- stock ------------------------------------------------------------------------------------------------------------

async def test_fifty_shoppers_racing_for_ten_items_buy_exactly_ten(client, runtime):
    """Fifty simultaneous orders of one against a stock of ten: ten orders, forty out_of_stock, stock never below 0."""
    shop = await Mall.create(client, runtime, slug="flash", stock=10)
    buyers = await shoppers(shop, "s", 50)
    responses = await asyncio.gather(*[shop.place_order(who) for who in buyers])
    assert statuses(responses) == [201] * 10 + [409] * 40
    for refused in (r for r in responses if r.status_code == 409):
        assert problem(refused, 409, "out_of_stock")["sku_id"] == shop.sku_id
    assert await shop.sku_stock() == 0
    assert await rows(runtime, "SELECT COUNT(*), SUM(quantity) FROM order_items") == [(10, 10)]
    assert await rows(runtime, "SELECT status, COUNT(*) FROM orders GROUP BY status") == [("pending_payment", 10)]
    assert await rows(runtime, "SELECT COUNT(*) FROM events WHERE kind = 'order'") == [(10,)]

    with pytest.raises(sqlalchemy.exc.IntegrityError, match="stock_not_negative"):
        async with runtime.sessionmaker() as session:
            await session.execute(text("UPDATE skus SET stock = stock - 1"))
    assert await shop.sku_stock() == 0

    placed = [(who, r.json()["id"]) for who, r in zip(buyers, responses, strict=True) if r.status_code == 201]
    cancels = await asyncio.gather(*[client.post(f"/orders/{oid}/cancel", headers=who) for who, oid in placed])
    assert statuses(cancels) == [200] * 10
    assert await shop.sku_stock() == 10
    assert await rows(runtime, "SELECT status, COUNT(*) FROM orders GROUP BY status") == [("cancelled", 10)]


# --- payment notifications --------------------------------------------------------------------------------------------

async def test_same_notification_delivered_twenty_times_at_once_applies_once(client, mall, runtime):
    """Twenty simultaneous deliveries of one event: all acknowledged, one applied, one state change."""
    alice = await mall.shopper("alice")
    order = await paying(mall, alice)
    responses = await asyncio.gather(*[notify(client, runtime, order["order_no"]) for _ in range(20)])
    assert statuses(responses) == [200] * 20
    assert sorted(r.json()["message"] for r in responses) == ["applied"] + ["duplicate"] * 19
    assert {r.json()["code"] for r in responses} == {"SUCCESS"}

    assert await money_of(runtime, order["id"]) == ("to_ship", 1000, 0, 0)
    assert await rows(runtime, "SELECT status, amount_fen FROM payments") == [("succeeded", 1000)]
    assert await rows(runtime, "SELECT event_id FROM payment_notifications") == [(f"pay-{order['order_no']}",)]
    async with runtime.sessionmaker() as session:
        pays = (await session.execute(select(Event.subject_id, Event.data).where(Event.kind == "pay"))).all()
    assert [tuple(row) for row in pays] == [(order["id"], {"amount_fen": 1000, "stage": "full"})]


async def test_distinct_events_for_one_payment_at_once_pay_it_once(client, mall, runtime):
    """Twenty different event ids for the same payment: the payment's compare-and-set lets one through."""
    alice = await mall.shopper("alice")
    order = await paying(mall, alice)
    responses = await asyncio.gather(*[notify(client, runtime, order["order_no"], event_id=f"evt-{i}")
                                       for i in range(20)])
    assert statuses(responses) == [200] * 20
    assert sorted(r.json()["message"] for r in responses) == ["applied"] + ["duplicate"] * 19
    assert await money_of(runtime, order["id"]) == ("to_ship", 1000, 0, 0)
    assert await rows(runtime, "SELECT COUNT(*) FROM events WHERE kind = 'pay'") == [(1,)]


# --- refunds ----------------------------------------------------------------------------------------------------------

async def refund(mall: Mall, who: Who, order_id: int, amount_fen: int, *, by: str) -> httpx.Response:
    body = {"reason": "race", "amount_fen": amount_fen}
    if by == "shopper":
        return await mall.client.post(f"/orders/{order_id}/refunds", headers=who, json=body)
    return await mall.client.post(f"/admin/orders/{order_id}/refunds", headers=await mall.staff("finance"), json=body)


async def test_concurrent_refunds_never_reserve_more_than_was_paid(client, mall, runtime):
    """Rounds of twenty simultaneous 100-fen refunds (shopper and merchant) on 1 000 paid: one per round is taken,
    the rest refused with a clear code; the order ends refunded with exactly 1 000 given back."""
    alice = await mall.shopper("alice")
    order = await mall.order(alice)
    await mall.pay(alice, order["id"])
    await mall.staff("finance")
    refunded = 0
    for round_no in range(10):
        responses = await asyncio.gather(*[refund(mall, alice, order["id"], 100, by=("shopper", "merchant")[i % 2])
                                           for i in range(20)])
        assert statuses(responses) == [201] + [409] * 19, round_no
        assert codes(responses) <= {"refund_in_progress", "order_changed"}
        assert await money_of(runtime, order["id"]) == ("refunding", 1000, refunded + 100, refunded)
        [taken] = [r.json()["refunds"][-1] for r in responses if r.status_code == 201]
        if taken["status"] == "requested":
            approved = await client.post(f"/admin/refunds/{taken['id']}/approve", headers=await mall.staff("finance"))
            assert approved.status_code == 200, approved.text
        await mall.work()
        refunded += 100
        assert await money_of(runtime, order["id"]) == ("to_ship" if refunded < 1000 else "refunded", 1000,
                                                        refunded, refunded)
        if refunded == 900:
            before = await snapshot(runtime)
            too_much = await asyncio.gather(*[refund(mall, alice, order["id"], 200, by=("shopper", "merchant")[i % 2])
                                              for i in range(20)])
            assert statuses(too_much) == [422] * 20
            assert codes(too_much) == {"refund_exceeds_paid"}
            assert await snapshot(runtime) == before

    assert await rows(runtime, "SELECT status, COUNT(*), SUM(amount_fen) FROM refunds GROUP BY status") == [
        ("succeeded", 10, 1000)]
    assert await rows(runtime, "SELECT COUNT(*), SUM(amount_fen) FROM sandbox_refunds") == [(10, 1000)]
    assert await mall.sku_stock() == 100
    late = await asyncio.gather(*[refund(mall, alice, order["id"], 100, by="merchant") for _ in range(5)])
    assert statuses(late) == [409] * 5 and codes(late) == {"invalid_transition"}


async def test_merchant_refunds_racing_the_worker_never_over_refund(client, mall, runtime):
    """Simultaneous 300-fen refunds of 1 000 paid while the worker settles earlier ones: three fit, never four."""
    alice = await mall.shopper("alice")
    order = await mall.order(alice)
    await mall.pay(alice, order["id"])
    await mall.staff("finance")
    taken = 0
    for _ in range(8):
        *responses, _report = await asyncio.gather(*[refund(mall, alice, order["id"], 300, by="merchant")
                                                     for _ in range(10)], mall.work())
        taken += sum(r.status_code == 201 for r in responses)
        assert codes(responses) <= {"refund_in_progress", "order_changed", "refund_exceeds_paid"}
        status, paid, reserved, refunded = await money_of(runtime, order["id"])
        assert (paid, reserved) == (1000, 300 * taken) and reserved <= paid and refunded <= reserved
    await mall.work()
    assert taken == 3
    assert await money_of(runtime, order["id"]) == ("to_ship", 1000, 900, 900)
    assert await rows(runtime, "SELECT status, COUNT(*), SUM(amount_fen) FROM refunds GROUP BY status") == [
        ("succeeded", 3, 900)]
    problem(await refund(mall, alice, order["id"], 300, by="merchant"), 422, "refund_exceeds_paid")


# --- idempotency ------------------------------------------------------------------------------------------------------

def keyed_order(client: httpx.AsyncClient, mall: Mall, who: Who, key: str, quantity: int = 1) -> Any:
    return client.post("/orders", headers={**who, "Idempotency-Key": key}, json={
        "items": [{"sku_id": mall.sku_id, "quantity": quantity}], "address": ADDRESS})


async def test_same_idempotency_key_sent_ten_times_at_once_places_one_order(client, mall, runtime):
    """Ten simultaneous identical POST /orders with one key: one order, ten answers naming it; another body is 422."""
    alice = await mall.shopper("alice")
    responses = await asyncio.gather(*[keyed_order(client, mall, alice, "checkout-1") for _ in range(10)])
    assert statuses(responses) == [201] * 10
    assert len({r.json()["id"] for r in responses}) == 1
    assert sorted(r.headers.get("Idempotent-Replayed", "") for r in responses) == [""] + ["true"] * 9
    assert await rows(runtime, "SELECT COUNT(*) FROM orders") == [(1,)]
    assert await mall.sku_stock() == 99

    before = await snapshot(runtime)
    problem(await keyed_order(client, mall, alice, "checkout-1", quantity=2), 422, "idempotency_key_reused")
    assert await snapshot(runtime) == before


async def test_one_key_with_two_bodies_at_once_places_one_order(client, mall, runtime):
    """The same key racing with two different bodies: the first claim wins, its twins replay, the others are 422."""
    alice = await mall.shopper("alice")
    responses = await asyncio.gather(*[keyed_order(client, mall, alice, "checkout-2", quantity=1 + i % 2)
                                       for i in range(10)])
    placed = [r for r in responses if r.status_code == 201]
    assert [r.status_code for r in responses if r.status_code != 201] == [422] * 5
    assert codes(responses) == {"idempotency_key_reused"}
    assert len(placed) == 5 and len({r.json()["id"] for r in placed}) == 1
    quantity = placed[0].json()["items"][0]["quantity"]
    assert await rows(runtime, "SELECT COUNT(*) FROM orders") == [(1,)]
    assert await mall.sku_stock() == 100 - quantity


# --- the outbox -------------------------------------------------------------------------------------------------------

COUNTED_JOB = "tests.races.counted"
RUNS: Counter[int] = Counter()


@job(COUNTED_JOB)
async def _counted(runtime: Any, payload: dict[str, Any]) -> None:
    await asyncio.sleep(0)
    RUNS[payload["n"]] += 1


async def test_four_workers_run_every_job_exactly_once(runtime, clock):
    """Two hundred jobs of four merchants drained by four workers at once: each job ran once, none left pending."""
    RUNS.clear()
    async with runtime.sessionmaker() as session:
        for n in range(200):
            await enqueue(session, COUNTED_JOB, {"n": n}, now=clock.now(), merchant_id=1 + n % 4)
        await session.commit()

    async def worker() -> int:
        claimed = 0
        while batch := await run_due_jobs(runtime, runtime.sessionmaker, now=clock.now(), limit=7):
            claimed += batch
        return claimed

    claimed = await asyncio.gather(*[worker() for _ in range(4)])
    assert sum(claimed) == 200
    assert Counter(range(200)) == RUNS
    assert await rows(runtime, "SELECT status, attempts, COUNT(*) FROM outbox_jobs GROUP BY status, attempts") == [
        ("done", 1, 200)]


async def test_four_workers_deliver_each_sandbox_notification_once(client, mall, runtime):
    """Thirty queued sandbox deliveries, four worker ticks at once: every order paid once, every job done once."""
    buyers = await shoppers(mall, "s", 30)
    orders = [await paying(mall, who) for who in buyers]
    for who, order in zip(buyers, orders, strict=True):
        [payment_id] = (await rows(runtime, "SELECT id FROM payments WHERE order_id = :id", id=order["id"]))[0]
        assert (await client.post(f"/sandbox/payments/{payment_id}/complete", headers=who)).status_code == 202
    reports = await asyncio.gather(*[mall.work() for _ in range(4)])
    assert sum(report["jobs"] for report in reports) == 30
    assert await rows(runtime, "SELECT status, attempts, COUNT(*) FROM outbox_jobs GROUP BY status, attempts") == [
        ("done", 1, 30)]
    assert await rows(runtime, "SELECT status, COUNT(*), SUM(paid_fen) FROM orders GROUP BY status") == [
        ("to_ship", 30, 30000)]
    assert await rows(runtime, "SELECT COUNT(*) FROM payment_notifications") == [(30,)]
    assert await rows(runtime, "SELECT COUNT(*) FROM events WHERE kind = 'pay'") == [(30,)]


# --- payment against the deadline -------------------------------------------------------------------------------------

async def settled_consistently(mall: Mall, runtime: Runtime, buyers: list[Who],
                               orders: list[dict[str, Any]]) -> list[str]:
    """After the worker: each order is paid and to ship, or cancelled with its 1 000 fen returned in full by one
    automatic refund; stock, events and provider refunds agree. The outcome of each order, in order."""
    await mall.work()
    outcomes = []
    for who, order in zip(buyers, orders, strict=True):
        now = await mall.get_order(who, order["id"])
        refunds = [(r["amount_fen"], r["status"], r["requested_by"]) for r in now["refunds"]]
        if now["status"] == "to_ship":
            assert (now["paid_fen"], now["refunded_fen"], refunds) == (1000, 0, []), now
        else:
            assert now["status"] == "cancelled", now
            assert (now["paid_fen"], now["refunded_fen"], refunds) == (1000, 1000, [(1000, "succeeded", "system")])
        outcomes.append(now["status"])
    paid, cancelled = outcomes.count("to_ship"), outcomes.count("cancelled")
    assert await mall.sku_stock() == 100 - paid
    assert await rows(runtime, "SELECT COUNT(*) FROM events WHERE kind = 'pay'") == [(paid,)]
    assert await rows(runtime, "SELECT COUNT(*) FROM events WHERE kind = 'order_cancelled'") == [(cancelled,)]
    assert await rows(runtime, "SELECT COUNT(*), COALESCE(SUM(amount_fen), 0) FROM sandbox_refunds") == [
        (cancelled, 1000 * cancelled)]
    assert await rows(runtime, "SELECT status, COUNT(*) FROM payments GROUP BY status") == [("succeeded", len(orders))]
    settled = await snapshot(runtime)
    await mall.work()
    assert await snapshot(runtime) == settled
    return outcomes


async def test_payments_racing_the_timeout_sweep_end_paid_or_refunded(client, mall, runtime, clock):
    """Orders due exactly now, paid before, during and after the timeout sweep: each ends consistently."""
    buyers = await shoppers(mall, "s", 18)
    orders = [await paying(mall, who) for who in buyers]
    clock.advance(minutes=30)
    assert await rows(runtime, "SELECT COUNT(*) FROM orders WHERE due_at <= :now", now=clock.now()) == [(18,)]
    before, during, after = orders[:6], orders[6:12], orders[12:]

    answers = await asyncio.gather(*[notify(client, runtime, order["order_no"]) for order in before])
    racing = [notify(client, runtime, order["order_no"]) for order in during]
    answers += await asyncio.gather(*racing[:3], order_tasks.cancel_unpaid(runtime, clock.now()), *racing[3:])
    answers.pop(9)  # the sweep's count, not an answer
    answers += await asyncio.gather(*[notify(client, runtime, order["order_no"]) for order in after])
    assert statuses(answers) == [200] * 18
    assert {r.json()["message"] for r in answers} == {"applied"}

    outcomes = await settled_consistently(mall, runtime, buyers, orders)
    assert outcomes[:6] == ["to_ship"] * 6
    assert outcomes[12:] == ["cancelled"] * 6


class Gate:
    """Holds a wrapped repository call until released, so a chosen interleaving happens every time."""

    def __init__(self) -> None:
        self.reached, self.release = asyncio.Event(), asyncio.Event()

    def hold(self, real: Any, when: Any = lambda *args, **kwargs: True) -> Any:
        async def held(*args: Any, **kwargs: Any) -> Any:
            if when(*args, **kwargs):
                self.reached.set()
                await self.release.wait()
            return await real(*args, **kwargs)
        return held

    async def reached_by(self, task: asyncio.Task[Any]) -> None:
        """Wait until `task` is held at the gate (or has finished without reaching it: a failure, not a hang)."""
        waiting = asyncio.create_task(self.reached.wait())
        await asyncio.wait([waiting, task], return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        assert self.reached.is_set(), "the held call was never made"


async def test_sweep_that_read_an_order_as_due_does_not_cancel_it_once_paid(client, mall, runtime, clock,
                                                                             monkeypatch):
    """The sweep lists the due orders, then a payment lands before it cancels: the paid order stays paid."""
    buyers = await shoppers(mall, "s", 2)
    orders = [await paying(mall, who) for who in buyers]
    clock.advance(minutes=30)
    gate = Gate()
    real_move_many = order_repository.move_many
    monkeypatch.setattr(order_repository, "move_many", gate.hold(real_move_many))
    sweep = asyncio.create_task(order_tasks.cancel_unpaid(runtime, clock.now()))
    await gate.reached_by(sweep)
    acknowledged = await notify(client, runtime, orders[0]["order_no"])
    assert acknowledged.json() == {"code": "SUCCESS", "message": "applied"}
    gate.release.set()
    assert await sweep == 2
    monkeypatch.setattr(order_repository, "move_many", real_move_many)
    assert (await notify(client, runtime, orders[1]["order_no"])).json()["message"] == "applied"
    assert await settled_consistently(mall, runtime, buyers, orders) == ["to_ship", "cancelled"]


async def test_payment_that_read_the_order_as_pending_is_refunded_if_the_sweep_cancels_first(client, mall, runtime,
                                                                                            clock, monkeypatch):
    """The notification settles the payment, then the sweep cancels the order before it is marked paid: the money
    goes back automatically and the stock stays released."""
    buyers = await shoppers(mall, "s", 1)
    orders = [await paying(mall, who) for who in buyers]
    clock.advance(minutes=30)
    gate = Gate()
    monkeypatch.setattr(order_repository, "mark_paid", gate.hold(order_repository.mark_paid))
    notice = asyncio.create_task(notify(client, runtime, orders[0]["order_no"]))
    await gate.reached_by(notice)
    assert await order_tasks.cancel_unpaid(runtime, clock.now()) == 1
    gate.release.set()
    assert (await notice).json() == {"code": "SUCCESS", "message": "applied"}
    assert await settled_consistently(mall, runtime, buyers, orders) == ["cancelled"]
