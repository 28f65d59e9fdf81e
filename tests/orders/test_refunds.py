"""Refunds: a shopper asks, finance decides, the worker has the provider pay back, the notification settles it.

Full refunds close the order (and return stock never shipped), partial ones return it to where it was; the
reserved amount never exceeds what was paid, a refund is decided once and carried out once.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from fissionmall.core.events import Event
from fissionmall.core.runtime import Runtime
from fissionmall.orders.models import Order
from tests.orders.conftest import snapshot
from tests.support import SHIPMENT, Mall, Who, at, problem

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")


async def paid_order(mall: Mall, who: Who, *, quantity: int = 3, then: str = "to_ship") -> dict[str, Any]:
    """An order of quantity × 1 000 fen, paid, and shipped or received if asked."""
    order = await mall.order(who, quantity)
    await mall.pay(who, order["id"])
    if then in ("shipped", "received"):
        response = await mall.client.post(f"/admin/orders/{order['id']}/ship", headers=await mall.staff("support"),
                                          json=SHIPMENT)
        assert response.status_code == 200, response.text
    if then == "received":
        assert (await mall.client.post(f"/orders/{order['id']}/receive", headers=who)).status_code == 200
    return await mall.get_order(who, order["id"])


async def ask(mall: Mall, who: Who, order_id: int, amount_fen: int | None = None,
              reason: str = "arrived broken") -> httpx.Response:
    body: dict[str, Any] = {"reason": reason} if amount_fen is None else {"reason": reason, "amount_fen": amount_fen}
    return await mall.client.post(f"/orders/{order_id}/refunds", headers=who, json=body)


async def asked(mall: Mall, who: Who, order_id: int, amount_fen: int | None = None) -> int:
    """Request a refund and return its id."""
    response = await ask(mall, who, order_id, amount_fen)
    assert response.status_code == 201, response.text
    refund_id: int = response.json()["refunds"][-1]["id"]
    return refund_id


async def decide(mall: Mall, refund_id: int, verdict: str, role: str = "finance") -> httpx.Response:
    return await mall.client.post(f"/admin/refunds/{refund_id}/{verdict}", headers=await mall.staff(role))


async def merchant_refund(mall: Mall, order_id: int, amount_fen: int | None, role: str = "finance") -> httpx.Response:
    body: dict[str, Any] = {"reason": "goodwill"} if amount_fen is None else {"reason": "goodwill",
                                                                              "amount_fen": amount_fen}
    return await mall.client.post(f"/admin/orders/{order_id}/refunds", headers=await mall.staff(role), json=body)


async def refunded_through(mall: Mall, who: Who, order_id: int, amount_fen: int | None = None) -> dict[str, Any]:
    """Ask, approve, and let the worker carry the refund out; the order afterwards."""
    refund_id = await asked(mall, who, order_id, amount_fen)
    assert (await decide(mall, refund_id, "approve")).status_code == 200
    await mall.work()
    return await mall.get_order(who, order_id)


async def sandbox_refunds(runtime: Runtime) -> list[tuple[str, str, int]]:
    async with runtime.sessionmaker() as session:
        rows = await session.execute(text("SELECT out_refund_no, out_trade_no, amount_fen FROM sandbox_refunds "
                                          "ORDER BY id"))
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def money_of(runtime: Runtime, order_id: int) -> tuple[str, int, int, int, str | None]:
    """(status, paid, reserved, refunded, resume_status) as stored."""
    async with runtime.sessionmaker() as session:
        o = (await session.execute(select(Order).where(Order.id == order_id))).scalar_one()
    return o.status, o.paid_fen, o.refund_reserved_fen, o.refunded_fen, o.resume_status


async def refund_events(runtime: Runtime, order_id: int) -> list[tuple[str, dict[str, Any]]]:
    async with runtime.sessionmaker() as session:
        rows = (await session.execute(select(Event).where(
            Event.subject_type == "order", Event.subject_id == order_id, Event.kind.like("refund%")
        ).order_by(Event.id))).scalars()
        return [(e.kind, e.data) for e in rows]


# --- full refunds -----------------------------------------------------------------------------------------------------

async def test_full_refund_of_unshipped_order_returns_money_and_stock(client, mall, runtime, clock):
    """requested → (finance approves) processing → (worker, provider, notification) succeeded; order refunded."""
    alice = await mall.shopper("alice")
    order = await paid_order(mall, alice)
    assert await mall.sku_stock() == 97
    requested_at = clock.advance(hours=1)
    response = await ask(mall, alice, order["id"])
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["status"], body["paid_fen"], body["refunded_fen"]) == ("refunding", 3000, 0)
    assert [(r["refund_no"], r["amount_fen"], r["reason"], r["status"], r["requested_by"], at(r["created_at"]))
            for r in body["refunds"]] == [
        (f"{order['order_no']}R1", 3000, "arrived broken", "requested", "customer", requested_at)]
    assert await money_of(runtime, order["id"]) == ("refunding", 3000, 3000, 0, "to_ship")

    await mall.work()
    assert await sandbox_refunds(runtime) == []
    assert (await mall.get_order(alice, order["id"]))["refunds"][0]["status"] == "requested"

    approved_at = clock.advance(hours=2)
    response = await decide(mall, body["refunds"][0]["id"], "approve")
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["refunds"][0]["status"]) == ("refunding", "processing")
    assert await sandbox_refunds(runtime) == []

    await mall.work()
    refunded = await mall.get_order(alice, order["id"])
    assert (refunded["status"], refunded["paid_fen"], refunded["refunded_fen"], at(refunded["closed_at"])) == (
        "refunded", 3000, 3000, approved_at)
    assert refunded["refunds"][0]["status"] == "succeeded"
    assert await money_of(runtime, order["id"]) == ("refunded", 3000, 3000, 3000, None)
    assert await sandbox_refunds(runtime) == [(f"{order['order_no']}R1", order["order_no"], 3000)]
    assert await mall.sku_stock() == 100
    assert await refund_events(runtime, order["id"]) == [
        ("refund_requested", {"amount_fen": 3000, "by": "customer"}), ("refund", {"amount_fen": 3000})]


async def test_full_refund_after_shipping_keeps_the_stock_out(client, mall, runtime):
    """Goods that left the warehouse are not put back in stock by a refund."""
    alice = await mall.shopper("alice")
    order = await paid_order(mall, alice, then="shipped")
    refunded = await refunded_through(mall, alice, order["id"])
    assert (refunded["status"], refunded["refunded_fen"], refunded["tracking_no"]) == ("refunded", 3000,
                                                                                       "SF1234567890")
    assert await mall.sku_stock() == 97


# --- partial refunds --------------------------------------------------------------------------------------------------

async def test_partial_refund_returns_the_order_to_its_prior_status(client, mall, runtime, clock):
    """A shipped order partly refunded is shipped again, keeps its stock out and is still auto-received on time."""
    alice = await mall.shopper("alice")
    shipped_at = clock.now()
    order = await paid_order(mall, alice, then="shipped")
    clock.advance(days=1)
    after = await refunded_through(mall, alice, order["id"], amount_fen=500)
    assert (after["status"], after["paid_fen"], after["refunded_fen"], after["closed_at"]) == (
        "shipped", 3000, 500, None)
    assert [(r["amount_fen"], r["status"]) for r in after["refunds"]] == [(500, "succeeded")]
    assert await money_of(runtime, order["id"]) == ("shipped", 3000, 500, 500, None)
    assert await sandbox_refunds(runtime) == [(f"{order['order_no']}R1", order["order_no"], 500)]
    assert await mall.sku_stock() == 97

    clock.advance(days=9)
    await mall.work()
    received = await mall.get_order(alice, order["id"])
    assert (received["status"], at(received["received_at"])) == ("received", shipped_at + timedelta(days=10))


async def test_two_partial_refunds_summing_to_the_payment_refund_the_order(client, mall, runtime):
    """1 200 then 1 800 of 3 000: back to to_ship after the first, refunded (stock returned) after the second."""
    alice = await mall.shopper("alice")
    order = await paid_order(mall, alice)
    first = await refunded_through(mall, alice, order["id"], amount_fen=1200)
    assert (first["status"], first["refunded_fen"]) == ("to_ship", 1200)
    assert await mall.sku_stock() == 97
    second = await refunded_through(mall, alice, order["id"], amount_fen=1800)
    assert (second["status"], second["refunded_fen"], second["paid_fen"]) == ("refunded", 3000, 3000)
    assert [(r["refund_no"], r["amount_fen"], r["status"]) for r in second["refunds"]] == [
        (f"{order['order_no']}R1", 1200, "succeeded"), (f"{order['order_no']}R2", 1800, "succeeded")]
    assert [row[2] for row in await sandbox_refunds(runtime)] == [1200, 1800]
    assert await mall.sku_stock() == 100


async def test_refund_larger_than_what_remains_is_refused(client, mall, runtime):
    """422 refund_exceeds_paid with the refundable amount, and nothing reserved or recorded."""
    alice = await mall.shopper("alice")
    order = await paid_order(mall, alice)
    before = await snapshot(runtime)
    assert problem(await ask(mall, alice, order["id"], 3001), 422, "refund_exceeds_paid")["refundable_fen"] == 3000
    assert await snapshot(runtime) == before

    await refunded_through(mall, alice, order["id"], amount_fen=1200)
    before = await snapshot(runtime)
    assert problem(await ask(mall, alice, order["id"], 1801), 422, "refund_exceeds_paid")["refundable_fen"] == 1800
    assert problem(await merchant_refund(mall, order["id"], 1801), 422, "refund_exceeds_paid")["refundable_fen"] == 1800
    assert await snapshot(runtime) == before
    assert await money_of(runtime, order["id"]) == ("to_ship", 3000, 1200, 1200, None)

    response = await ask(mall, alice, order["id"])
    assert response.status_code == 201, response.text
    assert response.json()["refunds"][-1]["amount_fen"] == 1800


async def test_malformed_refund_requests_are_refused(client, mall, runtime):
    """An amount of 0, negative or not an integer, and a missing or over-long reason are 422 and change nothing."""
    alice = await mall.shopper("alice")
    order = await paid_order(mall, alice)
    before = await snapshot(runtime)
    for body in ({"amount_fen": 0, "reason": "x"}, {"amount_fen": -500, "reason": "x"},
                 {"amount_fen": "all", "reason": "x"}, {"amount_fen": 500}, {"amount_fen": 500, "reason": ""},
                 {"reason": "x" * 201}):
        problem(await client.post(f"/orders/{order['id']}/refunds", headers=alice, json=body), 422, "invalid_request")
        problem(await client.post(f"/admin/orders/{order['id']}/refunds", headers=await mall.staff("finance"),
                                  json=body), 422, "invalid_request")
    assert await snapshot(runtime) == before


# --- one refund at a time, decided once -------------------------------------------------------------------------------

async def test_second_request_while_one_is_pending_is_refused(client, mall, runtime):
    """While a refund is requested or processing, another one (shopper's or merchant's) is 409 refund_in_progress."""
    alice = await mall.shopper("alice")
    order = await paid_order(mall, alice)
    refund_id = await asked(mall, alice, order["id"], 1000)
    before = await snapshot(runtime)
    problem(await ask(mall, alice, order["id"], 500), 409, "refund_in_progress")
    problem(await merchant_refund(mall, order["id"], 500), 409, "refund_in_progress")
    assert await snapshot(runtime) == before

    assert (await decide(mall, refund_id, "approve")).status_code == 200
    before = await snapshot(runtime)
    problem(await ask(mall, alice, order["id"], 500), 409, "refund_in_progress")
    assert await snapshot(runtime) == before
    await mall.work()
    assert await money_of(runtime, order["id"]) == ("to_ship", 3000, 1000, 1000, None)


async def test_rejected_refund_restores_the_order_and_the_amount(client, mall, runtime):
    """A rejection puts the order back where it was and frees the amount; nothing is paid back."""
    alice = await mall.shopper("alice")
    order = await paid_order(mall, alice, then="shipped")
    refund_id = await asked(mall, alice, order["id"])
    response = await decide(mall, refund_id, "reject")
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["refunds"][0]["status"]) == ("shipped", "rejected")
    assert await money_of(runtime, order["id"]) == ("shipped", 3000, 0, 0, None)
    await mall.work()
    assert await sandbox_refunds(runtime) == []
    assert (await mall.get_order(alice, order["id"]))["refunded_fen"] == 0

    response = await ask(mall, alice, order["id"])
    assert response.status_code == 201, response.text
    assert [(r["refund_no"], r["amount_fen"], r["status"]) for r in response.json()["refunds"]] == [
        (f"{order['order_no']}R1", 3000, "rejected"), (f"{order['order_no']}R2", 3000, "requested")]


async def test_a_refund_is_decided_once(client, mall, runtime):
    """Approving or rejecting a refund that is no longer requested is 409 refund_not_pending and changes nothing."""
    alice = await mall.shopper("alice")
    approved_order = await paid_order(mall, alice)
    rejected_order = await paid_order(mall, alice)
    approved = await asked(mall, alice, approved_order["id"], 700)
    rejected = await asked(mall, alice, rejected_order["id"], 700)
    assert (await decide(mall, approved, "approve")).status_code == 200
    assert (await decide(mall, rejected, "reject", role="owner")).status_code == 200

    before = await snapshot(runtime)
    problem(await decide(mall, approved, "approve"), 409, "refund_not_pending")
    problem(await decide(mall, approved, "reject"), 409, "refund_not_pending")
    problem(await decide(mall, rejected, "approve"), 409, "refund_not_pending")
    problem(await decide(mall, rejected, "reject"), 409, "refund_not_pending")
    assert await snapshot(runtime) == before

    await mall.work()
    assert await sandbox_refunds(runtime) == [(f"{approved_order['order_no']}R1", approved_order["order_no"], 700)]
    assert await money_of(runtime, approved_order["id"]) == ("to_ship", 3000, 700, 700, None)
    assert await money_of(runtime, rejected_order["id"]) == ("to_ship", 3000, 0, 0, None)
    before = await snapshot(runtime)
    problem(await decide(mall, approved, "approve"), 409, "refund_not_pending")
    assert await snapshot(runtime) == before


async def test_only_finance_and_owner_of_the_same_merchant_decide(client, mall, runtime):
    """Operators and support may not decide or refund; another merchant's refund is not found; unknown is 404."""
    alice = await mall.shopper("alice")
    order = await paid_order(mall, alice)
    refund_id = await asked(mall, alice, order["id"])
    other = await Mall.create(client, runtime, slug="other")
    before = await snapshot(runtime)
    for role in ("operator", "support"):
        problem(await decide(mall, refund_id, "approve", role=role), 403, "forbidden")
        problem(await merchant_refund(mall, order["id"], 100, role=role), 403, "forbidden")
    problem(await decide(other, refund_id, "approve"), 404, "refund_not_found")
    problem(await decide(other, refund_id, "reject"), 404, "refund_not_found")
    problem(await decide(mall, refund_id + 1000, "approve"), 404, "refund_not_found")
    problem(await merchant_refund(other, order["id"], 100), 404, "order_not_found")
    assert await snapshot(runtime) == before


# --- merchant refunds, exactly-once execution -------------------------------------------------------------------------

async def test_merchant_refund_goes_straight_to_processing(client, mall, runtime):
    """A merchant's refund needs no approval: processing at once, carried out by the next worker pass."""
    alice = await mall.shopper("alice")
    order = await paid_order(mall, alice, then="received")
    response = await merchant_refund(mall, order["id"], 400)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "refunding"
    assert [(r["amount_fen"], r["status"], r["requested_by"], r["reason"]) for r in response.json()["refunds"]] == [
        (400, "processing", "merchant", "goodwill")]
    problem(await decide(mall, response.json()["refunds"][0]["id"], "approve"), 409, "refund_not_pending")
    await mall.work()
    after = await mall.get_order(alice, order["id"])
    assert (after["status"], after["refunded_fen"], after["refunds"][0]["status"]) == ("received", 400, "succeeded")
    assert await sandbox_refunds(runtime) == [(f"{order['order_no']}R1", order["order_no"], 400)]

    response = await merchant_refund(mall, order["id"], None, role="owner")
    assert response.status_code == 201, response.text
    assert response.json()["refunds"][-1]["amount_fen"] == 2600
    await mall.work()
    assert await money_of(runtime, order["id"]) == ("refunded", 3000, 3000, 3000, None)
    assert await mall.sku_stock() == 97


async def test_worker_never_refunds_twice(client, mall, runtime):
    """Re-running the refund job and redelivering its notification leaves one provider refund and one refunded sum."""
    alice = await mall.shopper("alice")
    order = await paid_order(mall, alice)
    await refunded_through(mall, alice, order["id"], amount_fen=1000)
    settled = await snapshot(runtime)
    await mall.work()
    assert await snapshot(runtime) == settled

    async with runtime.sessionmaker() as session:  # as if every job's worker had died before recording success
        await session.execute(text("UPDATE outbox_jobs SET status = 'pending', locked_until = NULL"))
        await session.commit()
    await mall.work()
    await mall.work()
    assert await sandbox_refunds(runtime) == [(f"{order['order_no']}R1", order["order_no"], 1000)]
    assert await money_of(runtime, order["id"]) == ("to_ship", 3000, 1000, 1000, None)
    assert [kind for kind, _ in await refund_events(runtime, order["id"])] == ["refund_requested", "refund"]
    assert (await mall.get_order(alice, order["id"]))["refunds"][0]["status"] == "succeeded"


async def test_pending_refund_holds_completion_until_decided(client, mall, runtime, clock):
    """A received order with a refund open is not completed by the after-sale sweep; once rejected, it is."""
    alice = await mall.shopper("alice")
    order = await paid_order(mall, alice, then="received")
    clock.advance(days=1)
    refund_id = await asked(mall, alice, order["id"], 300)
    clock.advance(days=7)
    await mall.work()
    assert (await mall.get_order(alice, order["id"]))["status"] == "refunding"
    closed_at = clock.advance(minutes=1)
    assert (await decide(mall, refund_id, "reject")).json()["status"] == "received"
    await mall.work()
    completed = await mall.get_order(alice, order["id"])
    assert (completed["status"], at(completed["closed_at"]), completed["refunded_fen"]) == (
        "completed", closed_at, 0)


async def test_refund_cannot_be_asked_once_the_after_sale_window_has_closed(client, mall, runtime, clock):
    """At the end of the after-sale window the order is as good as completed, even before the worker's pass."""
    alice = await mall.shopper("alice")
    order = await paid_order(mall, alice, then="received")
    clock.advance(days=7)
    before = await snapshot(runtime)
    problem(await ask(mall, alice, order["id"]), 409, "after_sale_closed")
    problem(await merchant_refund(mall, order["id"], 100), 409, "after_sale_closed")
    assert await snapshot(runtime) == before
    await mall.work()
    assert (await mall.get_order(alice, order["id"]))["status"] == "completed"


async def test_retried_refund_request_with_the_same_idempotency_key_asks_once(client, mall, runtime):
    """A shopper's retried request replays the first answer instead of being refused as a second refund."""
    alice = await mall.shopper("alice")
    order = await paid_order(mall, alice)
    key = {**alice, "Idempotency-Key": "refund-1"}
    body = {"reason": "late", "amount_fen": 900}
    first = await client.post(f"/orders/{order['id']}/refunds", headers=key, json=body)
    assert first.status_code == 201, first.text
    before = await snapshot(runtime)
    replay = await client.post(f"/orders/{order['id']}/refunds", headers=key, json=body)
    assert (replay.status_code, replay.json(), replay.headers.get("Idempotent-Replayed")) == (
        201, first.json(), "true")
    assert await snapshot(runtime) == before
    assert await money_of(runtime, order["id"]) == ("refunding", 3000, 900, 0, "to_ship")


# --- races (PostgreSQL) -----------------------------------------------------------------------------------------------

@pytest.mark.postgres
async def test_concurrent_refund_requests_reserve_once(client, mall, runtime):
    """Twenty simultaneous full-refund requests (shopper and merchant): one is accepted, the rest are 409."""
    alice = await mall.shopper("alice")
    order = await paid_order(mall, alice)
    calls = [ask(mall, alice, order["id"]) if i % 2 else merchant_refund(mall, order["id"], None) for i in range(20)]
    responses = await asyncio.gather(*calls)
    assert sorted(r.status_code for r in responses) == [201] + [409] * 19
    assert {r.json()["code"] for r in responses if r.status_code == 409} <= {"refund_in_progress", "order_changed"}
    assert len((await mall.get_order(alice, order["id"]))["refunds"]) == 1
    await mall.work()
    approvals = [r for r in responses if r.status_code == 201 and r.json()["refunds"][0]["status"] == "requested"]
    if approvals:
        assert (await decide(mall, approvals[0].json()["refunds"][0]["id"], "approve")).status_code == 200
        await mall.work()
    assert await money_of(runtime, order["id"]) == ("refunded", 3000, 3000, 3000, None)
    assert len(await sandbox_refunds(runtime)) == 1


@pytest.mark.postgres
async def test_concurrent_decisions_take_effect_once(client, mall, runtime):
    """Simultaneous approvals and rejections of one refund: exactly one wins and the order follows it."""
    alice = await mall.shopper("alice")
    order = await paid_order(mall, alice)
    refund_id = await asked(mall, alice, order["id"], 1000)
    responses = await asyncio.gather(*[decide(mall, refund_id, "approve" if i % 2 else "reject") for i in range(20)])
    assert sorted(r.status_code for r in responses) == [200] + [409] * 19
    winner = next(r.json() for r in responses if r.status_code == 200)
    await mall.work()
    if winner["refunds"][0]["status"] == "processing":
        assert await money_of(runtime, order["id"]) == ("to_ship", 3000, 1000, 1000, None)
        assert len(await sandbox_refunds(runtime)) == 1
    else:
        assert await money_of(runtime, order["id"]) == ("to_ship", 3000, 0, 0, None)
        assert await sandbox_refunds(runtime) == []
