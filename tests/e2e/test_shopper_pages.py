"""The shopper's pages in real headless Chromium, against a real server process with the demo data.

Screenshots land in $E2E_SCREENSHOTS (default: the test's tmp folder) for a person to look at.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from playwright.async_api import async_playwright

from tests.e2e.conftest import CHROMIUM, FLAGS, refused_by_the_policy

pytestmark = pytest.mark.backend_free


async def test_browse_and_open_a_share_link(server: str, shots: Path) -> None:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = await browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        refused = refused_by_the_policy(page)
        await page.goto(f"{server}/")
        cards = page.locator("main > .grid > a.card")  # the catalogue (为你推荐 above it has tiles of its own)
        async with httpx.AsyncClient(base_url=f"{server}/api/v1") as api:  # other journeys may add products
            on_sale = (await api.get("/products", params={"merchant": "demo", "limit": 50})).json()["items"]
        assert await cards.count() == len(on_sale) >= 12
        assert await cards.locator("text=云南小粒咖啡豆 中度烘焙").is_visible()
        images_loaded = await page.evaluate(
            "[...document.images].filter(i => i.src).every(i => i.complete && i.naturalWidth > 0)")
        assert images_loaded
        await page.screenshot(path=shots / "home.png", full_page=True)

        await page.locator('main > .grid > a.card[href$="/products/1"]').click()
        await page.wait_for_url("**/products/1")
        assert await page.locator(".sku").count() == 2
        assert "39.90" in await page.locator(".price").first.inner_text()
        await page.screenshot(path=shots / "product.png", full_page=True)

        async with httpx.AsyncClient(base_url=f"{server}/api/v1") as api:
            login = await api.post("/auth/dev-login",
                                   json={"merchant_slug": "demo", "openid": "e2e", "nickname": "小明"})
            token = {"Authorization": f"Bearer {login.json()['token']}"}
            share = (await api.post("/shares", headers=token, json={"target_type": "product", "target_id": 1})).json()
        await page.goto(share["link"])
        assert await page.locator(".banner").inner_text() == "小明 分享给你的好物"
        await page.screenshot(path=shots / "share-landing.png", full_page=True)

        await page.goto(share["poster_url"])
        await page.screenshot(path=shots / "poster.png")
        await browser.close()
    assert refused == []


async def test_a_shared_group_shows_who_is_in_and_places_left(server: str, shots: Path) -> None:
    """A merchant starts a 3-person group campaign; a shopper opens a group and pays in the sandbox (the
    server's own worker delivers the notification); the group link shows the leader, two free places, the rules."""
    async with httpx.AsyncClient(base_url=f"{server}/api/v1", timeout=10) as api:
        staff = await api.post("/admin/auth/login",
                               json={"merchant_slug": "demo", "username": "owner", "password": "demo-pass-2026"})
        owner = {"Authorization": f"Bearer {staff.json()['token']}"}
        product = (await api.get("/products/7")).json()
        body = {"kind": "group", "name": "脐橙三人团", "starts_at": "2026-01-01T00:00:00+08:00",
                "ends_at": "2099-01-01T00:00:00+08:00",
                "settings": {"product_id": 7, "group_size": 3, "leader_discount_fen": 200,
                             "skus": [{"sku_id": product["skus"][0]["id"], "group_price_fen": 2990}]}}
        campaign = (await api.post("/admin/campaigns", headers=owner, json=body)).json()
        assert (await api.post(f"/admin/campaigns/{campaign['id']}/activate", headers=owner)).status_code == 200
        login = await api.post("/auth/dev-login",
                               json={"merchant_slug": "demo", "openid": "leader", "nickname": "阿花"})
        leader = {"Authorization": f"Bearer {login.json()['token']}"}
        order = (await api.post("/orders", headers=leader, json={
            "items": [{"sku_id": product["skus"][0]["id"], "quantity": 1}],
            "address": {"name": "阿花", "phone": "13800138000", "detail": "南京西路 1 号"},
            "campaign": {"kind": "group", "campaign_id": campaign["id"]}})).json()
        payment = (await api.post(f"/orders/{order['id']}/pay", headers=leader)).json()
        await api.post(f"/sandbox/payments/{payment['payment_id']}/complete", headers=leader)
        for _ in range(100):
            groups = (await api.get(f"/group-campaigns/{campaign['id']}/groups")).json()
            if groups:
                break
            await asyncio.sleep(0.1)
        assert groups and groups[0]["places_left"] == 2
        share = (await api.post("/shares", headers=leader,
                                json={"target_type": "group", "target_id": groups[0]["id"]})).json()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = await browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        await page.goto(share["link"])
        assert await page.locator(".banner").inner_text() == "阿花 邀你一起拼团"
        assert "还差 2 人成团" in await page.locator(".panel").nth(1).inner_text()
        assert await page.locator(".seat.filled").count() == 1 and await page.locator(".seat").count() == 3
        assert "全额退款" in await page.locator("ol").inner_text()
        await page.screenshot(path=shots / "group.png", full_page=True)
        await browser.close()


async def _owner(api: httpx.AsyncClient) -> dict[str, str]:
    staff = await api.post("/admin/auth/login",
                           json={"merchant_slug": "demo", "username": "owner", "password": "demo-pass-2026"})
    return {"Authorization": f"Bearer {staff.json()['token']}"}


async def _shopper(api: httpx.AsyncClient, openid: str, nickname: str) -> dict[str, str]:
    login = await api.post("/auth/dev-login", headers={"X-Device-Id": f"phone-{openid}"},
                           json={"merchant_slug": "demo", "openid": openid, "nickname": nickname})
    return {"Authorization": f"Bearer {login.json()['token']}", "X-Device-Id": f"phone-{openid}"}


async def _live(api: httpx.AsyncClient, owner: dict[str, str], kind: str, name: str,
                settings: dict[str, object]) -> int:
    body = {"kind": kind, "name": name, "starts_at": "2026-01-01T00:00:00+08:00",
            "ends_at": "2099-01-01T00:00:00+08:00", "settings": settings}
    campaign = await api.post("/admin/campaigns", headers=owner, json=body)
    assert campaign.status_code == 201, campaign.text
    assert (await api.post(f"/admin/campaigns/{campaign.json()['id']}/activate", headers=owner)).status_code == 200
    campaign_id: int = campaign.json()["id"]
    return campaign_id


async def test_a_shared_bargain_and_red_packet_show_their_friends(server: str, shots: Path) -> None:
    """A bargain cut by two friends shows the price reached, each friend's cut, the helps left and the schedule's
    hash; a red packet helped by one friend shows the places left and the published pool and odds."""
    async with httpx.AsyncClient(base_url=f"{server}/api/v1", timeout=10) as api:
        owner = await _owner(api)
        product = (await api.get("/products/3")).json()
        sku = product["skus"][0]
        bargain_campaign = await _live(api, owner, "bargain", "砍价免费拿", {
            "product_id": 3, "sku_id": sku["id"], "start_price_fen": sku["price_fen"], "floor_price_fen": 0,
            "helps_needed": 5})
        packet_campaign = await _live(api, owner, "assist", "助力拆红包", {
            "helpers_needed": 3, "pool_fen": 100000, "winners": 100, "min_prize_fen": 100})
        starter = await _shopper(api, "starter", "小红")
        bargain = (await api.post("/bargains", headers=starter, json={"campaign_id": bargain_campaign})).json()
        packet = (await api.post("/assists", headers=starter, json={"campaign_id": packet_campaign})).json()
        for openid, nickname in (("f1", "阿杰"), ("f2", "小美")):
            friend = await _shopper(api, openid, nickname)
            assert (await api.post(f"/bargains/{bargain['id']}/helps", headers=friend)).status_code == 201
        friend = await _shopper(api, "f3", "老王")
        assert (await api.post(f"/assists/{packet['id']}/helps", headers=friend)).status_code == 201
        bargain_share = (await api.post("/shares", headers=starter,
                                        json={"target_type": "bargain", "target_id": bargain["id"]})).json()
        packet_share = (await api.post("/shares", headers=starter,
                                       json={"target_type": "assist", "target_id": packet["id"]})).json()
        reached = (await api.get(f"/bargains/{bargain['id']}")).json()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = await browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        refused = refused_by_the_policy(page)
        await page.goto(bargain_share["link"])
        assert await page.locator(".banner").inner_text() == "小红 请你帮忙砍一刀"
        assert await page.locator(".cut").count() == 2
        assert "还差 3 位好友砍到底价" in await page.locator(".panel").nth(1).inner_text()
        assert f"{reached['price_fen'] // 100}." in await page.locator(".price").inner_text()
        assert reached["schedule_hash"] in await page.locator("main").inner_text()
        assert await page.locator("progress.bar").get_attribute("value") == str(reached["progress_percent"])
        countdown = await page.locator("#countdown").inner_text()
        assert countdown.startswith("剩余 ") and ":" in countdown  # the mall's own script ran
        await page.screenshot(path=shots / "bargain.png", full_page=True)

        await page.goto(packet_share["link"])
        assert await page.locator(".banner").inner_text() == "小红 请你助力拆红包"
        assert "还差 2 位好友助力" in await page.locator(".packet").inner_text()
        assert await page.locator(".seat.filled").count() == 1 and await page.locator(".seat").count() == 3
        assert "奖池共 ¥1000.00" in await page.locator("ol").inner_text()
        await page.screenshot(path=shots / "assist.png", full_page=True)
        await browser.close()
    assert refused == []
