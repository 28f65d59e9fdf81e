"""The community journey: a buyer confirms receipt and posts a 晒单 with a photo from the order page; a friend (who
came through the buyer's share link, so the referral graph makes them friends) finds it under 好友, likes it and
comments; after a report puts it in the moderation queue, the merchant hides it there with a reason, and it is gone
from the feed. The API agrees with what the pages showed."""

from __future__ import annotations

import io
import re
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.async_api import expect

from tests.e2e.conftest import SHOP, accept_dialog, check_out_and_pay, owner_api

pytestmark = pytest.mark.backend_free

PRODUCT = 1
"""The demo's coffee beans."""


def photo(folder: Path) -> Path:
    path = folder / "coffee.jpg"
    image = Image.new("RGB", (480, 360), (120, 72, 40))
    for x in range(120, 360):
        for y in range(100, 260):
            if (x - 240) ** 2 / 120 ** 2 + (y - 180) ** 2 / 80 ** 2 <= 1:
                image.putpixel((x, y), (235, 222, 200))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    path.write_bytes(buffer.getvalue())
    return path


async def report(server: str, post_id: int) -> None:
    """Another shopper reports the post through the API (the merchant queues an item at the first report)."""
    async with httpx.AsyncClient(base_url=f"{server}/api/v1", timeout=10) as api:
        login = await api.post("/auth/dev-login", json={"merchant_slug": SHOP, "openid": "community-reporter",
                                                        "nickname": "路人"})
        reported = await api.post(f"/posts/{post_id}/reports", json={"reason": "疑似广告"},
                                  headers={"Authorization": f"Bearer {login.json()['token']}"})
    assert reported.status_code == 201, reported.text
    assert reported.json()["queued"] is True


async def test_show_off_an_order_a_friend_likes_and_comments_the_merchant_hides_it(
        server: str, people, staff, shots: Path, tmp_path: Path) -> None:
    buyer = await people("晒单阿美")
    page = buyer.page
    page.on("dialog", accept_dialog)
    share = await buyer.api("POST", "/shares", json={"target_type": "product", "target_id": PRODUCT})

    # the buyer buys, the merchant ships, the buyer confirms receipt: the order page offers 晒单
    await buyer.open(f"/m/{SHOP}/products/{PRODUCT}")
    await page.click("text=单独购买")
    order_id = await check_out_and_pay(buyer)
    await owner_api(server, "POST", f"/admin/orders/{order_id}/ship",
                    json={"carrier": "顺丰速运", "tracking_no": "SF20261208001"})
    await page.reload()
    await page.click("text=确认收货")
    await expect(page.locator(".status")).to_have_text("已收货")
    await page.click("a.btn:has-text('晒单')")
    await page.wait_for_url(re.compile(rf".*/community/new\?order_id={order_id}$"))

    # nothing written: refused by the field; then a photo uploaded and the 晒单 posted
    await page.click("button:has-text('发布')")
    await expect(page.locator(".field-error[data-for=text]")).to_have_text("写点什么或添加一张照片吧")
    await page.set_input_files("input[data-photo-for=images]", str(photo(tmp_path)))
    await expect(page.locator("[data-photos=images] img")).to_have_count(1)
    await page.fill("textarea[name=text]", "豆子很新鲜，手冲香气十足，推荐！")
    await buyer.shot(shots, "community-compose")
    await page.click("button:has-text('发布')")
    await page.wait_for_url(re.compile(r".*/community/posts/\d+$"))
    post_id = int(page.url.rsplit("/", 1)[1])
    await expect(page.locator(".post .tag")).to_have_text("晒单")
    await expect(page.locator(".product-card")).to_contain_text("去购买")
    await expect(page.locator(".post .photos img")).to_have_count(1)
    await buyer.shot(shots, "community-post")

    # a friend, who arrived through the buyer's share link, finds it under 好友, likes it and comments
    friend = await people("好友小林", signed_in=False)
    await friend.open(share["link"])
    await friend.sign_in()
    theirs = friend.page
    await friend.open(f"/m/{SHOP}/community?tab=friends")
    card = theirs.locator(f"article[data-post='{post_id}']")
    await expect(card).to_contain_text("豆子很新鲜")
    await friend.shot(shots, "community-feed-friends")
    await card.locator("text=查看评论").click()
    await theirs.click("button:has-text('点赞')")
    await expect(theirs.locator("button.like")).to_have_text("已赞 1")
    await theirs.fill("textarea[name=text]", "看着就好喝，我也下单了")
    await theirs.click("button:has-text('发表评论')")
    await expect(theirs.locator(".comments")).to_contain_text("看着就好喝")
    await friend.shot(shots, "community-post-friend")
    seen = await friend.api("GET", f"/posts/{post_id}")
    assert (seen["post"]["like_count"], seen["post"]["comment_count"], seen["post"]["liked"]) == (1, 1, True)

    # a report queues it; the merchant hides it from the queue with a reason
    await owner_api(server, "PUT", "/admin/community/settings", json={"keywords": ["加微信"], "report_threshold": 1})
    await report(server, post_id)
    owner = await staff("owner")
    await owner.open("/console/moderation")
    row = owner.page.locator(f"#post-{post_id}")
    await expect(row).to_contain_text("用户举报")
    await owner.shot(shots, "console-moderation-queue")
    await row.locator("input[name=reason]").fill("图片与商品不符")
    async with owner.page.expect_navigation():
        await row.locator("button:has-text('隐藏')").click()
    await expect(owner.page.locator(f"#post-{post_id}")).to_have_count(0)
    hidden = await owner.api("GET", "/admin/moderation/posts", params={"hidden": "true"})
    assert [(i["item_id"], i["hidden_reason"]) for i in hidden["items"]][:1] == [(post_id, "图片与商品不符")]

    # gone from the friend's feed and from every list
    await friend.open(f"/m/{SHOP}/community?tab=friends")
    await expect(theirs.locator(f"article[data-post='{post_id}']")).to_have_count(0)
    await friend.shot(shots, "community-feed-after")
    assert post_id not in [p["id"] for p in (await friend.api("GET", "/posts"))["items"]]
    assert buyer.refused == friend.refused == owner.refused == []
