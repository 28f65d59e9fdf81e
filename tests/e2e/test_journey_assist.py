"""Journey 3: an assist packet opened by four friends through the pages, the prize credited to the opener's wallet."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import SHOP, owner_api

pytestmark = pytest.mark.backend_free

HELPERS = ("阿强", "小美", "大刘", "老王")


async def test_four_friends_open_an_assist_packet_and_the_prize_is_credited(server: str, people, shots: Path) -> None:
    campaign = await owner_api(server, "POST", "/admin/campaigns", json={
        "kind": "assist", "name": "四人助力红包", "starts_at": "2026-01-01T00:00:00+08:00",
        "ends_at": "2099-01-01T00:00:00+08:00",
        "settings": {"helpers_needed": len(HELPERS), "pool_fen": 2000, "winners": 10, "split": None}})
    await owner_api(server, "POST", f"/admin/campaigns/{campaign['id']}/activate")

    opener = await people("小红")
    page = await opener.open(f"/m/{SHOP}/assist-campaigns/{campaign['id']}")
    await page.click("text=发起助力，拆红包")
    await page.wait_for_url("**/assists/*")
    packet_id = int(page.url.rsplit("/", 1)[1])
    await page.click("text=邀请好友助力")
    link = page.locator("#share-link")
    await link.wait_for()
    share_link = await link.input_value()
    await opener.shot(shots, "assist-share")

    for name in HELPERS:
        friend = await people(name, signed_in=False)
        landing = await friend.open(share_link)
        assert await landing.locator(".banner").inner_text() == "小红 请你助力拆红包"
        await landing.click("form.act >> text=助力")
        await landing.wait_for_url("**/login**")
        await friend.sign_in()
        await landing.wait_for_url("**/s/*")
        await landing.click("form.act >> text=助力")
        await landing.wait_for_selector("text=你已为小红助力")
        assert friend.refused == []
    await friend.shot(shots, "assist-helped")

    await page.reload()
    await page.wait_for_selector("text=¥2.00 已存入余额")
    await opener.shot(shots, "assist-opened")
    state = await opener.api("GET", f"/assists/{packet_id}")
    assert (state["status"], state["helps_done"], state["prize_fen"]) == ("opened", 4, 200)
    assert [h["nickname"] for h in state["helpers"]] == list(HELPERS)
    wallet = await opener.api("GET", "/wallet")
    assert wallet["balance_fen"] == 200
    assert [e["amount_fen"] for e in wallet["entries"]] == [200]
    assert opener.refused == []
