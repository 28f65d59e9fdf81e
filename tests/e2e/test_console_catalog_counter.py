"""The catalogue and the store counter in a desktop browser, only through the console's pages: the operator creates a
product with a SKU priced in yuan and an image uploaded after its preview, is refused an amount with three decimals,
and puts the product on sale; support redeems a shopper's gift voucher at a chosen store by its typed code. The API
agrees at each step."""

from __future__ import annotations

import asyncio
import io
import re
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from playwright.async_api import Page, expect

from tests.e2e.conftest import SHOP, StaffDesk

pytestmark = pytest.mark.backend_free


DRAWN = "[...document.images].filter(i => i.getAttribute('src')).every(i => i.complete && i.naturalWidth > 0)"


async def images_loaded(page: Page) -> None:
    """Every image of the page drawn (the pages' policy forbids wait_for_function's eval, so: ask until so)."""
    for _ in range(50):
        if await page.evaluate(DRAWN):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("an image did not load")


async def test_the_operator_creates_a_product_priced_in_yuan_and_puts_it_on_sale(
        staff: Callable[[str], Awaitable[StaffDesk]], shots: Path, tmp_path: Path) -> None:
    operator = await staff("operator")
    image = tmp_path / "longjing.png"
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (60, 140, 80)).save(buffer, format="PNG")
    image.write_bytes(buffer.getvalue())
    code = f"e2e-lj-{secrets.token_hex(3)}"

    page = await operator.open("/console/products/new")
    await page.fill("input[name=title]", "明前龙井 礼盒")
    await page.fill("input[name=subtitle]", "西湖产区 · 春茶")
    await page.fill("textarea[name=description]", "一芽一叶，手工炒制。")
    await page.set_input_files("#image-file", str(image))
    await expect(page.locator("#image-preview")).to_be_visible()  # seen before it is sent
    await page.click("button:text-is('上传图片')")
    uploaded = page.locator("#product-images input[name=images]")
    await expect(uploaded).to_have_count(1)
    url = await uploaded.get_attribute("value")
    assert url and url.startswith("/media/uploads/")
    await page.fill("input[name='skus.0.name']", "250g 礼盒")
    await page.fill("input[name='skus.0.code']", code)
    await page.fill("input[name='skus.0.price_fen']", "12.50")
    await page.fill("input[name='skus.0.stock']", "20")
    await page.click("button:text-is('创建商品')")
    await page.wait_for_url(re.compile(r"/console/products/\d+$"))
    product_id = int(page.url.rstrip("/").split("/")[-1])
    created = await operator.api("GET", f"/admin/products/{product_id}")
    assert (created["status"], created["images"]) == ("off_sale", [url])
    assert [(s["code"], s["price_fen"], s["stock"]) for s in created["skus"]] == [(code, 1250, 20)]

    # an amount with three decimals is refused by the field, nothing sent
    add = page.locator("form.add-sku")
    await add.locator("input[name=name]").fill("500g")
    await add.locator("input[name=code]").fill(f"{code}-b")
    await add.locator("input[name=price_fen]").fill("12.345")
    await add.locator("button[type=submit]").click()
    await expect(add.locator(".field-error[data-for=price_fen]")).to_have_text("请填写正确的金额，如 12.50")
    assert len((await operator.api("GET", f"/admin/products/{product_id}"))["skus"]) == 1

    async with page.expect_navigation():
        await page.click(".product-head button:text-is('上架')")
    await expect(page.locator(".product-head .status")).to_have_text("在售")
    await images_loaded(page)
    await operator.shot(shots, "console-product-edit")
    assert (await operator.api("GET", f"/admin/products/{product_id}"))["status"] == "on_sale"

    page = await operator.open("/console/products")
    row = page.locator(f"tr[data-product='{product_id}']")
    await expect(row).to_contain_text("12.50")
    await expect(row).to_contain_text("在售")
    await images_loaded(page)
    await operator.shot(shots, "console-products")
    assert operator.refused == []


async def bought_voucher(server: str, nickname: str) -> tuple[dict[str, str], dict[str, Any]]:
    """A shopper buys the demo's gift voucher through the API and the sandbox: their token and the voucher."""
    async with httpx.AsyncClient(base_url=f"{server}/api/v1", timeout=10) as api:
        openid = f"counter-{secrets.token_hex(4)}"
        login = await api.post("/auth/dev-login", json={"merchant_slug": SHOP, "openid": openid, "nickname": nickname})
        assert login.status_code == 200, login.text
        who = {"Authorization": f"Bearer {login.json()['token']}"}
        offer = next(o for o in (await api.get("/voucher-offers", headers=who)).json() if o["name"] == "龙井礼券")
        order = await api.post("/orders", headers=who, json={
            "items": [{"sku_id": offer["sku_id"], "quantity": 1}],
            "address": {"name": nickname, "phone": "13800138000", "detail": "南京西路 1 号"},
            "campaign": {"kind": "gift", "campaign_id": offer["campaign_id"]}})
        assert order.status_code == 201, order.text
        payment = (await api.post(f"/orders/{order.json()['id']}/pay", headers=who)).json()
        await api.post(f"/sandbox/payments/{payment['payment_id']}/complete", headers=who)
        for _ in range(100):  # the server's worker delivers the payment notification
            held = [v for v in (await api.get("/vouchers", headers=who)).json() if v["code"]]
            if held:
                return who, held[0]
            await asyncio.sleep(0.1)
    raise AssertionError("the voucher was not issued")


async def test_support_redeems_a_voucher_at_the_counter_by_its_typed_code(
        server: str, staff: Callable[[str], Awaitable[StaffDesk]], shots: Path) -> None:
    who, voucher = await bought_voucher(server, "周小芳")
    support = await staff("support")
    stores = await support.api("GET", "/admin/stores")
    store = next(s for s in stores if s["name"] == "徐汇社区店")

    page = await support.open("/console/counter")
    await page.fill("input[name=code]", "999999999999")
    await page.click("button:text-is('核销')")
    await expect(page.locator("form.redeem .form-error")).to_have_text("礼券不存在")

    await page.select_option("select[name=store_id]", str(store["id"]))
    await page.fill("input[name=code]", voucher["code"])
    await page.click("button:text-is('核销')")
    await page.wait_for_url(f"**/console/counter?store={store['id']}&redeemed={voucher['id']}")
    result = page.locator(".redeemed")
    await expect(result).to_contain_text("核销成功")
    await expect(result).to_contain_text("龙井礼券")
    await expect(result).to_contain_text("周*芳")
    await expect(result).to_contain_text("徐汇社区店")
    await expect(page.locator(f".redemptions tr[data-voucher='{voucher['id']}']")).to_be_visible()
    assert await page.locator("select[name=store_id]").input_value() == str(store["id"])  # the store remembered
    await support.shot(shots, "console-counter")

    async with httpx.AsyncClient(base_url=f"{server}/api/v1", timeout=10) as api:
        [after] = [v for v in (await api.get("/vouchers", headers=who)).json() if v["id"] == voucher["id"]]
    assert (after["status"], after["redeemed_store_id"]) == ("redeemed", store["id"])

    await page.fill("input[name=code]", voucher["code"])  # the same code again is refused next to the field
    await page.click("button:text-is('核销')")
    await expect(page.locator("form.redeem .form-error")).to_have_text("这张礼券已核销、已转赠或已过期，不能再用")
    assert support.refused == []
