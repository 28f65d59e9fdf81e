"""Journey: a shopper buys and pays through the pages, the merchant ships with a carrier and number, and the shopper
follows the parcel on the order page as the sandbox carrier moves it, 已揽收 → 运输中 → 派送中 → 已签收, each step
pushed to the mall (signed, through the worker) and shown newest first; the 已签收 step receives the order (已收货)
without the shopper confirming. The console's order page shows the same journey. The API agrees with the pages."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import SHOP, check_out_and_pay, owner_api

pytestmark = pytest.mark.backend_free

PRODUCT = 1
STEPS = ("已揽收", "运输中", "派送中", "已签收")


async def test_the_buyer_follows_the_parcel_to_receipt(server: str, people, staff, shots: Path) -> None:
    buyer = await people("小李")
    page = buyer.page
    await buyer.open(f"/m/{SHOP}/products/{PRODUCT}")
    await page.click("text=单独购买")
    order_id = await check_out_and_pay(buyer)
    await expect(page.locator(".status")).to_have_text("待发货")

    number = f"SF{int(time.time() * 1000) % 10**12:012d}"
    await owner_api(server, "POST", f"/admin/orders/{order_id}/ship",
                    json={"carrier": "顺丰速运", "tracking_no": number})
    for _ in range(50):  # the worker follows the parcel (subscribes it at the carrier) moments after shipping
        if (await buyer.api("GET", f"/orders/{order_id}/tracking"))["provider"] == "sandbox":
            break
        await page.wait_for_timeout(200)
    await page.reload()
    await expect(page.locator(".status")).to_have_text("待收货")
    await expect(page.locator(".logistics")).to_contain_text(number)
    await expect(page.locator(".logistics")).to_contain_text("暂无物流轨迹")
    await expect(page.locator("text=模拟物流推进")).to_be_visible()
    await buyer.shot(shots, "logistics-shipped")

    for count, name in enumerate(STEPS, start=1):
        await page.click("text=模拟物流推进")
        await page.wait_for_url(re.compile(rf".*/orders/{order_id}\?moving={count}$"))
        steps = page.locator(".timeline.tracking li")
        await expect(steps).to_have_count(count, timeout=15_000)
        await expect(steps.first.locator("b")).to_have_text(name)
        await expect(page.locator(".track-now b")).to_have_text(name)
        if count == 2:
            await buyer.shot(shots, "logistics-in-transit")

    # newest first, every step; the carrier's 已签收 received the order, nobody tapped 确认收货
    await expect(page.locator(".timeline.tracking li b")).to_have_text(list(reversed(STEPS)))
    await expect(page.locator(".status")).to_have_text("已收货")
    await expect(page.locator("text=确认收货")).to_have_count(0)
    await expect(page.locator("text=模拟物流推进")).to_have_count(0)
    await buyer.shot(shots, "logistics-received")

    tracking = await buyer.api("GET", f"/orders/{order_id}/tracking")
    assert [e["status_name"] for e in tracking["events"]] == list(reversed(STEPS))
    order = await buyer.api("GET", f"/orders/{order_id}")
    assert order["status"] == "received" and order["received_at"] is not None

    # the merchant's console shows the same journey on the order's page
    desk = await staff("owner")
    console = await desk.open(f"/console/orders/{order_id}")
    await expect(console.locator(".track-steps li")).to_have_count(4)
    await expect(console.locator(".track-status")).to_contain_text("已签收")
    await desk.shot(shots, "logistics-console")
    assert buyer.refused == [] and desk.refused == []
