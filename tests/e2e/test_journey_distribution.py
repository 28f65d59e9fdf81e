"""Journey 6, distribution (分销): A applies in the distribution centre and shares a product from it; B opens A's link,
signs in (bound to A) and buys through the pages, then becomes a distributor and shares the same product; C buys
through B's link. A's centre shows the level-1 commission on B's order, B's the one on C's; the API agrees as each
of them. B's withdrawal steps refuse a wrong ID number and an amount with three decimals by their fields."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import SHOP, Person, owner_api

pytestmark = pytest.mark.backend_free

RATE_BP = 1000
PRODUCT = 2
"""A demo product with one SKU in stock."""


async def become_distributor_and_share(person: Person, shots: Path, name: str) -> str:
    """Apply in the centre (approved at once), then share the product from its list: the share sheet's link."""
    page = await person.open(f"/m/{SHOP}/me/distribution")
    await page.click("text=申请成为分销员")
    await expect(page.locator(".earnings")).to_be_visible()
    await page.click(f'[data-share-type="product"][data-share-id="{PRODUCT}"]')
    link = page.locator("#share-link")
    await expect(link).not_to_have_value("")
    await person.shot(shots, name)
    return await link.input_value()


async def buy_through(link: str, person: Person) -> dict[str, Any]:
    """Open a friend's link signed out, tap 单独购买, sign in, fill the address, place the order and pay in the
    sandbox; the order page waits for the payment's notification. The paid order, as the API reports it."""
    page = await person.open(link)
    await expect(page.locator(".banner")).to_contain_text("分享给你的好物")
    await page.click("text=单独购买")
    await page.wait_for_url("**/login**")
    await person.sign_in()
    await page.wait_for_url("**/checkout**")
    await page.fill('input[name="address.name"]', person.name)
    await page.fill('input[name="address.phone"]', "13800138000")
    await page.fill('input[name="address.detail"]', "南京西路 1 号")
    await page.click("text=提交订单")
    await page.wait_for_url("**/pay")
    await page.click("text=立即支付")
    await page.wait_for_url("**/sandbox/pay/**")
    await page.click("text=模拟支付")
    await page.wait_for_url("**/orders/**")
    await expect(page.locator(".status").first).to_have_text("待发货", timeout=20_000)
    orders: list[dict[str, Any]] = (await person.api("GET", "/orders"))["items"]
    assert orders[0]["status"] == "to_ship", orders[0]
    return orders[0]


async def commission_written(person: Person, order_id: int) -> dict[str, Any]:
    """The worker writes a commission after the payment: GET /distributors/me as the distributor until it is there."""
    for _ in range(100):
        mine: dict[str, Any] = await person.api("GET", "/distributors/me")
        if any(entry["order_id"] == order_id for entry in mine["entries"]):
            return mine
        await asyncio.sleep(0.2)
    raise AssertionError(f"no commission on order {order_id}")


async def test_distribution_through_two_links(people, server: str, shots: Path) -> None:
    await owner_api(server, "PUT", "/admin/distribution", json={
        "enabled": True, "auto_approve": True, "self_purchase": False, "withdraw_min_fen": 100,
        "grades": [{"grade": 1, "name": "分销员", "level1_bp": RATE_BP, "level2_bp": 0}]})
    a = await people("阿峰")
    a_link = await become_distributor_and_share(a, shots, "distribution-share")

    b = await people("贝贝", signed_in=False)
    b_order = await buy_through(a_link, b)
    a_id = (await a.api("GET", "/me"))["id"]
    assert (await b.api("GET", "/distributors/me"))["referrer_id"] == a_id
    b_link = await become_distributor_and_share(b, shots, "distribution-b")

    c = await people("晨晨", signed_in=False)
    c_order = await buy_through(b_link, c)

    for earner, order, buyer in ((a, b_order, "贝*"), (b, c_order, "晨*")):
        mine = await commission_written(earner, order["id"])
        [entry] = [e for e in mine["entries"] if e["order_id"] == order["id"]]
        expected = order["paid_fen"] * RATE_BP // 10_000
        assert (entry["level"], entry["status"], entry["amount_fen"]) == (1, "frozen", expected)
        assert mine["frozen_fen"] == expected
        page = await earner.open(f"/m/{SHOP}/me/distribution")
        commission = page.locator(".commission", has_text=f"订单 {order['id']}")
        await expect(commission).to_contain_text(f"+{expected // 100}.{expected % 100:02d}")
        await expect(commission).to_contain_text("冻结中")
        await expect(page.locator(".team-member", has_text=buyer)).to_contain_text("下单 1 笔")
        team = await earner.api("GET", "/distributors/me/team")
        assert [(m["name"], m["paid_orders"]) for m in team] == [(buyer, 1)]
    await a.shot(shots, "distribution-a")

    page = b.page  # the withdrawal's identity step, then an amount typed with three decimals
    await page.fill('input[name="real_name"]', "贝贝")
    await page.fill('input[name="id_number"]', "110105199003071238")
    await page.click("text=提交实名信息")
    await expect(page.locator('.field-error[data-for="id_number"]')).to_contain_text("身份证号码有误")
    assert (await b.api("GET", "/distributors/me"))["payee"] is None
    await page.fill('input[name="id_number"]', "110105199003071239")
    await page.click("text=提交实名信息")
    await page.fill('input[name="amount_fen"]', "1.234")
    await page.click("text=申请提现")
    await expect(page.locator('.field-error[data-for="amount_fen"]')).not_to_be_empty()
    assert await b.api("GET", "/distributors/me/withdrawals") == []
    await b.shot(shots, "distribution-withdraw")
    for person in (a, b, c):
        assert person.refused == []


async def test_my_pages_check_in_and_show_the_member_what_they_hold(people, server: str, shots: Path) -> None:
    """我的 and the pages under it, each shot at a phone's size; checking in through the calendar's button credits
    the points the page then shows, as GET /points reports them."""
    await owner_api(server, "PUT", "/admin/dividend", json={
        "enabled": True, "pool_bp": 300, "threshold_points": 0, "pay_day": 5,
        "levels": [{"min_spend_fen": 10_000, "points": 10}, {"min_spend_fen": 50_000, "points": 30}]})
    d = await people("丁丁")
    page = await d.open(f"/m/{SHOP}/me")
    await expect(page.locator(".me-name")).to_have_text("丁丁")
    await d.shot(shots, "me")
    await page.click("text=每日签到")
    await page.click("button:has-text('签到')")
    await expect(page.locator(".checked")).to_contain_text("今日已签到")
    points = await d.api("GET", "/points")
    assert points["checked_in_today"] and points["streak"] == 1
    got = points["entries"][0]["points"]
    await expect(page.locator(".checked")).to_have_text(f"今日已签到，获得 {got} 积分")
    await page.click("text=晒出连续签到")  # the streak's show-off card, shared like any poster
    await expect(page.locator("#share-link")).to_have_value(re.compile(r"/s/\w+$"))
    await page.click("#share-close")
    await expect(page.locator(".day.on.today")).to_have_count(1)
    await d.shot(shots, "me-checkin")
    for path, name in (("/me/tasks", "me-tasks"), ("/me/level", "me-level"), ("/me/wallet", "me-wallet"),
                       ("/me/coupons", "me-coupons")):
        await d.open(f"/m/{SHOP}{path}")
        await d.shot(shots, name)
    await expect(d.page.locator("h2").first).to_contain_text("可使用")
    assert d.refused == []
