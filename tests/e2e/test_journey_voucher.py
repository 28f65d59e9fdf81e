"""Journey 5: a gift voucher bought on its page and paid, sent from 我的礼券 (the one-time link in the share sheet),
claimed by a friend from that link (who came through the buyer's invite link first), and redeemed at the friend's
checkout; the API agrees at each step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import SHOP, accept_dialog, check_out_and_pay, live_campaign
from tests.e2e.test_journey_packets import PRODUCT, sku_of

pytestmark = pytest.mark.backend_free

PRICE, VALUE = 1500, 1000
"""The voucher sells at ¥15.00 and takes ¥10.00 off one unit of the demo's coffee beans (¥39.90)."""




async def test_a_gift_voucher_is_bought_sent_claimed_and_redeemed_at_checkout(server: str, people: Any,
                                                                               shots: Path) -> None:
    buyer = await people("小丽")
    sku = await sku_of(buyer, PRODUCT)
    campaign_id = await live_campaign(server, "gift", "咖啡礼券", {
        "product_id": PRODUCT, "sku_id": sku, "price_fen": PRICE, "value_fen": VALUE})

    # bought on the voucher's page, through checkout and the sandbox
    page = await buyer.open(f"/m/{SHOP}/gifts/{campaign_id}")
    await expect(page.locator(".summary .price")).to_have_text("¥15.00")
    await buyer.shot(shots, "voucher-offer")
    await page.click("a.btn:text-is('购买')")
    await page.wait_for_url(f"**/checkout?*campaign=gift:{campaign_id}*")
    order_id = await check_out_and_pay(buyer, page.url)
    order = await buyer.api("GET", f"/orders/{order_id}")
    assert (order["total_fen"], order["status"]) == (PRICE, "completed")
    [voucher] = [v for v in await buyer.api("GET", "/vouchers") if v["campaign_id"] == campaign_id]
    assert (voucher["status"], voucher["value_fen"]) == ("active", VALUE)

    # sent from 我的礼券: the claim link shown once, in the share sheet
    page = await buyer.open(f"/m/{SHOP}/me/vouchers")
    page.on("dialog", accept_dialog)
    card = page.locator(f"[data-voucher='{voucher['id']}']")
    await card.locator("button:text-is('送给好友')").click()
    await expect(page.locator("#share-sheet")).to_be_visible()
    link = await page.input_value("#share-link")
    assert f"/m/{SHOP}/vouchers/{voucher['id']}/claim?token=" in link
    await buyer.shot(shots, "voucher-sent")
    [sent] = [v for v in await buyer.api("GET", "/vouchers") if v["id"] == voucher["id"]]
    assert sent["status"] == "sent"

    # the buyer's invite link too: the friend first lands on it, so signing in makes them an invited friend
    page = await buyer.open(f"/m/{SHOP}/me/invites")
    await page.locator("[data-share-type=invite]").first.click()
    await expect(page.locator("#share-sheet")).to_be_visible()
    invite_link = await page.input_value("#share-link")
    await buyer.shot(shots, "my-invites")
    friend = await people("大刚", signed_in=False)
    landing = await friend.open(invite_link)
    await expect(landing.locator(".banner")).to_have_text("小丽 邀请你来 裂变好物商城")
    await friend.shot(shots, "invite-landing")

    # the friend opens the voucher link signed out, signs in on the way and claims it
    landing = await friend.open(link)
    await expect(landing.locator(".banner")).to_have_text("小丽 送你一份礼券")
    await friend.shot(shots, "voucher-claim")
    await landing.click("button:text-is('领取')")
    await landing.wait_for_url("**/login?*")
    await friend.sign_in()
    await landing.wait_for_url(f"**/vouchers/{voucher['id']}/claim?token=*")
    await landing.click("button:text-is('领取')")
    await landing.wait_for_url(f"**/m/{SHOP}/me/vouchers")
    mine = landing.locator(f"[data-voucher='{voucher['id']}']")
    await expect(mine.locator(".state-line")).to_contain_text("可使用")
    await friend.shot(shots, "voucher-claimed")
    [held] = await friend.api("GET", "/vouchers")
    assert (held["id"], held["status"]) == (voucher["id"], "active")
    assert {c["joined"] for c in await buyer.api("GET", "/invites/mine")} == {1}  # in every live invite campaign

    # 去使用: the product, then checkout with the voucher chosen
    await mine.locator("a:text-is('去使用')").click()
    await landing.wait_for_url(f"**/products/{PRODUCT}")
    checkout = await friend.open(f"/m/{SHOP}/checkout?sku={sku}&qty=1")
    async with checkout.expect_navigation():
        await checkout.select_option("select[name=voucher]", str(voucher["id"]))
    await expect(checkout.locator(".lines")).to_contain_text("¥10.00")
    await friend.shot(shots, "checkout-with-voucher")
    friend_order = await check_out_and_pay(friend, checkout.url)

    [used] = await friend.api("GET", "/vouchers")
    assert used["status"] == "redeemed"
    paid = await friend.api("GET", f"/orders/{friend_order}")
    assert any(a["amount_fen"] == -VALUE for a in paid["adjustments"]), paid["adjustments"]
    assert [v["holder_id"] for v in await buyer.api("GET", "/vouchers") if v["id"] == voucher["id"]] \
        == [held["holder_id"]]
    await buyer.open(f"/m/{SHOP}/points-mall")
    await buyer.shot(shots, "points-mall")
    for person in (buyer, friend):
        assert person.refused == []
