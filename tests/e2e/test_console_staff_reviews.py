"""Staff, reviews and the audit log in a desktop browser, as the owner, only through the console: add a member and
disable them (their open console is sent to sign in at its next page), hide a shopper's review with a reason, then
find both on the audit log page. The results are checked through the API."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser

from tests.e2e.conftest import DESKTOP, SHOP, StaffDesk, owner_api

pytestmark = pytest.mark.backend_free

CLERK_PASSWORD = "clerk-pass-2026"
REVIEW_TEXT = "<img src=x onerror=alert(1)> 加微信领红包"


async def shopper_reviews(server: str) -> int:
    """A demo shopper buys, receives and reviews a product through the API; the review's id."""
    async with httpx.AsyncClient(base_url=f"{server}/api/v1", timeout=10) as api:
        login = await api.post("/auth/dev-login", json={"merchant_slug": SHOP, "openid": "reviewer-e2e",
                                                        "nickname": "<img src=x onerror=alert(1)>"})
        who = {"Authorization": f"Bearer {login.json()['token']}"}
        product = (await api.get("/products", params={"merchant": SHOP})).json()["items"][0]
        detail = (await api.get(f"/products/{product['id']}", params={"merchant": SHOP})).json()
        order = (await api.post("/orders", headers=who, json={
            "items": [{"sku_id": detail["skus"][0]["id"], "quantity": 1}],
            "address": {"name": "阿评", "phone": "13800138000", "region": "上海市", "detail": "南京西路 1 号"}})).json()
        payment = (await api.post(f"/orders/{order['id']}/pay", headers=who)).json()
        await api.post(f"/sandbox/payments/{payment['payment_id']}/complete", headers=who)
        for _ in range(100):
            if (await api.get(f"/orders/{order['id']}", headers=who)).json()["status"] == "paid":
                break
            await asyncio.sleep(0.1)
        await owner_api(server, "POST", f"/admin/orders/{order['id']}/ship",
                        json={"carrier": "SF Express", "tracking_no": "SF1234567890"})
        assert (await api.post(f"/orders/{order['id']}/receive", headers=who)).status_code == 200
        made = await api.post(f"/orders/{order['id']}/reviews", headers=who,
                              json={"product_id": product["id"], "rating": 1, "text": REVIEW_TEXT})
        assert made.status_code == 201, made.text
        review_id: int = made.json()["id"]
        return review_id


async def test_owner_manages_staff_hides_a_review_and_reads_the_log(
        staff: Callable[[str], Awaitable[StaffDesk]], browser: Browser, server: str, shots: Path) -> None:
    owner = await staff("owner")
    page = owner.page
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))

    # add a member through the form
    await owner.open("/console/staff")
    form = page.locator("#add-staff")
    await form.locator("input[name=username]").fill("clerk-e2e")
    await form.locator("select[name=role]").select_option("support")
    await form.locator("input[name=password]").fill(CLERK_PASSWORD)
    async with page.expect_navigation():
        await form.locator("button[type=submit]").click()
    members: list[dict[str, Any]] = await owner.api("GET", "/admin/staff")
    clerk = next(m for m in members if m["username"] == "clerk-e2e")
    assert (clerk["role"], clerk["active"]) == ("support", True)

    # the new member signs in to the console in their own browser
    context = await browser.new_context(viewport=DESKTOP, locale="zh-CN")
    theirs = await context.new_page()
    await theirs.goto(f"{server}/console/login")
    await theirs.fill("input[name=merchant_slug]", SHOP)
    await theirs.fill("input[name=username]", "clerk-e2e")
    await theirs.fill("input[name=password]", CLERK_PASSWORD)
    async with theirs.expect_navigation():
        await theirs.click("button:has-text('登录')")
    assert theirs.url.endswith("/console")

    # the owner disables them: their next page is the sign-in page
    row = page.locator(f"#staff-{clerk['id']}")
    async with page.expect_navigation():
        await row.locator("button:has-text('停用')").click()
    assert "已停用" in await page.locator(f"#staff-{clerk['id']}").inner_text()
    await theirs.goto(f"{server}/console/reviews")
    assert "/console/login" in theirs.url
    await context.close()
    await owner.shot(shots, "console-staff")
    assert not next(m for m in await owner.api("GET", "/admin/staff") if m["id"] == clerk["id"])["active"]

    # hide a shopper's review with a reason
    review_id = await shopper_reviews(server)
    await owner.open("/console/reviews")
    row = page.locator(f"#review-{review_id}")
    assert "<img" in await row.locator(".review-text").inner_text()  # shown as text, not as an image
    assert await page.locator("main img").count() == 0
    await row.locator("input[name=reason]").fill("广告引流")
    async with page.expect_navigation():
        await row.locator("button:has-text('隐藏')").click()
    assert "原因：广告引流" in await page.locator(f"#review-{review_id}").inner_text()
    await owner.shot(shots, "console-reviews")
    hidden = await owner.api("GET", "/admin/reviews", params={"hidden": "true"})
    assert [(r["id"], r["hidden_reason"]) for r in hidden["items"]] == [(review_id, "广告引流")]

    # both actions on the audit log page
    await owner.open("/console/audit")
    table = await page.locator("table.audit tbody").inner_text()
    assert "隐藏评价" in table and "广告引流" in table and f"review:{review_id}" in table
    assert "修改员工" in table and "添加员工" in table and "clerk-e2e" in table
    await owner.shot(shots, "console-audit")
    assert owner.refused == []
