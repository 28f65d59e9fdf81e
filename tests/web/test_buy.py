"""Buying in the shopper pages: checkout priced as the order will be, the pay page, the sandbox's confirm page, the
order page."""

from __future__ import annotations

import html
import re

import httpx

from fissionmall.merchants.models import Merchant
from tests.support import ADDRESS, Mall, Who
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
