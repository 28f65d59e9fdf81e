"""Orders: the state machine from placing to completion, cancellation and payment timeouts, late payments,
refused transitions, merchant price adjustments, input validation, listing, and the events an order writes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text, update

from fissionmall.catalog.models import Product, Sku
from fissionmall.core.events import Event
from fissionmall.core.runtime import Runtime
from fissionmall.merchants.models import Staff
from fissionmall.orders.models import Order, OrderAdjustment
from fissionmall.payments.models import Payment
from tests.orders.conftest import snapshot
from tests.support import ADDRESS, SHIPMENT, Mall, Who, at, problem

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")

RULES = {"payment_timeout_minutes": 15, "auto_receive_days": 5, "after_sale_days": 3}


async def set_rules(mall: Mall, **rules: int) -> None:
    response = await mall.client.patch("/admin/merchant", headers=await mall.staff("owner"), json=rules)
    assert response.status_code == 200, response.text


async def ship(mall: Mall, order_id: int, role: str = "operator", **body: str) -> httpx.Response:
    return await mall.client.post(f"/admin/orders/{order_id}/ship", headers=await mall.staff(role),
                                  json=body or SHIPMENT)


async def adjust(mall: Mall, order_id: int, amount_fen: int, name: str = "老客优惠",
                 role: str = "operator") -> httpx.Response:
    return await mall.client.post(f"/admin/orders/{order_id}/adjustments", headers=await mall.staff(role),
                                  json={"amount_fen": amount_fen, "name": name})


async def start_paying(mall: Mall, who: Who, order_id: int) -> int:
    response = await mall.client.post(f"/orders/{order_id}/pay", headers=who)
    assert response.status_code == 200, response.text
    payment_id: int = response.json()["payment_id"]
    return payment_id


async def complete_in_sandbox(mall: Mall, who: Who, payment_id: int) -> None:
    response = await mall.client.post(f"/sandbox/payments/{payment_id}/complete", headers=who)
    assert response.status_code == 202, response.text


async def stock_of(runtime: Runtime, sku_id: int) -> int:
    async with runtime.sessionmaker() as session:
        return int((await session.execute(select(Sku.stock).where(Sku.id == sku_id))).scalar_one())


async def order_row(runtime: Runtime, order_id: int) -> Order:
    async with runtime.sessionmaker() as session:
        return (await session.execute(select(Order).where(Order.id == order_id))).scalar_one()


async def add_sku(mall: Mall, *, stock: int, price_fen: int = 2500, code: str = "acme-tea-250g") -> int:
    async with mall.runtime.sessionmaker() as session:
        sku = Sku(merchant_id=mall.merchant_id, product_id=mall.product_id, code=code, name="250g",
                  price_fen=price_fen, stock=stock)
        session.add(sku)
        await session.commit()
        return sku.id


async def events_of(runtime: Runtime, order_id: int) -> list[Event]:
    async with runtime.sessionmaker() as session:
        statement = select(Event).where(Event.subject_type == "order", Event.subject_id == order_id).order_by(Event.id)
        return list((await session.execute(statement)).scalars())


# --- the happy path ---------------------------------------------------------------------------------------------------

async def test_order_goes_from_payment_to_completion(client, mall, clock):
    """pending_payment → to_ship → shipped → received → completed, each step timestamped, pay_before while unpaid."""
    await set_rules(mall, **RULES)
    alice = await mall.shopper("alice")
    placed_at = clock.now()
    order = await mall.order(alice, quantity=2)
    assert order["status"] == "pending_payment"
    assert (order["items_fen"], order["total_fen"], order["paid_fen"], order["refunded_fen"]) == (2000, 2000, 0, 0)
    assert order["items"] == [{"sku_id": mall.sku_id, "product_id": mall.product_id, "title": "Tea · 100g",
                               "unit_price_fen": 1000, "quantity": 2}]
    assert order["address"] == ADDRESS
    assert at(order["created_at"]) == placed_at
    assert at(order["pay_before"]) == placed_at + timedelta(minutes=15)
    assert [order[k] for k in ("paid_at", "shipped_at", "received_at", "closed_at")] == [None] * 4
    assert await mall.sku_stock() == 98

    paid_at = clock.advance(minutes=14)
    paid = await mall.pay(alice, order["id"])
    assert (paid["status"], paid["paid_fen"], at(paid["paid_at"]), paid["pay_before"]) == (
        "to_ship", 2000, paid_at, None)

    shipped_at = clock.advance(hours=3)
    response = await ship(mall, order["id"])
    assert response.status_code == 200, response.text
    shipped = await mall.get_order(alice, order["id"])
    assert (shipped["status"], shipped["carrier"], shipped["tracking_no"], at(shipped["shipped_at"])) == (
        "shipped", "SF Express", "SF1234567890", shipped_at)

    received_at = clock.advance(days=1)
    response = await client.post(f"/orders/{order['id']}/receive", headers=alice)
    assert response.status_code == 200, response.text
    assert (response.json()["status"], at(response.json()["received_at"])) == ("received", received_at)

    clock.advance(days=3, seconds=-1)
    await mall.work()
    assert (await mall.get_order(alice, order["id"]))["status"] == "received"
    completed_at = clock.advance(seconds=1)
    await mall.work()
    completed = await mall.get_order(alice, order["id"])
    assert (completed["status"], at(completed["closed_at"])) == ("completed", completed_at)
    assert (at(completed["created_at"]), at(completed["paid_at"]), at(completed["shipped_at"]),
            at(completed["received_at"])) == (placed_at, paid_at, shipped_at, received_at)
    assert (completed["paid_fen"], completed["refunded_fen"]) == (2000, 0)
    assert await mall.sku_stock() == 98


async def test_shipped_order_is_received_automatically_then_completed(client, mall, clock):
    """A shipped order the shopper never confirms counts as received after auto_receive_days (自动确认收货)."""
    await set_rules(mall, **RULES)
    alice = await mall.shopper("alice")
    order = await mall.order(alice)
    await mall.pay(alice, order["id"])
    shipped_at = clock.advance(hours=1)
    assert (await ship(mall, order["id"], role="support")).status_code == 200

    clock.advance(days=5, seconds=-1)
    await mall.work()
    assert (await mall.get_order(alice, order["id"]))["status"] == "shipped"
    clock.advance(seconds=1)
    await mall.work()
    received = await mall.get_order(alice, order["id"])
    assert (received["status"], at(received["received_at"])) == ("received", shipped_at + timedelta(days=5))

    clock.advance(days=3, seconds=-1)
    await mall.work()
    assert (await mall.get_order(alice, order["id"]))["status"] == "received"
    clock.advance(seconds=1)
    await mall.work()
    completed = await mall.get_order(alice, order["id"])
    assert (completed["status"], at(completed["closed_at"])) == ("completed", shipped_at + timedelta(days=8))
    events = [e.kind for e in await events_of(mall.runtime, order["id"])]
    assert events.count("order_received") == 1 and events.count("order_completed") == 1


async def test_ship_needs_carrier_and_valid_tracking_number_and_the_right_role(client, mall, runtime):
    """Shipping is refused without a carrier or with a malformed tracking number, and for finance staff."""
    alice = await mall.shopper("alice")
    order = await mall.order(alice)
    await mall.pay(alice, order["id"])
    before = await snapshot(runtime)
    problem(await ship(mall, order["id"], carrier="", tracking_no="SF1234567890"), 422, "invalid_request")
    problem(await ship(mall, order["id"], carrier="SF Express", tracking_no="SF 12/34"), 422, "invalid_request")
    problem(await ship(mall, order["id"], tracking_no="SF1234567890"), 422, "invalid_request")
    problem(await ship(mall, order["id"], role="finance"), 403, "forbidden")
    problem(await ship(mall, order["id"] + 1000), 404, "order_not_found")
    assert await snapshot(runtime) == before


# --- cancellation, payment timeout, late payment ----------------------------------------------------------------------

async def test_shopper_cancels_unpaid_order_and_its_stock_returns(client, mall, clock):
    """Cancelling gives back exactly the cancelled order's stock, closes it and drops pay_before."""
    alice = await mall.shopper("alice")
    kept = await mall.order(alice, quantity=2)
    cancelled = await mall.order(alice, quantity=3)
    assert await mall.sku_stock() == 95
    closed_at = clock.advance(minutes=5)
    response = await client.post(f"/orders/{cancelled['id']}/cancel", headers=alice)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], at(body["closed_at"]), body["pay_before"]) == ("cancelled", closed_at, None)
    assert await mall.sku_stock() == 98
    assert (await mall.get_order(alice, kept["id"]))["status"] == "pending_payment"


async def test_worker_cancels_unpaid_order_at_its_deadline(client, mall, runtime, clock):
    """At the payment deadline /pay is refused; the worker cancels the order and returns its stock exactly once."""
    await set_rules(mall, **RULES)
    alice = await mall.shopper("alice")
    late = await mall.order(alice, quantity=4)
    clock.advance(minutes=10)
    younger = await mall.order(alice, quantity=1)
    assert await mall.sku_stock() == 95

    clock.advance(minutes=5, seconds=-1)
    await mall.work()
    assert (await mall.get_order(alice, late["id"]))["status"] == "pending_payment"

    deadline = clock.advance(seconds=1)
    before = await snapshot(runtime)
    problem(await client.post(f"/orders/{late['id']}/pay", headers=alice), 409, "payment_deadline_passed")
    assert await snapshot(runtime) == before
    assert (await order_row(runtime, late["id"])).payment_started_at is None

    await mall.work()
    cancelled = await mall.get_order(alice, late["id"])
    assert (cancelled["status"], at(cancelled["closed_at"])) == ("cancelled", deadline)
    assert (await mall.get_order(alice, younger["id"]))["status"] == "pending_payment"
    assert await mall.sku_stock() == 99
    await mall.work()
    assert await mall.sku_stock() == 99
    body = problem(await client.post(f"/orders/{late['id']}/pay", headers=alice), 409, "invalid_transition")
    assert body["status_now"] == "cancelled"
    assert [e.data for e in await events_of(runtime, late["id"]) if e.kind == "order_cancelled"] == [
        {"by": "timeout"}]


@pytest.mark.parametrize("cancelled_by", ["timeout", "shopper"])
async def test_payment_arriving_after_cancellation_is_refunded_in_full(client, mall, runtime, clock, cancelled_by):
    """Money for an already cancelled order goes back automatically; the order stays cancelled, stock untouched."""
    alice = await mall.shopper("alice")
    order = await mall.order(alice, quantity=3)
    payment_id = await start_paying(mall, alice, order["id"])
    if cancelled_by == "timeout":
        clock.advance(minutes=30)
        await mall.work()
    else:
        assert (await client.post(f"/orders/{order['id']}/cancel", headers=alice)).status_code == 200
    assert (await mall.get_order(alice, order["id"]))["status"] == "cancelled"
    assert await mall.sku_stock() == 100

    await complete_in_sandbox(mall, alice, payment_id)
    await mall.work()
    refunded = await mall.get_order(alice, order["id"])
    assert (refunded["status"], refunded["paid_fen"], refunded["refunded_fen"]) == ("cancelled", 3000, 3000)
    assert [(r["amount_fen"], r["status"], r["requested_by"]) for r in refunded["refunds"]] == [
        (3000, "succeeded", "system")]
    assert await mall.sku_stock() == 100
    async with runtime.sessionmaker() as session:
        sandbox = (await session.execute(text("SELECT out_refund_no, amount_fen FROM sandbox_refunds"))).all()
    assert [tuple(row) for row in sandbox] == [(refunded["refunds"][0]["refund_no"], 3000)]

    settled = await snapshot(runtime)
    await mall.work()
    assert await snapshot(runtime) == settled


# --- refused transitions ----------------------------------------------------------------------------------------------

ACTIONS: dict[str, Callable[[Mall, Who, int], Awaitable[httpx.Response]]] = {
    "pay": lambda mall, who, oid: mall.client.post(f"/orders/{oid}/pay", headers=who),
    "cancel": lambda mall, who, oid: mall.client.post(f"/orders/{oid}/cancel", headers=who),
    "ship": lambda mall, who, oid: ship(mall, oid),
    "receive": lambda mall, who, oid: mall.client.post(f"/orders/{oid}/receive", headers=who),
    "refund": lambda mall, who, oid: mall.client.post(f"/orders/{oid}/refunds", headers=who,
                                                      json={"reason": "changed my mind"}),
    "merchant_refund": lambda mall, who, oid: _merchant_refund(mall, oid),
    "adjust": lambda mall, who, oid: adjust(mall, oid, -100),
}


async def _merchant_refund(mall: Mall, order_id: int) -> httpx.Response:
    return await mall.client.post(f"/admin/orders/{order_id}/refunds", headers=await mall.staff("finance"),
                                  json={"amount_fen": 100, "reason": "goodwill"})


async def order_in(mall: Mall, who: Who, state: str) -> int:
    """An order of 1 000 fen brought to `state` through the API."""
    if state == "completed":
        await set_rules(mall, after_sale_days=0)
    order_id: int = (await mall.order(who))["id"]
    if state == "cancelled":
        assert (await mall.client.post(f"/orders/{order_id}/cancel", headers=who)).status_code == 200
    if state in ("to_ship", "shipped", "received", "completed", "refunding", "refunded"):
        await mall.pay(who, order_id)
    if state in ("shipped", "received", "completed"):
        assert (await ship(mall, order_id)).status_code == 200
    if state in ("received", "completed"):
        assert (await mall.client.post(f"/orders/{order_id}/receive", headers=who)).status_code == 200
    if state == "completed":
        await mall.work()
    if state in ("refunding", "refunded"):
        response = await mall.client.post(f"/orders/{order_id}/refunds", headers=who, json={"reason": "broken"})
        assert response.status_code == 201, response.text
    if state == "refunded":
        refund_id = (await mall.get_order(who, order_id))["refunds"][0]["id"]
        approved = await mall.client.post(f"/admin/refunds/{refund_id}/approve", headers=await mall.staff("finance"))
        assert approved.status_code == 200, approved.text
        await mall.work()
    assert (await mall.get_order(who, order_id))["status"] == state
    return order_id


REFUSED = {
    "pending_payment": ["ship", "receive", "refund", "merchant_refund"],
    "to_ship": ["pay", "cancel", "receive", "adjust"],
    "shipped": ["pay", "cancel", "ship", "adjust"],
    "received": ["pay", "cancel", "ship", "receive", "adjust"],
    "completed": ["pay", "cancel", "ship", "receive", "refund", "merchant_refund", "adjust"],
    "cancelled": ["pay", "cancel", "ship", "receive", "refund", "merchant_refund", "adjust"],
    "refunding": ["pay", "cancel", "ship", "receive", "adjust"],
    "refunded": ["pay", "cancel", "ship", "receive", "refund", "merchant_refund", "adjust"],
}


@pytest.mark.parametrize("state", list(REFUSED))
async def test_invalid_transitions_are_refused_and_change_nothing(client, mall, runtime, state):
    """Each move the state machine does not allow from `state` answers 409 invalid_transition and writes nothing."""
    alice = await mall.shopper("alice")
    order_id = await order_in(mall, alice, state)
    wrong = []
    for action in REFUSED[state]:
        before = await snapshot(runtime)
        response = await ACTIONS[action](mall, alice, order_id)
        body = response.json()
        outcome = (response.status_code, response.headers["content-type"].split(";")[0], body.get("code"),
                   body.get("status_now"))
        if outcome != (409, "application/problem+json", "invalid_transition", state):
            wrong.append((action, outcome))
        if await snapshot(runtime) != before:
            wrong.append((action, "changed rows", (await mall.get_order(alice, order_id))["status"]))
    assert wrong == [], wrong


async def test_shopper_cannot_act_on_another_shoppers_order(client, mall, runtime):
    """Another shopper's order is not found for them, whatever they try."""
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    order_id = await order_in(mall, alice, "pending_payment")
    shipped_id = await order_in(mall, alice, "shipped")
    before = await snapshot(runtime)
    problem(await client.get(f"/orders/{order_id}", headers=bob), 404, "order_not_found")
    problem(await client.post(f"/orders/{order_id}/pay", headers=bob), 404, "order_not_found")
    problem(await client.post(f"/orders/{order_id}/cancel", headers=bob), 404, "order_not_found")
    problem(await client.post(f"/orders/{shipped_id}/receive", headers=bob), 404, "order_not_found")
    problem(await client.post(f"/orders/{shipped_id}/refunds", headers=bob, json={"reason": "mine"}),
            404, "order_not_found")
    assert await snapshot(runtime) == before


# --- merchant price adjustment (改价) ---------------------------------------------------------------------------------

async def test_merchant_adjusts_price_before_payment(client, mall, runtime):
    """Adjustments move the total, are stored as lines that explain it, and the shopper pays the adjusted total."""
    alice = await mall.shopper("alice")
    order = await mall.order(alice, quantity=2)
    response = await adjust(mall, order["id"], -300, "老客优惠")
    assert response.status_code == 201, response.text
    response = await adjust(mall, order["id"], 50, "包装费", role="owner")
    assert response.status_code == 201, response.text
    adjusted = response.json()
    assert (adjusted["items_fen"], adjusted["total_fen"], adjusted["status"]) == (2000, 1750, "pending_payment")
    assert adjusted["adjustments"] == [{"kind": "merchant_adjustment", "name": "老客优惠", "amount_fen": -300},
                                       {"kind": "merchant_adjustment", "name": "包装费", "amount_fen": 50}]
    async with runtime.sessionmaker() as session:
        staff = {name: staff_id for name, staff_id in (await session.execute(select(Staff.username, Staff.id)))}
        lines = (await session.execute(select(OrderAdjustment).order_by(OrderAdjustment.id))).scalars().all()
    assert [(a.order_id, a.merchant_id, a.amount_fen, a.created_by) for a in lines] == [
        (order["id"], mall.merchant_id, -300, staff["operator"]), (order["id"], mall.merchant_id, 50, staff["owner"])]

    paid = await mall.pay(alice, order["id"])
    assert (paid["status"], paid["total_fen"], paid["paid_fen"]) == ("to_ship", 1750, 1750)
    async with runtime.sessionmaker() as session:
        assert (await session.execute(select(Payment.amount_fen))).scalar_one() == 1750


async def test_adjustment_refused_once_payment_started(client, mall, runtime):
    """After /pay the price is fixed: 409 payment_started, even though the order is still unpaid."""
    alice = await mall.shopper("alice")
    order = await mall.order(alice)
    await start_paying(mall, alice, order["id"])
    before = await snapshot(runtime)
    problem(await adjust(mall, order["id"], -100), 409, "payment_started")
    assert await snapshot(runtime) == before


async def test_adjustment_cannot_take_the_total_below_zero(client, mall, runtime):
    """-total-1 is refused (total_below_zero); exactly -total makes a free order, paid at once without a payment."""
    alice = await mall.shopper("alice")
    order = await mall.order(alice)
    before = await snapshot(runtime)
    body = problem(await adjust(mall, order["id"], -1001), 422, "total_below_zero")
    assert body["field"] == "amount_fen"
    assert await snapshot(runtime) == before

    assert (await adjust(mall, order["id"], -1000)).json()["total_fen"] == 0
    problem(await adjust(mall, order["id"], -1), 422, "total_below_zero")
    response = await client.post(f"/orders/{order['id']}/pay", headers=alice)
    assert response.status_code == 200, response.text
    assert (response.json()["payment_id"], response.json()["amount_fen"]) == (None, 0)
    paid = await mall.get_order(alice, order["id"])
    assert (paid["status"], paid["total_fen"], paid["paid_fen"]) == ("to_ship", 0, 0)
    async with runtime.sessionmaker() as session:
        assert (await session.execute(select(Payment))).first() is None


async def test_malformed_adjustments_are_refused(client, mall, runtime):
    """An adjustment of 0, without a name, or with a non-integer amount is a 422 and changes nothing."""
    alice = await mall.shopper("alice")
    order = await mall.order(alice)
    before = await snapshot(runtime)
    for body in ({"amount_fen": 0, "name": "nothing"}, {"amount_fen": -100, "name": ""}, {"amount_fen": -100},
                 {"amount_fen": "a lot", "name": "discount"}, {"amount_fen": 1.5, "name": "discount"}):
        problem(await client.post(f"/admin/orders/{order['id']}/adjustments", headers=await mall.staff("operator"),
                                  json=body), 422, "invalid_request")
    assert await snapshot(runtime) == before


async def test_only_staff_allowed_to_adjust_may_do_it(client, mall, runtime):
    """Finance and support cannot re-price; another merchant's order is not found."""
    other = await Mall.create(client, runtime, slug="other")
    alice = await mall.shopper("alice")
    order = await mall.order(alice)
    before = await snapshot(runtime)
    problem(await adjust(mall, order["id"], -100, role="finance"), 403, "forbidden")
    problem(await adjust(mall, order["id"], -100, role="support"), 403, "forbidden")
    problem(await adjust(other, order["id"], -100), 404, "order_not_found")
    assert await snapshot(runtime) == before


# --- placing an order: invalid input ----------------------------------------------------------------------------------

def _body(mall: Mall, other: Mall, case: str) -> dict[str, Any]:
    line = {"sku_id": mall.sku_id, "quantity": 1}
    body: dict[str, Any] = {"items": [line], "address": ADDRESS}
    if case == "unknown_sku":
        body["items"] = [line, {"sku_id": 987654, "quantity": 1}]
    elif case == "sku_of_another_merchant":
        body["items"] = [{"sku_id": other.sku_id, "quantity": 1}]
    elif case.startswith("quantity_"):
        body["items"] = [{"sku_id": mall.sku_id, "quantity": int(case.removeprefix("quantity_"))}]
    elif case == "duplicated_sku":
        body["items"] = [line, {"sku_id": mall.sku_id, "quantity": 2}]
    elif case == "empty_items":
        body["items"] = []
    elif case == "no_items":
        del body["items"]
    elif case == "bad_phone":
        body["address"] = dict(ADDRESS, phone="call me maybe")
    elif case == "missing_address":
        del body["address"]
    elif case == "address_without_detail":
        body["address"] = {k: v for k, v in ADDRESS.items() if k != "detail"}
    elif case == "store_of_another_merchant":
        body["store_id"] = other.store_id
    elif case == "unknown_store":
        body["store_id"] = 987654
    elif case == "malformed_share_code":
        body["share_code"] = "not-a-share-code"
    elif case == "note_too_long":
        body["note"] = "x" * 201
    return body


INVALID_ORDERS = {
    "unknown_sku": (422, "sku_unavailable"),
    "sku_of_another_merchant": (422, "sku_unavailable"),
    "quantity_0": (422, "invalid_request"),
    "quantity_100": (422, "invalid_request"),
    "quantity_-1": (422, "invalid_request"),
    "duplicated_sku": (422, "invalid_request"),
    "empty_items": (422, "invalid_request"),
    "no_items": (422, "invalid_request"),
    "bad_phone": (422, "invalid_request"),
    "missing_address": (422, "invalid_request"),
    "address_without_detail": (422, "invalid_request"),
    "store_of_another_merchant": (404, "store_not_found"),
    "unknown_store": (404, "store_not_found"),
    "malformed_share_code": (422, "invalid_share_code"),
    "note_too_long": (422, "invalid_request"),
}


async def test_invalid_orders_are_refused_and_change_nothing(client, mall, runtime):
    """Each invalid order answers a 4xx problem with a stable code; no order, no stock taken, no event."""
    other = await Mall.create(client, runtime, slug="other")
    alice = await mall.shopper("alice")
    before = await snapshot(runtime)
    wrong = []
    for case, (status, code) in INVALID_ORDERS.items():
        response = await client.post("/orders", headers=alice, json=_body(mall, other, case))
        outcome = (response.status_code, response.headers["content-type"].split(";")[0], response.json().get("code"))
        if outcome != (status, "application/problem+json", code):
            wrong.append((case, outcome))
        elif code == "sku_unavailable" and response.json()["sku_ids"] != [
                987654 if case == "unknown_sku" else other.sku_id]:
            wrong.append((case, response.json()))
        if await snapshot(runtime) != before:
            wrong.append((case, "changed rows"))
            before = await snapshot(runtime)
    assert wrong == [], wrong


async def test_unsellable_skus_cannot_be_ordered(client, mall, runtime):
    """An inactive SKU, or a SKU of a product not on sale, is sku_unavailable."""
    alice = await mall.shopper("alice")
    inactive = await add_sku(mall, stock=10)
    async with runtime.sessionmaker() as session:
        (await session.get_one(Sku, inactive)).active = False
        product = Product(merchant_id=mall.merchant_id, title="Old tea", status="off_sale",
                          created_at=runtime.clock.now())
        product.images = []
        product.skus = [Sku(merchant_id=mall.merchant_id, code="old", name="1kg", price_fen=100, stock=5)]
        session.add(product)
        await session.commit()
        off_sale = product.skus[0].id
    before = await snapshot(runtime)
    for sku_id in (inactive, off_sale):
        body = problem(await mall.place_order(alice, sku_id=sku_id), 422, "sku_unavailable")
        assert body["sku_ids"] == [sku_id]
    assert await snapshot(runtime) == before


async def test_out_of_stock_takes_no_stock_at_all(client, mall, runtime):
    """When one line lacks stock the whole order is refused with 409 out_of_stock; the other lines keep theirs."""
    alice = await mall.shopper("alice")
    scarce = await add_sku(mall, stock=2)
    before = await snapshot(runtime)
    response = await client.post("/orders", headers=alice, json={
        "items": [{"sku_id": mall.sku_id, "quantity": 5}, {"sku_id": scarce, "quantity": 3}], "address": ADDRESS})
    assert problem(response, 409, "out_of_stock")["sku_id"] == scarce
    assert await snapshot(runtime) == before
    assert (await stock_of(runtime, mall.sku_id), await stock_of(runtime, scarce)) == (100, 2)

    response = await client.post("/orders", headers=alice, json={
        "items": [{"sku_id": scarce, "quantity": 2}, {"sku_id": mall.sku_id, "quantity": 5}], "address": ADDRESS})
    assert response.status_code == 201, response.text
    assert response.json()["items_fen"] == 2 * 2500 + 5 * 1000
    assert (await stock_of(runtime, mall.sku_id), await stock_of(runtime, scarce)) == (95, 0)
    problem(await mall.place_order(alice, sku_id=scarce), 409, "out_of_stock")
    assert await stock_of(runtime, scarce) == 0


async def test_retried_order_with_the_same_idempotency_key_is_placed_once(client, mall, runtime):
    """The same Idempotency-Key and body replay the first order; the key with another body is refused."""
    alice = await mall.shopper("alice")
    key = {**alice, "Idempotency-Key": "checkout-1"}
    body = {"items": [{"sku_id": mall.sku_id, "quantity": 2}], "address": ADDRESS}
    first = await client.post("/orders", headers=key, json=body)
    assert first.status_code == 201, first.text
    replay = await client.post("/orders", headers=key, json=body)
    assert (replay.status_code, replay.json(), replay.headers.get("Idempotent-Replayed")) == (
        201, first.json(), "true")
    before = await snapshot(runtime)
    problem(await client.post("/orders", headers=key, json=dict(body, note="gift wrap")), 422,
            "idempotency_key_reused")
    assert await snapshot(runtime) == before
    assert len(before["orders"]) == 1
    assert await mall.sku_stock() == 98


# --- listing ----------------------------------------------------------------------------------------------------------

async def test_shopper_lists_own_orders_newest_first_with_cursor_and_status(client, mall):
    """Pages follow next_cursor, newest first; the status filter applies; other shoppers' orders never show."""
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    ids = [(await mall.order(alice))["id"] for _ in range(3)]
    await mall.order(bob)
    await mall.pay(alice, ids[1])
    first = (await client.get("/orders", headers=alice, params={"limit": 2})).json()
    assert [o["id"] for o in first["items"]] == [ids[2], ids[1]]
    second = (await client.get("/orders", headers=alice, params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert ([o["id"] for o in second["items"]], second["next_cursor"]) == ([ids[0]], None)
    to_ship = (await client.get("/orders", headers=alice, params={"status": "to_ship"})).json()
    assert [o["id"] for o in to_ship["items"]] == [ids[1]]
    everyone = (await client.get("/admin/orders", headers=await mall.staff("support"))).json()
    assert len(everyone["items"]) == 4


BAD_LIST_PARAMETERS = [
    ({"cursor": "abc"}, "invalid_cursor"),
    ({"cursor": "-1"}, "invalid_cursor"),
    ({"cursor": "1" * 19}, "invalid_cursor"),
    ({"cursor": "²"}, "invalid_cursor"),
    ({"status": "lost"}, "invalid_status"),
    ({"status": "PAID"}, "invalid_status"),
    ({"limit": 0}, "invalid_request"),
    ({"limit": 101}, "invalid_request"),
]


@pytest.mark.parametrize("path", ["/orders", "/admin/orders"])
async def test_bad_list_parameters_are_refused(client, mall, path):
    """A cursor this API never gave out, an unknown status or an out-of-range limit is a 422 problem, never a 500."""
    who = await mall.shopper("alice") if path == "/orders" else await mall.staff("support")
    wrong = []
    for params, code in BAD_LIST_PARAMETERS:
        try:
            response = await client.get(path, headers=who, params=params)
        except Exception as exc:  # the in-process transport re-raises what would be a 500
            wrong.append((params, repr(exc)))
            continue
        if (response.status_code, response.json().get("code")) != (422, code):
            wrong.append((params, response.status_code, response.text[:80]))
    assert wrong == [], wrong


# --- events -----------------------------------------------------------------------------------------------------------

async def test_order_and_payment_write_one_event_each(client, mall, runtime, clock):
    """Placing writes an `order` event, paying a `pay` event (and, the customer's first, `first_purchase`), each
    once even if the notification is redelivered."""
    alice = await mall.shopper("alice")
    placed_at = clock.now()
    order = await mall.order(alice, quantity=2)
    paid_at = clock.advance(minutes=3)
    await mall.pay(alice, order["id"])
    async with runtime.sessionmaker() as session:
        await session.execute(text("UPDATE outbox_jobs SET status = 'pending', locked_until = NULL"))
        await session.commit()
    await mall.work()
    customer_id = order["customer_id"]
    assert [(e.kind, e.merchant_id, e.actor_id, e.occurred_at.replace(tzinfo=None), e.data)
            for e in await events_of(runtime, order["id"])] == [
        ("order", mall.merchant_id, customer_id, placed_at.replace(tzinfo=None), {"total_fen": 2000}),
        ("first_purchase", mall.merchant_id, customer_id, paid_at.replace(tzinfo=None), {}),
        ("pay", mall.merchant_id, customer_id, paid_at.replace(tzinfo=None), {"amount_fen": 2000, "stage": "full"}),
    ]
    assert (await mall.get_order(alice, order["id"]))["paid_fen"] == 2000


# --- races (PostgreSQL) -----------------------------------------------------------------------------------------------

@pytest.mark.postgres
async def test_concurrent_cancels_return_stock_once(client, mall):
    """Many simultaneous cancels of one order: one succeeds, the stock comes back once."""
    alice = await mall.shopper("alice")
    order = await mall.order(alice, quantity=5)
    responses = await asyncio.gather(*[client.post(f"/orders/{order['id']}/cancel", headers=alice)
                                       for _ in range(20)])
    assert sorted(r.status_code for r in responses) == [200] + [409] * 19
    assert await mall.sku_stock() == 100


@pytest.mark.postgres
async def test_price_is_fixed_once_payment_starts_even_under_concurrency(client, mall, runtime):
    """Adjustments racing /pay never leave a payment for another amount than the order's total."""
    shoppers = [await mall.shopper(f"s{i}") for i in range(15)]
    orders = [await mall.order(who) for who in shoppers]
    operator = await mall.staff("operator")
    calls = []
    for who, order in zip(shoppers, orders, strict=True):
        calls.append(client.post(f"/orders/{order['id']}/pay", headers=who))
        calls.append(client.post(f"/admin/orders/{order['id']}/adjustments", headers=operator,
                                 json={"amount_fen": -400, "name": "flash"}))
    await asyncio.gather(*calls)
    async with runtime.sessionmaker() as session:
        rows = (await session.execute(select(Order.id, Order.total_fen, Payment.amount_fen)
                                      .join(Payment, Payment.order_id == Order.id))).all()
    assert len(rows) == 15
    assert [row for row in rows if row.total_fen != row.amount_fen] == []


@pytest.mark.postgres
async def test_concurrent_orders_never_oversell(client, mall, runtime):
    """Thirty simultaneous orders of 5 against a stock of 100: exactly twenty succeed, the rest are out_of_stock."""
    shoppers = [await mall.shopper(f"s{i}") for i in range(30)]
    responses = await asyncio.gather(*[mall.place_order(who, quantity=5) for who in shoppers])
    assert sorted(r.status_code for r in responses) == [201] * 20 + [409] * 10
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"out_of_stock"}
    assert await mall.sku_stock() == 0
    async with runtime.sessionmaker() as session:
        assert len((await session.execute(select(Order.id))).all()) == 20


async def test_a_line_of_the_longest_product_title_and_sku_name_is_kept_cut_to_the_column(client, mall, runtime):
    """Titles of 120 and SKU names of 100 characters are allowed; the line "title · name" is cut to fit, not a 500."""
    async with runtime.sessionmaker() as session:
        await session.execute(update(Product).where(Product.id == mall.product_id).values(title="茶" * 120))
        await session.execute(update(Sku).where(Sku.id == mall.sku_id).values(name="克" * 100))
        await session.commit()
    alice = await mall.shopper("alice")
    response = await mall.place_order(alice)
    assert response.status_code == 201, response.text
    expected = ("茶" * 120 + " · " + "克" * 100)[:220]
    assert response.json()["items"][0]["title"] == expected
    assert (await mall.get_order(alice, response.json()["id"]))["items"][0]["title"] == expected
