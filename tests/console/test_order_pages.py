"""The console's orders: the list by tab and search (order number, customer, days placed), keyset pages, the CSV
export, an order's page with its price lines, payments, refunds with their amounts explained, and the actions each
role may use (forms hidden from the others, refused by the API anyway); another merchant's orders never shown."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Awaitable, Callable
from typing import Any

from tests.console.conftest import Desk
from tests.support import ADDRESS, SHIPMENT, Mall, customer_id, problem

XSS = "<img src=x onerror=alert(1)>"


async def paid(mall: Mall, who: dict[str, str], quantity: int = 1) -> dict[str, Any]:
    order = await mall.order(who, quantity)
    return await mall.pay(who, order["id"])


def row_count(page: str) -> int:
    return len(re.findall(r'<a href="/console/orders/\d+">详情</a>', page))


async def test_the_list_shows_orders_by_tab_with_search_and_pages(desk: Callable[..., Awaitable[Desk]],
                                                                 mall: Mall) -> None:
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    unpaid = await mall.order(alice)
    to_ship = await paid(mall, bob, 2)
    support = await desk("support")

    every = (await support.page("/console/orders")).text
    assert unpaid["order_no"] in every and to_ship["order_no"] in every and "待付款" in every and "待发货" in every
    assert "alice" in every and "bob" in every and "20.00" in every
    tab = (await support.page("/console/orders", tab="to_ship")).text
    assert to_ship["order_no"] in tab and unpaid["order_no"] not in tab
    by_no = (await support.page("/console/orders", no=unpaid["order_no"])).text
    assert row_count(by_no) == 1 and unpaid["order_no"] in by_no
    by_name = (await support.page("/console/orders", customer="bo")).text
    assert row_count(by_name) == 1 and to_ship["order_no"] in by_name
    by_id = (await support.page("/console/orders", customer=str(await customer_id(mall, alice)))).text
    assert unpaid["order_no"] in by_id
    nobody = (await support.page("/console/orders", customer="nobody-like-this")).text
    assert row_count(nobody) == 0 and "没有符合条件的订单" in nobody
    today = mall.runtime.clock.now().date()
    assert row_count((await support.page("/console/orders", since=today.isoformat(),
                                          until=today.isoformat())).text) == 2
    assert row_count((await support.page("/console/orders", until="2001-01-01")).text) == 0


async def test_pages_follow_the_cursor(desk: Callable[..., Awaitable[Desk]], mall: Mall) -> None:
    alice = await mall.shopper("alice")
    placed = [await mall.order(alice) for _ in range(21)]
    owner = await desk("owner")
    first = (await owner.page("/console/orders", tab="pending_payment")).text
    assert row_count(first) == 20 and placed[0]["order_no"] not in first
    cursor = re.search(r'cursor=(\d+)', first)
    assert cursor and "tab=pending_payment" in first
    second = (await owner.page("/console/orders", tab="pending_payment", cursor=cursor.group(1))).text
    assert row_count(second) == 1 and placed[0]["order_no"] in second and "下一页" not in second
    assert (await owner.page("/console/orders", cursor="x'1")).status_code == 422


async def test_the_detail_explains_price_payments_and_logistics(desk: Callable[..., Awaitable[Desk]],
                                                                mall: Mall) -> None:
    alice = await mall.shopper("alice")
    order = await mall.order(alice, 2)
    operator = await desk("operator")
    adjusted = await operator.api("POST", f"/admin/orders/{order['id']}/adjustments",
                                  json={"amount_fen": -350, "name": "老顾客优惠"})
    assert adjusted.status_code == 201, adjusted.text
    await mall.pay(alice, order["id"])
    page = (await operator.page(f"/console/orders/{order['id']}")).text
    assert "老顾客优惠" in page and "−3.50" in page and "20.00" in page and "16.50" in page
    assert f"{order['order_no']}" in page and "全款" in page and "已支付" in page
    assert "南京西路 1 号" in page and 'data-api="POST /api/v1/admin/orders/' in page
    assert "/ship" in page  # the operator ships
    shipped = await operator.api("POST", f"/admin/orders/{order['id']}/ship", json=SHIPMENT)
    assert shipped.status_code == 200, shipped.text
    after = (await operator.page(f"/console/orders/{order['id']}")).text
    assert "SF1234567890" in after and "已发货" in after and 'action="' not in after.split("物流")[-1]


async def test_each_role_sees_only_the_actions_it_may_use(desk: Callable[..., Awaitable[Desk]], mall: Mall) -> None:
    alice = await mall.shopper("alice")
    unpaid = await mall.order(alice)
    to_ship = await paid(mall, alice)
    refund = await mall.client.post(f"/orders/{to_ship['id']}/refunds", headers=alice,
                                    json={"amount_fen": 400, "reason": "少了一包"})
    assert refund.status_code == 201, refund.text
    refund_id = refund.json()["refunds"][0]["id"]
    pages: dict[str, tuple[str, str]] = {}
    for role in ("owner", "operator", "finance", "support"):
        member = await desk(role)
        pages[role] = ((await member.page(f"/console/orders/{unpaid['id']}")).text,
                       (await member.page(f"/console/orders/{to_ship['id']}")).text)
    for role, (pending_page, refunding_page) in pages.items():
        assert ("/adjustments" in pending_page) == (role in ("owner", "operator")), role
        assert (f"/refunds/{refund_id}/approve" in refunding_page) == (role in ("owner", "finance")), role
        assert "顾客申请退款 <strong>¥4.00</strong>" in refunding_page
        assert "剩余可退 ¥6.00" in refunding_page
    # the order waits for the refund decision: no shipping meanwhile; the API refuses what the page hid
    assert "/ship" not in pages["support"][1]
    support = await desk("support")
    problem(await support.api("POST", f"/admin/refunds/{refund_id}/approve"), 403, "forbidden")
    problem(await support.api("POST", f"/admin/orders/{unpaid['id']}/adjustments",
                              json={"amount_fen": -100, "name": "x"}), 403, "forbidden")
    finance = await desk("finance")
    rejected = await finance.api("POST", f"/admin/refunds/{refund_id}/reject")
    assert rejected.status_code == 200 and rejected.json()["status"] == "to_ship"
    shipping = (await support.page(f"/console/orders/{to_ship['id']}")).text
    assert "/ship" in shipping and "已拒绝" in shipping
    assert "/refunds\"" not in shipping  # support may not refund
    refundable = (await finance.page(f"/console/orders/{to_ship['id']}")).text
    assert f'data-api="POST /api/v1/admin/orders/{to_ship["id"]}/refunds"' in refundable
    assert 'data-confirm="确认向顾客退款剩余全部 ¥10.00？款项将原路退回"' in refundable  # nothing refunded yet
    assert '<script src="/static/console.js"></script>' in refundable  # which restates it as the amount is typed


async def test_shopper_text_is_escaped(desk: Callable[..., Awaitable[Desk]], mall: Mall) -> None:
    evil = await mall.shopper("evil", nickname=XSS)
    placed = await mall.client.post("/orders", headers=evil, json={
        "items": [{"sku_id": mall.sku_id, "quantity": 1}], "note": XSS,
        "address": {**ADDRESS, "name": XSS, "detail": XSS}})
    assert placed.status_code == 201, placed.text
    owner = await desk("owner")
    for page in ((await owner.page("/console/orders")).text,
                 (await owner.page(f"/console/orders/{placed.json()['id']}")).text):
        assert XSS not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


async def test_another_merchants_orders_are_never_shown(desk: Callable[..., Awaitable[Desk]], mall: Mall,
                                                        beta: Mall) -> None:
    alice = await mall.shopper("alice")
    order = await paid(mall, alice)
    other = await desk("owner", slug="beta")
    listed = (await other.page("/console/orders")).text
    assert order["order_no"] not in listed and "alice" not in listed
    assert row_count((await other.page("/console/orders", no=order["order_no"])).text) == 0
    assert (await other.page(f"/console/orders/{order['id']}")).status_code == 404
    export = (await other.page("/console/orders/export.csv")).text
    assert order["order_no"] not in export and export.count("\n") == 1


async def test_the_export_has_every_filtered_order_in_yuan_behind_a_bom(desk: Callable[..., Awaitable[Desk]],
                                                                        mall: Mall) -> None:
    alice, bob = await mall.shopper("alice", nickname="=HYPERLINK(1)"), await mall.shopper("bob")
    first = await paid(mall, alice, 3)
    await mall.order(bob)
    finance = await desk("finance")
    answer = await finance.page("/console/orders/export.csv", tab="to_ship")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    assert answer.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["订单号", "状态", "下单时间"] and len(rows) == 2
    assert rows[1][0] == first["order_no"] and rows[1][1] == "待发货" and rows[1][4] == "'=HYPERLINK(1)"
    assert rows[1][5:9] == ["30.00", "30.00", "30.00", "0.00"] and rows[1][12] == "张三"
    everything = list(csv.reader(io.StringIO((await finance.page("/console/orders/export.csv")).text)))
    assert len(everything) == 3
