"""The shopper pages show the recommendations: 为你推荐 on the front page, 买了又买 on a product's page and 猜你喜欢
on an order once paid; never a product sold out or already bought."""

from __future__ import annotations

import re

from fissionmall.core.runtime import Runtime
from tests.recommend.test_recommendations import Shop, refresh, sold_out_and_off_sale
from tests.support import Mall
from tests.web.test_buy import as_shopper

SECTION = re.compile(r'<section class="recommendations" data-context="(\w+)">(.*?)</section>', re.S)
TILE = re.compile(r'data-product-id="(\d+)".*?<div class="reason[^"]*">(.*?)</div>', re.S)


def shown(page: str, shop: Shop) -> tuple[str, list[tuple[str, str]]]:
    """The page's recommendations: its context and (product name, reason) of each tile."""
    found = SECTION.search(page)
    assert found, "no recommendations on the page"
    by_id = {v: k for k, v in shop.ids.items()}
    return found.group(1), [(by_id[int(i)], reason) for i, reason in TILE.findall(found.group(2))]


async def test_pages_show_recommendations_never_sold_out_or_bought(mall: Mall, runtime: Runtime, shop: Shop) -> None:
    bob, carol, alice = [await mall.shopper(n) for n in ("bob", "carol", "alice")]
    await shop.buy(bob, "A", "B", "E")
    await shop.buy(carol, "A", "B", "C", "F")
    await sold_out_and_off_sale(runtime, shop)
    order = await shop.buy(alice, "A")
    await refresh(mall)
    client = mall.client

    context, home = shown(await as_shopper(client, alice, f"/m/{mall.slug}"), shop)
    assert context == "home" and "为你推荐" in await as_shopper(client, alice, f"/m/{mall.slug}")
    assert home[:2] == [("B", "买了又买"), ("C", "买了又买")]
    assert not {"A", "E", "F"} & {name for name, _ in home}

    product_page = await as_shopper(client, alice, f"/m/{mall.slug}/products/{shop.ids['B']}")
    context, product = shown(product_page, shop)
    assert context == "product" and "买了又买" in product_page
    assert product[0] == ("C", "买了又买")
    assert not {"A", "B", "E", "F"} & {name for name, _ in product}

    order_page = await as_shopper(client, alice, f"/m/{mall.slug}/orders/{order['id']}")
    context, after = shown(order_page, shop)
    assert context == "order" and "猜你喜欢" in order_page and after[:2] == [("B", "买了又买"), ("C", "买了又买")]

    # bought on the spot: the next page leaves it out at once, before the worker has run
    await shop.buy(alice, "B")
    _, home = shown(await as_shopper(client, alice, f"/m/{mall.slug}"), shop)
    assert not {"A", "B", "E", "F"} & {name for name, _ in home}
