"""Journey: in one group that then succeeds, 阿花 opens it paying a deposit and 小李 joins paying in full, each
choosing on the checkout page; 阿花 then pays her balance. 小李, a member of the merchant's dividend plan (paid on
the last day of the month), opens 我的分红 and sees this month's level, points, threshold, rules and pay day. The
merchant's console shows the payment choice and the month-end pay day."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import SHOP, check_out_and_pay, live_campaign, owner_api
from tests.e2e.test_journey_group import quiet_product

pytestmark = pytest.mark.backend_free


async def test_a_deposit_and_a_full_payment_in_one_group_and_the_dividend_page(server: str, people, staff,
                                                                               shots: Path) -> None:
    product = await quiet_product(server)
    sku = product["skus"][0]
    campaign_id = await live_campaign(server, "group", "定金或全款两人团", {
        "product_id": product["id"], "group_size": 2, "skus": [{"sku_id": sku["id"], "group_price_fen": 5000}],
        "deposit_percent": 20, "payment_options": "shopper_chooses", "balance_hours": 48})
    await owner_api(server, "PUT", "/admin/dividend", json={
        "enabled": True, "pool_bp": 300, "threshold_points": 20, "pay_day": "last",
        "levels": [{"min_spend_fen": 3000, "points": 10}, {"min_spend_fen": 20000, "points": 40}]})

    leader = await people("阿花")
    page = await leader.open(f"/m/{SHOP}/products/{product['id']}")
    await page.click("text=发起拼团")
    await page.wait_for_url("**/checkout?**")
    choice = page.locator(".payment-choice")
    assert "付定金 ¥10.00" in await choice.inner_text() and "一次付清全款" in await choice.inner_text()
    assert "成团后 2 天内付尾款 ¥40.00" in await choice.inner_text()
    assert await page.locator(".pay-total").inner_text() == "现在支付定金\n¥10.00"
    await leader.shot(shots, "deposit-checkout-deposit")
    deposit_order = await check_out_and_pay(leader)
    assert await page.locator("div.status").inner_text() == "待成团"
    [group_id] = [g["id"] for g in await leader.api("GET", f"/group-campaigns/{campaign_id}/groups")]

    friend = await people("小李")
    page = await friend.open(f"/m/{SHOP}/groups/{group_id}")
    assert "或一次付清全款" in await page.locator(".summary").inner_text()
    await friend.shot(shots, "deposit-group-to-join")
    await page.click("text=参团（下一步选定金或全款）")
    await page.wait_for_url("**/checkout?**")
    async with page.expect_navigation():
        await page.check("input[name=pay][value=full]")
    assert "pay=full" in page.url
    assert await page.locator(".pay-total").inner_text() == "实付\n¥50.00"
    await friend.shot(shots, "deposit-checkout-full")
    full_order = await check_out_and_pay(friend)
    assert await page.locator("div.status").inner_text() == "待发货"  # paid in full: nothing more to pay

    page = await leader.open(f"/m/{SHOP}/orders/{deposit_order}")
    assert await page.locator("div.status").inner_text() == "待付尾款"
    page = await leader.open(f"/m/{SHOP}/orders/{deposit_order}/pay")
    await leader.shot(shots, "deposit-balance-due")
    await page.click("text=立即支付")
    await page.wait_for_url("**/sandbox/pay/*")
    await page.click("text=模拟支付")
    await page.wait_for_url(f"**/orders/{deposit_order}*")
    await page.wait_for_selector("div.status:has-text('待发货')")

    assert (await leader.api("GET", f"/groups/{group_id}"))["status"] == "succeeded"
    paid_up = await leader.api("GET", f"/orders/{deposit_order}")
    assert (paid_up["deposit_fen"], paid_up["paid_fen"], paid_up["status"]) == (1000, 5000, "to_ship")
    full = await friend.api("GET", f"/orders/{full_order}")
    assert (full["deposit_fen"], full["paid_fen"], full["status"]) == (None, 5000, "to_ship")

    page = await friend.open(f"/m/{SHOP}/me")
    await page.click("text=我的分红")
    await page.wait_for_url("**/me/dividend")
    words = await page.locator("main").inner_text()
    for said in ("活跃等级", "1 级", "¥50.00", "20 分红积分", "暂未达到门槛", "再消费 ¥150.00，分红积分升至 40",
                 "次月最后一天（月末）", "往期分红", "还没有分红记录"):
        assert said in words, said
    mine = await friend.api("GET", "/dividend/me")
    assert (mine["points"], mine["threshold_points"], mine["qualified"], mine["pay_day"]) == (10, 20, False, "last")
    assert f"{int(mine['pay_date'][5:7])} 月 {int(mine['pay_date'][8:])} 日" in words
    await friend.shot(shots, "deposit-my-dividend")
    assert leader.refused == [] and friend.refused == []

    owner = await staff("owner")
    page = await owner.open("/console/loyalty/dividend")
    assert "每月最后一天（月末" in await page.locator("main").inner_text()
    assert await page.locator("select[name=pay_day]").input_value() == "last"
    await owner.shot(shots, "deposit-console-dividend")
    page = await owner.open(f"/console/campaigns/{campaign_id}/edit")
    assert await page.locator("select[name='settings.payment_options']").input_value() == "shopper_chooses"
    await owner.shot(shots, "deposit-console-campaign-form")
