"""The points mall (积分商城) through the API: items are campaigns of kind "points_mall", linted before they go live
(PM1 no points, PM2 no coupon template, G1 a SKU not of the product, PM3 a cash part that leaves the points buying
nothing). A coupon is issued at once for exactly its points; goods become an ordinary order priced at the cash part
(plus shipping) with the points spent on the order, paid as usual (a total of 0 at once). The stock cap is the
item's stock and the per-customer limit its quota; a refused redemption changes no row; cancelling the unpaid order
(by the shopper or the payment timeout) gives back the points, the unit and the quota; a refund gives the points back
by the refunded share of the cash, the shares summing exactly to what was spent. An order through the points mall
takes no checkout points besides its own.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable
from datetime import timedelta
from functools import partial
from typing import Any

import httpx
import pytest

from fissionmall.core.runtime import Runtime
from fissionmall.loyalty.points import service as points
from tests.campaigns.groupbuy.test_campaign_admin import add_sku
from tests.loyalty.test_points import complete, configure, entries, ledger, merchant_refund, moves, settings_overrides  # noqa: F401  (settings_overrides: long-lived shopper tokens)
from tests.support import ADDRESS, Mall, Who, customer_id, problem, refused_unchanged, rows, snapshot_of, value

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")

TEA = 1000
"""The mall's tea: its list price (fen); 100 in stock."""
WATCHED = ("orders", "order_items", "order_adjustments", "skus", "payments", "refunds", "points_entries",
           "points_balances", "campaigns", "campaign_quotas", "coupons", "coupon_templates", "events", "outbox_jobs")
"""What a refused redemption must leave exactly as it was."""
_grants = itertools.count(1)


@pytest.fixture
async def configured(mall: Mall) -> None:
    """Points set up (the endpoint's defaults): the linter lets items go live."""
    await configure(mall)


# --- helpers ----------------------------------------------------------------------------------------------------------


def goods(mall: Mall, **settings: Any) -> dict[str, Any]:
    """Settings of the tea for 800 points and 300 fen, once per customer."""
    return {"reward": "goods", "points": 800, "cash_fen": 300, "product_id": mall.product_id, "sku_id": mall.sku_id,
            **settings}


def coupon(template_id: int, **settings: Any) -> dict[str, Any]:
    """Settings of a coupon for 400 points, once per customer."""
    return {"reward": "coupon", "points": 400, "coupon_template_id": template_id, **settings}


async def create(mall: Mall, settings: dict[str, Any], *, stock_cap: int | None = None,
                 starts_in: timedelta = timedelta(hours=-1), lasts: timedelta = timedelta(days=30)) -> int:
    """A draft item (running from an hour ago for 30 days unless told): its campaign id."""
    starts_at = mall.runtime.clock.now() + starts_in
    response = await mall.client.post("/admin/campaigns", headers=await mall.staff(), json={
        "kind": "points_mall", "name": "积分兑好茶", "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + lasts).isoformat(), "stock_cap": stock_cap, "settings": settings})
    assert response.status_code == 201, response.text
    campaign_id: int = response.json()["id"]
    return campaign_id


async def move(mall: Mall, campaign_id: int, action: str) -> None:
    response = await mall.client.post(f"/admin/campaigns/{campaign_id}/{action}", headers=await mall.staff())
    assert response.status_code == 200, response.text


async def live(mall: Mall, settings: dict[str, Any], **window: Any) -> int:
    """A created and activated item: its campaign id."""
    campaign_id = await create(mall, settings, **window)
    await move(mall, campaign_id, "activate")
    return campaign_id


async def lint(mall: Mall, campaign_id: int) -> tuple[bool, list[tuple[str, str]]]:
    """(ok, [(rule, level)]) of the linter."""
    response = await mall.client.post(f"/admin/campaigns/{campaign_id}/lint", headers=await mall.staff())
    assert response.status_code == 200, response.text
    body = response.json()
    return body["ok"], [(f["rule"], f["level"]) for f in body["findings"]]


async def template(mall: Mall, **overrides: Any) -> int:
    """A 300-fen coupon valid 30 days from its issue, given only by campaigns: its id."""
    response = await mall.client.post("/admin/coupon-templates", headers=await mall.staff(), json={
        "name": "立减3元", "kind": "amount", "amount_fen": 300, "valid_days": 30, "claimable": False, **overrides})
    assert response.status_code == 201, response.text
    template_id: int = response.json()["id"]
    return template_id


async def grant(mall: Mall, who: Who, amount: int) -> int:
    """A bucket of `amount` points straight into the ledger (valid a year): the customer's id."""
    me = await customer_id(mall, who)
    async with mall.runtime.sessionmaker() as session:
        assert await points.earn(session, mall.merchant_id, me, amount, "earned", ("grant", next(_grants)),
                                 mall.runtime.clock.now(), 365)
        await session.commit()
    return me


def redeem(mall: Mall, who: Who, campaign_id: int,
           address: dict[str, str] | None = ADDRESS) -> Awaitable[httpx.Response]:
    """POST /points-mall/{id}/redeem (not awaited), with the address unless told None."""
    return mall.client.post(f"/points-mall/{campaign_id}/redeem", headers=who,
                            json={} if address is None else {"address": address})


async def redeemed(mall: Mall, who: Who, campaign_id: int) -> dict[str, Any]:
    response = await redeem(mall, who, campaign_id)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def listing(mall: Mall, who: Who) -> list[dict[str, Any]]:
    response = await mall.client.get("/points-mall", headers=who)
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


async def standing(runtime: Runtime, campaign_id: int, customer: int) -> dict[str, int]:
    """What a redemption moves, as stored: the customer's balance, the item's units sold and the customer's quota
    used, the coupons and orders the customer holds, the tea's stock."""
    return {
        "balance": await value(runtime, "SELECT coalesce(sum(balance), 0) FROM points_balances "
                                        "WHERE customer_id = :c", c=customer),
        "sold": await value(runtime, "SELECT sold FROM campaigns WHERE id = :i", i=campaign_id),
        "quota": await value(runtime, "SELECT coalesce(sum(used), 0) FROM campaign_quotas "
                                      "WHERE campaign_id = :i AND customer_id = :c", i=campaign_id, c=customer),
        "coupons": await value(runtime, "SELECT count(*) FROM coupons WHERE customer_id = :c", c=customer),
        "orders": await value(runtime, "SELECT count(*) FROM orders WHERE customer_id = :c", c=customer),
        "stock": await value(runtime, "SELECT stock FROM skus ORDER BY id LIMIT 1"),
    }


def spent(found: list[Any]) -> list[tuple[str, int, str, int]]:
    return [m for m in moves(found) if m[0] == "spent"]


def returned(found: list[Any]) -> list[tuple[str, int, str, int]]:
    return [m for m in moves(found) if m[0] == "returned"]


snapshot = partial(snapshot_of, tables=WATCHED)
refused = partial(refused_unchanged, tables=WATCHED)


# --- linting ----------------------------------------------------------------------------------------------------------


async def test_the_linter_blocks_items_points_cannot_buy(client, mall):
    """PM1: with no points set up an item is blocked and activation is 409 lint_blocked (the item stays a draft).
    With points: PM2 a coupon template that does not exist, G1 a SKU of another product, PM3 a cash part equal to
    or above the SKU's price; a cash part one fen below the price and an existing template pass with no finding."""
    first = await create(mall, goods(mall))
    assert await lint(mall, first) == (False, [("PM1", "block")])
    answer = problem(await client.post(f"/admin/campaigns/{first}/activate", headers=await mall.staff()),
                     409, "lint_blocked")
    assert [f["rule"] for f in answer["findings"]] == ["PM1"]
    assert await value(mall.runtime, "SELECT status FROM campaigns WHERE id = :i", i=first) == "draft"

    await configure(mall)
    assert await lint(mall, first) == (True, [])
    other_product_sku = await add_sku(mall, other_product=True)
    template_id = await template(mall)
    for settings, rule in ((coupon(template_id + 1), "PM2"), (goods(mall, sku_id=other_product_sku), "G1"),
                           (goods(mall, cash_fen=TEA), "PM3"), (goods(mall, cash_fen=TEA + 1), "PM3")):
        assert await lint(mall, await create(mall, settings)) == (False, [(rule, "block")]), settings
    for settings in (goods(mall, cash_fen=TEA - 1), goods(mall, cash_fen=0), coupon(template_id)):
        assert await lint(mall, await create(mall, settings)) == (True, []), settings


@pytest.mark.parametrize(("settings", "field"), [
    ({"points": 0}, "settings.points"),
    ({"cash_fen": -1}, "settings.cash_fen"),
    ({"per_customer_limit": 0}, "settings.per_customer_limit"),
    ({"sku_id": None}, "settings"),
    ({"reward": "coupon"}, "settings"),                                    # a coupon names its template
    ({"reward": "coupon", "coupon_template_id": 1, "cash_fen": 100}, "settings"),  # and costs points only
    ({"product_id": 999_999}, "settings.product_id"),
])
async def test_bad_settings_are_refused_at_creation(client, mall, configured, settings, field):
    """Each bad setting is 422 invalid_settings naming the field; no campaign is stored."""
    body = {"kind": "points_mall", "name": "x", "starts_at": "2026-01-01T00:00:00+08:00",
            "ends_at": "2026-02-01T00:00:00+08:00", "settings": goods(mall, **settings)}
    answer = problem(await client.post("/admin/campaigns", headers=await mall.staff(), json=body),
                     422, "invalid_settings")
    assert answer["field"] == field
    assert await value(mall.runtime, "SELECT count(*) FROM campaigns") == 0


# --- listing ----------------------------------------------------------------------------------------------------------


async def test_the_mall_lists_live_items_with_the_stock_left(client, mall, configured):
    """GET /points-mall: this merchant's active items within their window, oldest first, with points, cash part,
    product and the stock left (None without a cap); a redemption lowers the stock left by one. Drafts, paused,
    ended, not yet started and past items, and other merchants' items, are not listed."""
    template_id = await template(mall)
    tea = await live(mall, goods(mall), stock_cap=5)
    voucher = await live(mall, coupon(template_id))
    await create(mall, goods(mall))                                         # a draft
    await move(mall, await live(mall, goods(mall)), "pause")
    await move(mall, await live(mall, goods(mall)), "end")
    await live(mall, goods(mall), starts_in=timedelta(hours=1))               # not yet
    await live(mall, goods(mall), starts_in=timedelta(days=-2), lasts=timedelta(days=1))  # over
    other = await Mall.create(client, mall.runtime, slug="other")
    await configure(other)
    await live(other, goods(other))

    alice = await mall.shopper("alice")
    expected = [
        {"campaign_id": tea, "name": "积分兑好茶", "reward": "goods", "points": 800, "cash_fen": 300,
         "product_id": mall.product_id, "stock_left": 5, "per_customer_limit": 1},
        {"campaign_id": voucher, "name": "积分兑好茶", "reward": "coupon", "points": 400, "cash_fen": 0,
         "product_id": None, "stock_left": None, "per_customer_limit": 1},
    ]
    assert await listing(mall, alice) == expected
    await grant(mall, alice, 800)
    await redeemed(mall, alice, tea)
    expected[0]["stock_left"] = 4
    assert await listing(mall, alice) == expected


# --- coupons ----------------------------------------------------------------------------------------------------------


async def test_a_coupon_costs_exactly_its_points_and_takes_money_off_at_checkout(client, mall, configured):
    """A 300-fen coupon for 400 points: issued at once to the shopper (source points_mall, the item), exactly 400
    points spent (one 'spent' entry sourced to the coupon), one unit sold and one use of the quota, no order; the
    coupon then takes 300 fen off an ordinary order and is used when the order is paid."""
    template_id = await template(mall)
    item = await live(mall, coupon(template_id))
    alice = await mall.shopper("alice")
    me = await grant(mall, alice, 1000)

    answer = await redeemed(mall, alice, item)
    assert answer["order"] is None
    got = answer["coupon"]
    assert (got["template_id"], got["amount_fen"], got["kind"], got["status"], got["source_type"], got["order_id"]) \
        == (template_id, 300, "amount", "available", "points_mall", None)
    assert await ledger(mall.runtime, me) == 600
    assert spent(await entries(mall.runtime, me)) == [("spent", -400, "coupon", got["id"])]
    assert await rows(mall.runtime, "SELECT customer_id, source_type, source_id FROM coupons") == [
        (me, "points_mall", item)]
    assert await value(mall.runtime, "SELECT issued FROM coupon_templates") == 1
    assert await standing(mall.runtime, item, me) == {
        "balance": 600, "sold": 1, "quota": 1, "coupons": 1, "orders": 0, "stock": 100}

    order = await mall.place_order(alice, coupon_ids=[got["id"]])
    assert order.status_code == 201, order.text
    assert order.json()["total_fen"] == TEA - 300
    assert [(a["kind"], a["amount_fen"]) for a in order.json()["adjustments"]] == [("coupon", -300)]
    paid = await mall.pay(alice, order.json()["id"])
    assert (paid["status"], paid["paid_fen"]) == ("to_ship", TEA - 300)
    assert await rows(mall.runtime, "SELECT status, order_id FROM coupons") == [("used", paid["id"])]
    assert await ledger(mall.runtime, me) == 600


# --- goods ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("cash", "shipping", "total"), [(300, 500, 800), (0, 0, 0)],
                         ids=["cash_part_and_shipping", "points_only"])
async def test_goods_become_an_order_priced_at_the_cash_part(client, mall, configured, cash, shipping, total):
    """The tea for 800 points (+ `cash` fen): an order of kind points_mall for the item, its line priced down to the
    cash part (adjustment points_price), plus the merchant's shipping; 800 points spent on the order at once. Paid
    as usual: through the provider, or at once with nothing to pay (no payment row); then shipped, received and
    completed, earning points only for the cash kept."""
    if shipping:
        response = await client.patch("/admin/merchant", headers=await mall.staff(),
                                      json={"shipping_fee_fen": shipping})
        assert response.status_code == 200, response.text
    item = await live(mall, goods(mall, cash_fen=cash), stock_cap=10)
    alice = await mall.shopper("alice")
    me = await grant(mall, alice, 1000)

    answer = await redeemed(mall, alice, item)
    order = answer["order"]
    assert answer["coupon"] is None
    assert (order["kind"], order["campaign_id"], order["status"], order["items_fen"], order["total_fen"]) == (
        "points_mall", item, "pending_payment", TEA, total)
    assert [(i["sku_id"], i["quantity"]) for i in order["items"]] == [(mall.sku_id, 1)]
    assert [(a["kind"], a["amount_fen"]) for a in order["adjustments"]] == [
        ("points_price", cash - TEA)] + ([("shipping", shipping)] if shipping else [])
    assert await rows(mall.runtime, "SELECT kind, source_id FROM order_adjustments ORDER BY id") == [
        ("points_price", item)] + ([("shipping", None)] if shipping else [])
    assert order["address"] == ADDRESS
    assert spent(await entries(mall.runtime, me)) == [("spent", -800, "order", order["id"])]
    assert await ledger(mall.runtime, me) == 200
    assert await standing(mall.runtime, item, me) == {
        "balance": 200, "sold": 1, "quota": 1, "coupons": 0, "orders": 1, "stock": 99}

    if total:
        paid = await mall.pay(alice, order["id"])
    else:
        response = await client.post(f"/orders/{order['id']}/pay", headers=alice)
        assert response.status_code == 200, response.text
        assert response.json() == {"payment_id": None, "provider": "none", "stage": "full", "amount_fen": 0,
                                   "params": {}}
        paid = await mall.get_order(alice, order["id"])
    assert (paid["status"], paid["paid_fen"]) == ("to_ship", total)
    assert await value(mall.runtime, "SELECT count(*) FROM payments") == (1 if total else 0)

    await complete(mall, alice, order["id"])
    earned = [m for m in moves(await entries(mall.runtime, me)) if m[0] == "earned" and m[2] == "order"]
    assert earned == ([("earned", total // 100, "order", order["id"])] if total else [])
    assert await ledger(mall.runtime, me) == 200 + total // 100
    assert await standing(mall.runtime, item, me) == {
        "balance": 200 + total // 100, "sold": 1, "quota": 1, "coupons": 0, "orders": 1, "stock": 99}


# --- refusals ---------------------------------------------------------------------------------------------------------


async def test_refused_redemptions_change_nothing(client, mall, configured):
    """Too few points (some, or none ever), no address for goods, an item paused, ended, not yet started or past
    its window, an item of another merchant or no item at all, a SKU out of stock, a coupon template with nothing
    left: each refused with its code, and no balance, unit, quota, coupon, order or stock moves."""
    template_id = await template(mall, stock=1)
    tea = await live(mall, goods(mall))
    voucher = await live(mall, coupon(template_id))
    paused = await live(mall, goods(mall))
    await move(mall, paused, "pause")
    ended = await live(mall, goods(mall))
    await move(mall, ended, "end")
    later = await live(mall, goods(mall), starts_in=timedelta(hours=1))
    closing = await live(mall, goods(mall), lasts=timedelta(hours=2))
    empty_sku = await add_sku(mall, price_fen=TEA, stock=0)
    no_stock = await live(mall, goods(mall, sku_id=empty_sku))
    other = await Mall.create(client, mall.runtime, slug="other")
    await configure(other)
    foreign = await live(other, goods(other))

    alice, bob, carol, dave, erin = [await mall.shopper(name) for name in ("alice", "bob", "carol", "dave", "erin")]
    me = await grant(mall, alice, 700)
    await grant(mall, bob, 399)
    await grant(mall, carol, 400)
    await grant(mall, erin, 5000)
    before = await standing(mall.runtime, tea, me)

    assert (await refused(mall, redeem(mall, alice, tea), 409, "insufficient_points"))["balance"] == 700
    assert (await refused(mall, redeem(mall, bob, voucher), 409, "insufficient_points"))["balance"] == 399
    assert (await refused(mall, redeem(mall, dave, voucher), 409, "insufficient_points"))["balance"] == 0
    await refused(mall, redeem(mall, alice, tea, address=None), 422, "address_required")
    for item in (paused, ended, later):
        await refused(mall, redeem(mall, alice, item), 409, "campaign_not_live")
    for item in (foreign, 999_999):
        await refused(mall, redeem(mall, alice, item), 404, "campaign_not_found")
    await refused(mall, redeem(mall, erin, no_stock), 409, "out_of_stock")
    assert (await redeemed(mall, carol, voucher))["coupon"]["template_id"] == template_id  # the template's last one
    await refused(mall, redeem(mall, alice, voucher), 409, "coupon_out_of_stock")
    mall.runtime.clock.advance(hours=2)  # type: ignore[attr-defined]
    await refused(mall, redeem(mall, alice, closing), 409, "campaign_not_live")

    assert await standing(mall.runtime, tea, me) == before == {
        "balance": 700, "sold": 0, "quota": 0, "coupons": 0, "orders": 0, "stock": 100}
    assert await ledger(mall.runtime, me) == 700


async def test_each_customer_redeems_up_to_the_limit(client, mall, configured):
    """per_customer_limit 2 on a coupon: the third redemption is 409 campaign_limit_reached (limit 2) and changes
    nothing; another customer still redeems. Goods count the same: with a limit of 1 the second order is refused."""
    item = await live(mall, coupon(await template(mall), points=100, per_customer_limit=2))
    tea = await live(mall, goods(mall, points=100, cash_fen=0))
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    me = await grant(mall, alice, 1000)
    him = await grant(mall, bob, 100)

    for _ in range(2):
        await redeemed(mall, alice, item)
    assert (await refused(mall, redeem(mall, alice, item), 409, "campaign_limit_reached"))["limit"] == 2
    await redeemed(mall, bob, item)
    assert await standing(mall.runtime, item, me) == {
        "balance": 800, "sold": 3, "quota": 2, "coupons": 2, "orders": 0, "stock": 100}
    assert await standing(mall.runtime, item, him) == {
        "balance": 0, "sold": 3, "quota": 1, "coupons": 1, "orders": 0, "stock": 100}

    await redeemed(mall, alice, tea)
    assert (await refused(mall, redeem(mall, alice, tea), 409, "campaign_limit_reached"))["limit"] == 1
    assert await standing(mall.runtime, tea, me) == {
        "balance": 700, "sold": 1, "quota": 1, "coupons": 2, "orders": 1, "stock": 99}


async def test_the_stock_cap_is_the_items_stock(client, mall, configured):
    """stock_cap 2 (limit 5 a customer): two redemptions go through, the third is 409 campaign_sold_out with no
    points taken; the item stays listed with 0 left."""
    tea = await live(mall, goods(mall, per_customer_limit=5), stock_cap=2)
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    me = await grant(mall, alice, 2400)
    await grant(mall, bob, 800)

    await redeemed(mall, alice, tea)
    await redeemed(mall, bob, tea)
    await refused(mall, redeem(mall, alice, tea), 409, "campaign_sold_out")
    assert await standing(mall.runtime, tea, me) == {
        "balance": 1600, "sold": 2, "quota": 1, "coupons": 0, "orders": 1, "stock": 98}
    assert [(i["campaign_id"], i["stock_left"]) for i in await listing(mall, alice)] == [(tea, 0)]


# --- giving back ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["by_the_shopper", "by_the_payment_timeout"])
async def test_cancelling_the_unpaid_order_gives_everything_back(client, mall, configured, how):
    """The last unit (cap 1), redeemed and not paid, then cancelled (POST /orders/{id}/cancel, or the worker's
    sweep once the 30 minutes to pay have passed): the 800 points come back as a bucket sourced to the order, the
    unit, the quota and the tea's stock too, and the item can be redeemed again."""
    tea = await live(mall, goods(mall), stock_cap=1)
    alice = await mall.shopper("alice")
    me = await grant(mall, alice, 1000)
    order = (await redeemed(mall, alice, tea))["order"]
    assert await standing(mall.runtime, tea, me) == {
        "balance": 200, "sold": 1, "quota": 1, "coupons": 0, "orders": 1, "stock": 99}

    if how == "by_the_shopper":
        response = await client.post(f"/orders/{order['id']}/cancel", headers=alice)
        assert response.status_code == 200, response.text
    else:
        mall.runtime.clock.advance(minutes=31)  # type: ignore[attr-defined]
        await mall.work()
    assert (await mall.get_order(alice, order["id"]))["status"] == "cancelled"
    assert returned(await entries(mall.runtime, me)) == [("returned", 800, "order", order["id"])]
    assert await ledger(mall.runtime, me) == 1000
    assert await standing(mall.runtime, tea, me) == {
        "balance": 1000, "sold": 0, "quota": 0, "coupons": 0, "orders": 1, "stock": 100}
    assert [(i["campaign_id"], i["stock_left"]) for i in await listing(mall, alice)] == [(tea, 1)]

    again = (await redeemed(mall, alice, tea))["order"]
    assert spent(await entries(mall.runtime, me)) == [("spent", -800, "order", order["id"]),
                                                      ("spent", -800, "order", again["id"])]
    assert await standing(mall.runtime, tea, me) == {
        "balance": 200, "sold": 1, "quota": 1, "coupons": 0, "orders": 2, "stock": 99}


async def test_a_refund_gives_the_points_back_by_the_refunded_share(client, mall, configured):
    """The tea for 1 000 points and 300 fen, paid. A refund of 100 fen returns 1 000 × 100 // 300 = 333 points, the
    refund of the other 200 fen the remaining 667 (the shares sum exactly to what was spent), each a bucket sourced
    to its refund; refunded in full before shipping, the order gives back the unit, the quota and the stock, and
    no points a second time."""
    tea = await live(mall, goods(mall, points=1000), stock_cap=1)
    alice = await mall.shopper("alice")
    me = await grant(mall, alice, 1000)
    order = (await redeemed(mall, alice, tea))["order"]
    assert (await mall.pay(alice, order["id"]))["paid_fen"] == 300
    assert await ledger(mall.runtime, me) == 0

    await merchant_refund(mall, order["id"], 100)
    after_first = await mall.get_order(alice, order["id"])
    assert (after_first["status"], after_first["refunded_fen"]) == ("to_ship", 100)
    [first] = [r["id"] for r in after_first["refunds"]]
    assert returned(await entries(mall.runtime, me)) == [("returned", 333, "refund", first)]
    assert await standing(mall.runtime, tea, me) == {
        "balance": 333, "sold": 1, "quota": 1, "coupons": 0, "orders": 1, "stock": 99}

    await merchant_refund(mall, order["id"], 200)
    after_all = await mall.get_order(alice, order["id"])
    assert (after_all["status"], after_all["refunded_fen"]) == ("refunded", 300)
    [second] = [r["id"] for r in after_all["refunds"] if r["id"] != first]
    assert returned(await entries(mall.runtime, me)) == [("returned", 333, "refund", first),
                                                         ("returned", 667, "refund", second)]
    assert await ledger(mall.runtime, me) == 1000
    assert await standing(mall.runtime, tea, me) == {
        "balance": 1000, "sold": 0, "quota": 0, "coupons": 0, "orders": 1, "stock": 100}


# --- checkout ---------------------------------------------------------------------------------------------------------


def order_through_the_mall(mall: Mall, who: Who, campaign_id: int, sku_id: int | None = None,
                           **extra: Any) -> Awaitable[httpx.Response]:
    """POST /orders with campaign {kind: points_mall} (not awaited)."""
    return mall.place_order(who, sku_id=sku_id, campaign={"kind": "points_mall", "campaign_id": campaign_id},
                            **extra)


async def test_checkout_points_are_refused_on_a_points_mall_order(client, mall, configured):
    """POST /orders through the points mall with `points` as well (worth 100 fen, within the 50% limit of the
    600-fen cash part): 422 points_not_with_points_mall and no row changes. Another SKU, or a coupon item, through
    /orders: 422 wrong_item. Without the extra points the order goes through, spending only the item's points."""
    tea = await live(mall, goods(mall, cash_fen=600))
    voucher = await live(mall, coupon(await template(mall)))
    cups = await add_sku(mall, price_fen=TEA)
    alice = await mall.shopper("alice")
    me = await grant(mall, alice, 2000)

    await refused(mall, order_through_the_mall(mall, alice, tea, points=100), 422, "points_not_with_points_mall")
    await refused(mall, order_through_the_mall(mall, alice, tea, sku_id=cups), 422, "wrong_item")
    await refused(mall, order_through_the_mall(mall, alice, voucher), 422, "wrong_item")

    response = await order_through_the_mall(mall, alice, tea)
    assert response.status_code == 201, response.text
    order = response.json()
    assert (order["kind"], order["total_fen"]) == ("points_mall", 600)
    assert spent(await entries(mall.runtime, me)) == [("spent", -800, "order", order["id"])]
    assert await ledger(mall.runtime, me) == 1200


async def test_the_per_customer_limit_counts_units_ordered_through_checkout(client, mall, configured):
    """per_customer_limit 1: POST /orders through the points mall for 3 teas at once must be refused (the limit, or
    one unit per redemption as POST /points-mall/{id}/redeem orders) and change nothing, rather than hand one
    customer 3 units for 3 × the points."""
    tea = await live(mall, goods(mall, per_customer_limit=1), stock_cap=10)
    alice = await mall.shopper("alice")
    me = await grant(mall, alice, 5000)

    before = await snapshot(mall.runtime)
    response = await mall.place_order(alice, 3, campaign={"kind": "points_mall", "campaign_id": tea})
    problem(response, 422, "wrong_item")
    assert await snapshot(mall.runtime) == before
    assert await standing(mall.runtime, tea, me) == {
        "balance": 5000, "sold": 0, "quota": 0, "coupons": 0, "orders": 0, "stock": 100}


async def test_no_points_are_taken_for_a_coupon_already_expired(client, mall, configured):
    """The item's coupon template is valid until tomorrow, the item runs 30 days. Two days on, a redemption would
    issue a coupon that expired yesterday: it must be refused (409) and take no points, issue nothing."""
    valid_until = mall.runtime.clock.now() + timedelta(days=1)
    item = await live(mall, coupon(await template(mall, valid_days=None, valid_until=valid_until.isoformat())))
    alice = await mall.shopper("alice")
    me = await grant(mall, alice, 1000)
    mall.runtime.clock.advance(days=2)  # type: ignore[attr-defined]

    before = await snapshot(mall.runtime)
    problem(await redeem(mall, alice, item), 409, "coupon_not_claimable")
    assert await snapshot(mall.runtime) == before
    assert await standing(mall.runtime, item, me) == {
        "balance": 1000, "sold": 0, "quota": 0, "coupons": 0, "orders": 0, "stock": 100}
