"""Refunding one line of an order: its cash as priced (its price × quantity and its stored parts of shipping, points
and credit), less what was already refunded of it, and with it the same share of the credit and points that paid
for it; the line's last fen brings back the rest of its part exactly.

The order of these tests: SKU A 3 × 1 000 and SKU B 1 × 2 500 fen, shipping 801, 400 points (400 fen) and 300 fen of
credit, 5 601 fen paid. Spread by largest remainder at checkout: shipping [437, 364], points [218, 182], credit
[164, 136], so the lines cost [3 055, 2 546] in cash.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from fissionmall.core.runtime import Runtime
from fissionmall.orders.models import Refund
from fissionmall.wallet import service as wallet_service
from tests.orders.conftest import snapshot
from tests.orders.test_order_flow import add_sku
from tests.support import ADDRESS, Mall, Who, codes, customer_id, problem, together, value

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")

POINTS_CONFIG = {"earn_per_yuan": 1, "fen_per_100_points": 100, "max_redeem_percent": 50, "validity_days": 365,
                 "checkin_points": 400, "streak_bonus": 0, "streak_cap": 7, "review_points": 0}
"""100 points take off 100 fen; a check-in earns the 400 points the order spends."""


async def benefits_for(mall: Mall, who: Who, *, credit_fen: int, points: int) -> int:
    """Give the shopper `credit_fen` of shop credit and `points` points (by a check-in); the customer's id."""
    me = await customer_id(mall, who)
    runtime = mall.runtime
    async with runtime.sessionmaker() as session:
        assert await wallet_service.credit(session, mall.merchant_id, me, credit_fen, "test_grant", ("test", me),
                                           runtime.clock.now())
        await session.commit()
    response = await mall.client.put("/admin/points", headers=await mall.staff("owner"),
                                     json={**POINTS_CONFIG, "checkin_points": points})
    assert response.status_code == 200, response.text
    response = await mall.client.post("/points/checkin", headers=who)
    assert response.status_code == 201, response.text
    return me


async def two_line_order(mall: Mall, who: Who, *, shipping_fen: int = 801, credit_fen: int = 300,
                         points: int = 400, second_price_fen: int = 2500) -> tuple[dict[str, Any], int]:
    """A paid order of 3 × SKU A (1 000 fen) and 1 × SKU B, with shipping, points and credit; the order and B's id."""
    response = await mall.client.patch("/admin/merchant", headers=await mall.staff("owner"),
                                       json={"shipping_fee_fen": shipping_fen})
    assert response.status_code == 200, response.text
    second = await add_sku(mall, stock=10, price_fen=second_price_fen)
    await benefits_for(mall, who, credit_fen=credit_fen, points=points)
    response = await mall.client.post("/orders", headers=who, json={
        "items": [{"sku_id": mall.sku_id, "quantity": 3}, {"sku_id": second, "quantity": 1}], "address": ADDRESS,
        "wallet_fen": credit_fen, "points": points})
    assert response.status_code == 201, response.text
    order = await mall.pay(who, response.json()["id"])
    assert order["status"] == "to_ship", order
    return order, second


async def refund_line(mall: Mall, order_id: int, sku_id: int | None, amount_fen: int | None = None) -> httpx.Response:
    """The merchant refunds a line (or the order, `sku_id` None): straight to the provider."""
    body: dict[str, Any] = {"reason": "one tin dented"}
    body.update({key: v for key, v in (("sku_id", sku_id), ("amount_fen", amount_fen)) if v is not None})
    return await mall.client.post(f"/admin/orders/{order_id}/refunds", headers=await mall.staff("finance"), json=body)


async def refunded_line(mall: Mall, order_id: int, sku_id: int | None, amount_fen: int | None = None) -> dict[str, Any]:
    """Refund and let the worker carry it out; the refund as the order shows it."""
    response = await refund_line(mall, order_id, sku_id, amount_fen)
    assert response.status_code == 201, response.text
    await mall.work()
    refund: dict[str, Any] = response.json()["refunds"][-1]
    return refund


async def stored_parts(runtime: Runtime) -> list[tuple[int | None, int, list[int] | None]]:
    """(line, amount, part on each line) of every refund, as stored."""
    async with runtime.sessionmaker() as session:
        found = await session.execute(select(Refund.sku_id, Refund.amount_fen, Refund.line_shares).order_by(Refund.id))
        return [tuple(row) for row in found]  # type: ignore[misc]


async def credit_and_points(runtime: Runtime, customer: int) -> tuple[int, int]:
    credit = await value(runtime, "SELECT coalesce(sum(balance_fen), 0) FROM wallets WHERE customer_id = :c",
                         c=customer)
    points = await value(runtime, "SELECT coalesce(sum(balance), 0) FROM points_balances WHERE customer_id = :c",
                         c=customer)
    return credit, points


async def test_a_line_refunded_in_full_gives_back_its_cash_and_its_parts_of_credit_and_points(client, mall, runtime):
    alice = await mall.shopper("alice")
    order, second = await two_line_order(mall, alice)
    me = await customer_id(mall, alice)
    assert (order["total_fen"], order["paid_fen"]) == (5601, 5601)
    assert await credit_and_points(runtime, me) == (0, 0)

    refund = await refunded_line(mall, order["id"], second)
    assert (refund["sku_id"], refund["amount_fen"]) == (second, 2546)
    assert await credit_and_points(runtime, me) == (136, 182)
    after = await mall.get_order(alice, order["id"])
    assert (after["status"], after["refunded_fen"], after["refunds"][0]["status"]) == ("to_ship", 2546, "succeeded")
    assert await stored_parts(runtime) == [(second, 2546, [0, 2546])]
    assert await mall.sku_stock() == 97


async def test_partial_refunds_of_a_line_give_back_its_share_rounded_down_and_the_last_the_rest(client, mall,
                                                                                             runtime):
    """1 000 of line A's 3 055: credit 164 × 1000 / 3055 = 53, points 218 × 1000 / 3055 = 71; the rest of the line
    (2 055 fen, asked without an amount) brings back the rest of its parts: 111 and 147."""
    alice = await mall.shopper("alice")
    order, _ = await two_line_order(mall, alice)
    me = await customer_id(mall, alice)
    assert (await refunded_line(mall, order["id"], mall.sku_id, 1000))["amount_fen"] == 1000
    assert await credit_and_points(runtime, me) == (53, 71)
    assert (await refunded_line(mall, order["id"], mall.sku_id))["amount_fen"] == 2055
    assert await credit_and_points(runtime, me) == (164, 218)
    assert (await mall.get_order(alice, order["id"]))["refunded_fen"] == 3055


async def test_every_line_refunded_closes_the_order_with_every_fen_and_point_back(client, mall, runtime):
    """Lines in any order, in parts: the order ends refunded with all its cash, credit and points back, its stock
    returned (it never shipped), and its coupons' fate as for any full refund."""
    alice = await mall.shopper("alice")
    order, second = await two_line_order(mall, alice)
    me = await customer_id(mall, alice)
    for sku_id, amount in ((mall.sku_id, 5), (second, 2000), (mall.sku_id, None), (second, None)):
        await refunded_line(mall, order["id"], sku_id, amount)
    done = await mall.get_order(alice, order["id"])
    assert (done["status"], done["refunded_fen"]) == ("refunded", 5601)
    assert [(r["sku_id"], r["amount_fen"]) for r in done["refunds"]] == [
        (mall.sku_id, 5), (second, 2000), (mall.sku_id, 3050), (second, 546)]
    assert await credit_and_points(runtime, me) == (300, 400)
    assert await mall.sku_stock() == 100


async def test_a_refund_of_the_order_is_spread_over_what_each_line_has_left(client, mall, runtime):
    """After line B in full, 1 000 of the order falls on line A alone; line A then has 2 055 left."""
    alice = await mall.shopper("alice")
    order, second = await two_line_order(mall, alice)
    await refunded_line(mall, order["id"], second)
    refund = await refunded_line(mall, order["id"], None, 1000)
    assert (refund["sku_id"], refund["amount_fen"]) == (None, 1000)
    assert (await stored_parts(runtime))[-1] == (None, 1000, [1000, 0])
    problem(await refund_line(mall, order["id"], mall.sku_id, 2056), 422, "refund_exceeds_line")
    assert (await refunded_line(mall, order["id"], mall.sku_id))["amount_fen"] == 2055


async def test_refusals_of_a_line_refund_change_nothing(client, mall, runtime):
    """An SKU the order does not have, more than the line has left, and a line with nothing left are refused."""
    alice = await mall.shopper("alice")
    order, second = await two_line_order(mall, alice)
    await refunded_line(mall, order["id"], second)
    before = await snapshot(runtime)
    problem(await refund_line(mall, order["id"], second + 1000), 422, "line_not_in_order")
    answer = problem(await refund_line(mall, order["id"], mall.sku_id, 3056), 422, "refund_exceeds_line")
    assert (answer["refundable_fen"], answer["field"]) == (3055, "amount_fen")
    problem(await refund_line(mall, order["id"], second), 409, "line_refunded")
    problem(await refund_line(mall, order["id"], second, 1), 409, "line_refunded")
    response = await client.post(f"/orders/{order['id']}/refunds", headers=alice,
                                 json={"reason": "dented", "sku_id": second})
    problem(response, 409, "line_refunded")
    assert await snapshot(runtime) == before


async def test_a_shoppers_line_request_waits_for_the_merchant_and_a_rejection_frees_the_line(client, mall, runtime):
    alice = await mall.shopper("alice")
    order, second = await two_line_order(mall, alice)
    response = await client.post(f"/orders/{order['id']}/refunds", headers=alice,
                                 json={"reason": "dented", "sku_id": second, "amount_fen": 500})
    assert response.status_code == 201, response.text
    asked = response.json()["refunds"][0]
    assert (asked["sku_id"], asked["amount_fen"], asked["status"]) == (second, 500, "requested")
    assert (await client.post(f"/admin/refunds/{asked['id']}/reject",
                              headers=await mall.staff("finance"))).status_code == 200
    again = await client.post(f"/orders/{order['id']}/refunds", headers=alice,
                              json={"reason": "dented", "sku_id": second})
    assert again.status_code == 201, again.text
    assert again.json()["refunds"][-1]["amount_fen"] == 2546


# --- races (PostgreSQL) -----------------------------------------------------------------------------------------------

LOSING = {(201, None), (409, "refund_in_progress"), (409, "order_changed"), (409, "line_refunded")}
"""What a crowd asking for the same money is told: one is taken; the others find the order busy, changed under them,
or (having read the order just before the winner and its refunds just after) the line with nothing left."""

@pytest.mark.postgres
async def test_concurrent_refunds_of_one_line_refund_it_once(client, mall, runtime):
    """Ten refunds of all of line B at once, the merchant's and the shopper's: one is taken, the rest refused, and
    the line gives back its 2 546 fen once."""
    alice = await mall.shopper("alice")
    order, second = await two_line_order(mall, alice)
    staff = await mall.staff("finance")
    calls = [client.post(f"/admin/orders/{order['id']}/refunds", headers=staff, json={"reason": "x", "sku_id": second})
             if i % 2 else client.post(f"/orders/{order['id']}/refunds", headers=alice,
                                       json={"reason": "x", "sku_id": second}) for i in range(10)]
    answers = await together(calls)
    assert codes(answers).keys() <= LOSING
    assert codes(answers)[(201, None)] == 1
    [taken] = [answer.json()["refunds"][0] for answer in answers if answer.status_code == 201]
    if taken["status"] == "requested":
        assert (await client.post(f"/admin/refunds/{taken['id']}/approve", headers=staff)).status_code == 200
    await mall.work()
    assert await stored_parts(runtime) == [(second, 2546, [0, 2546])]
    problem(await refund_line(mall, order["id"], second), 409, "line_refunded")


@pytest.mark.postgres
async def test_concurrent_refunds_of_the_last_fen_take_it_once(client, mall, runtime):
    """All but one fen refunded; then the last fen asked at once as line A's and as the order's: one takes it."""
    alice = await mall.shopper("alice")
    order, second = await two_line_order(mall, alice)
    await refunded_line(mall, order["id"], second)
    await refunded_line(mall, order["id"], mall.sku_id, 3054)
    answers = await together([refund_line(mall, order["id"], mall.sku_id if i % 2 else None) for i in range(10)])
    assert codes(answers)[(201, None)] == 1
    assert codes(answers).keys() <= LOSING
    await mall.work()
    done = await mall.get_order(alice, order["id"])
    assert (done["status"], done["refunded_fen"], done["refunds"][-1]["amount_fen"]) == ("refunded", 5601, 1)
    assert await credit_and_points(runtime, await customer_id(mall, alice)) == (300, 400)
