"""Group, bargain and assist pages that act: what each visitor is offered (join, help, buy, share), the result of
their own act, the home and product entries, and the Chinese words of every refusal those pages can meet."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from fissionmall.core.messages import BY_CODE
from tests.campaigns.assist.test_assist_paths import assist_campaign, help_packet, open_packet
from tests.campaigns.bargain.test_bargain_paths import bargain_campaign, started
from tests.campaigns.groupbuy.test_group_flow import group_campaign, group_order
from tests.support import Mall, Who

SITE = "http://mall.test"
ACTIONS = re.compile(r'<form class="act" data-api="([^"]+)"')


async def page(client: httpx.AsyncClient, path: str, who: Who | None = None) -> str:
    """The page as `who` sees it (their session cookie), or signed out."""
    cookie = {"Cookie": "fm_shopper=" + who["Authorization"].removeprefix("Bearer ")} if who else None
    response = await client.get(f"{SITE}{path}", headers=cookie)
    assert response.status_code == 200, response.text
    return response.text


def actions(text: str) -> list[str]:
    return ACTIONS.findall(text)


async def paid_group(mall: Mall, leader: Who, campaign_id: int) -> int:
    order = await group_order(mall, leader, campaign_id)
    await mall.pay(leader, order["id"])
    groups = (await mall.client.get(f"/group-campaigns/{campaign_id}/groups", headers=leader)).json()
    group_id: int = groups[0]["id"]
    return group_id


# --- group buying ----------------------------------------------------------------------------------------------------

async def test_a_friend_is_offered_to_join_the_open_group_at_checkout(client, mall):
    campaign_id = await group_campaign(mall, group_size=3)
    leader, friend = await mall.shopper("leader", nickname="小红"), await mall.shopper("friend")
    group_id = await paid_group(mall, leader, campaign_id)

    text = await page(client, f"/m/acme/groups/{group_id}", friend)
    assert '<form method="get" action="/m/acme/checkout" class="join">' in text
    for name, value in (("qty", "1"), ("campaign", f"group:{campaign_id}"), ("target", str(group_id))):
        assert f'<input type="hidden" name="{name}" value="{value}">' in text
    assert f'name="sku" value="{mall.sku_id}" checked' in text
    assert "100g · ¥8.00" in text and "参团 ¥8.00" in text
    assert "还差 <span class=\"red\">2</span> 人成团" in text

    mine = await page(client, f"/m/acme/groups/{group_id}", leader)
    assert "你已在团中" in mine and 'class="join"' not in mine
    assert f'data-share-type="group" data-share-id="{group_id}"' in mine


async def test_a_deposit_group_asks_for_the_deposit_and_names_the_balance_deadline(client, mall):
    campaign_id = await group_campaign(mall, group_size=3, deposit_percent=20, balance_hours=24)
    group_id = await paid_group(mall, await mall.shopper("leader"), campaign_id)
    text = await page(client, f"/m/acme/groups/{group_id}", await mall.shopper("friend"))
    assert "付定金参团" in text
    assert "100g · ¥8.00（定金 ¥1.60）" in text
    assert "付 20% 定金参团，成团后 1 天内付尾款" in text


async def test_a_full_group_shows_success_and_the_members_order_link(client, mall):
    campaign_id = await group_campaign(mall)
    leader, friend = await mall.shopper("leader"), await mall.shopper("friend")
    group_id = await paid_group(mall, leader, campaign_id)
    await mall.pay(friend, (await group_order(mall, friend, campaign_id, group_id))["id"])

    for who in (leader, friend):
        text = await page(client, f"/m/acme/groups/{group_id}", who)
        assert "拼团成功" in text and 'href="/m/acme/orders">我的订单</a>' in text
    stranger = await page(client, f"/m/acme/groups/{group_id}", await mall.shopper("stranger"))
    assert 'class="join"' not in stranger and "发起新团" in stranger


async def test_product_page_lists_open_groups_to_join_and_the_bargain_to_start(client, mall):
    group_id = await paid_group(mall, await mall.shopper("leader", nickname="<b>阿花</b>"),
                                await group_campaign(mall, group_size=3))
    bargain_id = await bargain_campaign(mall)
    text = await page(client, f"/m/acme/products/{mall.product_id}")
    assert f'<a class="btn small" href="/m/acme/groups/{group_id}">去参团</a>' in text
    assert "&lt;b&gt;阿花&lt;/b&gt;" in text and "<b>阿花</b>" not in text
    assert "还差 2 人" in text
    assert actions(text) == ["POST /api/v1/bargains"]
    assert f'name="campaign_id" value="{bargain_id}" data-int' in text
    assert 'data-next="/m/acme/bargains/{id}"' in text


# --- bargaining ------------------------------------------------------------------------------------------------------

async def test_a_friend_helps_and_then_sees_their_own_cut(client, mall):
    campaign_id = await bargain_campaign(mall)
    starter, friend = await mall.shopper("starter", nickname="小红"), await mall.shopper("friend")
    bargain = await started(mall, starter, campaign_id)
    path = f"/m/acme/bargains/{bargain['id']}"

    before = await page(client, path, friend)
    assert actions(before) == [f"POST /api/v1/bargains/{bargain['id']}/helps"]
    assert "帮TA砍一刀" in before and "小红发起的砍价" in before

    helped = await client.post(f"/bargains/{bargain['id']}/helps", headers=friend)
    assert helped.status_code == 201, helped.text
    cut = helped.json()["cuts"][0]["amount_fen"]
    after = await page(client, path, friend)
    assert actions(after) == []
    assert f"你帮小红砍掉 <b>¥{cut // 100}.{cut % 100:02d}</b>" in after
    assert '<span>friend</span>' in after


async def test_the_starter_shares_and_buys_as_the_rules_allow(client, mall):
    floor_only = await bargain_campaign(mall, buy_at="floor")
    starter = await mall.shopper("starter")
    bargain = await started(mall, starter, floor_only)
    text = await page(client, f"/m/acme/bargains/{bargain['id']}", starter)
    assert actions(text) == []
    assert f'data-share-type="bargain" data-share-id="{bargain["id"]}"' in text
    assert "/checkout?" not in text and "砍到底价后即可购买" in text

    any_time = await bargain_campaign(mall)
    other = await started(mall, starter, any_time)
    text = await page(client, f"/m/acme/bargains/{other['id']}", starter)
    checkout = (f'href="/m/acme/checkout?sku={mall.sku_id}&amp;qty=1&amp;campaign=bargain:{any_time}&amp;'
                f'target={other["id"]}">现价购买 ¥')
    assert checkout in text


# --- assist packets --------------------------------------------------------------------------------------------------

async def test_an_assist_campaign_page_opens_a_packet(client, mall):
    campaign_id = await assist_campaign(mall)
    text = await page(client, f"/m/acme/assist-campaigns/{campaign_id}")
    assert actions(text) == ["POST /api/v1/assists"]
    assert f'name="campaign_id" value="{campaign_id}" data-int' in text
    assert 'data-next="/m/acme/assists/{id}"' in text
    assert "奖池共 5 份，剩余 5 份" in text


async def test_friends_help_and_the_owner_sees_the_prize_credited(client, mall):
    campaign_id = await assist_campaign(mall, helpers_needed=2, split=None, pool_fen=1000, winners=5)
    owner, friends = await mall.shopper("owner", nickname="小红"), [await mall.shopper(f"f{i}") for i in range(2)]
    packet = await open_packet(mall, owner, campaign_id)
    path = f"/m/acme/assists/{packet['id']}"
    assert actions(await page(client, path, friends[0])) == [f"POST /api/v1/assists/{packet['id']}/helps"]
    assert actions(await page(client, path, owner)) == []

    await help_packet(mall, friends[0], packet["id"])
    helped = await page(client, path, friends[0])
    assert actions(helped) == [] and "你已为小红助力" in helped
    await help_packet(mall, friends[1], packet["id"])
    opened = await page(client, path, owner)
    assert "¥2.00 已存入余额" in opened
    assert '<a class="btn wide" href="/m/acme/me/wallet">查看余额</a>' in opened


# --- the front page, escaping, refusals ------------------------------------------------------------------------------

async def test_home_shows_every_live_campaign_where_a_shopper_takes_part(client, mall):
    await group_campaign(mall)
    await bargain_campaign(mall)
    assist = await assist_campaign(mall)
    text = await page(client, "/m/acme")
    cards = re.findall(r'<a class="campaign-card kind-(\w+)" href="([^"]+)">\s*<span class="kind">(.*?)</span>', text)
    assert cards == [("group", f"/m/acme/products/{mall.product_id}", "拼团"),
                     ("bargain", f"/m/acme/products/{mall.product_id}", "砍价"),
                     ("assist", f"/m/acme/assist-campaigns/{assist}", "助力红包")]


async def test_shopper_and_merchant_text_is_escaped_on_the_mechanic_pages(client, mall):
    hostile = "<script>alert(1)</script>"
    owner = await mall.shopper("owner", nickname=hostile)
    packet = await open_packet(mall, owner, await assist_campaign(mall))
    bargain = await started(mall, owner, await bargain_campaign(mall))
    friend = await mall.shopper("friend", nickname=hostile)
    await client.post(f"/bargains/{bargain['id']}/helps", headers=friend)
    for path in (f"/m/acme/assists/{packet['id']}", f"/m/acme/bargains/{bargain['id']}"):
        text = await page(client, path, friend)
        assert hostile not in text and html.escape(hostile) in text


@pytest.mark.backend_free
def test_every_refusal_of_the_mechanic_pages_has_chinese_words():
    codes = ("group_not_found", "group_closed", "group_full", "already_in_group", "new_customers_only",
             "bargain_not_found", "bargain_complete", "bargain_closed", "floor_not_reached", "bargain_in_order",
             "packet_not_found", "packet_complete", "packet_closed", "cannot_help_self", "new_helpers_only",
             "already_helped", "help_limit_reached", "campaign_not_live", "campaign_limit_reached",
             "campaign_sold_out", "velocity_limited")
    assert [code for code in codes if not re.search(r"[\u4e00-\u9fff]", BY_CODE.get(code, ""))] == []


async def test_a_refused_help_answers_in_chinese(client, mall):
    starter = await mall.shopper("starter")
    bargain = await started(mall, starter, await bargain_campaign(mall))
    refused = await client.post(f"/bargains/{bargain['id']}/helps", headers=starter)
    assert refused.status_code == 403
    assert refused.json()["message"] == "不能给自己助力，分享给好友吧"


async def test_the_pages_session_cookie_acts_through_the_api_with_its_csrf_header(client, mall):
    """What a page's form sends: the session cookie and the CSRF token of the page, never a bearer token."""
    starter = await mall.shopper("starter")
    bargain = await started(mall, starter, await bargain_campaign(mall))
    friend = await mall.shopper("friend")
    cookie = "fm_shopper=" + friend["Authorization"].removeprefix("Bearer ")
    text = await page(client, f"/m/acme/bargains/{bargain['id']}", friend)
    csrf = re.search(r'<meta name="csrf-token" content="(\w+)">', text)
    assert csrf is not None
    forged = await client.post(f"/bargains/{bargain['id']}/helps", headers={"Cookie": cookie})
    assert (forged.status_code, forged.json()["code"]) == (403, "csrf_failed")
    helped = await client.post(f"/bargains/{bargain['id']}/helps", headers={"Cookie": cookie,
                                                                           "X-CSRF-Token": csrf.group(1)})
    assert helped.status_code == 201, helped.text
    assert [c["nickname"] for c in helped.json()["cuts"]] == ["friend"]
