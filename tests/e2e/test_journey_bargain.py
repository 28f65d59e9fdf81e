"""Journey 2: a bargain needing three friends, shared by its starter, helped by three friends from the landing, then
bought at the floor price."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import SHOP, check_out_and_pay, live_campaign
from tests.e2e.test_journey_group import quiet_product, share_link

pytestmark = pytest.mark.backend_free

FRIENDS = ("阿强", "小美", "大刘")
FLOOR_FEN = 100


async def test_three_friends_cut_a_bargain_to_the_floor_and_the_starter_buys(server: str, people, shots: Path) -> None:
    product = await quiet_product(server)
    sku = product["skus"][0]
    campaign_id = await live_campaign(server, "bargain", "三刀砍到底", {
        "product_id": product["id"], "sku_id": sku["id"], "start_price_fen": sku["price_fen"],
        "floor_price_fen": FLOOR_FEN, "helps_needed": len(FRIENDS), "buy_at": "floor"})

    starter = await people("小红")
    page = await starter.open(f"/m/{SHOP}/products/{product['id']}")
    await page.click(".bargain-campaign >> text=发起砍价")
    await page.wait_for_url("**/bargains/*")
    bargain_id = int(page.url.rsplit("/", 1)[1])
    assert await page.locator("text=砍到底价后即可购买").is_visible()
    link = await share_link(page, "邀请好友帮砍")

    for name in FRIENDS:
        friend = await people(name, signed_in=False)
        landing = await friend.open(link)
        assert await landing.locator(".banner").inner_text() == "小红 请你帮忙砍一刀"
        await landing.click("text=帮TA砍一刀")
        await landing.wait_for_url("**/login**")
        await friend.sign_in()
        await landing.wait_for_url("**/s/*")
        await landing.click("text=帮TA砍一刀")
        await landing.wait_for_url(f"**/bargains/{bargain_id}")
        cut = (await landing.locator(".my-cut").inner_text()).split("¥")[1]
        assert cut in await landing.locator(".cut", has_text=name).inner_text()
        assert friend.refused == []
    await friend.shot(shots, "bargain-helped")

    await page.reload()
    await page.wait_for_selector("text=已砍到底价！")
    await starter.shot(shots, "bargain-floor")
    await page.click("text=底价购买 ¥1.00")
    order_id = await check_out_and_pay(starter)

    bargain = await starter.api("GET", f"/bargains/{bargain_id}")
    assert (bargain["status"], bargain["price_fen"], bargain["helps_done"]) == ("purchased", FLOOR_FEN, 3)
    assert [c["nickname"] for c in bargain["cuts"]] == list(FRIENDS)
    assert sum(c["amount_fen"] for c in bargain["cuts"]) + bargain["self_cut_fen"] == sku["price_fen"] - FLOOR_FEN
    order = await starter.api("GET", f"/orders/{order_id}")
    assert (order["status"], order["total_fen"], order["campaign_id"]) == ("to_ship", FLOOR_FEN, campaign_id)
    assert starter.refused == []
