"""Multi-product group buying (多产品拼团) through the API: a group over a set of products, each member choosing one
product and SKU and paying its own group price; the group fills by paid members whatever each chose; SKU stock and
the per-customer limit hold as for one product; a group that fails refunds everyone once. Every bad setting is a 422
naming its field, every bad plan a lint finding, every bad choice a problem with its code that changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from fissionmall.catalog.models import Product, Sku
from tests.campaigns.groupbuy.test_campaign_admin import act, create
from tests.campaigns.groupbuy.test_group_paths import group, group_events, group_id_of, refunds, snapshot
from tests.support import ADDRESS, Mall, Who, customer_id, problem, refused_unchanged, rows

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")

PUBLIC = "http://mall.test"
"""The pages are served beside the API (/m/…), off its /api/v1 prefix."""

WATCHED = ("orders", "order_items", "order_adjustments", "group_orders", "buying_groups", "campaigns",
           "campaign_quotas", "skus", "refunds", "events", "outbox_jobs", "payments")

# --- helpers ----------------------------------------------------------------------------------------------------------

FLAVOURS = {"原味": (1000, 800), "草莓": (1200, 900), "抹茶": (1500, 1100)}
"""Title → (list price, group price) of the three flavours each test sells."""


async def flavours(mall: Mall, stock: int = 50, stocks: dict[str, int] | None = None) -> dict[str, int]:
    """Three products of the mall, one SKU each (`stock` units, or as `stocks` says by title): title → SKU id (the
    products by `product_of`)."""
    made: dict[str, int] = {}
    async with mall.runtime.sessionmaker() as session:
        for title, (price, _) in FLAVOURS.items():
            product = Product(merchant_id=mall.merchant_id, title=f"酸奶·{title}", status="on_sale",
                              created_at=mall.runtime.clock.now())
            product.images = []
            product.skus = [Sku(merchant_id=mall.merchant_id, code=f"{mall.slug}-{title}", name="200g",
                                price_fen=price, stock=(stocks or {}).get(title, stock))]
            session.add(product)
            await session.flush()
            made[title] = product.skus[0].id
        await session.commit()
    return made


async def product_of(mall: Mall, sku_id: int) -> int:
    [(product_id,)] = await rows(mall.runtime, "SELECT product_id FROM skus WHERE id = :s", s=sku_id)
    return int(product_id)


async def products_setting(mall: Mall, skus: dict[str, int]) -> list[dict[str, Any]]:
    return [{"product_id": await product_of(mall, sku_id),
             "skus": [{"sku_id": sku_id, "group_price_fen": FLAVOURS[title][1]}]} for title, sku_id in skus.items()]


def body(mall: Mall, **settings: Any) -> dict[str, Any]:
    now = mall.runtime.clock.now()
    return {"kind": "group", "name": "三味任选团", "starts_at": (now - timedelta(hours=1)).isoformat(),
            "ends_at": (now + timedelta(days=7)).isoformat(), "settings": {"group_size": 3, **settings}}


async def multi_campaign(mall: Mall, skus: dict[str, int], **settings: Any) -> int:
    """A live three-flavour group of three (settings override); its id."""
    response = await create(mall, body(mall, products=await products_setting(mall, skus), **settings))
    assert response.status_code == 201, response.text
    campaign_id: int = response.json()["id"]
    activated = await act(mall, campaign_id, "activate")
    assert activated.status_code == 200, activated.text
    return campaign_id


def choose(mall: Mall, who: Who, campaign_id: int, sku_id: int, group_id: int | None = None,
           items: list[dict[str, int]] | None = None) -> Any:
    """POST /orders choosing this SKU: opens a group, or joins one. Not awaited."""
    return mall.client.post("/orders", headers=who, json={
        "items": items or [{"sku_id": sku_id, "quantity": 1}], "address": ADDRESS,
        "campaign": {"kind": "group", "campaign_id": campaign_id, "target_id": group_id}})


async def chosen(mall: Mall, who: Who, campaign_id: int, sku_id: int, group_id: int | None = None) -> dict[str, Any]:
    response: httpx.Response = await choose(mall, who, campaign_id, sku_id, group_id)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def stock(mall: Mall, skus: dict[str, int]) -> dict[str, int]:
    found = dict(await rows(mall.runtime, "SELECT id, stock FROM skus"))
    return {title: found[sku_id] for title, sku_id in skus.items()}


# --- settings: validated field by field ---------------------------------------------------------------------------


def _two(first: int, second: int, price: int = 800) -> list[dict[str, Any]]:
    return [{"product_id": first, "skus": [{"sku_id": 1, "group_price_fen": price}]},
            {"product_id": second, "skus": [{"sku_id": 2, "group_price_fen": price}]}]


@pytest.mark.parametrize(("settings", "field", "hint"), [
    ({"products": _two(1, 1)}, "settings.products", "每款商品只能列一次"),
    ({"products": [{"product_id": 1, "skus": [{"sku_id": 1, "group_price_fen": 800}]},
                   {"product_id": 2, "skus": [{"sku_id": 1, "group_price_fen": 700}]}]},
     "settings.products", "每个规格只能列一次"),
    ({"products": _two(1, 2)[:1]}, "settings.products", "多商品拼团至少列出两款商品；只卖一款请用上方的活动商品"),
    ({"products": [{"product_id": 1, "skus": []}, *_two(2, 3)[1:]]}, "settings.products.0.skus", "至少选择 1 项"),
    ({"products": [{"product_id": 1, "skus": [{"sku_id": 1, "group_price_fen": 0}]}, *_two(2, 3)[1:]]},
     "settings.products.0.skus.0.group_price_fen", "不能小于 1"),
    ({"products": _two(1, 2), "product_id": 1}, "settings.product_id",
     "单一商品与多商品只能选一种：用多商品拼团时，上方的活动商品与规格留空"),
    ({"products": _two(1, 2), "skus": [{"sku_id": 3, "group_price_fen": 800}]}, "settings.skus",
     "单一商品与多商品只能选一种：用多商品拼团时，上方的活动商品与规格留空"),
    ({}, "settings.product_id", "请选择活动商品，或在多商品拼团中列出商品"),
    ({"product_id": 1}, "settings.skus", "请至少填写一个规格及其拼团价"),
    ({"products": _two(1, 2), "tiers": [{"size": 3, "price_fen": 700}]}, "settings.tiers", "填写有误"),
    ({"products": _two(1, 2), "leader_discount_fen": 800}, "settings.leader_discount_fen", "填写有误"),
    ({"products": [{"product_id": i, "skus": [{"sku_id": i, "group_price_fen": 800}]} for i in range(1, 12)]},
     "settings.products", "最多选择 10 项"),
])
async def test_a_bad_product_list_is_refused_naming_its_field(client, mall, settings, field, hint):
    answer = await refused_unchanged(mall, create(mall, body(mall, **settings)), 422, "invalid_settings",
                                     tables=("campaigns",))
    assert answer["field"] == field
    assert answer["errors"][0]["hint"] == hint


async def test_the_settings_are_stored_in_their_own_form(client, mall):
    """A multi-product group keeps its products only; a one-product group keeps product_id and skus as ever."""
    skus = await flavours(mall)
    campaign_id = await multi_campaign(mall, skus)
    stored = (await client.get(f"/admin/campaigns/{campaign_id}", headers=await mall.staff())).json()
    assert "product_id" not in stored["settings"] and "skus" not in stored["settings"]
    assert stored["settings"]["products"] == await products_setting(mall, skus)
    assert stored["product_id"] == await product_of(mall, skus["原味"])  # the first product is the campaign's cover


# --- the linter: each product the merchant's, each SKU its product's, each price a real saving ----------------------


async def test_the_linter_checks_every_product_sku_and_price(client, mall, beta):
    skus = await flavours(mall)
    foreign = await flavours(beta)
    products = await products_setting(mall, skus)
    products[1]["skus"][0]["group_price_fen"] = FLAVOURS["草莓"][0]  # no cheaper than buying alone
    products[2]["skus"].append({"sku_id": skus["原味"] + 1000, "group_price_fen": 500})  # not a SKU of 抹茶
    foreign_product = {"product_id": await product_of(beta, foreign["原味"]),
                       "skus": [{"sku_id": foreign["原味"], "group_price_fen": 500}]}
    answer = await refused_unchanged(mall, create(mall, body(mall, products=[*products, foreign_product])), 422,
                                     "invalid_settings", tables=("campaigns", "campaign_products"))
    assert answer["field"] == "settings.products.3.product_id"  # another merchant's product: refused at once
    response = await create(mall, body(mall, products=products))
    assert response.status_code == 201, response.text
    campaign_id = response.json()["id"]
    answer = problem(await act(mall, campaign_id, "activate"), 409, "lint_blocked")
    found = [(f["rule"], f["check"], f["facts"].get("sku_id")) for f in answer["findings"]]
    assert found == [("P3", "group_price_not_lower", skus["草莓"]),
                     ("G1", "sku_not_of_product", skus["原味"] + 1000)]
    assert (await client.get(f"/admin/campaigns/{campaign_id}", headers=await mall.staff())).json()["status"] == \
        "draft"


# --- members choose different products; the group fills by paid members -------------------------------------------


async def test_members_choosing_different_products_fill_one_group_each_paying_their_price(client, mall):
    skus = await flavours(mall)
    campaign_id = await multi_campaign(mall, skus, leader_discount_fen=100)
    people = {name: await mall.shopper(name) for name in ("alice", "bob", "carol")}
    leader = await chosen(mall, people["alice"], campaign_id, skus["原味"])
    assert leader["total_fen"] == 800 - 100
    await mall.pay(people["alice"], leader["id"])
    group_id = await group_id_of(mall, leader["id"])
    assert group_id is not None
    orders = {"alice": leader["id"]}
    for name, flavour in (("bob", "草莓"), ("carol", "抹茶")):
        order = await chosen(mall, people[name], campaign_id, skus[flavour], group_id)
        assert order["total_fen"] == FLAVOURS[flavour][1]
        assert [(a["kind"], a["amount_fen"]) for a in order["adjustments"]] == \
            [("group_price", FLAVOURS[flavour][1] - FLAVOURS[flavour][0])]
        await mall.pay(people[name], order["id"])
        orders[name] = order["id"]

    view = await group(mall, group_id)
    assert (view["status"], view["paid_count"], view["places_left"]) == ("succeeded", 3, 0)
    assert [(m["nickname"], m["sku_id"], m["chose"]) for m in view["members"]] == [
        ("alice", skus["原味"], "酸奶·原味 · 200g"), ("bob", skus["草莓"], "酸奶·草莓 · 200g"),
        ("carol", skus["抹茶"], "酸奶·抹茶 · 200g")]
    assert [m["product_id"] for m in view["members"]] == [await product_of(mall, s) for s in skus.values()]
    for name, order_id in orders.items():
        assert (await mall.get_order(people[name], order_id))["status"] == "to_ship"
    assert await stock(mall, skus) == {"原味": 49, "草莓": 49, "抹茶": 49}
    assert [e[0] for e in await group_events(mall.runtime)] == ["group_open", "group_join", "group_join",
                                                                "group_success"]
    share = await client.post("/shares", headers=people["bob"], json={"target_type": "group", "target_id": group_id})
    assert share.status_code == 201, share.text
    poster = await client.get(f"/shares/{share.json()['code']}/poster.png")
    assert (poster.status_code, poster.headers["content-type"]) == (200, "image/png")


async def test_every_products_page_lists_the_group_with_its_own_price(client, mall):
    """Each product's page (GET /products/{id}) lists the live group; editing the list moves it from page to page."""
    skus = await flavours(mall)
    campaign_id = await multi_campaign(mall, skus)
    for title, sku_id in skus.items():
        listed = (await client.get(f"/products/{await product_of(mall, sku_id)}",
                                   params={"merchant": mall.slug})).json()["campaigns"]
        assert [(c["id"], c["kind"]) for c in listed] == [(campaign_id, "group")], title
        assert listed[0]["products"] == [await product_of(mall, s) for s in skus.values()]
    page = (await client.get(f"{PUBLIC}/m/{mall.slug}/products/{await product_of(mall, skus['草莓'])}")).text
    assert "拼团价 ¥9.00，本团 3 款商品任选一款" in page and "3人团 ¥9.00 · 3 款任选" in page  # its own price
    assert (await act(mall, campaign_id, "pause")).status_code == 200
    two = {t: s for t, s in skus.items() if t != "抹茶"}
    edited = await client.patch(f"/admin/campaigns/{campaign_id}", headers=await mall.staff(),
                                json={"settings": {"group_size": 3, "products": await products_setting(mall, two)}})
    assert edited.status_code == 200, edited.text
    assert (await act(mall, campaign_id, "activate")).status_code == 200
    matcha = (await client.get(f"/products/{await product_of(mall, skus['抹茶'])}",
                               params={"merchant": mall.slug})).json()["campaigns"]
    assert matcha == []
    assert await rows(mall.runtime, "SELECT product_id FROM campaign_products") == [
        (await product_of(mall, skus["草莓"]),)]


async def test_the_campaign_and_its_rules_say_what_each_member_may_choose_and_pays(client, mall):
    skus = await flavours(mall)
    campaign_id = await multi_campaign(mall, skus)
    view = (await client.get(f"/group-campaigns/{campaign_id}", params={"merchant": mall.slug})).json()
    assert view["products"] == await products_setting(mall, skus)
    assert view["skus"] == [p["skus"][0] for p in view["products"]]
    assert view["rules"][1:5] == [
        "未成团：已付款的每位成员自动全额退款，原路返回。",
        "本团共 3 款商品可选：开团和参团时每人任选其中一款（及规格），按所选规格的拼团价付款；不论各人选哪一款，"
        "付款人数凑满即成团。",
        "酸奶·原味：拼团价 ¥8.00。", "酸奶·草莓：拼团价 ¥9.00。"]
    rules = (await client.get(f"/admin/campaigns/{campaign_id}", headers=await mall.staff())).json()
    assert rules["status"] == "active"


# --- bad choices: a problem with its code, nothing changed ----------------------------------------------------------


async def test_a_choice_outside_the_groups_products_or_skus_is_refused(client, mall):
    skus = await flavours(mall)
    products = await products_setting(mall, {t: s for t, s in skus.items() if t != "抹茶"})
    response = await create(mall, body(mall, products=products))
    campaign_id = response.json()["id"]
    assert (await act(mall, campaign_id, "activate")).status_code == 200
    alice = await mall.shopper("alice")
    strawberry_product = await product_of(mall, skus["草莓"])
    async with mall.runtime.sessionmaker() as session:  # a second SKU of a listed product, not on sale in the group
        extra = Sku(merchant_id=mall.merchant_id, product_id=strawberry_product, code="acme-extra", name="500g",
                    price_fen=2000, stock=5)
        session.add(extra)
        await session.commit()
        extra_id = extra.id
    answer = await refused_unchanged(mall, choose(mall, alice, campaign_id, skus["抹茶"]), 422,
                                     "product_not_in_campaign", tables=WATCHED)
    assert answer["field"] == "items"
    assert answer["message"] == "这款商品不在本团可选的商品中，请从团里列出的商品中选择"
    await refused_unchanged(mall, choose(mall, alice, campaign_id, extra_id), 422, "sku_not_in_campaign",
                            tables=WATCHED)
    await refused_unchanged(mall, choose(mall, alice, campaign_id, mall.sku_id), 422, "product_not_in_campaign",
                            tables=WATCHED)
    two = [{"sku_id": skus["原味"], "quantity": 1}, {"sku_id": skus["草莓"], "quantity": 1}]
    await refused_unchanged(mall, choose(mall, alice, campaign_id, 0, items=two), 422, "one_item_per_group_order",
                            tables=WATCHED)
    await refused_unchanged(mall, choose(mall, alice, campaign_id, 10_000), 422, "sku_unavailable", tables=WATCHED)


async def test_joining_with_another_product_is_refused_when_the_group_is_full(client, mall):
    skus = await flavours(mall)
    campaign_id = await multi_campaign(mall, skus, group_size=2)
    alice, bob, carol = [await mall.shopper(n) for n in ("alice", "bob", "carol")]
    order = await chosen(mall, alice, campaign_id, skus["原味"])
    await mall.pay(alice, order["id"])
    group_id = await group_id_of(mall, order["id"])
    await mall.pay(bob, (await chosen(mall, bob, campaign_id, skus["草莓"], group_id))["id"])
    await refused_unchanged(mall, choose(mall, carol, campaign_id, skus["抹茶"], group_id), 409, "group_full",
                            tables=WATCHED)


# --- stock per SKU and the per-customer limit, as for one product ---------------------------------------------------


async def test_each_sku_keeps_its_own_stock_and_the_limit_counts_every_product(client, mall):
    skus = await flavours(mall, stock=1)
    campaign_id = await multi_campaign(mall, skus, group_size=5)
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    order = await chosen(mall, alice, campaign_id, skus["原味"])
    await mall.pay(alice, order["id"])
    group_id = await group_id_of(mall, order["id"])
    await refused_unchanged(mall, choose(mall, bob, campaign_id, skus["原味"], group_id), 409, "out_of_stock",
                            tables=WATCHED)
    bobs = await chosen(mall, bob, campaign_id, skus["草莓"], group_id)  # another flavour still has stock
    await refused_unchanged(mall, choose(mall, bob, campaign_id, skus["抹茶"]), 409, "campaign_limit_reached",
                            tables=WATCHED)
    assert await stock(mall, skus) == {"原味": 0, "草莓": 0, "抹茶": 1}
    cancelled = await client.post(f"/orders/{bobs['id']}/cancel", headers=bob)
    assert cancelled.status_code == 200, cancelled.text
    assert await stock(mall, skus) == {"原味": 0, "草莓": 1, "抹茶": 1}
    await chosen(mall, bob, campaign_id, skus["抹茶"], group_id)  # the cancel gave the allowance back


# --- a group that does not fill refunds everyone, each their own price, once ---------------------------------------


async def test_a_multi_product_group_that_does_not_fill_refunds_each_member_once(client, mall, clock):
    skus = await flavours(mall)
    campaign_id = await multi_campaign(mall, skus, fill_minutes=60)
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    first = await chosen(mall, alice, campaign_id, skus["抹茶"])
    await mall.pay(alice, first["id"])
    group_id = await group_id_of(mall, first["id"])
    second = await chosen(mall, bob, campaign_id, skus["草莓"], group_id)
    await mall.pay(bob, second["id"])
    assert await stock(mall, skus) == {"原味": 50, "草莓": 49, "抹茶": 49}
    clock.advance(minutes=60)
    await mall.work()
    for who, order, paid in ((alice, first, 1100), (bob, second, 900)):
        refunded = await mall.get_order(who, order["id"])
        assert (refunded["status"], refunded["paid_fen"], refunded["refunded_fen"]) == ("refunded", paid, paid)
        assert refunds(refunded) == [(paid, "system", "succeeded")]
    assert (await group(mall, group_id))["status"] == "failed"
    assert await stock(mall, skus) == {"原味": 50, "草莓": 50, "抹茶": 50}
    assert await rows(mall.runtime, "SELECT customer_id, used FROM campaign_quotas ORDER BY customer_id") == [
        (await customer_id(mall, alice), 0), (await customer_id(mall, bob), 0)]
    before = await snapshot(mall.runtime)
    await mall.work()
    assert await snapshot(mall.runtime) == before
