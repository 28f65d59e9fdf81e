"""The shopper's own pages (我的): account, wallet, coupons, check-in, tasks, membership and dividend, the distribution
centre. Each needs a signed-in shopper of this shop, shows amounts in yuan and ledger lines in Chinese, escapes what
shoppers and merchants typed, and acts only through forms to the JSON API."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from fissionmall.wallet import service as wallet_service
from tests.coupons.test_coupons import claimed, make_template
from tests.distribution.test_commissions import Person, buy, configured, invite_code
from tests.distribution.test_withdrawals import id_number
from tests.loyalty.test_levels import PLAN, POINTS, save
from tests.support import Mall, problem
from tests.web.test_pages import SITE, page

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")

PAGES = ("/me", "/me/wallet", "/me/coupons", "/me/checkin", "/me/tasks", "/me/level", "/me/distribution",
         "/me/dividend")
ACTIONS = re.compile(r'<form class="act" data-api="([^"]+)"')


async def signed_in(mall: Mall, openid: str, nickname: str, referrer: Person | None = None) -> Person:
    """Sign up through the API and hold the session cookie the pages read (the last one signed in is looking)."""
    body: dict[str, Any] = {"merchant_slug": mall.slug, "openid": openid, "nickname": nickname}
    if referrer is not None:
        body["share_code"] = await invite_code(mall, referrer)
    response = await mall.client.post("/auth/dev-login", json=body)
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    mall.client.cookies.set("fm_shopper", token)
    return Person(nickname, {"Authorization": f"Bearer {token}"}, int(response.json()["customer_id"]))


def looking(mall: Mall, person: Person) -> None:
    mall.client.cookies.set("fm_shopper", person.who["Authorization"].removeprefix("Bearer "))


def text_of(markup: str) -> str:
    """The page's words without tags, whitespace folded: what a shopper reads."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


async def test_a_signed_out_visitor_is_sent_to_sign_in_and_back(client, mall):
    for path in PAGES:
        response = await client.get(f"{SITE}/m/acme{path}")
        assert response.status_code == 303, path
        assert response.headers["location"] == f"/m/acme/login?next=%2Fm%2Facme{path.replace('/', '%2F')}"


async def test_another_shops_session_is_not_signed_in_here(client, mall, beta):
    await signed_in(beta, "ana", "安娜")
    response = await client.get(f"{SITE}/m/acme/me")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/m/acme/login")


async def test_the_account_page_shows_the_shopper_their_balances_and_every_way_on(client, mall):
    await save(mall, PLAN)
    ana = await signed_in(mall, "ana", "<script>alert(1)</script>")
    await claimed(mall, ana.who, (await make_template(mall))["id"])
    async with mall.runtime.sessionmaker() as session:
        await wallet_service.credit(session, mall.merchant_id, ana.id, 1234, "assist_prize", ("assist", 1),
                                    mall.runtime.clock.now())
        await session.commit()

    markup = await page(client, "/m/acme/me")

    assert "<script>alert(1)</script>" not in markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
    words = text_of(markup)
    assert "0 积分 12.34 余额（元） 1 优惠券" in words
    assert "再消费 ¥10.00 升级" in words
    for path in PAGES[1:]:
        if path != "/me/dividend":  # linked only where the mall runs a dividend plan (below)
            assert f'href="/m/acme{path}"' in markup
    for status in ("pending_payment", "to_ship", "shipped"):
        assert f'href="/m/acme/orders?status={status}"' in markup
    assert '<form method="post" action="/m/acme/logout"' in markup


async def test_the_wallet_says_what_each_line_was(client, mall):
    ana = await signed_in(mall, "ana", "安娜")
    now = mall.runtime.clock.now()
    async with mall.runtime.sessionmaker() as session:
        await wallet_service.credit(session, mall.merchant_id, ana.id, 150, "assist_prize", ("assist", 7), now)
        await wallet_service.credit(session, mall.merchant_id, ana.id, 20, "invite_reward", ("invite", 3), now)
        await wallet_service.spend(session, mall.merchant_id, ana.id, 45, ("order", 9), now)
        await session.commit()

    words = text_of(await page(client, "/m/acme/me/wallet"))

    assert "余额（元） 1.25" in words
    assert re.search(r"购物抵扣 \S+ \S+ -0\.45 邀请好友奖励 \S+ \S+ \+0\.20 助力红包奖励 \S+ \S+ \+1\.50", words), words


async def test_coupons_are_grouped_with_threshold_and_validity(client, mall):
    ana = await signed_in(mall, "ana", "安娜")
    await claimed(mall, ana.who, (await make_template(mall, name="<b>满减</b>", threshold_fen=5000))["id"])
    await claimed(mall, ana.who, (await make_template(mall, name="八五折", kind="percent", amount_fen=0,
                                                      percent_off=15, cap_fen=2000))["id"])

    markup = await page(client, "/m/acme/me/coupons")

    assert "<b>满减</b>" not in markup and "&lt;b&gt;满减&lt;/b&gt;" in markup
    words = text_of(markup)
    assert "可使用 2 张" in words and "已使用 0 张" in words and "已过期 0 张" in words
    assert "¥ 3.00 <b>满减</b> 满 ¥50.00 可用" in words
    assert "8.5 折 八五折 无门槛，最多减 ¥20.00" in words
    assert words.count("去使用") == 2


async def test_check_in_shows_the_calendar_the_streak_and_the_points_got(client, mall):
    response = await mall.client.put("/admin/points", headers=await mall.staff(), json=POINTS)
    assert response.status_code == 200, response.text
    ana = await signed_in(mall, "ana", "安娜")

    before = await page(client, "/m/acme/me/checkin")
    assert ACTIONS.findall(before) == ["POST /api/v1/points/checkin"]
    assert "每天可签到一次，得 5 积分" in text_of(before)
    assert "连续第 7 天起每天得 11 积分" in text_of(before)
    assert 'class="day on' not in before

    checked = await mall.client.post("/points/checkin", headers=ana.who)
    assert checked.status_code == 201, checked.text
    after = await page(client, "/m/acme/me/checkin")

    assert ACTIONS.findall(after) == []
    words = text_of(after)
    assert "今日已签到，获得 5 积分" in words and "已连续签到 1 天" in words
    assert re.search(r'class="day on today">\d+<', after)
    assert "每日签到" in words and "+5" in words


async def test_without_points_the_check_in_page_says_so_and_offers_nothing(client, mall):
    await signed_in(mall, "ana", "安娜")
    markup = await page(client, "/m/acme/me/checkin")
    assert "本店暂未开通积分" in text_of(markup)
    assert ACTIONS.findall(markup) == []


async def test_tasks_show_progress_and_rewards(client, mall):
    response = await mall.client.put("/admin/points", headers=await mall.staff(), json=POINTS)
    assert response.status_code == 200, response.text
    response = await mall.client.post("/admin/tasks", headers=await mall.staff(), json={
        "name": "<i>连续签到</i>", "kind": "checkin_streak", "period": "once", "target": 3, "reward_points": 50})
    assert response.status_code == 201, response.text
    await signed_in(mall, "ana", "安娜")

    markup = await page(client, "/m/acme/me/tasks")

    assert "&lt;i&gt;连续签到&lt;/i&gt;" in markup
    assert '<progress class="bar" max="3" value="0">' in markup
    assert "0/3" in text_of(markup) and "奖励：50 积分" in text_of(markup)


async def test_the_level_page_shows_benefits_the_next_level_and_the_dividend(client, mall):
    await save(mall, PLAN)
    response = await mall.client.put("/admin/dividend", headers=await mall.staff(), json={
        "enabled": True, "pool_bp": 500, "threshold_points": 0, "pay_day": 5,
        "levels": [{"min_spend_fen": 2000, "points": 10}, {"min_spend_fen": 5000, "points": 30}]})
    assert response.status_code == 200, response.text
    ana = await signed_in(mall, "ana", "安娜")
    await buy(mall, ana, quantity=2)
    await mall.client.put("/admin/levels", headers=await mall.staff(), json=PLAN)  # re-evaluated on saving

    words = text_of(await page(client, "/m/acme/me/level"))

    assert "当前等级 银卡 累计消费 ¥20.00" in words
    assert "再消费 ¥10.00 升级为 金卡" in words
    assert "购物享 9.7 折" in words
    assert "本月消费 ¥20.00 活跃等级 1 级 分红积分 10" in words
    assert "本月再消费 ¥30.00，分红积分升至 30" in words
    assert "当月净销售额的 5% 作为分红池，次月 5 日" in words


async def test_my_dividend_shows_level_points_threshold_pay_day_and_past_payouts(client, mall):
    """我的分红: this month's level and points from the member's own spend against the threshold, the pool's rules
    with its month-end pay day and the real date, and a past month's payout once its pool is computed."""
    response = await mall.client.put("/admin/dividend", headers=await mall.staff(), json={
        "enabled": True, "pool_bp": 500, "threshold_points": 20, "pay_day": "last",
        "levels": [{"min_spend_fen": 2000, "points": 10}, {"min_spend_fen": 5000, "points": 30}]})
    assert response.status_code == 200, response.text
    ana = await signed_in(mall, "ana", "安娜")
    await buy(mall, ana, quantity=2)

    assert "我的分红 本月分红积分 10" in text_of(await page(client, "/m/acme/me"))
    words = text_of(await page(client, "/m/acme/me/dividend"))
    assert "2026 年 1 月 · 活跃等级 1 级 本月消费（扣除退款） ¥20.00 分红积分 10 参与分红的门槛 20 分红积分" in words
    assert "暂未达到门槛，本月暂不参与分红 本月再消费 ¥30.00，分红积分升至 30 1 月分红发放日 2 月 28 日" in words
    assert "每月拿出当月净销售额的 5% 作为分红池，次月最后一天（月末）按分红积分比例发放到钱包余额" in words
    assert "还没有分红记录" in words

    await buy(mall, ana, quantity=3)
    mall.runtime.clock.advance(days=31)
    computed = await mall.client.post("/admin/dividend/runs", headers=await mall.staff(), json={"month": "2026-01"})
    assert computed.status_code == 201, computed.text
    await signed_in(mall, "ana", "安娜")  # a month on, her session has ended: she signs in again
    words = text_of(await page(client, "/m/acme/me/dividend"))
    assert "2026 年 1 月 消费 ¥50.00 · 30 分红积分 · 发放中 +¥" in words
    await mall.work()
    assert "· 已发放到钱包 +¥" in text_of(await page(client, "/m/acme/me/dividend"))


async def test_my_dividend_without_a_plan_says_so(client, mall):
    await signed_in(mall, "ana", "安娜")
    assert "本店暂未开通分红" in text_of(await page(client, "/m/acme/me/dividend"))
    assert "我的分红" not in text_of(await page(client, "/m/acme/me"))


async def test_the_level_page_without_levels_or_dividend_says_so(client, mall):
    await signed_in(mall, "ana", "安娜")
    words = text_of(await page(client, "/m/acme/me/level"))
    assert "本店暂未开通会员等级" in words and "分红" not in words


async def test_the_distribution_centre_offers_to_apply_then_shows_earnings_team_and_withdrawals(client, mall):
    await configured(mall, level2_bp=0, approval=None)
    ana = await signed_in(mall, "ana", "安娜")

    first = await page(client, "/m/acme/me/distribution")
    assert ACTIONS.findall(first) == ["POST /api/v1/distributors"]
    assert (await mall.client.post("/distributors", headers=ana.who)).status_code == 201
    ben = await signed_in(mall, "ben", "<img src=x>本杰明", ana)
    await buy(mall, ben, quantity=2)
    looking(mall, ana)

    markup = await page(client, "/m/acme/me/distribution")

    words = text_of(markup)
    assert "<img src=x>" not in markup and "&lt;************明" in markup
    assert "可提现（元） 0.00 2.00 冻结中 0.00 已结算 0.00 已提现" in words
    assert "一级佣金 · 订单" in words and "冻结中 +2.00" in words
    assert "我的好友 1 人" in words and "下单 1 笔" in words
    assert 'data-share-type="product"' in markup
    assert ACTIONS.findall(markup) == ["PUT /api/v1/distributors/me/identity"]
    assert 'name="real_name"' in markup and 'name="id_number"' in markup

    number = id_number("11010519900307123")
    answer = await mall.client.put("/distributors/me/identity", headers=ana.who,
                                   json={"real_name": "安娜", "id_number": number})
    assert answer.status_code == 200, answer.text
    markup = await page(client, "/m/acme/me/distribution")
    assert ACTIONS.findall(markup) == ["POST /api/v1/distributors/me/withdrawals"]
    assert '<input name="amount_fen" data-fen' in markup and f"身份证尾号 {number[-4:]}" in text_of(markup)
    problem(await mall.client.post("/distributors/me/withdrawals", headers=ana.who, json={"amount_fen": 200}),
            409, "insufficient_commission")


async def test_a_pending_application_is_shown_as_waiting(client, mall):
    await configured(mall, auto_approve=False)
    ana = await signed_in(mall, "ana", "安娜")
    assert (await mall.client.post("/distributors", headers=ana.who)).status_code == 201
    markup = await page(client, "/m/acme/me/distribution")
    assert "申请审核中" in text_of(markup) and ACTIONS.findall(markup) == []


async def test_my_pages_weigh_little(client, mall):
    """Each page with the mall's script and style sheet stays well under the 150 KB a phone page may take."""
    await signed_in(mall, "ana", "安娜")
    assets = 0
    for name in ("mall.js", "mall.css"):
        assets += len((await client.get(f"{SITE}/static/{name}")).content)
    for path in PAGES:
        assert len((await page(client, f"/m/acme{path}")).encode()) + assets < 150_000, path
