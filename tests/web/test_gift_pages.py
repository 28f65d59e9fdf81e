"""The pages of what friends give each other: a coupon packet and its share landing, an order's packets to share,
gift vouchers (on sale, mine, the friend's claim link), the invite landing and the inviter's page, the points mall.
Each page shows what the API says, escapes what shoppers and merchants typed, and acts only through the API's forms."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from tests.campaigns.giftcards.test_vouchers import bought, gift_campaign, sent
from tests.campaigns.invites.test_invite_rewards import invite_campaign
from tests.campaigns.packets.test_packets import bought_packet, claim, packet_campaign
from tests.campaigns.pointsmall.test_points_mall import coupon, goods, grant, live, template
from tests.loyalty.test_points import configure
from tests.support import Mall, Who, customer_id
from tests.web.test_pages import BANNER, SITE, page, refused_page, share

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")

ACTION = re.compile(r'<form class="act" data-api="([^"]+)"(?: data-next="([^"]*)")?')
CLAIMS = re.compile(r'<div class="cut"><span class="avatar">.*?</span><span>(.*?)</span>\s*(<span class="tag">手气最佳'
                    r'</span>)?\s*<b>(.*?)</b>', re.S)


def signed_in(client: httpx.AsyncClient, who: Who) -> httpx.AsyncClient:
    """The page session of `who`: their token in the session cookie, as the sign-in page sets it."""
    client.cookies.set("fm_shopper", who["Authorization"].removeprefix("Bearer "))
    return client


def signed_out(client: httpx.AsyncClient) -> httpx.AsyncClient:
    client.cookies.clear()
    return client


def actions(text: str) -> list[tuple[str, str]]:
    return [(api, html.unescape(nxt)) for api, nxt in ACTION.findall(text)]


def claims(text: str) -> list[tuple[str, bool, str]]:
    return [(html.unescape(name), bool(lucky), amount) for name, lucky, amount in CLAIMS.findall(text)]


@pytest.fixture
async def configured(mall: Mall) -> None:
    """Points set up: points-mall items may go live."""
    await configure(mall)


# --- coupon packets --------------------------------------------------------------------------------------------------

async def test_a_packet_landing_shows_the_sharer_the_slots_left_and_the_claim_form(client, mall):
    await packet_campaign(mall, slots=3, total_fen=900, split=None)
    buyer = await mall.shopper("buyer", nickname="<b>阿花</b>")
    found = await bought_packet(mall, buyer)
    code = await share(client, buyer, "packet", found["id"])

    text = await page(signed_out(client), f"/s/{code}")
    assert [html.unescape(b) for b in BANNER.findall(text)] == ["<b>阿花</b> 送你一个分享券红包"]
    assert "<b>阿花</b>" not in text
    assert "共 3 份，合计 ¥9.00" in text and "还剩 3 份 · ¥9.00" in text
    assert actions(text) == [(f"POST /api/v1/packets/{found['id']}/claims", f"/m/acme/packets/{found['id']}")]
    assert "每份金额相同" in text


async def test_after_claiming_a_friend_sees_the_slot_they_got_and_the_luckiest_only_on_a_random_split(client, mall):
    await packet_campaign(mall, slots=2, total_fen=900, min_fen=100, split="line_segment")
    buyer, bob, carol = (await mall.shopper("buyer"), await mall.shopper("bob", nickname="<i>Bob</i>"),
                         await mall.shopper("carol"))
    found = await bought_packet(mall, buyer)
    [mine] = (await claim(mall, bob, found["id"]))["claims"]
    [_, hers] = (await claim(mall, carol, found["id"]))["claims"]

    text = await page(signed_in(client, bob), f"/m/acme/packets/{found['id']}")
    assert f"你领到 ¥{mine['amount_fen'] / 100:.2f} 分享券" in text
    assert actions(text) == []
    luckiest_is_bob = mine["amount_fen"] >= hers["amount_fen"]
    assert claims(text) == [("<i>Bob</i>", luckiest_is_bob, f"¥{mine['amount_fen'] / 100:.2f}"),
                            ("carol", not luckiest_is_bob, f"¥{hers['amount_fen'] / 100:.2f}")]
    assert "<i>Bob</i>" not in text


async def test_an_equal_split_marks_no_luckiest(client, mall):
    await packet_campaign(mall, slots=2, total_fen=600, split=None)
    buyer, bob = await mall.shopper("buyer"), await mall.shopper("bob")
    found = await bought_packet(mall, buyer)
    await claim(mall, bob, found["id"])
    text = await page(signed_in(client, buyer), f"/m/acme/packets/{found['id']}")
    assert claims(text) == [("bob", False, "¥3.00")]
    assert "手气最佳" not in text


async def test_the_order_packets_page_lists_the_packets_with_their_share_buttons(client, mall):
    await packet_campaign(mall, slots=4, total_fen=1000)
    buyer = await mall.shopper("buyer")
    found = await bought_packet(mall, buyer)
    text = await page(signed_in(client, buyer), f"/m/acme/orders/{found['order_id']}/packets")
    assert f'data-share-type="packet" data-share-id="{found["id"]}"' in text
    assert "分享券红包 · 4 份" in text and "还剩 4 份" in text


async def test_the_order_packets_page_is_the_buyers_alone(client, mall):
    await packet_campaign(mall)
    buyer, other = await mall.shopper("buyer"), await mall.shopper("other")
    found = await bought_packet(mall, buyer)
    refused_page(await signed_in(client, other).get(f"{SITE}/m/acme/orders/{found['order_id']}/packets"), 404,
                 "order_not_found")
    response = await signed_out(client).get(f"{SITE}/m/acme/orders/{found['order_id']}/packets")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/m/acme/login?next=")


async def test_an_unknown_packet_is_a_page_not_found(client, mall):
    refused_page(await client.get(f"{SITE}/m/acme/packets/999"), 404, "packet_not_found")


# --- gift vouchers ---------------------------------------------------------------------------------------------------

async def test_a_voucher_on_sale_shows_price_value_and_buys_through_checkout(client, mall):
    campaign_id = await gift_campaign(mall)
    text = await page(client, f"/m/acme/gifts/{campaign_id}")
    assert "面值 ¥10.00" in text and "<small>¥</small>8.00" in text
    assert f'href="/m/acme/checkout?sku={mall.sku_id}&amp;qty=1&amp;campaign=gift:{campaign_id}"' in text
    assert "有效期 3 年" in text


async def test_my_vouchers_offer_send_and_use_and_show_the_code_to_the_holder(client, mall):
    campaign_id = await gift_campaign(mall)
    alice = await mall.shopper("alice")
    _, [voucher_id] = await bought(mall, alice, campaign_id)
    text = await page(signed_in(client, alice), "/m/acme/me/vouchers")
    assert f'data-api="POST /api/v1/vouchers/{voucher_id}/send" data-then="sheet" data-link="claim_link"' in text
    assert f'href="/m/acme/products/{mall.product_id}">去使用' in text
    assert "可使用" in text and "到店核销码" in text
    assert f'href="/m/acme/gifts/{campaign_id}"' in text


async def test_the_claim_link_is_a_page_for_the_friend_and_a_spent_link_says_so(client, mall):
    campaign_id = await gift_campaign(mall)
    alice, bob = await mall.shopper("alice", nickname="<script>x</script>"), await mall.shopper("bob")
    _, [voucher_id] = await bought(mall, alice, campaign_id)
    link = await sent(mall, alice, voucher_id)
    path = f"/m/acme/vouchers/{voucher_id}/claim"
    assert link["claim_link"] == f"http://mall.test{path}?token={link['token']}"

    text = await page(signed_out(client), path, token=link["token"])
    assert [html.unescape(b) for b in BANNER.findall(text)] == ["<script>x</script> 送你一份礼券"]
    assert "<script>x</script>" not in text
    assert actions(text) == [(f"POST /api/v1/vouchers/{voucher_id}/claim", "/m/acme/me/vouchers")]
    assert f'name="token" value="{link["token"]}"' in text
    assert "¥10.00" in text

    claimed = await mall.client.post(f"/vouchers/{voucher_id}/claim", headers=bob, json={"token": link["token"]})
    assert claimed.status_code == 200, claimed.text
    refused_page(await client.get(f"{SITE}{path}", params={"token": link["token"]}), 409, "voucher_claim_refused")
    refused_page(await client.get(f"{SITE}/m/acme/vouchers/{voucher_id}/claim", params={"token": "x" * 32}), 409,
                 "voucher_claim_refused")
    text = await page(signed_in(client, bob), "/m/acme/me/vouchers")
    assert "去使用" in text


async def test_the_sender_opening_their_own_link_gets_no_claim_button(client, mall):
    campaign_id = await gift_campaign(mall)
    alice = await mall.shopper("alice")
    _, [voucher_id] = await bought(mall, alice, campaign_id)
    link = await sent(mall, alice, voucher_id)
    text = await page(signed_in(client, alice), f"/m/acme/vouchers/{voucher_id}/claim", token=link["token"])
    assert actions(text) == []
    assert "这是你送出的礼券" in text


async def test_the_gift_api_shows_an_unspent_link_and_refuses_a_wrong_token(client, mall):
    campaign_id = await gift_campaign(mall)
    alice = await mall.shopper("alice", nickname="小红")
    _, [voucher_id] = await bought(mall, alice, campaign_id)
    link = await sent(mall, alice, voucher_id)
    response = await client.get(f"/vouchers/{voucher_id}/gift", params={"token": link["token"], "merchant": "acme"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["value_fen"], body["sender_nickname"]) == ("一杯茶", 1000, "小红")
    assert "code" not in body
    wrong = await client.get(f"/vouchers/{voucher_id}/gift", params={"token": "y" * 32, "merchant": "acme"})
    assert (wrong.status_code, wrong.json()["code"]) == (409, "voucher_claim_refused")


# --- invites ---------------------------------------------------------------------------------------------------------

async def test_the_invite_landing_says_what_the_inviter_gets_and_when(client, mall, runtime):
    await invite_campaign(mall, reward_on="first_purchase", max_friends=3)
    alice = await mall.shopper("alice", nickname="<u>小红</u>")
    code = await share(client, alice, "invite", await customer_id(mall, alice))
    text = await page(signed_out(client), f"/s/{code}")
    assert [html.unescape(b) for b in BANNER.findall(text)] == ["<u>小红</u> 邀请你来 acme mall"]
    assert "<u>小红</u>" not in text
    assert "在你完成首单支付后获得 ¥5.00 店铺余额（每人最多奖励 3 位好友）" in text
    assert 'href="/m/acme/login?next=/m/acme"' in text


async def test_the_invite_landing_without_a_live_campaign_still_leads_into_the_mall(client, mall):
    alice = await mall.shopper("alice")
    code = await share(client, alice, "invite", await customer_id(mall, alice))
    text = await page(signed_in(client, alice), f"/s/{code}")
    assert "邀请活动已结束" in text and 'href="/m/acme">去逛逛' in text


async def test_the_inviters_page_counts_friends_who_joined_and_offers_the_invite_share(client, mall):
    await invite_campaign(mall, reward_on="first_purchase")
    alice = await mall.shopper("alice")
    alice_id = await customer_id(mall, alice)
    code = await share(client, alice, "invite", alice_id)
    await mall.client.post("/auth/dev-login", json={"merchant_slug": "acme", "openid": "bob", "nickname": "bob",
                                                     "share_code": code})
    text = await page(signed_in(client, alice), "/m/acme/me/invites")
    assert "已邀请 <b class=\"red\">1</b> 位好友注册" in text
    assert f'data-share-type="invite" data-share-id="{alice_id}"' in text
    mine = await mall.client.get("/invites/mine", headers=alice)
    assert [(c["joined"], c["rewarded"], c["earned_fen"]) for c in mine.json()] == [(1, 0, 0)]


# --- the points mall -------------------------------------------------------------------------------------------------

@pytest.mark.usefixtures("configured")
async def test_the_points_mall_shows_items_points_and_forms(client, mall):
    coupon_item = await live(mall, coupon(await template(mall)), stock_cap=5)
    goods_item = await live(mall, goods(mall, per_customer_limit=2))
    alice = await mall.shopper("alice")
    await grant(mall, alice, 1234)

    text = await page(signed_in(client, alice), "/m/acme/points-mall")
    assert '<b class="red" id="my-points">1234</b>' in text
    assert "400 积分" in text and "800 积分 + ¥3.00" in text
    assert "剩余 5 件 · 每人限兑 1 次" in text and "每人限兑 2 次" in text
    assert actions(text) == [
        (f"POST /api/v1/points-mall/{coupon_item}/redeem", f"/m/acme/points-mall?got={coupon_item}"),
        (f"POST /api/v1/points-mall/{goods_item}/redeem", "/m/acme/orders/{order.id}/pay")]
    assert 'name="address.detail"' in text

    text = await page(client, "/m/acme/points-mall", got=str(coupon_item))
    assert "兑换成功" in text


async def test_the_points_mall_asks_a_signed_out_visitor_to_sign_in(client, mall):
    text = await page(signed_out(client), "/m/acme/points-mall")
    assert "登录后查看你的积分" in text and "积分商城暂时没有可兑换的商品" in text




async def test_a_shared_gift_voucher_offer_lands_on_its_page(client, mall):
    """The gift target's link opens the voucher on sale, with who recommended it (escaped)."""
    campaign_id = await gift_campaign(mall)
    alice = await mall.shopper("alice", nickname="<i>阿花</i>")
    share = await client.post("/shares", headers=alice, json={"target_type": "gift", "target_id": campaign_id})
    assert share.status_code == 201, share.text
    page = await client.get(f"http://mall.test/s/{share.json()['code']}")
    assert page.status_code == 200 and "&lt;i&gt;阿花&lt;/i&gt; 推荐你买一份礼券送朋友" in page.text
    assert "/m/acme/checkout?sku=" in page.text
