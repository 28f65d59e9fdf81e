"""The catalog: admin CRUD with validation, stock edits that never go below zero, what shoppers see
(on-sale products only), cursor pagination and the default mall."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from fissionmall.catalog.models import Category, Product, ProductImage, Sku
from fissionmall.catalog.schemas import MAX_PRICE_FEN
from tests.support import Mall, problem

pytestmark = pytest.mark.usefixtures("light_password_hashes")  # staff log in through the real endpoint often


async def count(runtime, model) -> int:
    async with runtime.sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def counts(runtime) -> tuple[int, ...]:
    return tuple([await count(runtime, model) for model in (Product, Sku, ProductImage, Category)])


def coffee(**changes: Any) -> dict[str, Any]:
    """A valid product body; keyword arguments replace its fields."""
    body: dict[str, Any] = {
        "title": "Yunnan coffee beans", "subtitle": "medium roast", "description": "Fresh every week.",
        "images": ["https://cdn.example.com/coffee.png", "/media/uploads/1/beans.png"],
        "skus": [{"code": "coffee-250", "name": "250g", "price_fen": 3990, "stock": 20},
                 {"code": "coffee-500", "name": "500g", "price_fen": 6990, "stock": 0}],
    }
    return {**body, **changes}


def sku(**changes: Any) -> dict[str, Any]:
    return {"code": "x-1", "name": "one", "price_fen": 100, "stock": 1, **changes}


async def admin_product(mall: Mall, product_id: int) -> dict[str, Any]:
    response = await mall.client.get(f"/admin/products/{product_id}", headers=await mall.staff())
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def walk(client: httpx.AsyncClient, path: str, limit: int, *, params: dict[str, Any] | None = None,
               headers: dict[str, str] | None = None) -> list[list[int]]:
    """Follow next_cursor from the first page to the last; the ids of each page."""
    pages, cursor = [], None
    while True:
        query = {**(params or {}), "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = await client.get(path, params=query, headers=headers)
        assert response.status_code == 200, response.text
        pages.append([item["id"] for item in response.json()["items"]])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50, "pagination does not end"


# --- creating products -------------------------------------------------------------------------------


async def test_create_product_with_skus_and_images(client, mall):
    owner = await mall.staff()
    category = (await client.post("/admin/categories", headers=owner, json={"name": "Coffee"})).json()
    response = await client.post("/admin/products", headers=owner, json=coffee(category_id=category["id"]))
    assert response.status_code == 201, response.text
    created = response.json()
    skus = created.pop("skus")
    assert created == {"id": created["id"], "title": "Yunnan coffee beans", "subtitle": "medium roast",
                       "description": "Fresh every week.", "category_id": category["id"], "status": "on_sale",
                       "images": ["https://cdn.example.com/coffee.png", "/media/uploads/1/beans.png"],
                       "campaigns": []}
    assert [(s["code"], s["name"], s["price_fen"], s["stock"], s["active"]) for s in skus] == [
        ("coffee-250", "250g", 3990, 20, True), ("coffee-500", "500g", 6990, 0, True)]
    assert (await admin_product(mall, created["id"]))["skus"] == skus
    shown = await client.get(f"/products/{created['id']}", params={"merchant": "acme"})
    assert shown.status_code == 200
    assert shown.json() == {**created, "skus": skus}
    cards = (await client.get("/products", params={"merchant": "acme"})).json()["items"]
    assert cards[-1] == {"id": created["id"], "title": "Yunnan coffee beans", "subtitle": "medium roast",
                         "category_id": category["id"], "status": "on_sale", "price_fen": 3990,
                         "image": "https://cdn.example.com/coffee.png", "in_stock": True}


async def test_limits_are_inclusive(client, mall):
    """A 120-character title, the price cap itself and zero stock are all accepted."""
    body = coffee(title="t" * 120, images=[], skus=[sku(price_fen=MAX_PRICE_FEN, stock=0)])
    response = await client.post("/admin/products", headers=await mall.staff(), json=body)
    assert response.status_code == 201, response.text
    assert response.json()["skus"][0]["price_fen"] == MAX_PRICE_FEN == 100_000_000
    card = (await client.get("/products", params={"merchant": "acme"})).json()["items"][-1]
    assert (card["price_fen"], card["image"], card["in_stock"]) == (MAX_PRICE_FEN, None, False)


@pytest.mark.parametrize("changes, field", [
    ({"skus": []}, "skus"),
    ({"skus": None}, "skus"),
    ({"skus": [sku(price_fen=0)]}, "skus.0.price_fen"),
    ({"skus": [sku(price_fen=-5)]}, "skus.0.price_fen"),
    ({"skus": [sku(price_fen=MAX_PRICE_FEN + 1)]}, "skus.0.price_fen"),
    ({"skus": [sku(price_fen=9.99)]}, "skus.0.price_fen"),
    ({"skus": [sku(stock=-1)]}, "skus.0.stock"),
    ({"skus": [sku(code="dup"), sku(code="dup", name="two")]}, "skus"),
    ({"skus": [sku(code="has space")]}, "skus.0.code"),
    ({"images": ["javascript:alert(1)"]}, "images"),
    ({"images": ["https://cdn.example.com/ok.png", "data:image/png;base64,AAAA"]}, "images"),
    ({"images": ["//evil.example/x.png"]}, "images"),
    ({"images": [f"https://cdn.example.com/{i}.png" for i in range(21)]}, "images"),
    ({"title": "t" * 121}, "title"),
    ({"title": ""}, "title"),
    ({"status": "deleted"}, "status"),
    ({"category_id": 0}, "category_id"),
])
async def test_invalid_product_is_refused_naming_the_field(client, mall, runtime, changes, field):
    before = await counts(runtime)
    body = {k: v for k, v in coffee(**changes).items() if v is not None}
    answer = problem(await client.post("/admin/products", headers=await mall.staff(), json=body),
                     422, "invalid_request")
    assert answer["errors"][0]["field"] == field, answer
    assert answer["detail"].startswith(f"{field}: ")
    assert await counts(runtime) == before


async def test_sku_code_already_used_is_a_conflict(client, mall, runtime):
    owner = await mall.staff()
    before = await counts(runtime)
    body = coffee(skus=[sku(code="fresh-1"), sku(code="acme-tea", name="two")])
    answer = problem(await client.post("/admin/products", headers=owner, json=body), 409, "sku_code_taken")
    assert "acme-tea" in answer["detail"] and "fresh-1" not in answer["detail"]
    problem(await client.post(f"/admin/products/{mall.product_id}/skus", headers=owner, json=sku(code="acme-tea")),
            409, "sku_code_taken")
    assert await counts(runtime) == before
    added = await client.post(f"/admin/products/{mall.product_id}/skus", headers=owner, json=sku(code="fresh-1"))
    assert added.status_code == 201, added.text
    assert [s["code"] for s in (await admin_product(mall, mall.product_id))["skus"]] == ["acme-tea", "fresh-1"]


@pytest.mark.postgres
async def test_concurrent_products_with_one_sku_code(client, mall, runtime):
    """Ten simultaneous creations with the same new code: one product, nine clean 409s, never a 500."""
    owner = await mall.staff()
    results = await asyncio.gather(*[
        client.post("/admin/products", headers=owner, json=coffee(title=f"race {i}", skus=[sku(code="race-1")]))
        for i in range(10)], return_exceptions=True)
    outcomes = sorted(str(r.status_code) if isinstance(r, httpx.Response) else repr(r)[:100] for r in results)
    assert outcomes == ["201"] + ["409"] * 9, outcomes
    assert await count(runtime, Product) == 2


@pytest.mark.postgres
async def test_concurrent_categories_with_one_name(client, mall, runtime):
    owner = await mall.staff()
    results = await asyncio.gather(*[client.post("/admin/categories", headers=owner, json={"name": "Coffee"})
                                     for _ in range(10)], return_exceptions=True)
    outcomes = sorted(str(r.status_code) if isinstance(r, httpx.Response) else repr(r)[:100] for r in results)
    assert outcomes == ["201"] + ["422"] * 9, outcomes
    assert await count(runtime, Category) == 1


async def test_unknown_category_is_refused(client, mall, runtime):
    owner = await mall.staff()
    before = await counts(runtime)
    answer = problem(await client.post("/admin/products", headers=owner, json=coffee(category_id=999_999)),
                     422, "category_not_found")
    assert answer["field"] == "category_id"
    problem(await client.patch(f"/admin/products/{mall.product_id}", headers=owner,
                               json={"category_id": 999_999, "title": "Renamed"}), 422, "category_not_found")
    assert await counts(runtime) == before
    assert (await admin_product(mall, mall.product_id))["title"] == "Tea"


async def test_categories_are_unique_and_ordered(client, mall):
    owner = await mall.staff()
    for name, position in [("Snacks", 2), ("Coffee", 1), ("Fruit", 2)]:
        assert (await client.post("/admin/categories", headers=owner,
                                  json={"name": name, "position": position})).status_code == 201
    problem(await client.post("/admin/categories", headers=owner, json={"name": "Coffee"}), 422, "category_exists")
    listed = (await client.get("/categories", params={"merchant": "acme"})).json()
    assert [c["name"] for c in listed] == ["Coffee", "Snacks", "Fruit"]


# --- editing products and SKUs -----------------------------------------------------------------------


async def test_stock_delta_never_takes_stock_below_zero(client, mall):
    """Stock moves by deltas; one that would go negative is refused whole (the other fields too)."""
    owner = await mall.staff()
    problem(await client.patch(f"/admin/skus/{mall.sku_id}", headers=owner, json={"stock_delta": -101}),
            409, "stock_below_zero")
    problem(await client.patch(f"/admin/skus/{mall.sku_id}", headers=owner,
                               json={"stock_delta": -101, "price_fen": 1, "name": "changed"}), 409, "stock_below_zero")
    assert (await admin_product(mall, mall.product_id))["skus"][0] | {"id": 0} == {
        "id": 0, "code": "acme-tea", "name": "100g", "price_fen": 1000, "stock": 100, "active": True}
    emptied = await client.patch(f"/admin/skus/{mall.sku_id}", headers=owner, json={"stock_delta": -100})
    assert emptied.json()["stock"] == 0
    restocked = await client.patch(f"/admin/skus/{mall.sku_id}", headers=owner,
                                   json={"stock_delta": 7, "price_fen": 1200})
    assert (restocked.json()["stock"], restocked.json()["price_fen"]) == (7, 1200)
    assert await mall.sku_stock() == 7


async def test_stock_delta_counts_from_the_current_stock(client, mall):
    """A restock adds to what orders left, it does not overwrite reservations made meanwhile."""
    await mall.order(await mall.shopper("alice"), quantity=3)
    response = await client.patch(f"/admin/skus/{mall.sku_id}", headers=await mall.staff(), json={"stock_delta": 10})
    assert response.json()["stock"] == 107


async def test_concurrent_stock_decreases_never_oversell(client, mall):
    """Ten simultaneous -15s on a stock of 100: exactly six apply, four are refused, 10 remain."""
    owner = await mall.staff()
    responses = await asyncio.gather(*[
        client.patch(f"/admin/skus/{mall.sku_id}", headers=owner, json={"stock_delta": -15}) for _ in range(10)])
    assert sorted(r.status_code for r in responses) == [200] * 6 + [409] * 4
    assert all(r.json()["code"] == "stock_below_zero" for r in responses if r.status_code == 409)
    assert sorted(r.json()["stock"] for r in responses if r.status_code == 200) == [10, 25, 40, 55, 70, 85]
    assert await mall.sku_stock() == 10


@pytest.mark.parametrize("body, field", [
    ({"price_fen": 0}, "price_fen"),
    ({"price_fen": MAX_PRICE_FEN + 1}, "price_fen"),
    ({"name": ""}, "name"),
    ({"stock_delta": 1_000_001}, "stock_delta"),
    pytest.param({"price_fen": None}, "price_fen", id="price_fen-null"),
    pytest.param({"name": None}, "name", id="name-null"),
    pytest.param({"active": None}, "active", id="active-null"),
])
async def test_invalid_sku_patch_is_refused(client, mall, body, field):
    """Out-of-range values, and null for a field that cannot be empty, are 422s that change nothing."""
    before = await admin_product(mall, mall.product_id)
    answer = problem(await client.patch(f"/admin/skus/{mall.sku_id}", headers=await mall.staff(), json=body),
                     422, "invalid_request")
    assert answer["errors"][0]["field"] == field
    assert await admin_product(mall, mall.product_id) == before


@pytest.mark.parametrize("body, field", [
    ({"title": "t" * 121}, "title"),
    ({"images": ["javascript:alert(1)"]}, "images"),
    ({"status": "gone"}, "status"),
    pytest.param({"title": None}, "title", id="title-null"),
    pytest.param({"status": None}, "status", id="status-null"),
])
async def test_invalid_product_patch_is_refused(client, mall, body, field):
    before = await admin_product(mall, mall.product_id)
    answer = problem(await client.patch(f"/admin/products/{mall.product_id}", headers=await mall.staff(), json=body),
                     422, "invalid_request")
    assert answer["errors"][0]["field"] == field
    assert await admin_product(mall, mall.product_id) == before


async def test_patch_product_replaces_images_in_order(client, mall, runtime):
    owner = await mall.staff()
    for images in (["/media/a.png", "/media/b.png", "/media/c.png"], ["/media/c.png", "/media/a.png"]):
        response = await client.patch(f"/admin/products/{mall.product_id}", headers=owner, json={"images": images})
        assert response.json()["images"] == images
        assert (await client.get(f"/products/{mall.product_id}", params={"merchant": "acme"})).json()["images"] == \
            images
    assert await count(runtime, ProductImage) == 2


# --- what shoppers see -------------------------------------------------------------------------------


async def test_off_sale_products_vanish_for_shoppers_but_stay_in_admin(client, mall):
    owner = await mall.staff()
    second = (await client.post("/admin/products", headers=owner, json=coffee())).json()
    hidden = await client.patch(f"/admin/products/{mall.product_id}", headers=owner, json={"status": "off_sale"})
    assert hidden.json()["status"] == "off_sale"
    alice = await mall.shopper("alice")
    for who in ({}, alice):
        listed = await client.get("/products", headers=who, params={"merchant": "acme"})
        assert [p["id"] for p in listed.json()["items"]] == [second["id"]]
        problem(await client.get(f"/products/{mall.product_id}", headers=who, params={"merchant": "acme"}),
                404, "product_not_found")
    problem(await mall.place_order(alice), 422, "sku_unavailable")
    assert await mall.sku_stock() == 100
    admin_list = (await client.get("/admin/products", headers=owner)).json()["items"]
    assert [(p["id"], p["status"]) for p in admin_list] == [(mall.product_id, "off_sale"), (second["id"], "on_sale")]
    assert (await admin_product(mall, mall.product_id))["status"] == "off_sale"
    await client.patch(f"/admin/products/{mall.product_id}", headers=owner, json={"status": "on_sale"})
    assert (await client.get(f"/products/{mall.product_id}", params={"merchant": "acme"})).status_code == 200


async def test_inactive_skus_are_hidden_from_shoppers(client, mall):
    owner = await mall.staff()
    created = (await client.post("/admin/products", headers=owner, json=coffee())).json()
    cheap = created["skus"][0]["id"]
    await client.patch(f"/admin/skus/{cheap}", headers=owner, json={"active": False})
    shown = (await client.get(f"/products/{created['id']}", params={"merchant": "acme"})).json()
    assert [s["code"] for s in shown["skus"]] == ["coffee-500"]
    assert [s["code"] for s in (await admin_product(mall, created["id"]))["skus"]] == ["coffee-250", "coffee-500"]
    card = (await client.get("/products", params={"merchant": "acme"})).json()["items"][-1]
    assert (card["price_fen"], card["in_stock"]) == (6990, False)
    problem(await mall.place_order(await mall.shopper("alice"), sku_id=cheap), 422, "sku_unavailable")


async def test_cursor_pagination_walks_every_page_once(client, mall):
    owner = await mall.staff()
    ids = [mall.product_id]
    for i in range(7):
        response = await client.post("/admin/products", headers=owner,
                                     json=coffee(title=f"Product {i}", skus=[sku(code=f"p-{i}")]))
        ids.append(response.json()["id"])
    await client.patch(f"/admin/products/{ids[3]}", headers=owner, json={"status": "off_sale"})
    on_sale = [i for i in ids if i != ids[3]]
    for limit in (1, 2, 3, 7, 100):
        pages = await walk(client, "/products", limit, params={"merchant": "acme"})
        assert [i for page in pages for i in page] == on_sale, (limit, pages)
        assert all(len(page) <= limit for page in pages)
    pages = await walk(client, "/admin/products", 3, headers=owner)
    assert [len(page) for page in pages] == [3, 3, 2]
    assert [i for page in pages for i in page] == ids


@pytest.mark.parametrize("cursor", ["abc", "-1", "1.5", " 1", "", pytest.param("²", id="superscript-two"), "9" * 19])
async def test_a_cursor_this_api_never_gave_is_refused(client, mall, cursor):
    problem(await client.get("/products", params={"merchant": "acme", "cursor": cursor}), 422, "invalid_cursor")
    problem(await client.get("/admin/products", headers=await mall.staff(), params={"cursor": cursor}),
            422, "invalid_cursor")


async def test_page_size_is_1_to_100(client, mall):
    for limit in (0, 101, -1):
        problem(await client.get("/products", params={"merchant": "acme", "limit": limit}), 422, "invalid_request")


async def test_category_filter(client, mall):
    owner = await mall.staff()
    category = (await client.post("/admin/categories", headers=owner, json={"name": "Coffee"})).json()
    created = (await client.post("/admin/products", headers=owner, json=coffee(category_id=category["id"]))).json()
    listed = await client.get("/products", params={"merchant": "acme", "category_id": category["id"]})
    assert [p["id"] for p in listed.json()["items"]] == [created["id"]]


# --- the default mall --------------------------------------------------------------------------------


@pytest.mark.parametrize("settings_overrides", [{"default_merchant": "other"}])
async def test_visitors_naming_no_mall_see_the_default_one(client, mall, runtime):
    other = await Mall.create(client, runtime, slug="other")
    assert [p["id"] for p in (await client.get("/products")).json()["items"]] == [other.product_id]
    assert (await client.get(f"/products/{other.product_id}")).status_code == 200
    problem(await client.get(f"/products/{mall.product_id}"), 404, "product_not_found")
    named = await client.get("/products", params={"merchant": "acme"})
    assert [p["id"] for p in named.json()["items"]] == [mall.product_id]


async def test_missing_default_mall_is_not_found(client, mall, runtime):
    assert runtime.settings.default_merchant == "demo"
    problem(await client.get("/products"), 404, "merchant_not_found")
    problem(await client.get("/products", params={"merchant": "nowhere"}), 404, "merchant_not_found")
