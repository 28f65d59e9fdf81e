"""The console's distribution and loyalty sections in a desktop browser. Set up through the API as a shopper would
(a distributor whose referral's order completes, so the commission settles, asks to withdraw); then, only through
the console: finance approves the withdrawal and sees the sandbox pay it; the owner applies the kept part of the
"3+9" preset. Both checked through the API. Screenshots of every tab."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.distribution.test_withdrawals import ADULT
from tests.e2e.conftest import SHOP, StaffDesk, owner_api
from tests.support import ADDRESS

pytestmark = pytest.mark.backend_free

PRODUCT = 2
"""A demo product with one SKU in stock."""
_serial = itertools.count(int(time.time()))


async def shopper(client: httpx.AsyncClient, name: str, share_code: str | None = None) -> dict[str, Any]:
    body = {"merchant_slug": SHOP, "openid": f"e2e-dist-{next(_serial)}", "nickname": name,
            **({"share_code": share_code} if share_code else {})}
    login = await client.post("/auth/dev-login", json=body)
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['token']}", "id": login.json()["customer_id"]}


async def until(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 30) -> None:
    for _ in range(int(seconds * 4)):
        if await check():
            return
        await asyncio.sleep(0.25)
    pytest.fail(f"waited {seconds} s for {what}")


async def settled_withdrawal(server: str) -> dict[str, Any]:
    """A distributor (nickname a shopper typed as markup) with settled commission asks to withdraw 1 yuan."""
    await owner_api(server, "PATCH", "/admin/merchant", json={"after_sale_days": 0})
    try:
        await owner_api(server, "PUT", "/admin/distribution", json={
            "enabled": True, "grades": [{"grade": 1, "name": "分销员", "level1_bp": 1000}], "withdraw_min_fen": 100})
        async with httpx.AsyncClient(base_url=f"{server}/api/v1", timeout=10) as api:
            a = await shopper(api, "<img src=x onerror=alert(1)>")
            who_a = {"Authorization": a["Authorization"]}
            assert (await api.post("/distributors", headers=who_a)).status_code == 201
            share = await api.post("/shares", headers=who_a, json={"target_type": "invite", "target_id": a["id"]})
            b = await shopper(api, "买家", share.json()["code"])
            who_b = {"Authorization": b["Authorization"]}
            sku = (await api.get(f"/products/{PRODUCT}")).json()["skus"][0]["id"]
            order = await api.post("/orders", headers=who_b, json={"items": [{"sku_id": sku, "quantity": 1}],
                                                                    "address": ADDRESS})
            assert order.status_code == 201, order.text
            order_id = order.json()["id"]
            payment = (await api.post(f"/orders/{order_id}/pay", headers=who_b)).json()["payment_id"]
            await api.post(f"/sandbox/payments/{payment}/complete", headers=who_b)

            async def status_is(status: str) -> bool:
                return bool((await api.get(f"/orders/{order_id}", headers=who_b)).json()["status"] == status)

            await until(lambda: status_is("to_ship"), "the payment's notification")
            await owner_api(server, "POST", f"/admin/orders/{order_id}/ship",
                            json={"carrier": "顺丰速运", "tracking_no": "SF1234567890"})
            assert (await api.post(f"/orders/{order_id}/receive", headers=who_b)).status_code == 200

            async def settled() -> bool:
                return bool((await api.get("/distributors/me", headers=who_a)).json()["withdrawable_fen"] >= 100)

            await until(settled, "the commission to settle")
            identity = await api.put("/distributors/me/identity", headers=who_a,
                                     json={"real_name": "张三", "id_number": ADULT})
            assert identity.status_code == 200, identity.text
            asked = await api.post("/distributors/me/withdrawals", headers=who_a, json={"amount_fen": 100})
            assert asked.status_code == 201, asked.text
            result: dict[str, Any] = asked.json()
            return result
    finally:
        await owner_api(server, "PATCH", "/admin/merchant", json={"after_sale_days": 7})


async def tabs(desk: StaffDesk, shots: Path, paths: list[tuple[str, str]]) -> None:
    for path, name in paths:
        page = await desk.open(path)
        await expect(page.locator("main")).to_be_visible()
        await desk.shot(shots, name)


async def test_finance_approves_a_withdrawal_and_the_sandbox_pays_it(staff: Callable[[str], Awaitable[StaffDesk]],
                                                                     server: str, shots: Path) -> None:
    asked = await settled_withdrawal(server)
    finance = await staff("finance")
    page: Page = await finance.open("/console/distribution/withdrawals")
    row = page.locator(f'tr[data-withdrawal="{asked["id"]}"]')
    await expect(row.locator(".name")).to_contain_text("<img src=x onerror=alert(1)>")  # shown as text
    await finance.shot(shots, "console-distribution-withdrawals")
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    async with page.expect_navigation():
        await row.locator("text=通过并打款").click()

    async def paid() -> bool:
        await finance.open("/console/distribution/withdrawals?status=paid")
        return await page.locator(f'tr[data-withdrawal="{asked["id"]}"]').count() == 1

    await until(paid, "the sandbox to pay the withdrawal")
    await expect(page.locator(f'tr[data-withdrawal="{asked["id"]}"]')).to_contain_text("已到账")
    await finance.shot(shots, "console-distribution-withdrawals-paid")
    listed = await finance.api("GET", "/admin/withdrawals", params={"status": "paid"})
    assert asked["id"] in [w["id"] for w in listed] and finance.refused == []
    assert "保存设置" not in await (await finance.open("/console/distribution")).content()
    await tabs(finance, shots, [("/console/distribution/commissions", "console-distribution-commissions")])


async def test_the_owner_applies_the_kept_part_of_the_preset(staff: Callable[[str], Awaitable[StaffDesk]],
                                                             shots: Path) -> None:
    owner = await staff("owner")
    await tabs(owner, shots, [("/console/distribution", "console-distribution"),
                              ("/console/distribution/distributors", "console-distribution-distributors"),
                              ("/console/loyalty", "console-loyalty"),
                              ("/console/loyalty/points", "console-loyalty-points"),
                              ("/console/loyalty/tasks", "console-loyalty-tasks"),
                              ("/console/loyalty/dividend", "console-loyalty-dividend")])
    page = await owner.open("/console/loyalty/preset")
    await expect(page.locator("tr.refused")).to_have_count(9)
    await expect(page.locator("tr.kept")).to_have_count(4)
    await page.fill("input[name=pool_bp]", "5")
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    async with page.expect_navigation():
        await page.click("#apply-kept")
    await expect(page.locator("main")).to_contain_text("本人当月消费满 ¥899.00 得 3596 分")
    await owner.shot(shots, "console-preset")
    dividend = await owner.api("GET", "/admin/dividend")
    assert dividend["levels"] == [{"min_spend_fen": 89_900, "points": 3596}] and dividend["pool_bp"] == 500
    config = await owner.api("GET", "/admin/distribution")
    assert [(g["level1_bp"], g["level2_bp"]) for g in config["grades"]] == [(1112, 0)]
    assert owner.refused == []
