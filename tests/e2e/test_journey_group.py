"""Journey 1: a leader opens a group of 3 from the product page and shares it; two friends open the link, sign in,
join and pay; all three see the group succeeded and their orders to ship."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page

from tests.e2e.conftest import SHOP, check_out_and_pay, live_campaign

pytestmark = pytest.mark.backend_free


async def quiet_product(server: str) -> dict[str, Any]:
    """A demo product with no live campaign, so the journey's own campaign is the one its page offers."""
    async with httpx.AsyncClient(base_url=f"{server}/api/v1", timeout=10) as api:
        for product_id in range(12, 0, -1):
            product: dict[str, Any] = (await api.get(f"/products/{product_id}")).json()
            if not product.get("campaigns"):
                return product
    raise AssertionError("every demo product runs a campaign")




async def share_link(page: Page, label: str) -> str:
    """Tap the page's share button; the link the share sheet shows."""
    await page.click(f"text={label}")
    link = page.locator("#share-link")
    await link.wait_for()
    value = await link.input_value()
    await page.click("#share-close")
    return value




async def test_a_group_of_three_fills_through_a_shared_link(server: str, people, shots: Path) -> None:
    product = await quiet_product(server)
    sku = product["skus"][0]
    campaign_id = await live_campaign(server, "group", "三人成团", {
        "product_id": product["id"], "group_size": 3, "skus": [{"sku_id": sku["id"], "group_price_fen": 990}]})

    leader = await people("小红")
    page = await leader.open(f"/m/{SHOP}/products/{product['id']}")
    await page.click("text=发起拼团")
    orders = {leader.name: await check_out_and_pay(leader)}
    assert await page.locator("div.status").inner_text() == "待成团"
    assert await page.locator("text=晒单：我省了").count() == 1  # paid at the group price: a show-off card to share
    await page.click("text=邀请好友参团")  # from the order page to the group the payment opened
    await page.wait_for_url("**/groups/*")
    group_id = int(page.url.rsplit("/", 1)[1])
    link = await share_link(page, "邀请好友参团")
    await leader.shot(shots, "group-leader")

    for name in ("阿强", "小美"):
        friend = await people(name, signed_in=False)
        landing = await friend.open(link)
        assert await landing.locator(".banner").inner_text() == "小红 邀你一起拼团"
        await landing.click("text=参团 ¥9.90")
        await landing.wait_for_url("**/login**")
        await friend.sign_in()
        orders[name] = await check_out_and_pay(friend)
        assert friend.refused == []
    await friend.shot(shots, "group-friend-paid")

    for person in (leader, friend):
        page = await person.open(f"/m/{SHOP}/groups/{group_id}")
        await page.wait_for_selector("text=拼团成功")
    await friend.shot(shots, "group-succeeded")
    page = await leader.open(f"/m/{SHOP}/orders/{orders[leader.name]}")
    assert await page.locator("div.status").inner_text() == "待发货"

    group = await leader.api("GET", f"/groups/{group_id}")
    assert (group["status"], group["paid_count"]) == ("succeeded", 3)
    assert [m["nickname"] for m in group["members"]] == ["小红", "阿强", "小美"]
    for name, who in ((leader.name, leader), (friend.name, friend)):
        order = await who.api("GET", f"/orders/{orders[name]}")
        assert (order["status"], order["total_fen"], order["campaign_id"]) == ("to_ship", 990, campaign_id)
    assert leader.refused == []
