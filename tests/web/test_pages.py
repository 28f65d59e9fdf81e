"""The shopper's server-rendered H5 pages: the mall's front, a product, and the landing of a share link."""

from __future__ import annotations

import html
import itertools
import re
from typing import Any

import httpx
from sqlalchemy import select

from fissionmall.core.events import Event
from fissionmall.core.runtime import Runtime
from tests.support import Mall, customer_id

SITE = "http://mall.test"
CARD = re.compile(r'<div class="title">(.*?)</div>\s*<div class="price"><small>¥</small>(.*?)</div>', re.S)
SKU = re.compile(r'<label class="sku[^"]*">.*?<span>(.*?)</span>', re.S)
RECOMMENDATIONS = re.compile(r'<section class="recommendations".*?</section>', re.S)
BANNER = re.compile(r'<div class="banner">(.*?)</div>', re.S)
SKU_CODES = itertools.count(1)


# --- helpers ---------------------------------------------------------------------------------------------------------

async def page(client: httpx.AsyncClient, path: str, **params: str) -> str:
    """GET a page (outside /api/v1) and return its HTML."""
    response = await client.get(f"{SITE}{path}", params=params, follow_redirects=True)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html"), response.headers
    return response.text


def refused_page(response: httpx.Response, status: int, code: str) -> None:
    """A page refused: an HTML page with the Chinese message, its code in data-code (not problem+json)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert f'data-code="{code}"' in response.text, response.text


async def add_product(mall: Mall, title: str, *skus: tuple[str, int, int], status: str = "on_sale") -> dict[str, Any]:
    """A product made through the console API; skus are (name, price_fen, stock)."""
    body = {"title": title, "status": status, "skus": [
        {"code": f"sku-{next(SKU_CODES)}", "name": name, "price_fen": price, "stock": stock}
        for name, price, stock in skus]}
    response = await mall.client.post("/admin/products", headers=await mall.staff(), json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def deactivate(mall: Mall, sku_id: int) -> None:
    response = await mall.client.patch(f"/admin/skus/{sku_id}", headers=await mall.staff(), json={"active": False})
    assert response.status_code == 200, response.text


async def share(client: httpx.AsyncClient, who: dict[str, str], target_type: str, target_id: int) -> str:
    response = await client.post("/shares", headers=who, json={"target_type": target_type, "target_id": target_id})
    assert response.status_code == 201, response.text
    code: str = response.json()["code"]
    return code


async def clicks(runtime: Runtime) -> list[tuple[int | None, int | None, int]]:
    """(actor, inviter, depth) of each click, oldest first."""
    async with runtime.sessionmaker() as session:
        rows = (await session.execute(select(Event).where(Event.kind == "click").order_by(Event.id))).scalars()
        return [(e.actor_id, e.inviter_id, e.depth) for e in rows]


def catalogue(text: str) -> str:
    """The page without its recommendations (tests/recommend covers those)."""
    return RECOMMENDATIONS.sub("", text)


def cards(text: str) -> list[tuple[str, str]]:
    return [(html.unescape(title), price) for title, price in CARD.findall(catalogue(text))]


def sku_labels(text: str) -> list[str]:
    return [html.unescape(label) for label in SKU.findall(text)]


# --- the mall's front ------------------------------------------------------------------------------------------------

async def test_home_lists_products_on_sale_with_prices_in_yuan(client, mall):
    """Each tile shows the cheapest active SKU's price in yuan; off-sale products are not shown."""
    await add_product(mall, "Green Tea", ("250g", 2590, 5), ("100g", 1999, 5))
    await add_product(mall, "Oolong", ("100g", 777, 5), status="off_sale")
    await add_product(mall, "Sample", ("bag", 5, 5))
    gift = await add_product(mall, "Gift Box", ("big", 5000, 5), ("trial", 100, 5))
    await deactivate(mall, next(s["id"] for s in gift["skus"] if s["name"] == "trial"))

    text = await page(client, "/", merchant="acme")
    assert cards(text) == [("Tea", "10.00"), ("Green Tea", "19.99"), ("Sample", "0.05"), ("Gift Box", "50.00")]
    assert "Oolong" not in text
    assert "<title>acme mall</title>" in text


async def test_home_marks_sold_out_products(client, mall):
    await add_product(mall, "Gone", ("100g", 1200, 0))
    text = await page(client, "/", merchant="acme")
    tiles = catalogue(text).split('<a class="card"')[1:]
    assert [("Gone" in tile, "已售罄" in tile) for tile in tiles] == [(False, False), (True, True)]


async def test_home_shows_only_this_merchants_products(client, mall, beta):
    await add_product(beta, "Beta Coffee", ("1kg", 8800, 5))
    assert cards(await page(client, "/", merchant="acme")) == [("Tea", "10.00")]
    assert cards(await page(client, "/", merchant="beta")) == [("Tea", "10.00"), ("Beta Coffee", "88.00")]


async def test_home_of_an_unknown_merchant_is_not_found(client, mall):
    refused_page(await client.get(f"{SITE}/", params={"merchant": "nope"}, follow_redirects=True), 404,
                 "merchant_not_found")


async def test_merchant_text_is_escaped(client, mall):
    """Titles come from merchants' staff: they are shown as text, never run as markup."""
    await add_product(mall, "<script>alert(1)</script>", ("a", 100, 1))
    text = await page(client, "/", merchant="acme")
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


# --- a product -------------------------------------------------------------------------------------------------------

async def test_product_page_shows_active_skus_with_prices(client, mall):
    product = await add_product(mall, "Green Tea", ("250g", 2590, 5), ("100g", 1999, 0), ("1kg", 9900, 5))
    await deactivate(mall, next(s["id"] for s in product["skus"] if s["name"] == "1kg"))
    text = await page(client, f"/m/acme/products/{product['id']}")
    assert "<title>Green Tea</title>" in text
    assert sku_labels(text) == ["250g · ¥25.90", "100g · ¥19.99（缺货）"]
    assert '<div class="price"><small>¥</small>19.99</div>' in text
    assert "1kg" not in text
    assert BANNER.search(text) is None


async def test_product_page_of_an_off_sale_foreign_or_unknown_product_is_not_found(client, mall, beta):
    off = await add_product(mall, "Oolong", ("100g", 777, 5), status="off_sale")
    for product_id in (off["id"], beta.product_id, 999_999):
        refused_page(await client.get(f"{SITE}/m/acme/products/{product_id}"), 404, "product_not_found")
    refused_page(await client.get(f"{SITE}/m/nope/products/{mall.product_id}"), 404, "merchant_not_found")


async def test_product_page_with_every_sku_inactive_still_renders(client, mall):
    """A product on sale whose SKUs were all switched off is shown without a price, never as a server error."""
    product = await add_product(mall, "Paused", ("100g", 500, 5))
    await deactivate(mall, product["skus"][0]["id"])
    text = await page(client, f"/m/acme/products/{product['id']}")
    assert "Paused" in text
    assert sku_labels(text) == []


# --- the landing of a share link -------------------------------------------------------------------------------------

async def test_share_landing_shows_the_sharer_and_product_and_records_a_click(client, mall, runtime):
    alice = await mall.shopper("alice", nickname="Alice 小红")
    alice_id = await customer_id(mall, alice)
    code = await share(client, alice, "product", mall.product_id)

    text = await page(client, f"/s/{code}")
    assert BANNER.findall(text) == ["Alice 小红 分享给你的好物"]
    assert "<title>Tea</title>" in text
    assert sku_labels(text) == ["100g · ¥10.00"]
    assert await clicks(runtime) == [(None, alice_id, 1)]


async def test_invite_landing_invites_into_the_mall(client, mall, runtime):
    alice = await mall.shopper("alice", nickname="小红")
    alice_id = await customer_id(mall, alice)
    code = await share(client, alice, "invite", alice_id)
    text = await page(client, f"/s/{code}")
    assert BANNER.findall(text) == ["小红 邀请你来 acme mall"]
    assert '<a class="btn wide" href="/m/acme/login?next=/m/acme">登录，进入商城</a>' in text
    assert await clicks(runtime) == [(None, alice_id, 1)]


async def test_sharer_nickname_is_escaped_on_the_landing(client, mall):
    """Nicknames come from shoppers: a hostile one is shown as text."""
    alice = await mall.shopper("alice", nickname='<img src=x onerror="alert(1)">')
    code = await share(client, alice, "product", mall.product_id)
    text = await page(client, f"/s/{code}")
    assert "<img src=x" not in text
    assert [html.unescape(b) for b in BANNER.findall(text)] == ['<img src=x onerror="alert(1)"> 分享给你的好物']


async def test_a_forged_share_link_is_not_found_and_records_nothing(client, mall, runtime):
    alice = await mall.shopper("alice")
    code = await share(client, alice, "product", mall.product_id)
    forged = code[:-1] + ("0" if code[-1] != "0" else "1")
    for bad in (forged, code + "0", "0" + code, "x" * 33, code[:-1] + "-"):
        refused_page(await client.get(f"{SITE}/s/{bad}"), 404, "share_not_found")
    assert await clicks(runtime) == []


async def test_what_shoppers_and_merchants_typed_shows_as_text_on_the_product_and_home_pages(client, mall):
    """A review's text and its writer's nickname on the product page, a campaign's name on the home page: shown
    as text, never run."""
    from tests.community.test_reviews import received, review

    script = "<script>alert(1)</script>"
    alice = await mall.shopper("alice", nickname=script)
    order = await received(mall, alice)
    made = await client.post(f"/orders/{order['id']}/reviews", headers=alice, json=review(mall, 5, text=script))
    assert made.status_code == 201, made.text
    campaign = await client.post("/admin/campaigns", headers=await mall.staff(), json={
        "kind": "bargain", "name": script, "starts_at": "2026-01-01T00:00:00+08:00",
        "ends_at": "2099-01-01T00:00:00+08:00", "settings": {
            "product_id": mall.product_id, "sku_id": mall.sku_id, "start_price_fen": 1000, "floor_price_fen": 500,
            "helps_needed": 3}})
    assert campaign.status_code == 201, campaign.text
    activated = await client.post(f"/admin/campaigns/{campaign.json()['id']}/activate", headers=await mall.staff())
    assert activated.status_code == 200, activated.text
    for path in (f"/m/acme/products/{mall.product_id}", "/m/acme"):
        text = await page(client, path)
        assert script not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text, path
