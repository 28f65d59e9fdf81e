"""Posters drawn from each target's facts through the API: a group's places left and its success card, the saved-money
card of a paid order and the check-in streak card, each shareable by its owner only, with nothing private on it."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

import httpx
import pytest

from fissionmall.sharing import poster
from fissionmall.sharing.poster import PosterContent, render_poster_png
from fissionmall.sharing.targets import PosterFacts
from tests.campaigns.groupbuy.test_group_flow import group_campaign, group_order
from tests.sharing.test_sharing import me, share
from tests.support import ADDRESS, LONG_TOKEN_TTL_SECONDS, problem


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Shopper tokens that outlive the day a streak test moves the clock by."""
    return {"token_ttl_seconds": LONG_TOKEN_TTL_SECONDS}


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[PosterContent]:
    """Every poster drawn, in order (a kept poster is served without drawing)."""
    seen: list[PosterContent] = []

    def counting_render(content: PosterContent) -> bytes:
        seen.append(content)
        return render_poster_png(content)

    monkeypatch.setattr(poster, "render_poster_png", counting_render)
    return seen


async def poster_of(client: httpx.AsyncClient, url: str) -> tuple[str, bytes]:
    response = await client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    return response.headers["etag"], response.content


def shown(facts: PosterFacts) -> str:
    """Every word a poster's facts put on the card."""
    return " ".join(str(value) for value in asdict(facts).values())


async def test_a_group_poster_shows_places_left_and_becomes_a_success_card(client, mall, drawn):
    campaign_id = await group_campaign(mall)
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    await mall.pay(alice, (await group_order(mall, alice, campaign_id))["id"])
    group_id = (await client.get(f"/group-campaigns/{campaign_id}/groups", headers=bob)).json()[0]["id"]
    url = (await share(client, bob, "group", group_id))["poster_url"]

    open_tag, _ = await poster_of(client, url)
    facts = drawn[-1].facts
    assert (facts.badge, facts.status, facts.progress_percent) == ("2 人团", "2 人团 · 还差 1 人", 50)
    assert (facts.price_fen, facts.list_price_fen, facts.hero) == (800, 1000, None)

    await mall.pay(bob, (await group_order(mall, bob, campaign_id, group_id))["id"])
    success_tag, _ = await poster_of(client, url)
    assert success_tag != open_tag and len(drawn) == 2
    facts = drawn[-1].facts
    assert (facts.hero, facts.hero_note, facts.status) == ("拼团成功", "2 人团 · 2 人已成团", None)


async def test_a_paid_order_that_saved_money_is_its_buyers_card_to_share(client, mall, drawn):
    """"我在<店名>省了 ¥X": the discounts of the order, the price before and after; no address, phone or order
    number. Only the buyer may share it, only once paid, and only if it saved something."""
    campaign_id = await group_campaign(mall)
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    grouped = await group_order(mall, alice, campaign_id)
    problem(await client.post("/shares", headers=alice, json={"target_type": "order", "target_id": grouped["id"]}),
            422, "invalid_share_target")
    paid = await mall.pay(alice, grouped["id"])
    problem(await client.post("/shares", headers=bob, json={"target_type": "order", "target_id": grouped["id"]}),
            404, "order_not_found")
    problem(await client.post("/shares", headers=alice, json={"target_type": "order", "target_id": 999_999}),
            404, "order_not_found")
    plain = await mall.pay(alice, (await mall.order(alice))["id"])
    problem(await client.post("/shares", headers=alice, json={"target_type": "order", "target_id": plain["id"]}),
            422, "invalid_share_target")

    body = await share(client, alice, "order", grouped["id"])
    await poster_of(client, body["poster_url"])
    facts = drawn[-1].facts
    assert (facts.hero, facts.price_fen, facts.list_price_fen) == ("省了 ¥2.00", 800, 1000)
    assert facts.hero_note is not None and facts.hero_note.startswith("我在")
    assert facts.details == ("开团价 省 ¥2.00",) and facts.sharer_says == "的晒单"
    words = shown(facts)
    for private in (paid["order_no"], paid["order_no"][-6:], *ADDRESS.values()):
        assert private not in words
    landing = (await client.get(f"/shares/{body['code']}")).json()
    assert (landing["target_type"], landing["target_id"], landing["campaign_id"]) == ("order", grouped["id"],
                                                                                     campaign_id)


async def test_a_check_in_streak_card_is_its_owners_and_grows_with_the_streak(client, mall, clock, drawn):
    owner = await mall.staff("owner")
    config: dict[str, Any] = {"earn_per_yuan": 1, "fen_per_100_points": 100, "max_redeem_percent": 50,
                              "validity_days": 365, "checkin_points": 5, "streak_bonus": 1, "streak_cap": 7,
                              "review_points": 0}
    assert (await client.put("/admin/points", headers=owner, json=config)).status_code == 200
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    alice_id = (await me(client, alice))["id"]
    body = {"target_type": "checkin", "target_id": alice_id}
    problem(await client.post("/shares", headers=alice, json=body), 422, "invalid_share_target")
    assert (await client.post("/points/checkin", headers=alice)).status_code == 201
    problem(await client.post("/shares", headers=bob, json=body), 422, "invalid_share_target")

    url = (await share(client, alice, "checkin", alice_id))["poster_url"]
    first, _ = await poster_of(client, url)
    facts = drawn[-1].facts
    assert (facts.hero, facts.details) == ("已连续签到 1 天", ("每天签到得 5 积分，连续签到每天多 1 分",))
    clock.advance(days=1)
    assert (await client.post("/points/checkin", headers=alice)).status_code == 201
    second, _ = await poster_of(client, url)
    assert second != first and drawn[-1].facts.hero == "已连续签到 2 天"
    clock.advance(days=2)
    await poster_of(client, url)
    assert drawn[-1].facts.hero == "每天签到领积分", "a missed day ends the streak on the card too"


async def test_a_bargain_poster_shows_the_price_reached_and_the_cuts_left(client, mall, drawn):
    owner = await mall.staff("owner")
    now = mall.runtime.clock.now()
    created = await client.post("/admin/campaigns", headers=owner, json={
        "kind": "bargain", "name": "砍到 0 元", "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(days=7)).isoformat(),
        "settings": {"product_id": mall.product_id, "sku_id": mall.sku_id, "start_price_fen": 1000,
                     "floor_price_fen": 0, "helps_needed": 4}})
    assert created.status_code == 201, created.text
    assert (await client.post(f"/admin/campaigns/{created.json()['id']}/activate", headers=owner)).status_code == 200
    alice = await mall.shopper("alice")
    started = await client.post("/bargains", headers=alice, json={"campaign_id": created.json()["id"]})
    assert started.status_code == 201, started.text
    bargain = started.json()
    problem(await client.post("/shares", headers=await mall.shopper("bob"),
                              json={"target_type": "bargain", "target_id": bargain["id"]}), 404, "bargain_not_found")
    await poster_of(client, (await share(client, alice, "bargain", bargain["id"]))["poster_url"])
    facts = drawn[-1].facts
    cut = 1000 - bargain["price_fen"]
    assert (facts.badge, facts.price_fen, facts.list_price_fen) == ("砍价", bargain["price_fen"], 1000)
    assert facts.status == f"已砍 ¥{cut // 100}.{cut % 100:02d}，还差 4 刀"
    assert facts.progress_percent == bargain["progress_percent"]


async def test_a_show_off_card_lands_on_a_page_that_says_what_the_card_says(client, mall):
    """A friend opening the saved-money card's link sees the card's words (escaped), its poster and the way in."""
    campaign_id = await group_campaign(mall)
    alice = await mall.shopper("alice", nickname="<b>阿花</b>")
    grouped = await group_order(mall, alice, campaign_id)
    await mall.pay(alice, grouped["id"])
    code = (await share(client, alice, "order", grouped["id"]))["code"]
    page = await client.get(f"http://mall.test/s/{code}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "&lt;b&gt;阿花&lt;/b&gt; 的晒单" in page.text and "省了 ¥2.00" in page.text
    assert f'src="/api/v1/shares/{code}/poster.png"' in page.text and 'href="/m/acme"' in page.text
