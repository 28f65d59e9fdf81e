"""The store counter: staff with orders.ship redeem a gift voucher by its code at a chosen store through the API
(the page's form), the page then shows what was redeemed and for whom (masked, escaped), and lists the merchant's
store redemptions, latest first, a keyset page at a time; refusals come back in Chinese; other roles and other
merchants see nothing of it."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import pytest

from fissionmall.core.clock import FrozenClock
from tests.campaigns.giftcards.test_vouchers import bought, code_of, gift_campaign
from tests.console.conftest import Desk
from tests.support import Mall, problem

pytestmark = pytest.mark.usefixtures("signed_staff_tokens")

OpenDesk = Callable[..., Awaitable[Desk]]
XSS = "<img src=x onerror=alert(1)>"


async def voucher_code(mall: Mall, nickname: str, quantity: int = 1) -> list[tuple[int, str]]:
    """Vouchers bought and paid by a shopper of this nickname: (id, code) each."""
    campaign = await gift_campaign(mall)
    who = await mall.shopper(f"buyer-{len(nickname)}-{quantity}", nickname=nickname)
    _, ids = await bought(mall, who, campaign, quantity)
    return [(voucher_id, await code_of(mall, who, voucher_id)) for voucher_id in ids]


async def test_the_counter_form_posts_to_the_redeem_api_with_the_store(desk: OpenDesk, mall: Mall) -> None:
    support = await desk("support")
    page = await support.page("/console/counter")
    assert page.status_code == 200
    assert 'data-api="POST /api/v1/admin/vouchers/redeem"' in page.text
    assert f'<option value="{mall.store_id}" selected>main store</option>' in page.text
    assert 'name="code"' in page.text and "还没有门店核销记录" in page.text
    scan = re.search(r"<button[^>]*data-scan[^>]*>", page.text)
    assert scan is not None and " hidden" in scan.group(0)  # shown by console.js only where the browser can scan
    assert 'class="on"' in page.text.split("/console/counter")[1][:20]  # the menu marks the section


async def test_a_redeemed_voucher_is_shown_masked_and_listed(desk: OpenDesk, mall: Mall) -> None:
    [(voucher_id, code)] = await voucher_code(mall, "王小明")
    support = await desk("support")
    answer = await support.api("POST", "/admin/vouchers/redeem", json={"code": code, "store_id": mall.store_id})
    assert answer.status_code == 200, answer.text
    assert (answer.json()["status"], answer.json()["redeemed_store_id"]) == ("redeemed", mall.store_id)
    # where the form goes next, filled from the answer
    page = await support.page("/console/counter", store=str(mall.store_id), redeemed=str(voucher_id))
    result = page.text.split('class="card redeemed"')[1].split("</div>")[0]
    assert "核销成功" in result and "一杯茶" in result and "Tea" in result and "¥10.00" in result
    assert "王*明" in result and "王小明" not in page.text and "main store" in result
    listed = page.text.split('class="redemptions"')[1]
    assert f'data-voucher="{voucher_id}"' in listed and f"…{code[-4:]}" in listed and code not in page.text
    again = await support.api("POST", "/admin/vouchers/redeem", json={"code": code, "store_id": mall.store_id})
    assert problem(again, 409, "voucher_not_redeemable")["message"] == "这张礼券已核销、已转赠或已过期，不能再用"


async def test_refusals_are_in_chinese_and_change_nothing(desk: OpenDesk, mall: Mall, beta: Mall) -> None:
    [(_, code)] = await voucher_code(mall, "阿花")
    operator = await desk("operator")
    unknown = await operator.api("POST", "/admin/vouchers/redeem", json={"code": "000000000000",
                                                                         "store_id": mall.store_id})
    assert problem(unknown, 404, "voucher_not_found")["message"] == "礼券不存在"
    typed = await operator.api("POST", "/admin/vouchers/redeem", json={"code": "12ab", "store_id": mall.store_id})
    assert [e["field"] for e in problem(typed, 422, "invalid_request")["errors"]] == ["code"]
    elsewhere = await operator.api("POST", "/admin/vouchers/redeem", json={"code": code, "store_id": beta.store_id})
    assert problem(elsewhere, 404, "store_not_found")["message"] == "门店不存在"
    assert "还没有门店核销记录" in (await operator.page("/console/counter")).text


async def test_the_holders_name_is_escaped(desk: OpenDesk, mall: Mall) -> None:
    [(voucher_id, code)] = await voucher_code(mall, XSS)
    owner = await desk("owner")
    assert (await owner.api("POST", "/admin/vouchers/redeem", json={"code": code,
                                                                    "store_id": mall.store_id})).status_code == 200
    html = (await owner.page("/console/counter", redeemed=str(voucher_id))).text
    assert "<img src=x" not in html and "&lt;" in html


async def test_redemptions_page_latest_first(desk: OpenDesk, mall: Mall, clock: FrozenClock) -> None:
    vouchers = await voucher_code(mall, "小丽", quantity=22)
    support = await desk("support")
    for _, code in vouchers:
        clock.advance(seconds=60)
        answer = await support.api("POST", "/admin/vouchers/redeem", json={"code": code, "store_id": mall.store_id})
        assert answer.status_code == 200, answer.text
    newest_first = [voucher_id for voucher_id, _ in vouchers][::-1]
    first = await support.page("/console/counter")
    listed = [int(v) for v in re.findall(r'<tr data-voucher="(\d+)">', first.text)]
    assert listed == newest_first[:20]
    cursor = re.search(r"cursor=(\d+)", first.text)
    assert cursor is not None
    second = await support.page("/console/counter", cursor=cursor.group(1))
    assert [int(v) for v in re.findall(r'<tr data-voucher="(\d+)">', second.text)] == newest_first[20:]


async def test_roles_without_orders_ship_and_other_merchants_see_nothing(desk: OpenDesk, mall: Mall,
                                                                          beta: Mall) -> None:
    [(voucher_id, code)] = await voucher_code(mall, "大刚")
    finance = await desk("finance")
    assert (await finance.page("/console/counter")).status_code == 403
    assert "门店核销" not in (await finance.page("/console")).text
    problem(await finance.api("POST", "/admin/vouchers/redeem", json={"code": code, "store_id": mall.store_id}),
            403, "forbidden")
    support = await desk("support")
    assert (await support.api("POST", "/admin/vouchers/redeem",
                              json={"code": code, "store_id": mall.store_id})).status_code == 200
    beta_owner = await desk("owner", slug="beta")
    page = await beta_owner.page("/console/counter", redeemed=str(voucher_id))
    assert page.status_code == 200 and "核销成功" not in page.text and "大*" not in page.text
    assert "还没有门店核销记录" in page.text and f'data-voucher="{voucher_id}"' not in page.text
    problem(await beta_owner.api("POST", "/admin/vouchers/redeem", json={"code": code, "store_id": beta.store_id}),
            404, "voucher_not_found")
