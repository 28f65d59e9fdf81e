"""Journey 7: a shopper buys through the pages with the coupon they hold preselected, pays in the sandbox, confirms
receipt of what the merchant shipped and asks for part of the money back; the merchant approves and the refund shows
on the order page. The API agrees with every figure the pages showed."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.async_api import expect

from tests.e2e.conftest import SHOP, accept_dialog, owner_api

pytestmark = pytest.mark.backend_free

PRODUCT = 1
"""The demo's coffee beans: ¥39.90 for the first SKU."""


async def hold_coupon(server: str, token: str) -> int:
    """Set-up: the merchant publishes a claimable ¥3 coupon and the shopper holds one (claimed as the coupon centre
    would: no page of this journey's flow hands coupons out)."""
    template = await owner_api(server, "POST", "/admin/coupon-templates", json={
        "name": "退款旅程立减3元", "kind": "amount", "amount_fen": 300, "valid_days": 7})
    async with httpx.AsyncClient(base_url=f"{server}/api/v1", timeout=10) as client:
        claimed = await client.post(f"/coupon-templates/{template['id']}/claim",
                                    headers={"Authorization": f"Bearer {token}"})
    assert claimed.status_code == 201, claimed.text
    coupon_id: int = claimed.json()["id"]
    return coupon_id


async def test_buy_pay_receive_and_get_part_of_the_money_back(server: str, people, shots: Path) -> None:
    buyer = await people("阿花")
    coupon_id = await hold_coupon(server, await buyer.token())
    page = buyer.page
    page.on("dialog", accept_dialog)

    # the product page's 单独购买 opens checkout, the coupon held taken at once
    await buyer.open(f"/m/{SHOP}/products/{PRODUCT}")
    await page.click("text=单独购买")
    await page.wait_for_url(re.compile(r".*/checkout\?"))
    await expect(page.locator(f"input[name=coupon][value='{coupon_id}']")).to_be_checked()
    await expect(page.locator(".lines .total")).to_contain_text("¥36.90")
    await buyer.shot(shots, "checkout")

    # an address refused by the field, then the order placed
    await page.fill("input[name='address.name']", "阿花")
    await page.fill("input[name='address.phone']", "12")
    await page.fill("input[name='address.detail']", "人民路 8 号")
    await page.click("text=提交订单")
    await expect(page.locator(".field-error[data-for='address.phone']")).to_have_text("格式不正确")
    await page.fill("input[name='address.phone']", "13900001111")
    await page.click("text=提交订单")
    await page.wait_for_url(re.compile(r".*/orders/\d+/pay$"))
    order_id = int(page.url.rsplit("/", 2)[-2])
    await expect(page.locator(".price.big")).to_have_text("¥36.90")
    await buyer.shot(shots, "pay")

    # the sandbox's confirm page, then the order page waits for the notification
    await page.click("text=立即支付")
    await page.wait_for_url(re.compile(r".*/sandbox/pay/\d+$"))
    await buyer.shot(shots, "sandbox-pay")
    await page.click("text=模拟支付 ¥36.90（体验环境）")
    await expect(page.locator(".status")).to_have_text("待发货", timeout=15_000)

    # the merchant ships; the shopper sees the carrier and confirms receipt
    await owner_api(server, "POST", f"/admin/orders/{order_id}/ship",
                    json={"carrier": "顺丰速运", "tracking_no": "SF20261207001"})
    await page.reload()
    await expect(page.locator(".logistics")).to_contain_text("SF20261207001")
    await page.click("text=确认收货")
    await expect(page.locator(".status")).to_have_text("已收货")

    # a refund of ¥5.50 of the line: text that is no amount is refused by the field, nothing sent
    await page.click("text=申请退款")
    await page.fill("input[name=amount_fen]", "5.5元")
    await page.fill("input[name=reason]", "少了一包")
    await page.click("text=提交退款申请")
    await expect(page.locator(".field-error[data-for=amount_fen]")).to_have_text("请填写正确的金额，如 12.50")
    await page.fill("input[name=amount_fen]", "5.5")
    await page.click("text=提交退款申请")
    await expect(page.locator(".refund .refund-status")).to_have_text("待商家处理")
    await buyer.shot(shots, "order-refund-requested")

    # the merchant approves; the page follows the refund until the provider has paid it back
    refund = (await buyer.api("GET", f"/orders/{order_id}"))["refunds"][0]
    await owner_api(server, "POST", f"/admin/refunds/{refund['id']}/approve")
    await page.reload()
    await expect(page.locator(".refund .refund-status")).to_have_text("已退款", timeout=20_000)
    await expect(page.locator(".row.refunded")).to_contain_text("¥5.50")
    await buyer.shot(shots, "order-refunded")

    order = await buyer.api("GET", f"/orders/{order_id}")
    assert (order["total_fen"], order["paid_fen"], order["refunded_fen"], order["status"]) == (3690, 3690, 550,
                                                                                               "received")
    assert [(r["amount_fen"], r["status"], r["reason"]) for r in order["refunds"]] == [(550, "succeeded", "少了一包")]
    assert [(a["kind"], a["amount_fen"]) for a in order["adjustments"]] == [("coupon", -300)]
    assert order["address"] == {"name": "阿花", "phone": "13900001111", "region": "", "detail": "人民路 8 号"}
    merchant_view = await owner_api(server, "GET", f"/admin/orders/{order_id}")
    assert merchant_view["refunded_fen"] == 550
    await buyer.open(f"/m/{SHOP}/orders?tab=done")
    await expect(page.locator(f"a[href='/m/{SHOP}/orders/{order_id}']")).to_be_visible()
    await buyer.shot(shots, "orders")
    assert buyer.refused == []

