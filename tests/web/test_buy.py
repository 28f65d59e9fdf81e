"""Buying in the shopper pages: checkout priced as the order will be, the pay page, the sandbox's confirm page, the
order page."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from typing import Any

import httpx

from fissionmall.core.auth import csrf_token
from fissionmall.merchants.models import Merchant
from tests.campaigns.groupbuy.test_group_flow import group_campaign
from tests.coupons.test_coupons import claimed, make_template
from tests.support import ADDRESS, SHIPMENT, Mall, Who, customer_id, problem
from tests.wallet.test_wallet import grant
from tests.web.test_pages import SITE, refused_page

LINE = re.compile(r"<tr[^>]*><td>(.*?)</td><td>(.*?)</td></tr>", re.S)


def cookie_of(who: Who) -> dict[str, str]:
    """The page session of a shopper signed in through the API: the same token, in the session cookie."""
    return {"Cookie": f"fm_shopper={who['Authorization'].removeprefix('Bearer ')}"}


async def as_shopper(client: httpx.AsyncClient, who: Who, path: str, **params: str) -> str:
    response = await client.get(f"{SITE}{path}", params=params, headers=cookie_of(who))
    assert response.status_code == 200, response.text
    return response.text


def lines(text: str) -> list[tuple[str, str]]:
    """The priced lines of a checkout or an order page: (label, amount) as shown."""
    return [(html.unescape(label), html.unescape(amount)) for label, amount in LINE.findall(text)]


async def set_shipping(mall: Mall, fee_fen: int) -> None:
    async with mall.runtime.sessionmaker() as session:
        merchant = await session.get(Merchant, mall.merchant_id)
        assert merchant is not None
        merchant.shipping_fee_fen = fee_fen
        await session.commit()


# --- checkout --------------------------------------------------------------------------------------------------------

async def test_checkout_explains_every_fen_and_places_the_order_it_showed(client, mall):
    await set_shipping(mall, 800)
    who = await mall.shopper("buyer")
    text = await as_shopper(client, who, f"/m/{mall.slug}/checkout", sku=str(mall.sku_id), qty="2")
    assert lines(text) == [("商品金额", "¥20.00"), ("运费", "+¥8.00"), ("实付", "¥28.00")]
    assert 'data-api="POST /api/v1/orders"' in text
    assert f'data-next="/m/{mall.slug}/orders/{{id}}/pay"' in text
    assert f'name="items.0.sku_id" value="{mall.sku_id}"' in text and 'name="items.0.quantity" value="2"' in text

    placed = await mall.place_order(who, quantity=2)
    assert placed.json()["total_fen"] == 2800


async def test_checkout_of_a_signed_out_visitor_goes_to_sign_in_and_back(client, mall):
    response = await client.get(f"{SITE}/m/{mall.slug}/checkout", params={"sku": mall.sku_id})
    assert response.status_code == 303
    assert response.headers["location"] == f"/m/{mall.slug}/login?next=%2Fm%2Facme%2Fcheckout%3Fsku%3D{mall.sku_id}"


async def test_checkout_of_an_unknown_sku_is_refused_in_chinese(client, mall):
    who = await mall.shopper("buyer")
    response = await client.get(f"{SITE}/m/{mall.slug}/checkout", params={"sku": 999999}, headers=cookie_of(who))
    refused_page(response, 422, "sku_unavailable")


# --- paying ----------------------------------------------------------------------------------------------------------

async def test_pay_page_then_sandbox_page_then_order_page(client, mall):
    who = await mall.shopper("buyer")
    order = await mall.order(who)
    text = await as_shopper(client, who, f"/m/{mall.slug}/orders/{order['id']}/pay")
    assert "应付金额" in text and "¥10.00" in text
    assert f'data-api="POST /api/v1/orders/{order["id"]}/pay"' in text and 'data-then="pay"' in text
    assert f'data-sandbox="/m/{mall.slug}/sandbox/pay/{{payment_id}}"' in text

    payment = (await client.post(f"/orders/{order['id']}/pay", headers=who)).json()
    text = await as_shopper(client, who, f"/m/{mall.slug}/sandbox/pay/{payment['payment_id']}")
    assert "模拟支付 ¥10.00（体验环境）" in text
    assert f'data-api="POST /api/v1/sandbox/payments/{payment["payment_id"]}/complete"' in text

    other = await mall.shopper("someone-else")
    response = await client.get(f"{SITE}/m/{mall.slug}/sandbox/pay/{payment['payment_id']}", headers=cookie_of(other))
    refused_page(response, 404, "payment_not_found")

    assert (await client.post(f"/sandbox/payments/{payment['payment_id']}/complete", headers=who)).status_code == 202
    text = await as_shopper(client, who, f"/m/{mall.slug}/orders/{order['id']}", paying="1")
    assert "支付确认中" in text and "data-refresh-seconds" in text
    await mall.work()
    text = await as_shopper(client, who, f"/m/{mall.slug}/orders/{order['id']}", paying="1")
    assert "支付确认中" not in text and '<div class="status">待发货</div>' in text
    assert '<div class="row paid"><span>已付</span><span>¥10.00</span></div>' in text


async def test_order_page_shows_the_address_typed_as_text(client, mall):
    who = await mall.shopper("buyer")
    response = await client.post("/orders", headers=who, json={
        "items": [{"sku_id": mall.sku_id, "quantity": 1}], "address": {**ADDRESS, "name": "<script>x</script>"}})
    order = response.json()
    text = await as_shopper(client, who, f"/m/{mall.slug}/orders/{order['id']}")
    assert "<script>x</script>" not in text and "&lt;script&gt;x&lt;/script&gt;" in text
    assert '<div class="status">待付款</div>' in text


# --- checkout choices ------------------------------------------------------------------------------------------------

def coupon_choices(text: str) -> list[tuple[str, bool]]:
    """(value, checked) of each coupon radio on the checkout page."""
    return [(value, bool(checked)) for value, checked in
            re.findall(r'<input type="radio" name="coupon" value="(\w+)"( checked)?>', text)]


async def test_the_best_coupon_is_preselected_and_another_or_none_can_be_chosen(client, mall):
    who = await mall.shopper("buyer")
    small = await claimed(mall, who, (await make_template(mall, name="立减1元", amount_fen=100))["id"])
    big = await claimed(mall, who, (await make_template(mall, name="立减3元", amount_fen=300))["id"])
    path = f"/m/{mall.slug}/checkout"

    text = await as_shopper(client, who, path, sku=str(mall.sku_id))
    assert coupon_choices(text) == [(str(big["id"]), True), (str(small["id"]), False), ("none", False)]
    assert lines(text) == [("商品金额", "¥10.00"), ("立减3元", "-¥3.00"), ("实付", "¥7.00")]
    assert f'name="coupon_ids.0" value="{big["id"]}"' in text

    text = await as_shopper(client, who, path, sku=str(mall.sku_id), coupon=str(small["id"]))
    assert lines(text)[-1] == ("实付", "¥9.00") and f'name="coupon_ids.0" value="{small["id"]}"' in text

    text = await as_shopper(client, who, path, sku=str(mall.sku_id), coupon="none")
    assert lines(text) == [("商品金额", "¥10.00"), ("实付", "¥10.00")] and "coupon_ids.0" not in text
    assert coupon_choices(text)[-1] == ("none", True)


async def test_shop_credit_pays_what_is_left_and_the_order_placed_matches(client, mall):
    who = await mall.shopper("buyer")
    await grant(mall, await customer_id(mall, who), 400)
    text = await as_shopper(client, who, f"/m/{mall.slug}/checkout", sku=str(mall.sku_id))
    assert "使用余额（可用 ¥4.00）" in text and "wallet_fen" not in re.sub(r'data-for="wallet_fen"', "", text)

    text = await as_shopper(client, who, f"/m/{mall.slug}/checkout", sku=str(mall.sku_id), wallet="true")
    assert lines(text) == [("商品金额", "¥10.00"), ("余额抵扣", "-¥4.00"), ("实付", "¥6.00")]
    assert 'name="wallet_fen" value="400"' in text


async def test_a_refused_choice_is_dropped_and_its_refusal_shown_by_it(client, mall):
    """Points where the mall has none: the page prices without them and says why, in Chinese."""
    who = await mall.shopper("buyer")
    text = await as_shopper(client, who, f"/m/{mall.slug}/checkout", sku=str(mall.sku_id), points="100")
    assert '<em class="field-error" data-for="points">本店暂未开通积分抵扣</em>' in text
    assert lines(text)[-1] == ("实付", "¥10.00") and 'name="points"' not in text


async def test_checkout_prefills_the_default_address_or_the_one_chosen(client, mall):
    who = await mall.shopper("buyer")
    await add_address(client, who, name="家", is_default=True)
    office = await add_address(client, who, name="公司")
    text = await as_shopper(client, who, f"/m/{mall.slug}/checkout", sku=str(mall.sku_id))
    assert 'name="address.name" type="text" value="家"' in text
    text = await as_shopper(client, who, f"/m/{mall.slug}/checkout", sku=str(mall.sku_id), address=str(office["id"]))
    assert 'name="address.name" type="text" value="公司"' in text


# --- orders ----------------------------------------------------------------------------------------------------------

async def test_order_list_tabs_show_orders_by_status(client, mall):
    who = await mall.shopper("buyer")
    unpaid = await mall.order(who)
    paid = await mall.order(who)
    await mall.pay(who, paid["id"])
    path = f"/m/{mall.slug}/orders"
    listed = re.compile(r'href="/m/acme/orders/(\d+)"')
    assert listed.findall(await as_shopper(client, who, path)) == [str(paid["id"]), str(unpaid["id"])]
    assert listed.findall(await as_shopper(client, who, path, tab="unpaid")) == [str(unpaid["id"])]
    assert listed.findall(await as_shopper(client, who, path, tab="to_ship")) == [str(paid["id"])]
    assert listed.findall(await as_shopper(client, who, path, tab="done")) == []
    other = await mall.shopper("other")
    assert listed.findall(await as_shopper(client, other, path)) == []


async def test_order_page_offers_what_each_state_allows(client, mall):
    who = await mall.shopper("buyer")
    order = await mall.order(who)
    path = f"/m/{mall.slug}/orders/{order['id']}"
    text = await as_shopper(client, who, path)
    assert f"/api/v1/orders/{order['id']}/cancel" in text and "data-seconds" in text and "分享红包给好友" not in text
    assert "申请退款" not in text and "确认收货" not in text

    await mall.pay(who, order["id"])
    text = await as_shopper(client, who, path)
    assert "/cancel" not in text and "申请退款" in text and f"/m/{mall.slug}/orders/{order['id']}/packets" in text

    shipped = await client.post(f"/admin/orders/{order['id']}/ship", headers=await mall.staff(), json=SHIPMENT)
    assert shipped.status_code == 200, shipped.text
    text = await as_shopper(client, who, path)
    assert f"/api/v1/orders/{order['id']}/receive" in text and "已发货（SF Express SF1234567890）" in text
    assert "发表评价" not in text

    assert (await client.post(f"/orders/{order['id']}/receive", headers=who)).status_code == 200
    refund = await client.post(f"/orders/{order['id']}/refunds", headers=who,
                               json={"sku_id": mall.sku_id, "amount_fen": 250, "reason": "<b>破损</b>"})
    assert refund.status_code == 201, refund.text
    text = await as_shopper(client, who, path)
    assert "¥2.50 · &lt;b&gt;破损&lt;/b&gt;" in text and "待商家处理" in text
    assert '<div class="status">退款中</div>' in text

    refund_id = refund.json()["refunds"][0]["id"]
    assert (await client.post(f"/admin/refunds/{refund_id}/approve", headers=await mall.staff())).status_code == 200
    await mall.work()
    text = await as_shopper(client, who, path)
    assert '<div class="row refunded"><span>已退款</span><span>¥2.50</span></div>' in text
    assert "发表评价" in text and 'name="product_id"' in text
    review = await client.post(f"/orders/{order['id']}/reviews", headers=who,
                               json={"product_id": mall.product_id, "rating": 5, "text": "好"})
    assert review.status_code == 201, review.text
    assert "发表评价" not in await as_shopper(client, who, path)


async def test_another_shoppers_order_is_not_found(client, mall):
    who = await mall.shopper("buyer")
    order = await mall.order(who)
    other = await mall.shopper("other")
    for path in (f"/m/{mall.slug}/orders/{order['id']}", f"/m/{mall.slug}/orders/{order['id']}/pay"):
        refused_page(await client.get(f"{SITE}{path}", headers=cookie_of(other)), 404, "order_not_found")


# --- the address book ------------------------------------------------------------------------------------------------

async def add_address(client: httpx.AsyncClient, who: Who, **changes: Any) -> dict[str, Any]:
    response = await client.post("/me/addresses", headers=who, json={**ADDRESS, **changes})
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def book(client: httpx.AsyncClient, who: Who) -> list[tuple[str, bool]]:
    response = await client.get("/me/addresses", headers=who)
    assert response.status_code == 200, response.text
    return [(a["name"], a["is_default"]) for a in response.json()]


async def test_address_book_keeps_one_default(client, mall):
    who = await mall.shopper("buyer")
    first = await add_address(client, who, name="一")
    assert first["is_default"] is True  # the first address is the default
    second = await add_address(client, who, name="二")
    assert await book(client, who) == [("一", True), ("二", False)]

    moved = await client.put(f"/me/addresses/{second['id']}", headers=who,
                             json={**ADDRESS, "name": "二号", "is_default": True})
    assert moved.status_code == 200 and moved.json()["is_default"] is True
    assert await book(client, who) == [("二号", True), ("一", False)]

    assert (await client.delete(f"/me/addresses/{second['id']}", headers=who)).status_code == 204
    assert await book(client, who) == [("一", True)]


async def test_address_book_holds_twenty_and_refuses_bad_input_unchanged(client, mall):
    who = await mall.shopper("buyer")
    for n in range(20):
        await add_address(client, who, name=f"地址{n}")
    problem(await client.post("/me/addresses", headers=who, json=ADDRESS), 409, "address_book_full")
    refused = problem(await client.post("/me/addresses", headers=who, json={**ADDRESS, "phone": "abc"}), 422,
                      "invalid_request")
    assert refused["errors"][0]["field"] == "phone"
    assert len(await book(client, who)) == 20


async def test_another_shoppers_address_cannot_be_touched(client, mall):
    owner = await mall.shopper("owner-of-it")
    address = await add_address(client, owner)
    other = await mall.shopper("other")
    problem(await client.put(f"/me/addresses/{address['id']}", headers=other, json=ADDRESS), 404, "address_not_found")
    problem(await client.delete(f"/me/addresses/{address['id']}", headers=other), 404, "address_not_found")
    assert await book(client, other) == []
    assert await book(client, owner) == [("张三", True)]


async def test_address_pages_list_edit_and_escape(client, mall):
    who = await mall.shopper("buyer")
    saved = await add_address(client, who, name="<script>a</script>")
    await add_address(client, who, name="二")
    text = await as_shopper(client, who, f"/m/{mall.slug}/me/addresses", back=f"/m/{mall.slug}/checkout?sku=1")
    assert "<script>a</script>" not in text and "&lt;script&gt;a&lt;/script&gt;" in text
    assert f'href="/m/{mall.slug}/checkout?sku=1&amp;address={saved["id"]}"' in text
    assert text.count("设为默认") == 1 and text.count('data-api="DELETE /api/v1/me/addresses/') == 2
    text = await as_shopper(client, who, f"/m/{mall.slug}/me/addresses/{saved['id']}/edit")
    assert f'data-api="PUT /api/v1/me/addresses/{saved["id"]}"' in text and "&lt;script&gt;a&lt;/script&gt;" in text
    assert 'name="is_default" checked' in text
    text = await as_shopper(client, who, f"/m/{mall.slug}/me/addresses", back="https://evil.example/")
    assert "evil.example" not in text


# --- the API with the pages' session ---------------------------------------------------------------------------------

async def test_the_api_takes_the_session_cookie_with_its_csrf_token_only(client, mall, runtime):
    """The pages' forms place orders with the session cookie and its CSRF token; without the token (a cross-site
    form) the order is refused and nothing is placed."""
    who = await mall.shopper("buyer")
    session = cookie_of(who)
    token = who["Authorization"].removeprefix("Bearer ")
    body = {"items": [{"sku_id": mall.sku_id, "quantity": 1}], "address": ADDRESS}
    problem(await client.post(f"{SITE}/api/v1/orders", headers=session, json=body), 403, "csrf_failed")
    assert (await client.get(f"{SITE}/api/v1/orders", headers=session)).json()["items"] == []
    placed = await client.post(f"{SITE}/api/v1/orders", json=body,
                               headers={**session, "X-CSRF-Token": csrf_token(runtime.settings, token)})
    assert placed.status_code == 201, placed.text
    assert [o["id"] for o in (await client.get(f"{SITE}/api/v1/orders", headers=session)).json()["items"]] == [
        placed.json()["id"]]


async def test_order_times_read_in_china_time(client, mall, clock):
    who = await mall.shopper("buyer")
    order = await mall.order(who)
    text = await as_shopper(client, who, f"/m/{mall.slug}/orders/{order['id']}")
    placed = datetime.fromisoformat(order["created_at"].replace("Z", "+00:00")) + timedelta(hours=8)
    assert f"<b>已下单</b><time>{placed:%Y-%m-%d %H:%M}</time>" in text


async def test_checkout_lets_the_shopper_choose_a_deposit_or_full_payment(client, mall):
    """Where the group buy lets the shopper choose: both ways explained (deposit by default); choosing full payment
    re-prices without the deposit, offers the benefits, and places the order with campaign.payment = full."""
    campaign_id = await group_campaign(mall, deposit_percent=10, payment_options="shopper_chooses")
    who = await mall.shopper("buyer")
    params = {"sku": str(mall.sku_id), "campaign": f"group:{campaign_id}"}
    text = html.unescape(await as_shopper(client, who, f"/m/{mall.slug}/checkout", **params))
    assert "付款方式" in text and "付定金 ¥0.80" in text and "一次付清全款" in text
    assert re.search(r'name="pay" value="deposit" checked', text) and "成团后 2 天内付尾款 ¥7.20" in text
    assert "现在支付定金" in text and 'name="campaign.payment"' not in text and "<b>优惠</b>" not in text

    text = html.unescape(await as_shopper(client, who, f"/m/{mall.slug}/checkout", **params, pay="full"))
    assert re.search(r'name="pay" value="full" checked', text) and "<b>优惠</b>" in text
    assert 'name="campaign.payment" value="full"' in text and 'name="pay" value="full">' in text
    assert lines(text)[-1] == ("实付", "¥8.00") and "现在支付定金" not in text
