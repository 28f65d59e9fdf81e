"""Coupon claims and checkout under real concurrency (PostgreSQL): many HTTP requests at the same moment, each on
its own connection.

A template's stock is never over-issued (500 customers racing for 100 coupons get exactly 100, the other 400 a
409 coupon_out_of_stock), one customer firing many claims at once gets exactly their per-customer limit, and one
coupon chosen by many concurrent orders is locked by exactly one of them.
"""

from __future__ import annotations

import pytest

from tests.coupons.test_coupons import claim, make_template, place
from tests.support import codes, problem, rows, together, value

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("signed_staff_tokens")]


async def test_500_customers_race_for_100_coupons(client, mall):
    """Stock 100, one each: exactly 100 coupons to 100 different customers, issued == 100, 400 answers
    409 coupon_out_of_stock, and no refused claim leaves a trace."""
    template = await make_template(mall, name="限量券", stock=100, per_customer_limit=1)
    crowd = await together(mall.shopper(f"c{i}") for i in range(500))
    answers = await together(claim(mall, who, template["id"]) for who in crowd)
    assert codes(answers) == {(201, None): 100, (409, "coupon_out_of_stock"): 400}
    for refused in (r for r in answers if r.status_code != 201):
        problem(refused, 409, "coupon_out_of_stock")
    won = [r.json() for r in answers if r.status_code == 201]
    assert await rows(mall.runtime, "SELECT issued, stock FROM coupon_templates") == [(100, 100)]
    assert await rows(mall.runtime, "SELECT count(*), count(DISTINCT customer_id) FROM coupons") == [(100, 100)]
    stored = await rows(mall.runtime, "SELECT id, customer_id FROM coupons ORDER BY id")
    assert sorted(c["id"] for c in won) == [coupon_id for coupon_id, _ in stored]
    assert {(c["template_id"], c["status"], c["amount_fen"]) for c in won} == {(template["id"], "available", 300)}
    assert await rows(mall.runtime, "SELECT count(*), sum(used), max(used) FROM counters "
                                    "WHERE key LIKE 'coupon:%'") == [(100, 100, 1)]
    listed = (await client.get("/admin/coupon-templates", headers=await mall.staff())).json()
    assert [(t["issued"], t["stock"]) for t in listed] == [(100, 100)]


async def test_one_customer_claiming_20_times_at_once_gets_the_limit(client, mall):
    """per_customer_limit 3, 20 simultaneous claims by one shopper: exactly 3 coupons, 17 coupon_limit_reached, and
    the stock counts only the 3."""
    template = await make_template(mall, stock=1000, per_customer_limit=3)
    alice = await mall.shopper("alice")
    answers = await together(claim(mall, alice, template["id"]) for _ in range(20))
    assert codes(answers) == {(201, None): 3, (409, "coupon_limit_reached"): 17}
    assert await value(mall.runtime, "SELECT count(*) FROM coupons") == 3
    assert await value(mall.runtime, "SELECT issued FROM coupon_templates") == 3
    assert await rows(mall.runtime, "SELECT used FROM counters WHERE key LIKE 'coupon:%'") == [(3,)]
    mine = (await client.get("/coupons", headers=alice)).json()
    assert sorted(c["id"] for c in mine) == sorted(r.json()["id"] for r in answers if r.status_code == 201)


async def test_one_coupon_chosen_by_ten_orders_at_once_is_locked_once(client, mall):
    """Ten concurrent orders with the same coupon: one is placed and locks it, nine are 422 coupon_unavailable and
    give their stock back."""
    template = await make_template(mall)
    alice = await mall.shopper("alice")
    coupon = (await claim(mall, alice, template["id"])).json()
    answers = await together(place(mall, alice, [coupon["id"]]) for _ in range(10))
    assert codes(answers) == {(201, None): 1, (422, "coupon_unavailable"): 9}
    [order] = [r.json() for r in answers if r.status_code == 201]
    assert order["total_fen"] == 700
    assert await rows(mall.runtime, "SELECT status, order_id FROM coupons") == [("locked", order["id"])]
    assert await value(mall.runtime, "SELECT count(*) FROM orders") == 1
    assert await value(mall.runtime, "SELECT count(*) FROM order_adjustments") == 1
    assert await mall.sku_stock() == 99
