"""The console's orders and customers in a desktop browser: support ships a paid order and finance approves part of
a refund the shopper asked for, only through the console's pages (the shoppers buy, pay and ask through the API, as
their app would); the API then agrees. Screenshots of the order list, an order, the customer list and a customer."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from tests.e2e.conftest import SHOP, StaffDesk, accept_dialog

pytestmark = pytest.mark.backend_free

PRODUCT = 1
ADDRESS = {"name": "王小明", "phone": "13900002222", "region": "浙江省杭州市", "detail": "文三路 99 号"}


class Shopper:
    """A shopper's app: signs in, buys, pays in the sandbox and asks for refunds through the API."""

    def __init__(self, server: str, openid: str) -> None:
        self.server, self.openid, self.token = server, openid, ""

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        async with httpx.AsyncClient(base_url=f"{self.server}/api/v1", timeout=10) as client:
            headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
            response = await client.request(method, path, headers=headers, **kwargs)
        assert response.status_code < 400, response.text
        return response.json() if response.content else None

    async def sign_in(self, nickname: str) -> None:
        self.token = (await self.call("POST", "/auth/dev-login", json={
            "merchant_slug": SHOP, "openid": self.openid, "nickname": nickname}))["token"]

    async def paid_order(self) -> dict[str, Any]:
        sku = (await self.call("GET", f"/products/{PRODUCT}", params={"merchant": SHOP}))["skus"][0]["id"]
        order = await self.call("POST", "/orders", json={"items": [{"sku_id": sku, "quantity": 2}],
                                                         "address": ADDRESS})
        payment = await self.call("POST", f"/orders/{order['id']}/pay")
        await self.call("POST", f"/sandbox/payments/{payment['payment_id']}/complete")
        return await self.until(order["id"], lambda o: o["status"] == "to_ship")

    async def until(self, order_id: int, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The order once the server's worker has done its part (a payment or refund notification)."""
        for _ in range(100):
            order: dict[str, Any] = await self.call("GET", f"/orders/{order_id}")
            if done(order):
                return order
            await asyncio.sleep(0.2)
        raise AssertionError(f"order {order_id} never got there: {order}")


async def test_support_ships_and_finance_approves_a_partial_refund(
        server: str, staff: Callable[[str], Awaitable[StaffDesk]], shots: Path) -> None:
    buyer = Shopper(server, "console-orders-buyer")
    await buyer.sign_in("王小明")
    to_ship, to_refund = await buyer.paid_order(), await buyer.paid_order()

    # support finds the order under 待发货, by its number, and ships it
    support = await staff("support")
    page = await support.open("/console/orders?tab=to_ship")
    await expect(page.locator(f"text={to_ship['order_no']}")).to_be_visible()
    await support.shot(shots, "console-orders")
    await page.fill("input[name=no]", to_ship["order_no"])
    async with page.expect_navigation():
        await page.click("button:has-text('搜索')")
    assert await page.locator("table.orders tbody tr").count() == 1
    async with page.expect_navigation():
        await page.click(f"text={to_ship['order_no']}")
    assert "/adjustments" not in await page.content()  # support may not re-price, nor refund
    await page.fill("input[name=carrier]", "顺丰速运")
    await page.fill("input[name=tracking_no]", "SF 123")
    await page.click("button:has-text('发货')")
    await expect(page.locator(".field-error[data-for=tracking_no]")).not_to_be_empty()
    await page.fill("input[name=tracking_no]", "SF2026120800017")
    await page.click("button:has-text('发货')")
    await expect(page.locator("h2 .status")).to_have_text("已发货")
    await expect(page.locator("main")).to_contain_text("SF2026120800017")
    shipped = await buyer.call("GET", f"/orders/{to_ship['id']}")
    assert (shipped["status"], shipped["carrier"], shipped["tracking_no"]) == ("shipped", "顺丰速运",
                                                                               "SF2026120800017")
    assert support.refused == []

    # the shopper asks for ¥12.30 of the other order back; finance reads the amounts and approves
    await buyer.call("POST", f"/orders/{to_refund['id']}/refunds", json={"amount_fen": 1230, "reason": "包装破损"})
    finance = await staff("finance")
    page = await finance.open(f"/console/orders/{to_refund['id']}")
    page.on("dialog", accept_dialog)
    decision = page.locator(".decision")
    await expect(decision).to_contain_text("顾客申请退款 ¥12.30")
    paid = to_refund["paid_fen"]
    await expect(decision).to_contain_text(f"同意后剩余可退 ¥{(paid - 1230) / 100:.2f}")
    assert await page.locator("form.ship").count() == 0  # finance does not ship
    await finance.shot(shots, "console-order")
    await page.click("button:has-text('同意退款 ¥12.30')")
    await expect(page.locator(".decision")).to_have_count(0)
    refunded = await buyer.until(to_refund["id"], lambda o: o["refunded_fen"] == 1230)
    assert (refunded["status"], refunded["paid_fen"]) == ("to_ship", paid)
    assert [(r["amount_fen"], r["status"]) for r in refunded["refunds"]] == [(1230, "succeeded")]
    merchant_view = await finance.api("GET", f"/admin/orders/{to_refund['id']}")
    assert merchant_view["refunded_fen"] == 1230
    await page.reload()
    await expect(page.locator(".refund-figures")).to_contain_text("¥12.30")
    # finance's own refund says the amount it sends back: the remainder when the amount is left empty
    refund = page.locator("form.merchant-refund")
    left = f"{(paid - 1230) / 100:.2f}"
    await expect(refund).to_have_attribute("data-confirm", f"确认向顾客退款剩余全部 ¥{left}？款项将原路退回")
    await page.fill("form.merchant-refund input[name=amount_fen]", "1.50")
    await expect(refund).to_have_attribute("data-confirm", "确认向顾客退款 ¥1.50？款项将原路退回")
    await page.fill("form.merchant-refund input[name=amount_fen]", "")
    await page.select_option("form.merchant-refund select[name=sku_id]", index=1)
    await expect(refund).to_have_attribute("data-confirm", re.compile("确认向顾客退款「.+」剩余可退的全部？"))
    assert finance.refused == []

    # the customer list and the buyer's page
    page = await finance.open("/console/customers?q=王小明")
    await expect(page.locator("table.customers")).to_contain_text("王小明")
    await finance.shot(shots, "console-customers")
    async with page.expect_navigation():
        await page.click("table.customers a:has-text('王小明')")
    assert re.search(r"/console/customers/\d+$", page.url)
    await expect(page.locator("main")).to_contain_text(to_refund["order_no"])
    await finance.shot(shots, "console-customer")
    assert finance.refused == []

