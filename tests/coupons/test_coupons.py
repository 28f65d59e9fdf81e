"""The coupon engine through the API, on both databases.

A coupon's whole life: claimed in the coupon centre, offered by the checkout preview as the best coupon, taken off
an order as its own adjustment line, locked by the unpaid order, available again when the order is cancelled (by
the shopper or the payment timeout), used once paid, and after a full refund available again or still used as the
merchant chose; expired by the worker and then refused at checkout. Pricing rules as customers meet them: threshold,
category and product scope, stacking, free shipping against the merchant's fee, percent with a cap. Templates: every
bad input is refused with its field and creates nothing, staff roles are enforced, stock and per-customer limits
hold, paused / not-claimable / ended templates cannot be claimed. Every refusal leaves every row as it was.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Any

import pytest

from tests.support import (
    ADDRESS,
    LONG_TOKEN_TTL_SECONDS,
    Mall,
    Who,
    full_refund,
    problem,
    refused_unchanged,
    rows,
    value,
)

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")

WATCHED = ("coupon_templates", "coupons", "counters", "orders", "order_items", "order_adjustments", "skus",
           "customers", "events", "outbox_jobs", "payments", "refunds", "idempotency_keys", "wallet_entries")
"""What a refused coupon request must leave exactly as it was."""

refused = partial(refused_unchanged, tables=WATCHED)

TEA = 1000  # the mall's Tea SKU, in fen


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Shopper tokens that outlive the days these tests move the clock by."""
    return {"token_ttl_seconds": LONG_TOKEN_TTL_SECONDS}


# --- helpers ----------------------------------------------------------------------------------------------------------

def template_body(**changes: Any) -> dict[str, Any]:
    """A valid template (300 fen off, valid 7 days from the claim); keyword arguments replace its fields."""
    return {"name": "立减3元", "kind": "amount", "amount_fen": 300, "valid_days": 7, **changes}


async def make_template(mall: Mall, role: str = "owner", **changes: Any) -> dict[str, Any]:
    response = await mall.client.post("/admin/coupon-templates", headers=await mall.staff(role),
                                      json=template_body(**changes))
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def claim(mall: Mall, who: Who, template_id: int, **headers: str) -> Any:
    return mall.client.post(f"/coupon-templates/{template_id}/claim", headers={**who, **headers})


async def claimed(mall: Mall, who: Who, template_id: int) -> dict[str, Any]:
    response = await claim(mall, who, template_id)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def coupons(mall: Mall, who: Who, status: str | None = None) -> list[tuple[int, str, int | None]]:
    """(id, status, order_id) of the shopper's coupons, as GET /coupons shows them."""
    response = await mall.client.get("/coupons", headers=who, params={"status": status} if status else {})
    assert response.status_code == 200, response.text
    return [(c["id"], c["status"], c["order_id"]) for c in response.json()]


async def stored(mall: Mall, coupon_id: int) -> tuple[str, int | None]:
    """(status, order_id) of a coupon as stored."""
    [row] = await rows(mall.runtime, "SELECT status, order_id FROM coupons WHERE id = :id", id=coupon_id)
    return row[0], row[1]


def order_body(items: list[tuple[int, int]], coupon_ids: list[int] | None = None) -> dict[str, Any]:
    return {"items": [{"sku_id": sku_id, "quantity": quantity} for sku_id, quantity in items], "address": ADDRESS,
            "coupon_ids": coupon_ids or []}


def place(mall: Mall, who: Who, coupon_ids: list[int], quantity: int = 1,
          items: list[tuple[int, int]] | None = None) -> Any:
    return mall.client.post("/orders", headers=who, json=order_body(items or [(mall.sku_id, quantity)], coupon_ids))


async def placed(mall: Mall, who: Who, coupon_ids: list[int], quantity: int = 1,
                 items: list[tuple[int, int]] | None = None) -> dict[str, Any]:
    response = await place(mall, who, coupon_ids, quantity, items)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def preview(mall: Mall, who: Who, quantity: int = 1, coupon_ids: list[int] | None = None,
                  items: list[tuple[int, int]] | None = None) -> dict[str, Any]:
    response = await mall.client.post("/checkout/preview", headers=who,
                                      json=order_body(items or [(mall.sku_id, quantity)], coupon_ids))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def lines(body: dict[str, Any]) -> list[tuple[str, str, int]]:
    return [(a["kind"], a["name"], a["amount_fen"]) for a in body["adjustments"]]


async def set_merchant(mall: Mall, **rules: Any) -> None:
    response = await mall.client.patch("/admin/merchant", headers=await mall.staff("owner"), json=rules)
    assert response.status_code == 200, response.text


async def coffee(mall: Mall, category_id: int | None = None) -> tuple[int, int]:
    """A second product, Coffee (one SKU at 3990 fen), optionally in a category: (product id, SKU id)."""
    response = await mall.client.post("/admin/products", headers=await mall.staff(), json={
        "title": "Coffee", "category_id": category_id,
        "skus": [{"code": "coffee-250", "name": "250g", "price_fen": 3990, "stock": 50}]})
    assert response.status_code == 201, response.text
    return response.json()["id"], response.json()["skus"][0]["id"]


def when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


# --- the whole life of a coupon ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("restore", [True, False])
async def test_coupon_life_claim_offer_lock_cancel_use_refund(client, mall, clock, restore):
    """claim → best_coupon → order (adjustment, total) → locked → cancel → available → order, pay → used → full
    refund → available again when the merchant restores coupons, still used when not."""
    await set_merchant(mall, restore_coupons_on_refund=restore)
    template = await make_template(mall, name="满10减3", threshold_fen=1000)
    assert (template["issued"], template["status"], template["stock"]) == (0, "active", None)
    alice = await mall.shopper("alice")
    coupon = await claimed(mall, alice, template["id"])
    assert (coupon["template_id"], coupon["name"], coupon["kind"], coupon["amount_fen"], coupon["threshold_fen"],
            coupon["status"], coupon["order_id"], coupon["source_type"]) == (
        template["id"], "满10减3", "amount", 300, 1000, "available", None, "claim")
    assert (when(coupon["valid_from"]), when(coupon["valid_until"]), when(coupon["claimed_at"])) == (
        clock.now(), clock.now() + timedelta(days=7), clock.now())
    listed = (await client.get("/admin/coupon-templates", headers=await mall.staff())).json()
    assert [(t["id"], t["issued"]) for t in listed] == [(template["id"], 1)]

    offer = await preview(mall, alice, quantity=2)
    assert (offer["items_fen"], offer["total_fen"], offer["adjustments"]) == (2 * TEA, 2 * TEA, [])
    assert offer["best_coupon"] == {"coupon_id": coupon["id"], "name": "满10减3", "saving_fen": 300}
    assert offer["coupon_offers"] == [offer["best_coupon"]]
    assert await coupons(mall, alice) == [(coupon["id"], "available", None)]  # a preview keeps nothing

    first = await placed(mall, alice, [coupon["id"]], quantity=2)
    assert (first["items_fen"], first["total_fen"], lines(first)) == (2000, 1700, [("coupon", "满10减3", -300)])
    assert await coupons(mall, alice, "locked") == [(coupon["id"], "locked", first["id"])]
    assert await coupons(mall, alice, "available") == []
    assert (await preview(mall, alice, quantity=2))["best_coupon"] is None

    cancelled = await client.post(f"/orders/{first['id']}/cancel", headers=alice)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled", cancelled.text
    assert await coupons(mall, alice) == [(coupon["id"], "available", None)]

    second = await placed(mall, alice, [coupon["id"]], quantity=2)
    assert second["total_fen"] == 1700
    paid = await mall.pay(alice, second["id"])
    assert (paid["status"], paid["paid_fen"]) == ("to_ship", 1700)
    assert await coupons(mall, alice, "used") == [(coupon["id"], "used", second["id"])]
    used_at = await value(mall.runtime, "SELECT used_at FROM coupons WHERE id = :id", id=coupon["id"])
    assert used_at is not None

    await full_refund(mall, second["id"])
    order = await mall.get_order(alice, second["id"])
    assert (order["status"], order["refunded_fen"]) == ("refunded", 1700)
    if restore:
        assert await coupons(mall, alice) == [(coupon["id"], "available", None)]
        assert await rows(mall.runtime, "SELECT used_at FROM coupons") == [(None,)]
        third = await placed(mall, alice, [coupon["id"]], quantity=2)
        assert third["total_fen"] == 1700
    else:
        assert await coupons(mall, alice) == [(coupon["id"], "used", second["id"])]
        await refused(mall, place(mall, alice, [coupon["id"]], quantity=2), 422, "coupon_unavailable")


async def test_payment_timeout_gives_the_coupon_back(client, mall, clock):
    """An order left unpaid is cancelled by the worker at its deadline, and its coupon is available again."""
    template = await make_template(mall)
    alice = await mall.shopper("alice")
    coupon = await claimed(mall, alice, template["id"])
    order = await placed(mall, alice, [coupon["id"]])
    assert order["total_fen"] == 700
    clock.advance(minutes=29)
    await mall.work()
    assert await stored(mall, coupon["id"]) == ("locked", order["id"])
    clock.advance(minutes=1)
    await mall.work()
    assert (await mall.get_order(alice, order["id"]))["status"] == "cancelled"
    assert await stored(mall, coupon["id"]) == ("available", None)
    assert (await placed(mall, alice, [coupon["id"]]))["total_fen"] == 700


async def test_expired_coupon_is_swept_and_refused_at_checkout(client, mall, clock):
    """Past its validity the worker marks it expired; it is no longer offered and an order with it is a 422."""
    template = await make_template(mall, valid_days=1)
    alice = await mall.shopper("alice")
    coupon = await claimed(mall, alice, template["id"])
    clock.advance(hours=23, minutes=59)
    await mall.work()
    assert await stored(mall, coupon["id"]) == ("available", None)
    assert (await preview(mall, alice))["best_coupon"]["coupon_id"] == coupon["id"]
    clock.advance(minutes=1)
    assert await coupons(mall, alice, "expired") == [(coupon["id"], "expired", None)]  # shown before the sweep
    await mall.work()
    assert await stored(mall, coupon["id"]) == ("expired", None)
    assert await coupons(mall, alice, "expired") == [(coupon["id"], "expired", None)]
    assert await coupons(mall, alice, "available") == []
    offer = await preview(mall, alice)
    assert (offer["best_coupon"], offer["coupon_offers"]) == (None, [])
    answer = await refused(mall, place(mall, alice, [coupon["id"]]), 422, "coupon_unavailable")
    assert (answer["field"], answer["coupon_ids"]) == ("coupon_ids", [coupon["id"]])
    assert await mall.sku_stock() == 100


async def test_fixed_dates_template_ends_for_claims_and_its_coupons_expire(client, mall, clock):
    """valid_until fixes the coupon's dates; after that moment the template cannot be claimed any more."""
    until = clock.now() + timedelta(days=2)
    template = await make_template(mall, valid_days=None, valid_until=until.isoformat())
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    coupon = await claimed(mall, alice, template["id"])
    assert (when(coupon["valid_from"]), when(coupon["valid_until"])) == (clock.now(), until)
    clock.advance(days=2)
    await refused(mall, claim(mall, bob, template["id"]), 409, "coupon_not_claimable")
    await mall.work()
    assert await stored(mall, coupon["id"]) == ("expired", None)


async def test_coupon_not_yet_valid_cannot_be_used(client, mall, clock):
    """A coupon whose valid_from is still ahead is held but not usable: not offered, 422 at checkout."""
    start = clock.now() + timedelta(days=1)
    template = await make_template(mall, valid_days=None, valid_from=start.isoformat(),
                                   valid_until=(start + timedelta(days=1)).isoformat())
    alice = await mall.shopper("alice")
    coupon = await claimed(mall, alice, template["id"])
    assert (await preview(mall, alice))["coupon_offers"] == []
    await refused(mall, place(mall, alice, [coupon["id"]]), 422, "coupon_unavailable")
    clock.advance(days=1)
    assert (await placed(mall, alice, [coupon["id"]]))["total_fen"] == 700


async def test_full_refund_after_shipping_restores_the_coupon_too(client, mall):
    """restore_coupons_on_refund is about a fully refunded order: shipped or not, its coupon comes back."""
    template = await make_template(mall)
    alice = await mall.shopper("alice")
    coupon = await claimed(mall, alice, template["id"])
    order = await placed(mall, alice, [coupon["id"]])
    await mall.pay(alice, order["id"])
    shipped = await client.post(f"/admin/orders/{order['id']}/ship", headers=await mall.staff("operator"),
                                json={"carrier": "SF Express", "tracking_no": "SF1234567890"})
    assert shipped.status_code == 200, shipped.text
    await full_refund(mall, order["id"])
    assert (await mall.get_order(alice, order["id"]))["status"] == "refunded"
    assert await mall.sku_stock() == 99  # shipped goods do not come back to stock
    assert await coupons(mall, alice) == [(coupon["id"], "available", None)]


async def test_valid_from_with_valid_days_never_issues_a_dead_coupon(client, mall, clock):
    """A start date with days-after-claim validity: refused as a template, or each coupon ends after it starts."""
    start = clock.now() + timedelta(days=10)
    response = await client.post("/admin/coupon-templates", headers=await mall.staff(),
                                 json=template_body(valid_from=start.isoformat(), valid_days=1))
    if response.status_code == 422:
        problem(response, 422, "invalid_request")
        return
    assert response.status_code == 201, response.text
    coupon = await claimed(mall, await mall.shopper("alice"), response.json()["id"])
    assert when(coupon["valid_until"]) > when(coupon["valid_from"])  # type: ignore[operator]


# --- pricing rules at checkout ----------------------------------------------------------------------------------------


async def test_threshold_not_met_is_refused_and_changes_nothing(client, mall):
    """满20减5 on one 10-yuan tea: 422 coupon_threshold_not_met, not offered; on two it applies."""
    template = await make_template(mall, name="满20减5", amount_fen=500, threshold_fen=2000)
    alice = await mall.shopper("alice")
    coupon = await claimed(mall, alice, template["id"])
    assert (await preview(mall, alice, quantity=1))["coupon_offers"] == []
    answer = await refused(mall, place(mall, alice, [coupon["id"]], quantity=1), 422, "coupon_threshold_not_met")
    assert answer["field"] == "coupon_ids"
    assert await stored(mall, coupon["id"]) == ("available", None)
    order = await placed(mall, alice, [coupon["id"]], quantity=2)
    assert (order["total_fen"], lines(order)) == (1500, [("coupon", "满20减5", -500)])


async def test_category_scoped_coupon_covers_only_its_category(client, mall):
    """A coupon for the Tea category: refused on a coffee-only cart; on a mixed cart it discounts only the tea, and
    its threshold counts only the tea."""
    owner = await mall.staff()
    category = (await client.post("/admin/categories", headers=owner, json={"name": "Tea leaves"})).json()
    patched = await client.patch(f"/admin/products/{mall.product_id}", headers=owner,
                                 json={"category_id": category["id"]})
    assert patched.status_code == 200 and patched.json()["category_id"] == category["id"], patched.text
    _, coffee_sku = await coffee(mall)
    percent = await make_template(mall, name="茶叶九折", kind="percent", amount_fen=0, percent_off=10,
                                  scope="categories", scope_ids=[category["id"]])
    picky = await make_template(mall, name="茶叶满50减5", amount_fen=500, threshold_fen=5000, scope="categories",
                                scope_ids=[category["id"]])
    alice = await mall.shopper("alice")
    ten_off = await claimed(mall, alice, percent["id"])
    five_off = await claimed(mall, alice, picky["id"])

    answer = await refused(mall, place(mall, alice, [ten_off["id"]], items=[(coffee_sku, 1)]), 422,
                           "coupon_not_applicable")
    assert answer["field"] == "coupon_ids"
    assert (await preview(mall, alice, items=[(coffee_sku, 1)]))["coupon_offers"] == []
    mixed = await placed(mall, alice, [ten_off["id"]], items=[(mall.sku_id, 3), (coffee_sku, 1)])
    assert (mixed["items_fen"], mixed["total_fen"], lines(mixed)) == (6990, 6690, [("coupon", "茶叶九折", -300)])
    # 4 teas (4000) and 2 coffees (7980): the cart passes 50 yuan, the tea does not
    await refused(mall, place(mall, alice, [five_off["id"]], items=[(mall.sku_id, 4), (coffee_sku, 2)]), 422,
                  "coupon_threshold_not_met")
    order = await placed(mall, alice, [five_off["id"]], items=[(mall.sku_id, 5), (coffee_sku, 2)])
    assert (order["items_fen"], order["total_fen"]) == (12980, 12480)


async def test_product_scoped_coupon_covers_only_its_products(client, mall):
    """A coupon for the Coffee product: refused on tea, applied to the coffee line of a mixed cart."""
    coffee_product, coffee_sku = await coffee(mall)
    template = await make_template(mall, name="咖啡立减", amount_fen=990, scope="products",
                                   scope_ids=[coffee_product])
    alice = await mall.shopper("alice")
    coupon = await claimed(mall, alice, template["id"])
    await refused(mall, place(mall, alice, [coupon["id"]]), 422, "coupon_not_applicable")
    offer = await preview(mall, alice, items=[(mall.sku_id, 1), (coffee_sku, 1)])
    assert offer["best_coupon"] == {"coupon_id": coupon["id"], "name": "咖啡立减", "saving_fen": 990}
    order = await placed(mall, alice, [coupon["id"]], items=[(mall.sku_id, 1), (coffee_sku, 1)])
    assert (order["items_fen"], order["total_fen"], lines(order)) == (4990, 4000, [("coupon", "咖啡立减", -990)])


async def test_stacking_rules(client, mall):
    """Two coupons that do not stack: 422 coupons_not_stackable (also with one that does); two stackable ones apply
    in the order chosen; a free-shipping coupon goes with a non-stackable one."""
    await set_merchant(mall, shipping_fee_fen=600)
    alone = await make_template(mall, name="独享减3", per_customer_limit=2)
    stacks = await make_template(mall, name="叠加减2", amount_fen=200, stackable=True, per_customer_limit=2)
    free = await make_template(mall, name="包邮券", kind="free_shipping", amount_fen=0)
    alice = await mall.shopper("alice")
    a1, a2 = await claimed(mall, alice, alone["id"]), await claimed(mall, alice, alone["id"])
    s1, s2 = await claimed(mall, alice, stacks["id"]), await claimed(mall, alice, stacks["id"])
    shipping = await claimed(mall, alice, free["id"])
    for pair in ([a1["id"], a2["id"]], [a1["id"], s1["id"]], [s1["id"], a1["id"]]):
        answer = await refused(mall, place(mall, alice, pair, quantity=2), 422, "coupons_not_stackable")
        assert answer["field"] == "coupon_ids"
    both = await placed(mall, alice, [s2["id"], s1["id"]], quantity=2)
    assert (both["total_fen"], lines(both)) == (2000 - 400 + 600, [
        ("coupon", "叠加减2", -200), ("coupon", "叠加减2", -200), ("shipping", "运费", 600)])
    with_free = await placed(mall, alice, [a1["id"], shipping["id"]], quantity=2)
    assert (with_free["total_fen"], lines(with_free)) == (1700, [
        ("coupon", "独享减3", -300), ("shipping", "运费", 600), ("coupon", "包邮券", -600)])
    assert {c[0]: c[1] for c in await coupons(mall, alice)} == {
        a1["id"]: "locked", a2["id"]: "available", s1["id"]: "locked", s2["id"]: "locked", shipping["id"]: "locked"}


async def test_free_shipping_against_the_merchant_fee(client, mall):
    """Fee 8 yuan, free from 50 yuan of goods after discounts: the coupon cancels the fee line; above the threshold
    there is no fee and neither coupon saves anything (not offered): a discount brings the goods back under it."""
    await set_merchant(mall, shipping_fee_fen=800, free_shipping_over_fen=5000)
    free = await make_template(mall, name="包邮券", kind="free_shipping", amount_fen=0)
    discount = await make_template(mall, name="立减3元")
    alice = await mall.shopper("alice")
    shipping = await claimed(mall, alice, free["id"])
    three_off = await claimed(mall, alice, discount["id"])

    plain = await preview(mall, alice, quantity=1)
    assert (plain["total_fen"], lines(plain)) == (1800, [("shipping", "运费", 800)])
    assert plain["coupon_offers"] == [{"coupon_id": shipping["id"], "name": "包邮券", "saving_fen": 800},
                                      {"coupon_id": three_off["id"], "name": "立减3元", "saving_fen": 300}]
    over = await preview(mall, alice, quantity=5)
    assert (over["total_fen"], over["adjustments"]) == (5000, [])
    assert over["coupon_offers"] == []  # 3 yuan off would bring the fee back: it costs 5 yuan, no saving
    under = await placed(mall, alice, [three_off["id"]], quantity=5)
    assert (under["total_fen"], lines(under)) == (5500, [("coupon", "立减3元", -300), ("shipping", "运费", 800)])
    order = await placed(mall, alice, [shipping["id"]], quantity=1)
    assert (order["items_fen"], order["total_fen"], lines(order)) == (
        1000, 1000, [("shipping", "运费", 800), ("coupon", "包邮券", -800)])
    paid = await mall.pay(alice, order["id"])
    assert paid["paid_fen"] == 1000
    assert await stored(mall, shipping["id"]) == ("used", order["id"])


async def test_free_shipping_coupon_scoped_to_a_product_does_not_ship_other_products_free(client, mall):
    """A free-shipping coupon for one product: refused as a template, or not applicable to a cart without it."""
    await set_merchant(mall, shipping_fee_fen=800)
    coffee_product, _ = await coffee(mall)
    response = await client.post("/admin/coupon-templates", headers=await mall.staff(), json=template_body(
        name="咖啡包邮", kind="free_shipping", amount_fen=0, scope="products", scope_ids=[coffee_product]))
    if response.status_code == 422:
        problem(response, 422, "invalid_request")
        return
    assert response.status_code == 201, response.text
    alice = await mall.shopper("alice")
    coupon = await claimed(mall, alice, response.json()["id"])
    await refused(mall, place(mall, alice, [coupon["id"]]), 422, "coupon_not_applicable")


async def test_percent_coupon_with_cap_and_the_best_offer(client, mall):
    """20% off capped at 5 yuan, 50% off capped at 3 yuan and 2 yuan off on 30 yuan of tea: offers best first."""
    capped = await make_template(mall, name="八折最高减5", kind="percent", amount_fen=0, percent_off=20, cap_fen=500)
    tight = await make_template(mall, name="五折最高减3", kind="percent", amount_fen=0, percent_off=50, cap_fen=300)
    small = await make_template(mall, name="立减2元", amount_fen=200)
    alice = await mall.shopper("alice")
    a, b, c = [await claimed(mall, alice, t["id"]) for t in (small, tight, capped)]
    offer = await preview(mall, alice, quantity=3)
    assert offer["coupon_offers"] == [{"coupon_id": c["id"], "name": "八折最高减5", "saving_fen": 500},
                                      {"coupon_id": b["id"], "name": "五折最高减3", "saving_fen": 300},
                                      {"coupon_id": a["id"], "name": "立减2元", "saving_fen": 200}]
    assert offer["best_coupon"] == offer["coupon_offers"][0]
    # on one tea 20% is 200, under the cap
    assert [o["saving_fen"] for o in (await preview(mall, alice, quantity=1))["coupon_offers"]] == [300, 200, 200]
    order = await placed(mall, alice, [c["id"]], quantity=3)
    assert (order["total_fen"], lines(order)) == (2500, [("coupon", "八折最高减5", -500)])
    chosen = await preview(mall, alice, quantity=1, coupon_ids=[b["id"]])
    assert (chosen["total_fen"], lines(chosen), chosen["coupon_offers"]) == (700, [("coupon", "五折最高减3", -300)], [])


async def test_coupon_of_someone_else_or_in_use_is_unavailable(client, mall):
    """Another shopper's coupon, an unknown id, a coupon locked by another order: 422 coupon_unavailable, and
    neither stock nor coupon moves."""
    template = await make_template(mall)
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    coupon = await claimed(mall, alice, template["id"])
    answer = await refused(mall, place(mall, bob, [coupon["id"]]), 422, "coupon_unavailable")
    assert answer["coupon_ids"] == [coupon["id"]]
    await refused(mall, place(mall, alice, [coupon["id"] + 1000]), 422, "coupon_unavailable")
    first = await placed(mall, alice, [coupon["id"]])
    await refused(mall, place(mall, alice, [coupon["id"]]), 422, "coupon_unavailable")
    problem(await mall.client.post("/checkout/preview", headers=alice, json=order_body([(mall.sku_id, 1)],
                                                                                     [coupon["id"]])),
            422, "coupon_unavailable")
    await refused(mall, place(mall, alice, [coupon["id"], coupon["id"]]), 422, "invalid_request")
    assert await stored(mall, coupon["id"]) == ("locked", first["id"])
    assert await mall.sku_stock() == 99


# --- templates --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("changes, field", [
    ({"amount_fen": 0}, "body"),  # an amount coupon without an amount
    ({"kind": "percent", "amount_fen": 0, "percent_off": 0}, "body"),
    ({"kind": "percent", "amount_fen": 0, "percent_off": 100}, "percent_off"),
    ({"kind": "percent", "amount_fen": 0, "percent_off": -5}, "percent_off"),
    ({"valid_until": "2026-02-01T00:00:00+00:00"}, "body"),  # both valid_until and valid_days
    ({"valid_days": None}, "body"),  # neither
    ({"valid_days": 0}, "valid_days"),
    ({"scope_ids": [1]}, "scope_ids"),  # ids on an "all" coupon
    ({"scope": "products", "scope_ids": []}, "scope_ids"),  # a scoped coupon naming nothing
    ({"threshold_fen": 200}, "body"),  # worth more than its threshold
    ({"stock": 0}, "stock"),
    ({"per_customer_limit": 0}, "per_customer_limit"),
    ({"kind": "cash"}, "kind"),
    ({"name": ""}, "name"),
    ({"cap_fen": 0}, "cap_fen"),
    ({"valid_days": None, "valid_from": "2026-02-01T00:00:00+00:00", "valid_until": "2026-02-01T00:00:00+00:00"},
     "body"),
])
async def test_bad_template_input_is_refused_and_creates_nothing(client, mall, changes, field):
    """Each invalid template: 422 invalid_request naming the field, and no template row."""
    answer = await refused(mall, client.post("/admin/coupon-templates", headers=await mall.staff(),
                                             json=template_body(**changes)), 422, "invalid_request")
    assert answer["errors"][0]["field"] == field, answer
    assert await value(mall.runtime, "SELECT count(*) FROM coupon_templates") == 0


async def test_staff_roles_on_templates(client, mall):
    """Owner and operator create and change templates; support and finance may only read them (403 forbidden);
    a shopper token never reaches /admin."""
    created = await make_template(mall, role="operator")
    for role in ("support", "finance"):
        who = await mall.staff(role)
        await refused(mall, client.post("/admin/coupon-templates", headers=who, json=template_body()), 403,
                      "forbidden")
        await refused(mall, client.patch(f"/admin/coupon-templates/{created['id']}", headers=who,
                                         json={"status": "paused"}), 403, "forbidden")
        listed = await client.get("/admin/coupon-templates", headers=who)
        assert listed.status_code == 200 and [t["id"] for t in listed.json()] == [created["id"]]
    alice = await mall.shopper("alice")
    await refused(mall, client.post("/admin/coupon-templates", headers=alice, json=template_body()), 401,
                  "unauthenticated")
    paused = await client.patch(f"/admin/coupon-templates/{created['id']}", headers=await mall.staff("owner"),
                                json={"status": "paused"})
    assert paused.status_code == 200 and paused.json()["status"] == "paused", paused.text


async def test_template_fields_round_trip(client, mall, clock):
    """What the admin sends is what the template and its coupons carry."""
    body = template_body(name="九折", kind="percent", amount_fen=0, percent_off=10, cap_fen=800, threshold_fen=3000,
                         scope="products", scope_ids=[mall.product_id], valid_days=3, stock=50, per_customer_limit=2,
                         stackable=True, claimable=True)
    response = await client.post("/admin/coupon-templates", headers=await mall.staff(), json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created == {**body, "id": created["id"], "issued": 0, "status": "active", "valid_from": None,
                       "valid_until": None}
    alice = await mall.shopper("alice")
    coupon = await claimed(mall, alice, created["id"])
    assert (coupon["kind"], coupon["percent_off"], coupon["cap_fen"], coupon["threshold_fen"], coupon["stackable"],
            when(coupon["valid_until"])) == ("percent", 10, 800, 3000, True, clock.now() + timedelta(days=3))


# --- claims -----------------------------------------------------------------------------------------------------------


async def test_per_customer_limit_and_stock(client, mall):
    """Limit 2: the third claim is 409 coupon_limit_reached; stock 3: the fourth coupon is 409 coupon_out_of_stock.
    A refused claim takes nothing (issued, the customer's count)."""
    template = await make_template(mall, stock=3, per_customer_limit=2)
    alice, bob, carol = [await mall.shopper(n) for n in ("alice", "bob", "carol")]
    await claimed(mall, alice, template["id"])
    await claimed(mall, alice, template["id"])
    answer = await refused(mall, claim(mall, alice, template["id"]), 409, "coupon_limit_reached")
    assert answer["limit"] == 2
    await claimed(mall, bob, template["id"])
    await refused(mall, claim(mall, carol, template["id"]), 409, "coupon_out_of_stock")
    assert await rows(mall.runtime, "SELECT issued, stock FROM coupon_templates") == [(3, 3)]
    assert await value(mall.runtime, "SELECT count(*) FROM coupons") == 3
    assert sorted(await rows(mall.runtime, "SELECT used FROM counters WHERE key LIKE 'coupon:%'")) == [(1,), (2,)]
    # more stock: carol may claim; never less than what was issued
    owner = await mall.staff()
    await refused(mall, client.patch(f"/admin/coupon-templates/{template['id']}", headers=owner, json={"stock": 2}),
                  422, "invalid_request")
    raised = await client.patch(f"/admin/coupon-templates/{template['id']}", headers=owner, json={"stock": 4})
    assert raised.status_code == 200 and (raised.json()["stock"], raised.json()["issued"]) == (4, 3), raised.text
    await claimed(mall, carol, template["id"])
    assert (await client.get("/coupons", headers=carol)).json()[0]["status"] == "available"


async def test_limit_refused_before_stock_is_spent_when_stock_is_left(client, mall):
    """A shopper at their limit on a template with stock left is told coupon_limit_reached, and the stock stays."""
    template = await make_template(mall, stock=10, per_customer_limit=1)
    alice = await mall.shopper("alice")
    await claimed(mall, alice, template["id"])
    await refused(mall, claim(mall, alice, template["id"]), 409, "coupon_limit_reached")
    assert await value(mall.runtime, "SELECT issued FROM coupon_templates") == 1


@pytest.mark.parametrize("state", ["paused", "ended", "not_claimable"])
async def test_templates_not_open_for_claims(client, mall, state):
    """Paused, ended or campaign-only templates: not in the coupon centre, 409 coupon_not_claimable."""
    open_one = await make_template(mall, name="open")
    template = await make_template(mall, name="closed", claimable=state != "not_claimable")
    if state != "not_claimable":
        response = await client.patch(f"/admin/coupon-templates/{template['id']}", headers=await mall.staff(),
                                      json={"status": state})
        assert response.status_code == 200, response.text
    centre = await client.get("/coupon-templates", params={"merchant": mall.slug})
    assert centre.status_code == 200 and [t["id"] for t in centre.json()] == [open_one["id"]]
    alice = await mall.shopper("alice")
    await refused(mall, claim(mall, alice, template["id"]), 409, "coupon_not_claimable")
    listed = (await client.get("/admin/coupon-templates", headers=await mall.staff())).json()
    assert [(t["name"], t["issued"]) for t in listed] == [("open", 0), ("closed", 0)]


async def test_unknown_or_foreign_template_is_not_found(client, mall, runtime):
    """Another merchant's template and an unknown id answer 404 coupon_template_not_found."""
    other = await Mall.create(client, runtime, slug="other")
    response = await client.post("/admin/coupon-templates", headers=await other.staff(), json=template_body())
    assert response.status_code == 201, response.text
    foreign = response.json()["id"]
    alice = await mall.shopper("alice")
    await refused(mall, claim(mall, alice, foreign), 404, "coupon_template_not_found")
    await refused(mall, claim(mall, alice, foreign + 1000), 404, "coupon_template_not_found")
    assert (await client.get("/admin/coupon-templates", headers=await mall.staff())).json() == []
    problem(await client.patch(f"/admin/coupon-templates/{foreign}", headers=await mall.staff(),
                               json={"status": "paused"}), 404, "coupon_template_not_found")
    assert await value(runtime, "SELECT status FROM coupon_templates WHERE id = :id", id=foreign) == "active"


async def test_retried_claim_with_the_same_idempotency_key_claims_once(client, mall):
    """The same Idempotency-Key replays the first coupon instead of taking a second one."""
    template = await make_template(mall, per_customer_limit=5)
    alice = await mall.shopper("alice")
    first = await claim(mall, alice, template["id"], **{"Idempotency-Key": "claim-1"})
    again = await claim(mall, alice, template["id"], **{"Idempotency-Key": "claim-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert await value(mall.runtime, "SELECT count(*) FROM coupons") == 1
    assert await value(mall.runtime, "SELECT issued FROM coupon_templates") == 1


async def test_my_coupons_filter_by_status(client, mall):
    """GET /coupons?status= lists one status; an unknown status is 422 invalid_status."""
    template = await make_template(mall, per_customer_limit=2)
    alice = await mall.shopper("alice")
    one, two = await claimed(mall, alice, template["id"]), await claimed(mall, alice, template["id"])
    order = await placed(mall, alice, [two["id"]])
    assert await coupons(mall, alice, "available") == [(one["id"], "available", None)]
    assert await coupons(mall, alice, "locked") == [(two["id"], "locked", order["id"])]
    assert await coupons(mall, alice, "used") == []
    problem(await client.get("/coupons", headers=alice, params={"status": "gone"}), 422, "invalid_status")
    bob = await mall.shopper("bob")
    assert await coupons(mall, bob) == []
    problem(await client.get("/coupons"), 401, "unauthenticated")


async def test_an_ended_template_stays_ended(client, mall):
    """Ended is final: a template paused and resumed at will cannot be brought back once ended (409
    invalid_transition, nothing changes); setting the status it already has changes nothing either."""
    owner = await mall.staff("owner")
    created = await make_template(mall)
    url = f"/admin/coupon-templates/{created['id']}"
    for status in ("paused", "active", "active", "ended"):
        moved = await client.patch(url, headers=owner, json={"status": status})
        assert moved.status_code == 200 and moved.json()["status"] == status, moved.text
    await refused_unchanged(mall, client.patch(url, headers=owner, json={"status": "active"}), 409,
                            "invalid_transition", tables=("coupon_templates",))
