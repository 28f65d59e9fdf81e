"""Prizes that grow (越拆越多), prizes beyond credit, and helper gifts, through the API.

A ladder pays a customer's n-th opened packet rung n (the last rung for every later one), counted from packets
opened, not started; credit is drawn in the rung's range and claimed against the pool (the rung's minimum when the
pool cannot pay the draw, nothing and an honest outcome when it cannot pay that either); coupon and goods rungs come
from their own stock and the coupon template's; a goods prize is ordered at no price through checkout, one order at
a time. Helper gifts (a coupon or goods per help) come from their own stock, for assist packets and bargains alike.
Every bad setting is refused by field; a gift that names no coupon or SKU of the merchant's blocks activation.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.campaigns.assist.test_assist_paths import (
    assist_campaign,
    create,
    help_packet,
    open_packet,
    packet,
    refused,
    wallet,
)
from tests.campaigns.bargain.test_bargain_paths import bargain_campaign, helped, started
from tests.campaigns.groupbuy.test_campaign_admin import act
from tests.support import Mall, Who, counter, customer_id, problem, rows, shoppers
from tests.web.test_mechanic_pages import page as web_page

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")


def credit(low: int, high: int | None = None) -> dict[str, Any]:
    return {"kind": "credit", "min_fen": low, "max_fen": low if high is None else high}


LADDER = [credit(100, 200), credit(200, 400), credit(500)]
"""The example the rules page explains: 1st packet ¥1–2, 2nd ¥2–4, 3rd and later ¥5."""


async def ladder_campaign(mall: Mall, ladder: list[dict[str, Any]], **settings: Any) -> int:
    """A live assist campaign of one helper per packet, on this ladder."""
    return await assist_campaign(mall, **{"helpers_needed": 1, "pool_fen": 10_000, "winners": 100,
                                          "per_customer_limit": 5, "ladder": ladder, **settings})


async def coupon_template(mall: Mall, **overrides: Any) -> int:
    response = await mall.client.post("/admin/coupon-templates", headers=await mall.staff(), json={
        "name": "立减3元", "kind": "amount", "amount_fen": 300, "valid_days": 30, "claimable": False, **overrides})
    assert response.status_code == 201, response.text
    template_id: int = response.json()["id"]
    return template_id


async def opened_by(mall: Mall, owner: Who, campaign_id: int, friend: Who) -> dict[str, Any]:
    """The owner opens a packet and one friend's help opens it: the packet as that help answered."""
    started_packet = await open_packet(mall, owner, campaign_id)
    return await help_packet(mall, friend, started_packet["id"])


async def friends_with_phones(mall: Mall, count: int) -> list[Who]:
    """Helpers each on a phone of their own, so the risk check ranks them low."""
    return [{**who, "X-Device-Id": f"phone-{i}"} for i, who in enumerate(await shoppers(mall, "friend", count))]


async def my_coupons(mall: Mall, who: Who) -> list[tuple[str, str]]:
    response = await mall.client.get("/coupons", headers=who)
    assert response.status_code == 200, response.text
    return [(c["name"], c["source_type"]) for c in response.json()]


async def my_goods(mall: Mall, who: Who) -> list[dict[str, Any]]:
    response = await mall.client.get("/goods-prizes/mine", headers=who)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


async def campaign_page(mall: Mall, campaign_id: int) -> dict[str, Any]:
    response = await mall.client.get(f"/assist-campaigns/{campaign_id}", params={"merchant": mall.slug})
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


# --- the ladder -------------------------------------------------------------------------------------------------------


async def test_each_opened_packet_climbs_the_ladder_and_the_last_rung_repeats(client, mall):
    """Packet 1 pays within ¥1–2, packet 2 within ¥2–4, packets 3 and 4 exactly ¥5; each is credited once and
    claimed against the pool, whose use and what is left are what the wallet got."""
    campaign_id = await ladder_campaign(mall, LADDER)
    alice = await mall.shopper("alice")
    friends = await shoppers(mall, "friend", 4)
    answers = [await opened_by(mall, alice, campaign_id, friend) for friend in friends]
    assert [(a["status"], a["outcome"], a["rank"], a["gift"]) for a in answers] == [
        ("opened", "won", n, None) for n in (1, 2, 3, 4)]
    paid = [a["prize_fen"] for a in answers]
    assert 100 <= paid[0] <= 200 and 200 <= paid[1] <= 400 and paid[2:] == [500, 500]
    balance, entries = await wallet(mall, alice)
    assert balance == sum(paid)
    assert sorted(e[0] for e in entries) == sorted(paid)
    assert {e[1] for e in entries} == {"assist_prize"}
    assert await counter(mall.runtime, f"budget:{campaign_id}:assist_prize") == sum(paid)
    page = await campaign_page(mall, campaign_id)
    assert (page["pool_left_fen"], page["prizes_left"]) == (10_000 - sum(paid), 96)
    assert page["ladder_prizes"] == ["¥1.00–¥2.00 店铺余额（区间内每一分钱机会均等）",
                                     "¥2.00–¥4.00 店铺余额（区间内每一分钱机会均等）", "¥5.00 店铺余额（固定）"]
    assert page["rules"][1:4] == [
        "越拆越多：你在本活动中拆开的第 1 个红包得¥1.00–¥2.00 店铺余额（区间内每一分钱机会均等）；"
        "第 2 个红包得¥2.00–¥4.00 店铺余额（区间内每一分钱机会均等）；第 3 个及以后每个红包得¥5.00 店铺余额（固定）。",
        "名次按你在本活动中已拆开（好友助力完成）的红包数计：先拆开的算第 1 个，与发起先后无关。",
        "确定的：上面的阶梯、每档的最低金额、奖池总额 ¥100.00（店铺余额，绝不超发），全活动最多发出 100 份奖励。"
        "随机的：只有每档区间内的具体金额，拆开时抽取。"]
    assert (await packet(mall, answers[2]["id"]))["rank"] == 3


async def test_rank_counts_packets_opened_not_started_and_each_customer_has_their_own(client, mall):
    """Alice starts A then B; B opens first, so B is her 1st (¥1) and A her 2nd (¥2); Bob's first is his 1st."""
    campaign_id = await ladder_campaign(mall, [credit(100), credit(200)])
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    friends = await shoppers(mall, "friend", 3)
    first, second = await open_packet(mall, alice, campaign_id), await open_packet(mall, alice, campaign_id)
    later = await help_packet(mall, friends[0], second["id"])
    earlier = await help_packet(mall, friends[1], first["id"])
    assert [(p["rank"], p["prize_fen"]) for p in (later, earlier)] == [(1, 100), (2, 200)]
    his = await opened_by(mall, bob, campaign_id, friends[2])
    assert (his["rank"], his["prize_fen"]) == (1, 100)
    assert await counter(mall.runtime, f"assist_rank:{campaign_id}:{await customer_id(mall, alice)}") == 2


async def test_a_packet_that_loses_the_odds_still_counts_as_opened(client, mall):
    """win_percent 1 with a fixed ladder: the losses take no prize but climb the ladder all the same."""
    campaign_id = await ladder_campaign(mall, [credit(100), credit(200)], win_percent=1)
    alice = await mall.shopper("alice")
    friends = await shoppers(mall, "friend", 2)
    answers = [await opened_by(mall, alice, campaign_id, friend) for friend in friends]
    assert [a["rank"] for a in answers] == [1, 2]
    assert all(a["outcome"] in ("won", "lost") for a in answers)
    assert all(a["prize_fen"] == (0 if a["outcome"] == "lost" else 100 * a["rank"]) for a in answers)


async def test_the_packet_page_offers_another_packet_only_while_the_owner_may_start_one(client, mall):
    """With two packets a customer: after the first opens, its page invites the owner to open another (越拆越多);
    once the second is started, neither page offers one, since the campaign would refuse it."""
    campaign_id = await ladder_campaign(mall, LADDER, per_customer_limit=2)
    alice = await mall.shopper("alice")
    friend, other = await shoppers(mall, "friend", 2)
    first = await opened_by(mall, alice, campaign_id, friend)
    assert "再拆一个" in await web_page(mall.client, f"/m/{mall.slug}/assists/{first['id']}", alice)
    second = await opened_by(mall, alice, campaign_id, other)
    for opened in (first, second):
        assert "再拆一个" not in await web_page(mall.client, f"/m/{mall.slug}/assists/{opened['id']}", alice)


async def test_when_the_pool_cannot_pay_a_rank_the_minimum_is_paid_then_nothing_and_the_page_says_so(client, mall):
    """Pool ¥7: the 1st packet ¥3; the 2nd draws ¥4–5 and, whatever it drew, gets what the pool can pay of its rung
    (¥4, the minimum, when the draw is more than is left); the 3rd finds less than its rung's minimum: outcome
    pool_short, nothing paid, its place given back, and the page says so. Nothing is ever overspent."""
    campaign_id = await ladder_campaign(mall, [credit(300), credit(400, 500)], pool_fen=700, winners=10)
    alice = await mall.shopper("alice")
    friends = await shoppers(mall, "friend", 3)
    answers = [await opened_by(mall, alice, campaign_id, friend) for friend in friends]
    assert [(a["outcome"], a["prize_fen"]) for a in answers] == [("won", 300), ("won", 400), ("pool_short", 0)]
    assert await counter(mall.runtime, f"budget:{campaign_id}:assist_prize") == 700
    assert await counter(mall.runtime, f"slots:assist:{campaign_id}") == 2
    assert (await wallet(mall, alice))[0] == 700
    page = await campaign_page(mall, campaign_id)
    assert (page["pool_left_fen"], page["prizes_left"]) == (0, 8)
    assert "奖池余额已不足以支付这一档的奖励，本红包未发奖励" in await web_page(
        mall.client, f"/m/{mall.slug}/assists/{answers[2]['id']}", alice)
    assert "奖池余额已不足本档最低金额，本档暂不发放" in await web_page(
        mall.client, f"/m/{mall.slug}/assist-campaigns/{campaign_id}")


async def test_winners_caps_the_ladders_prizes_in_all(client, mall):
    """winners 2: the third opened packet anywhere in the campaign finds the prizes gone (pool_empty)."""
    campaign_id = await ladder_campaign(mall, [credit(100)], winners=2)
    owners = await shoppers(mall, "owner", 3)
    friends = await shoppers(mall, "friend", 3)
    answers = [await opened_by(mall, owner, campaign_id, friend) for owner, friend in zip(owners, friends, strict=True)]
    assert [(a["outcome"], a["prize_fen"]) for a in answers] == [("won", 100), ("won", 100), ("pool_empty", 0)]


# --- coupon and goods prizes ------------------------------------------------------------------------------------------


async def test_a_coupon_rung_issues_from_its_stock_and_the_templates(client, mall):
    """Rung 1 pays ¥1, rung 2 a coupon (stock 1): Alice's 2nd packet gets the coupon through the coupons service
    (the template's issued count rises); Bob's 2nd finds the rung's stock gone (stock_out), and nothing is issued."""
    template_id = await coupon_template(mall)
    campaign_id = await ladder_campaign(mall, [credit(100), {"kind": "coupon", "coupon_template_id": template_id,
                                                             "stock": 1}])
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    friends = await shoppers(mall, "friend", 4)
    await opened_by(mall, alice, campaign_id, friends[0])
    second = await opened_by(mall, alice, campaign_id, friends[1])
    assert (second["outcome"], second["prize_fen"], second["rank"]) == ("won", 0, 2)
    assert (second["gift"]["kind"], second["gift"]["name"]) == ("coupon", "立减3元")
    assert await my_coupons(mall, alice) == [("立减3元", "assist")]
    await opened_by(mall, bob, campaign_id, friends[2])
    gone = await opened_by(mall, bob, campaign_id, friends[3])
    assert (gone["outcome"], gone["gift"]) == ("stock_out", None)
    assert await my_coupons(mall, bob) == []
    assert await rows(mall.runtime, "SELECT issued FROM coupon_templates WHERE id = :t", t=template_id) == [(1,)]
    assert "第 2 个及以后每个红包得优惠券「立减3元」一张（共 1 张，送完即止）" in (
        await campaign_page(mall, campaign_id))["rules"][1]


async def test_a_coupon_rung_stops_at_the_templates_own_stock(client, mall):
    """The rung allows 5 but the template has 1 left: the second coupon is not issued (stock_out)."""
    template_id = await coupon_template(mall, stock=1)
    campaign_id = await ladder_campaign(mall, [{"kind": "coupon", "coupon_template_id": template_id, "stock": 5}])
    owners = await shoppers(mall, "owner", 2)
    friends = await shoppers(mall, "friend", 2)
    answers = [await opened_by(mall, owner, campaign_id, friend) for owner, friend in zip(owners, friends, strict=True)]
    assert [a["outcome"] for a in answers] == ["won", "stock_out"]
    assert await counter(mall.runtime, f"gifts:{campaign_id}:rung1") == 1


async def test_a_goods_prize_is_ordered_once_at_no_price_through_checkout(client, mall):
    """A goods rung gives Alice one unit of the SKU: she orders it through checkout (campaign kind "prize") and
    pays nothing for the item; a second order of it is refused while the first holds it, two units or another
    customer are refused, cancelling the order frees it, and the order paid (¥0) redeems it and goes to shipping."""
    campaign_id = await ladder_campaign(mall, [{"kind": "goods", "product_id": mall.product_id,
                                                "sku_id": mall.sku_id, "stock": 2}])
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    friend = (await shoppers(mall, "friend", 1))[0]
    won = await opened_by(mall, alice, campaign_id, friend)
    assert (won["outcome"], won["gift"]["kind"], won["gift"]["name"]) == ("won", "goods", "Tea")
    [prize] = await my_goods(mall, alice)
    assert (prize["id"], prize["sku_id"], prize["status"], prize["title"]) == (won["gift"]["ref"], mall.sku_id,
                                                                                 "unclaimed", "Tea")
    checkout = f"/m/{mall.slug}/checkout?sku={mall.sku_id}&campaign=prize:{campaign_id}&target={prize['id']}"
    packet_page = await web_page(mall.client, f"/m/{mall.slug}/assists/{won['id']}", alice)
    assert f'href="{checkout}">免费下单领取赠品</a>' in packet_page
    assert "领取赠品" in await web_page(mall.client, checkout, alice)
    choice = {"campaign": {"kind": "prize", "campaign_id": campaign_id, "target_id": prize["id"]}}
    problem(await mall.place_order(alice, quantity=2, **choice), 422, "wrong_goods")
    problem(await mall.place_order(bob, **choice), 404, "goods_prize_not_found")
    order = await mall.place_order(alice, **choice)
    assert order.status_code == 201, order.text
    placed = order.json()
    assert (placed["kind"], placed["items_fen"] + sum(a["amount_fen"] for a in placed["adjustments"]
                                                      if a["kind"] == "goods_prize")) == ("prize", 0)
    assert [p["status"] for p in await my_goods(mall, alice)] == ["ordered"]
    problem(await mall.place_order(alice, **choice), 409, "goods_prize_taken")
    cancelled = await mall.client.post(f"/orders/{placed['id']}/cancel", headers=alice)
    assert cancelled.status_code == 200, cancelled.text
    assert [p["status"] for p in await my_goods(mall, alice)] == ["unclaimed"]
    again = await mall.place_order(alice, **choice)
    assert (again.status_code, again.json()["total_fen"]) == (201, 0), again.text
    paying = await mall.client.post(f"/orders/{again.json()['id']}/pay", headers=alice)
    assert (paying.status_code, paying.json()["amount_fen"]) == (200, 0), paying.text
    await mall.work()
    assert (await mall.get_order(alice, again.json()["id"]))["status"] not in ("pending_payment", "cancelled")
    assert [(p["status"], p["order_id"]) for p in await my_goods(mall, alice)] == [("redeemed", again.json()["id"])]


# --- helper gifts -----------------------------------------------------------------------------------------------------


async def test_assist_helper_gift_coupons_stop_at_their_stock(client, mall):
    """helper_gift: a coupon each, stock 2: the first two helpers get one, the third none; the rules say so."""
    template_id = await coupon_template(mall, name="助力券")
    campaign_id = await assist_campaign(mall, helpers_needed=3, helper_gift={
        "kind": "coupon", "coupon_template_id": template_id, "stock": 2})
    alice = await mall.shopper("alice")
    friends = await friends_with_phones(mall, 3)
    opened = await open_packet(mall, alice, campaign_id)
    for friend in friends:
        await help_packet(mall, friend, opened["id"])
    assert [await my_coupons(mall, f) for f in friends] == [[("助力券", "help")], [("助力券", "help")], []]
    assert "助力好友各得优惠券「助力券」一张（共 2 份，送完即止；风险账户不发放）。" in (
        await campaign_page(mall, campaign_id))["rules"]


async def test_bargain_helper_gift_of_goods_through_the_same_piece(client, mall):
    """A bargain's helper gift of goods: each helper gets one goods prize (source: their help), while stock lasts."""
    campaign_id = await bargain_campaign(mall, helper_gift={"kind": "goods", "product_id": mall.product_id,
                                                            "sku_id": mall.sku_id, "stock": 1})
    alice = await mall.shopper("alice")
    friends = await friends_with_phones(mall, 2)
    bargain = await started(mall, alice, campaign_id)
    for friend in friends:
        await helped(mall, friend, bargain["id"])
    assert [[(g["source_type"], g["status"]) for g in await my_goods(mall, f)] for f in friends] == [
        [("help", "unclaimed")], []]
    page = await mall.client.get(f"/bargain-campaigns/{campaign_id}", params={"merchant": mall.slug})
    assert "帮砍好友各得赠品「Tea」一件（免费下单，运费按店铺规则）（共 1 份，送完即止；风险账户不发放）。" in (
        page.json()["rules"])


async def test_high_risk_helpers_get_no_gift(client, mall):
    """A helper the risk check ranks high (a brand-new account with no device) gets no gift, and takes no stock."""
    template_id = await coupon_template(mall)
    campaign_id = await assist_campaign(mall, helpers_needed=2, helper_gift={
        "kind": "coupon", "coupon_template_id": template_id, "stock": 5})
    alice = await mall.shopper("alice")
    risky = await mall.shopper("risky")
    opened = await open_packet(mall, alice, campaign_id)
    await help_packet(mall, risky, opened["id"])
    assert await my_coupons(mall, risky) == []
    assert await counter(mall.runtime, f"gifts:{campaign_id}:helper_gift") is None


# --- bad settings and lint --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("settings", "field"), [
    ({"ladder": []}, "settings.ladder"),
    ({"ladder": [credit(200, 100)]}, "settings.ladder.0"),
    ({"ladder": [credit(0)]}, "settings.ladder.0"),
    ({"ladder": [{"kind": "credit", "min_fen": 100, "max_fen": 100, "stock": 3}]}, "settings.ladder.0"),
    ({"ladder": [{"kind": "coupon", "coupon_template_id": 1}]}, "settings.ladder.0"),
    ({"ladder": [{"kind": "coupon", "coupon_template_id": 1, "stock": 1, "min_fen": 5}]}, "settings.ladder.0"),
    ({"ladder": [{"kind": "goods", "product_id": 1, "stock": 1}]}, "settings.ladder.0"),
    ({"ladder": [{"kind": "lottery", "stock": 1}]}, "settings.ladder.0.kind"),
    ({"ladder": [credit(100), credit(2000)]}, "settings.ladder"),          # the pool (1000) cannot pay rung 2
    ({"ladder": [credit(100)] * 11}, "settings.ladder"),
    ({"helper_gift": {"kind": "coupon", "stock": 1}}, "settings.helper_gift"),
    ({"helper_gift": {"kind": "goods", "product_id": 1, "sku_id": 1}}, "settings.helper_gift.stock"),
    ({"helper_gift": {"kind": "coupon", "coupon_template_id": 1, "stock": 0}}, "settings.helper_gift.stock"),
])
async def test_bad_prize_settings_are_refused_by_field_and_create_nothing(client, mall, settings, field):
    body = await refused(mall, create(mall, **settings), 422, "invalid_settings")
    assert body["field"].startswith(field), body


async def test_gifts_that_name_no_coupon_or_sku_of_the_merchants_block_activation(client, mall):
    """G1 on a ladder's rungs and on the helper gift: an unknown template, an unknown product, a SKU of another
    product each block activation, naming where; the campaign stays a draft."""
    response = await create(mall, ladder=[{"kind": "coupon", "coupon_template_id": 999, "stock": 1},
                                          {"kind": "goods", "product_id": 998, "sku_id": 1, "stock": 1}],
                            helper_gift={"kind": "goods", "product_id": mall.product_id, "sku_id": 997, "stock": 1})
    assert response.status_code == 201, response.text
    campaign_id = response.json()["id"]
    body = await refused(mall, act(mall, campaign_id, "activate"), 409, "lint_blocked")
    assert [(f["rule"], f["check"], f["facts"]["where"]) for f in body["findings"]] == [
        ("G1", "coupon_missing", "ladder[0]"), ("G1", "product_missing", "ladder[1]"),
        ("G1", "sku_not_of_product", "helper_gift")]


async def test_lint_blocks_a_rung_above_the_top_prize_cap_and_warns_of_a_short_pool(client, mall):
    """P3: a credit rung that could pay more than ¥50,000 blocks; F5 warns when the pool cannot pay every place
    even at the smallest rung minimum."""
    response = await create(mall, pool_fen=6_000_000, winners=2, ladder=[credit(100, 5_000_001)])
    lint = (await act(mall, response.json()["id"], "lint")).json()
    assert [(f["rule"], f["level"]) for f in lint["findings"]] == [("P3", "block")]
    response = await create(mall, pool_fen=1000, winners=5, ladder=[credit(300)])
    lint = (await act(mall, response.json()["id"], "lint")).json()
    assert (lint["ok"], [(f["rule"], f["level"], f["check"]) for f in lint["findings"]]) == (
        True, [("F5", "warn", "pool_short")])

