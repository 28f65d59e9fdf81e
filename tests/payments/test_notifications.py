"""Sandbox payment notifications through the real endpoint: verified on the raw body, applied exactly once.

Anything the provider did not sign, or signed outside the 5 minute window, is 401 `invalid_notification`; a
signed notice that does not match a pending payment is `payment_mismatch`; neither leaves a trace.
"""

from __future__ import annotations

import json
from datetime import timedelta
from functools import partial
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from fissionmall.core.runtime import Runtime
from fissionmall.payments.providers.sandbox import sign, signed_headers
from tests.support import Mall, Who, problem, snapshot_of

NOTIFY = "/payments/notify/sandbox"
WATCHED = ("orders", "payments", "payment_notifications", "events", "outbox_jobs", "refunds", "skus", "customers")
"""Every table a notification may touch: a refused one must leave all of them as they were."""

snapshot = partial(snapshot_of, tables=WATCHED)


# --- helpers ----------------------------------------------------------------------------------------------------------

async def rows(runtime: Runtime, sql: str) -> list[tuple[Any, ...]]:
    async with runtime.sessionmaker() as session:
        return [tuple(row) for row in (await session.execute(text(sql)))]


async def paying(mall: Mall, who: Who) -> tuple[dict[str, Any], int]:
    """An order of 1 000 fen whose sandbox payment is opened (pending): (order, payment id)."""
    order = await mall.order(who)
    response = await mall.client.post(f"/orders/{order['id']}/pay", headers=who)
    assert response.status_code == 200, response.text
    assert response.json()["amount_fen"] == 1000
    return order, response.json()["payment_id"]


def payment_body(out_trade_no: str, amount_fen: int = 1000, *, event_id: str | None = None,
                 event_type: str = "TRANSACTION.SUCCESS") -> bytes:
    """The body the sandbox sends for a payment (see sandbox._queue_notification)."""
    body = {"id": event_id or f"pay-{out_trade_no}", "event_type": event_type,
            "create_time": "2026-01-01T12:00:00+00:00",
            "resource": {"out_trade_no": out_trade_no, "transaction_id": f"sbx-{out_trade_no}",
                         "amount_fen": amount_fen}}
    return json.dumps(body, separators=(",", ":")).encode()


async def notify(client: httpx.AsyncClient, runtime: Runtime, body: bytes,
                 headers: dict[str, str] | None = None) -> httpx.Response:
    """POST a notification, signed now with the sandbox key unless headers are given."""
    if headers is None:
        headers = signed_headers(runtime.settings.sandbox_key, body, runtime.clock.now())
    return await client.post(NOTIFY, content=body, headers=headers)


def acknowledged(response: httpx.Response, message: str) -> None:
    assert response.status_code == 200, response.text
    assert response.json() == {"code": "SUCCESS", "message": message}


# --- applied once -----------------------------------------------------------------------------------------------------

async def test_valid_notification_pays_the_order_once(client, mall, runtime, clock):
    """A signed payment notice settles the payment, pays the order and records the event exactly once."""
    alice = await mall.shopper("alice")
    order, payment_id = await paying(mall, alice)
    body = payment_body(order["order_no"])
    acknowledged(await notify(client, runtime, body), "applied")

    paid = await mall.get_order(alice, order["id"])
    assert (paid["status"], paid["paid_fen"], paid["refunded_fen"]) == ("to_ship", 1000, 0)
    assert paid["paid_at"] is not None and paid["pay_before"] is None
    assert await rows(runtime, "SELECT id, status, amount_fen, transaction_id FROM payments") == [
        (payment_id, "succeeded", 1000, f"sbx-{order['order_no']}")]
    assert await rows(runtime, "SELECT provider, event_id, kind, reference FROM payment_notifications") == [
        ("sandbox", f"pay-{order['order_no']}", "payment", order["order_no"])]
    assert await rows(runtime, f"SELECT COUNT(*) FROM events WHERE kind = 'pay' AND subject_id = {order['id']}") == [
        (1,)]
    assert await mall.sku_stock() == 99


async def test_same_notification_delivered_again_is_a_duplicate(client, mall, runtime, clock):
    """A redelivery (freshly signed, or the very same request replayed) is acknowledged and changes nothing."""
    alice = await mall.shopper("alice")
    order, _ = await paying(mall, alice)
    body = payment_body(order["order_no"])
    headers = signed_headers(runtime.settings.sandbox_key, body, clock.now())
    acknowledged(await notify(client, runtime, body, headers), "applied")
    settled = await snapshot(runtime)

    clock.advance(minutes=1)
    acknowledged(await notify(client, runtime, body), "duplicate")
    acknowledged(await notify(client, runtime, body, headers), "duplicate")
    assert await snapshot(runtime) == settled
    assert (await mall.get_order(alice, order["id"]))["paid_fen"] == 1000


async def test_payment_completed_twice_in_the_sandbox_is_delivered_and_applied_once(client, mall, runtime):
    """Two sandbox completions queue one delivery; the worker pays the order once."""
    alice = await mall.shopper("alice")
    order, payment_id = await paying(mall, alice)
    for _ in range(2):
        response = await client.post(f"/sandbox/payments/{payment_id}/complete", headers=alice)
        assert response.status_code == 202, response.text
    assert await rows(runtime, "SELECT kind, status FROM outbox_jobs") == [("sandbox.deliver_notification", "pending")]
    await mall.work()
    paid = await mall.get_order(alice, order["id"])
    assert (paid["status"], paid["paid_fen"]) == ("to_ship", 1000)
    assert await rows(runtime, "SELECT kind, status, attempts FROM outbox_jobs") == [
        ("sandbox.deliver_notification", "done", 1)]
    assert await rows(runtime, "SELECT COUNT(*) FROM payment_notifications") == [(1,)]


async def test_timestamp_inside_the_window_is_accepted(client, mall, runtime, clock):
    """The 5 minute window is a tolerance, not a trap: a notice signed 4 minutes ago (or ahead) applies."""
    alice = await mall.shopper("alice")
    order, _ = await paying(mall, alice)
    body = payment_body(order["order_no"])
    acknowledged(await notify(client, runtime, body, signed_headers(
        runtime.settings.sandbox_key, body, clock.now() - timedelta(minutes=4))), "applied")
    other, _ = await paying(mall, alice)
    body = payment_body(other["order_no"])
    acknowledged(await notify(client, runtime, body, signed_headers(
        runtime.settings.sandbox_key, body, clock.now() + timedelta(minutes=4))), "applied")
    assert [(await mall.get_order(alice, oid))["status"] for oid in (order["id"], other["id"])] == ["to_ship"] * 2


# --- refused: not from the provider -----------------------------------------------------------------------------------

def _forged(key: str, body: bytes, now: Any) -> tuple[bytes, dict[str, str]]:
    headers = signed_headers(key, body, now)
    headers["Sandbox-Signature"] = sign("someone-elses-key-0123456789", "1", "nonce", b"{}")
    return body, headers


def _wrong_key(key: str, body: bytes, now: Any) -> tuple[bytes, dict[str, str]]:
    return body, signed_headers("not-the-sandbox-key-0123456789", body, now)


def _tampered(key: str, body: bytes, now: Any) -> tuple[bytes, dict[str, str]]:
    headers = signed_headers(key, body, now)
    return body.replace(b'"amount_fen":1000', b'"amount_fen":1'), headers


def _stale(key: str, body: bytes, now: Any) -> tuple[bytes, dict[str, str]]:
    return body, signed_headers(key, body, now - timedelta(minutes=6))


def _ahead(key: str, body: bytes, now: Any) -> tuple[bytes, dict[str, str]]:
    return body, signed_headers(key, body, now + timedelta(minutes=6))


def _without(header: str) -> Any:
    def build(key: str, body: bytes, now: Any) -> tuple[bytes, dict[str, str]]:
        headers = signed_headers(key, body, now)
        del headers[header]
        return body, headers
    return build


def _bad_timestamp(key: str, body: bytes, now: Any) -> tuple[bytes, dict[str, str]]:
    headers = signed_headers(key, body, now)
    headers["Sandbox-Timestamp"] = "yesterday"
    headers["Sandbox-Signature"] = sign(key, "yesterday", headers["Sandbox-Nonce"], body)
    return body, headers


def _signed(rewrite: Any) -> Any:
    """A correctly signed body the mall must still refuse to act on."""
    def build(key: str, body: bytes, now: Any) -> tuple[bytes, dict[str, str]]:
        replacement: bytes = rewrite(body)
        return replacement, signed_headers(key, replacement, now)
    return build


REJECTED = {
    "forged_signature": _forged,
    "wrong_key": _wrong_key,
    "tampered_body": _tampered,
    "six_minutes_old": _stale,
    "six_minutes_ahead": _ahead,
    "no_signature": _without("Sandbox-Signature"),
    "no_timestamp": _without("Sandbox-Timestamp"),
    "no_nonce": _without("Sandbox-Nonce"),
    "malformed_timestamp": _bad_timestamp,
    "malformed_json": _signed(lambda body: body[:-7]),
    "not_an_object": _signed(lambda body: b"[" + body + b"]"),
    "no_resource": _signed(lambda body: body.split(b',"resource"')[0] + b"}"),
    "unknown_event_type": _signed(lambda body: body.replace(b"TRANSACTION.SUCCESS", b"TRANSACTION.CLOSED")),
}


@pytest.mark.parametrize("case", REJECTED)
async def test_notification_not_from_the_provider_is_refused_and_changes_nothing(client, mall, runtime, clock,
                                                                                  case):
    """Bad or missing signature, stale or future timestamp, unreadable or unknown body: 401, no trace at all."""
    alice = await mall.shopper("alice")
    order, _ = await paying(mall, alice)
    before = await snapshot(runtime)
    body, headers = REJECTED[case](runtime.settings.sandbox_key, payment_body(order["order_no"]), clock.now())
    problem(await notify(client, runtime, body, headers), 401, "invalid_notification")
    assert await snapshot(runtime) == before
    assert (await mall.get_order(alice, order["id"]))["status"] == "pending_payment"
    assert await rows(runtime, "SELECT COUNT(*) FROM payment_notifications") == [(0,)]


async def test_refused_notification_does_not_block_the_genuine_one(client, mall, runtime, clock):
    """A forged notice with the genuine event id leaves no inbox row, so the real one still applies."""
    alice = await mall.shopper("alice")
    order, _ = await paying(mall, alice)
    body = payment_body(order["order_no"])
    problem(await notify(client, runtime, *_wrong_key(runtime.settings.sandbox_key, body, clock.now())),
            401, "invalid_notification")
    acknowledged(await notify(client, runtime, body), "applied")
    assert (await mall.get_order(alice, order["id"]))["status"] == "to_ship"


# --- refused: signed, but not about a pending payment -----------------------------------------------------------------

@pytest.mark.parametrize(("trade_no", "amount_fen"), [("own", 999), ("own", 1001), ("unknown", 1000)],
                         ids=["amount_below", "amount_above", "unknown_out_trade_no"])
async def test_signed_notification_for_no_such_payment_is_a_mismatch(client, mall, runtime, trade_no, amount_fen):
    """A genuine signature over the wrong amount or an unknown trade number pays nothing and records nothing."""
    alice = await mall.shopper("alice")
    order, _ = await paying(mall, alice)
    before = await snapshot(runtime)
    out_trade_no = order["order_no"] if trade_no == "own" else "260101120000" + "9" * 10
    problem(await notify(client, runtime, payment_body(out_trade_no, amount_fen)), 422, "payment_mismatch")
    assert await snapshot(runtime) == before
    assert (await mall.get_order(alice, order["id"]))["status"] == "pending_payment"

    acknowledged(await notify(client, runtime, payment_body(order["order_no"])), "applied")
    assert (await mall.get_order(alice, order["id"]))["paid_fen"] == 1000


async def test_wrong_amount_after_payment_is_still_a_mismatch(client, mall, runtime):
    """Once paid, a notice for another amount is not waved through as a duplicate."""
    alice = await mall.shopper("alice")
    order, _ = await paying(mall, alice)
    acknowledged(await notify(client, runtime, payment_body(order["order_no"])), "applied")
    settled = await snapshot(runtime)
    problem(await notify(client, runtime, payment_body(order["order_no"], 500, event_id="pay-again")),
            422, "payment_mismatch")
    assert await snapshot(runtime) == settled


# --- routing and ownership --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("provider", ["wechatpay", "alipay"])
async def test_provider_not_configured_on_this_server_is_unknown(client, mall, runtime, provider):
    """A sandbox server knows no other provider: even a sandbox-signed notice is 404 there."""
    alice = await mall.shopper("alice")
    order, _ = await paying(mall, alice)
    before = await snapshot(runtime)
    body = payment_body(order["order_no"])
    response = await client.post(f"/payments/notify/{provider}", content=body,
                                 headers=signed_headers(runtime.settings.sandbox_key, body, runtime.clock.now()))
    problem(response, 404, "unknown_provider")
    assert await snapshot(runtime) == before


async def test_shopper_cannot_complete_another_shoppers_payment(client, mall, runtime):
    """Bob cannot 'pay' Alice's order in the sandbox; to him her payment is as absent as a missing one."""
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    order, payment_id = await paying(mall, alice)
    before = await snapshot(runtime)
    missing = problem(await client.post(f"/sandbox/payments/{payment_id + 1000}/complete", headers=bob),
                      404, "payment_not_found")
    theirs = problem(await client.post(f"/sandbox/payments/{payment_id}/complete", headers=bob),
                     404, missing["code"])
    assert theirs["title"] == missing["title"]
    assert await snapshot(runtime) == before
    await mall.work()
    assert (await mall.get_order(alice, order["id"]))["status"] == "pending_payment"


async def test_shopper_of_another_merchant_cannot_complete_the_payment(client, mall, runtime):
    """Payments are looked up within the shopper's merchant only."""
    other = await Mall.create(client, runtime, slug="other")
    alice, mallory = await mall.shopper("alice"), await other.shopper("mallory")
    _, payment_id = await paying(mall, alice)
    before = await snapshot(runtime)
    problem(await client.post(f"/sandbox/payments/{payment_id}/complete", headers=mallory), 404, "payment_not_found")
    assert await snapshot(runtime) == before


def refund_body(out_trade_no: str, out_refund_no: str, amount_fen: int, event_id: str) -> bytes:
    body = {"id": event_id, "event_type": "REFUND.SUCCESS", "create_time": "2026-01-01T12:00:00+00:00",
            "resource": {"out_trade_no": out_trade_no, "out_refund_no": out_refund_no,
                         "transaction_id": f"sbx-refund-{out_refund_no}", "amount_fen": amount_fen}}
    return json.dumps(body, separators=(",", ":")).encode()


async def test_refund_notification_for_no_such_refund_is_a_mismatch(client, mall, runtime):
    """A signed refund notice for a refund number we never issued applies nothing and is not acknowledged."""
    alice = await mall.shopper("alice")
    order = await mall.order(alice)
    await mall.pay(alice, order["id"])
    before = await snapshot(runtime)
    response = await notify(client, runtime, refund_body(order["order_no"], f"{order['order_no']}R9", 1000, "r-x"))
    problem(response, 422, "refund_mismatch")
    assert await snapshot(runtime) == before


async def test_refund_notification_for_a_settled_refund_is_a_duplicate(client, mall, runtime):
    """The provider may send a second notice (new event id) for a refund already applied: acknowledged, no change."""
    alice = await mall.shopper("alice")
    order = await mall.order(alice)
    await mall.pay(alice, order["id"])
    refunded = await client.post(f"/admin/orders/{order['id']}/refunds", headers=await mall.staff("finance"),
                                 json={"reason": "damaged"})
    assert refunded.status_code == 201, refunded.text
    await mall.work()
    assert (await mall.get_order(alice, order["id"]))["refunded_fen"] == 1000
    before = await snapshot(runtime)
    body = refund_body(order["order_no"], f"{order['order_no']}R1", 1000, "another-event-id")
    acknowledged(await notify(client, runtime, body), "duplicate")
    after = await snapshot(runtime)
    assert {k: v for k, v in after.items() if k != "payment_notifications"} == \
        {k: v for k, v in before.items() if k != "payment_notifications"}
    assert (await mall.get_order(alice, order["id"]))["refunded_fen"] == 1000
