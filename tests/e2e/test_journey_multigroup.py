"""Journey: a multi-product group (多产品拼团). The operator lists three products with their group prices in the
console's campaign form and puts the group live; a leader opens a group from the first product's page; two friends
open the shared link, each chooses another product on the group page, signs in and pays; the group fills and its page
shows each member with the product they chose."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import SHOP, StaffDesk, check_out_and_pay
from tests.e2e.test_journey_group import quiet_product, share_link

pytestmark = pytest.mark.backend_free


async def two_more_products(server: str, first: int) -> list[dict[str, Any]]:
    """Two other demo products in stock, as the API shows them."""
    found: list[dict[str, Any]] = []
    async with httpx.AsyncClient(base_url=f"{server}/api/v1", timeout=10) as api:
        for product_id in range(1, 13):
            if product_id == first:
                continue
            product: dict[str, Any] = (await api.get(f"/products/{product_id}")).json()
            if product.get("skus") and product["skus"][0]["stock"] > 5 and product["skus"][0]["price_fen"] > 200:
                found.append(product)
            if len(found) == 2:
                return found
    raise AssertionError("the demo has no two other products in stock")


def yuan(fen: int) -> str:
    return f"{fen / 100:.2f}"


async def test_members_choose_different_products_and_fill_one_group(
        server: str, people, staff: Callable[[str], Awaitable[StaffDesk]], shots: Path) -> None:
    products = [await quiet_product(server)]
    products += await two_more_products(server, products[0]["id"])
    skus = [p["skus"][0] for p in products]
    prices = [sku["price_fen"] - 100 for sku in skus]

    operator = await staff("operator")
    page = await operator.open("/console/campaigns/new?kind=group")
    await page.fill("input[name=name]", "三款任选团")
    await page.fill("input[name=starts_at]", "2025-01-01T00:00")
    await page.fill("input[name=ends_at]", "2099-01-01T00:00")
    for i, (product, sku, price) in enumerate(zip(products, skus, prices, strict=True)):
        row = f"settings.products.{i}"
        await page.select_option(f"select[name='{row}.product_id']", str(product["id"]))
        await page.select_option(f"select[name='{row}.skus.0.sku_id']", str(sku["id"]))
        await page.fill(f"input[name='{row}.skus.0.group_price_fen']", yuan(price))
    await page.fill("input[name='settings.group_size']", "3")
    await operator.shot(shots, "multigroup-console-form")
    async with page.expect_navigation():
        await page.click("button:has-text('创建草稿')")
    campaign_id = int(page.url.rsplit("/", 1)[1])
    assert "可以上线" in await page.locator(".lint").inner_text()
    assert "本团共 3 款商品可选" in await page.locator("body").inner_text()
    async with page.expect_navigation():
        await page.click("button:has-text('上线')")
    await operator.shot(shots, "multigroup-console-live")
    campaign = await operator.api("GET", f"/admin/campaigns/{campaign_id}")
    assert campaign["settings"]["products"] == [
        {"product_id": p["id"], "skus": [{"sku_id": s["id"], "group_price_fen": price}]}
        for p, s, price in zip(products, skus, prices, strict=True)]
    assert operator.refused == []

    leader = await people("小红")
    page = await leader.open(f"/m/{SHOP}/products/{products[0]['id']}")
    await page.click("text=发起拼团")
    orders = {leader.name: await check_out_and_pay(leader)}
    await page.click("text=邀请好友参团")
    await page.wait_for_url("**/groups/*")
    group_id = int(page.url.rsplit("/", 1)[1])
    link = await share_link(page, "邀请好友参团")

    friends = []
    for name, choice in (("阿强", 1), ("小美", 2)):
        friend = await people(name, signed_in=False)
        landing = await friend.open(link)
        assert await landing.locator(".offer").count() == 3  # the three products to choose from
        if choice == 1:
            await friend.shot(shots, "multigroup-choose")
        await landing.click(f"label.sku:has(input[value='{skus[choice]['id']}'])")
        await landing.click("text=选好了，参团")
        await landing.wait_for_url("**/login**")
        await friend.sign_in()
        await landing.wait_for_url("**/checkout?**")
        assert products[choice]["title"] in await landing.locator("body").inner_text()
        orders[name] = await check_out_and_pay(friend)
        assert friend.refused == []
        friends.append(friend)

    page = await leader.open(f"/m/{SHOP}/groups/{group_id}")
    await page.wait_for_selector("text=拼团成功")
    chose = await page.locator(".seats .chose").all_inner_texts()
    assert [c.split("\n")[0] for c in chose] == ["小红", "阿强", "小美"]
    assert [c.split("\n")[1] for c in chose] == [p["title"] for p in products]
    await leader.shot(shots, "multigroup-succeeded")

    group = await leader.api("GET", f"/groups/{group_id}")
    assert (group["status"], group["paid_count"]) == ("succeeded", 3)
    assert [(m["nickname"], m["sku_id"]) for m in group["members"]] == [
        (name, sku["id"]) for name, sku in zip(("小红", "阿强", "小美"), skus, strict=True)]
    for (name, order_id), who, price in zip(orders.items(), (leader, *friends), prices, strict=True):
        order = await who.api("GET", f"/orders/{order_id}")
        assert (order["status"], order["total_fen"], order["campaign_id"]) == ("to_ship", price, campaign_id), name
    assert leader.refused == []

    page = await operator.open(f"/console/campaigns/{campaign_id}/records")  # the merchant sees who chose what
    row = await page.locator("table tr", has_text=f"#{group_id}").inner_text()
    assert all(f"（{p['title']} · {s['name']}）" in row for p, s in zip(products, skus, strict=True)), row
    await operator.shot(shots, "multigroup-console-groups")
    assert operator.refused == []
