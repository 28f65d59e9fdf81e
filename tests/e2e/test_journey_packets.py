"""Journey 4: a paid order's share-coupon packet, shared from the order's packets page, claimed by two friends from
the landing, then used at checkout by one of them (the coupon preselected); the API agrees at each step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import SHOP, Person, check_out_and_pay, live_campaign, owner_api

pytestmark = pytest.mark.backend_free

PRODUCT = 1
"""A demo product below the demo's own packets' minimum order: its order earns only the journey's packet."""




async def sku_of(person: Person, product_id: int) -> int:
    sku_id: int = (await person.api("GET", f"/products/{product_id}"))["skus"][0]["id"]
    return sku_id




async def test_a_paid_orders_packet_is_claimed_by_two_friends_and_used_at_checkout(server: str, people: Any,
                                                                                     shots: Path) -> None:
    template = await owner_api(server, "POST", "/admin/coupon-templates", json={
        "name": "好友券", "kind": "amount", "amount_fen": 1, "valid_days": 7, "claimable": False, "threshold_fen": 0})
    campaign_id = await live_campaign(server, "share_coupon", "下单分好友券", {
        "template_id": template["id"], "slots": 3, "total_fen": 600, "min_fen": 100, "split": "line_segment"})

    buyer = await people("阿花")
    sku = await sku_of(buyer, PRODUCT)
    order_id = await check_out_and_pay(buyer, f"/m/{SHOP}/checkout?sku={sku}&qty=1")
    page = buyer.page
    await page.click("text=分享红包给好友")
    await page.wait_for_url(f"**/orders/{order_id}/packets")
    [packet] = [p for p in await buyer.api("GET", f"/orders/{order_id}/packets") if p["campaign_id"] == campaign_id]
    share = page.locator(f"[data-share-type=packet][data-share-id='{packet['id']}']")
    await expect(share).to_be_visible()
    await buyer.shot(shots, "order-packets")
    await share.click()
    await expect(page.locator("#share-sheet")).to_be_visible()
    link = await page.input_value("#share-link")
    assert "/s/" in link

    claimed = {}
    for name in ("阿明", "小芳"):
        friend = await people(name)
        landing = await friend.open(link)
        await expect(landing.locator(".banner")).to_have_text("阿花 送你一个分享券红包")
        assert "共 3 份，合计 ¥6.00" in await landing.locator(".packet").inner_text()
        await landing.click("button.claim")
        await expect(landing.locator("#my-slot")).to_be_visible()
        claimed[name] = friend
    await friend.shot(shots, "packet-claimed")

    seen = await buyer.api("GET", f"/packets/{packet['id']}")
    assert [c["nickname"] for c in seen["claims"]] == ["阿明", "小芳"]
    assert seen["slots_left"] == 1
    amin = claimed["阿明"]
    mine = next(c for c in seen["claims"] if c["nickname"] == "阿明")
    await amin.open(f"/m/{SHOP}/packets/{packet['id']}")
    assert f"你领到 ¥{mine['amount_fen'] / 100:.2f} 分享券" in await amin.page.locator("#my-slot").inner_text()

    [coupon] = [c for c in await amin.api("GET", "/coupons") if c["name"] == "好友券"]
    assert (coupon["amount_fen"], coupon["status"]) == (mine["amount_fen"], "available")
    checkout = await amin.open(f"/m/{SHOP}/checkout?sku={sku}&qty=1")
    assert await checkout.input_value("input[name=coupon]:checked") == str(coupon["id"])
    await amin.shot(shots, "checkout-with-packet-coupon")
    friend_order = await check_out_and_pay(amin, f"/m/{SHOP}/checkout?sku={sku}&qty=1")

    [used] = [c for c in await amin.api("GET", "/coupons") if c["id"] == coupon["id"]]
    assert (used["status"], used["order_id"]) == ("used", friend_order)
    order = await amin.api("GET", f"/orders/{friend_order}")
    assert any(a["amount_fen"] == -mine["amount_fen"] for a in order["adjustments"]), order["adjustments"]
    for person in (buyer, *claimed.values()):
        assert person.refused == []
