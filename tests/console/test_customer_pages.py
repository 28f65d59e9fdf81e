"""The merchant's customers: the admin API's list (search by nickname or id, keyset pages) and detail (who brought
them, whom they brought and their whole subtree), and the console's pages over them with orders, coupons, points,
level and credit; another merchant's customers never shown, a shopper's nickname always escaped."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from tests.console.conftest import Desk
from tests.support import Mall, Who, customer_id, problem

XSS = "<img src=x onerror=alert(1)>"


async def share_code(mall: Mall, who: Who) -> str:
    share = await mall.client.post("/shares", headers=who, json={"target_type": "product",
                                                                 "target_id": mall.product_id})
    assert share.status_code in (200, 201), share.text
    code: str = share.json()["code"]
    return code


async def family(mall: Mall) -> dict[str, int]:
    """root brought a and b; a brought a1 and a2; a1 brought a11: root's subtree is 5, a's is 3."""
    ids: dict[str, int] = {}
    root = await mall.shopper("root")
    ids["root"] = await customer_id(mall, root)
    tokens = {"root": root}
    for name, parent in (("a", "root"), ("b", "root"), ("a1", "a"), ("a2", "a"), ("a11", "a1")):
        tokens[name] = await mall.shopper(name, share_code=await share_code(mall, tokens[parent]))
        ids[name] = await customer_id(mall, tokens[name])
    return ids


async def test_the_admin_api_lists_and_searches_customers_newest_first(mall: Mall, beta: Mall) -> None:
    for name in ("alice", "alfred", "bob"):
        await mall.shopper(name)
    await beta.shopper("alina")
    staff = await mall.staff("support")
    listed = (await mall.client.get("/admin/customers", headers=staff)).json()
    assert [c["nickname"] for c in listed["items"]] == ["bob", "alfred", "alice"] and listed["next_cursor"] is None
    assert "openid" not in listed["items"][0]
    found = (await mall.client.get("/admin/customers", headers=staff, params={"q": "al"})).json()
    assert [c["nickname"] for c in found["items"]] == ["alfred", "alice"]
    bob_id = listed["items"][0]["id"]
    by_id = (await mall.client.get("/admin/customers", headers=staff, params={"q": str(bob_id)})).json()
    assert [c["nickname"] for c in by_id["items"]] == ["bob"]
    wildcard = (await mall.client.get("/admin/customers", headers=staff, params={"q": "%"})).json()
    assert wildcard["items"] == []
    first = (await mall.client.get("/admin/customers", headers=staff, params={"limit": 2})).json()
    rest = (await mall.client.get("/admin/customers", headers=staff,
                                  params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert [c["nickname"] for c in first["items"] + rest["items"]] == ["bob", "alfred", "alice"]
    problem(await mall.client.get("/admin/customers", headers=staff, params={"cursor": "1;"}), 422, "invalid_cursor")
    problem(await mall.client.get("/admin/customers"), 401, "unauthenticated")


async def test_the_admin_api_detail_names_the_inviter_and_sizes_the_subtree(mall: Mall, beta: Mall) -> None:
    ids = await family(mall)
    staff = await mall.staff("finance")
    root = (await mall.client.get(f"/admin/customers/{ids['root']}", headers=staff)).json()
    assert (root["inviter"], root["invited_count"], root["subtree_size"]) == (None, 2, 5)
    assert [c["nickname"] for c in root["invited"]] == ["b", "a"]
    a = (await mall.client.get(f"/admin/customers/{ids['a']}", headers=staff)).json()
    assert (a["inviter"]["nickname"], a["depth"], a["invited_count"], a["subtree_size"]) == ("root", 1, 2, 3)
    leaf = (await mall.client.get(f"/admin/customers/{ids['a11']}", headers=staff)).json()
    assert (leaf["depth"], leaf["invited_count"], leaf["subtree_size"], leaf["invited"]) == (3, 0, 0, [])
    problem(await mall.client.get(f"/admin/customers/{ids['root']}", headers=await beta.staff("owner")), 404,
            "customer_not_found")
    listed = (await beta.client.get("/admin/customers", headers=await beta.staff("owner"))).json()
    assert listed["items"] == []


async def test_the_list_page_shows_joined_orders_and_first_payment(desk: Callable[..., Awaitable[Desk]],
                                                                    mall: Mall) -> None:
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    order = await mall.order(alice)
    await mall.pay(alice, order["id"])
    await mall.order(alice)
    support = await desk("support")
    page = (await support.page("/console/customers")).text
    alice_id, bob_id = await customer_id(mall, alice), await customer_id(mall, bob)
    row = re.search(rf'<tr>\s*<td>#{alice_id}</td>(.*?)</tr>', page, re.S)
    assert row and "alice" in row.group(1) and '<td class="num">2</td>' in row.group(1) and "自然进店" in row.group(1)
    assert f"#{bob_id}" in page
    found = (await support.page("/console/customers", q="bo")).text
    assert f"/console/customers/{bob_id}\"" in found and f"/console/customers/{alice_id}\"" not in found


async def test_the_detail_page_shows_referrals_orders_and_balances(desk: Callable[..., Awaitable[Desk]],
                                                                   mall: Mall) -> None:
    ids = await family(mall)
    a = await mall.shopper("a")  # signs in again: the same customer
    order = await mall.order(a)
    await mall.pay(a, order["id"])
    owner = await desk("owner")
    page = (await owner.page(f"/console/customers/{ids['a']}")).text
    assert "root" in page and f"/console/customers/{ids['root']}" in page
    assert "a1" in page and "a2" in page and "整个下线 3 人" in page
    assert order["order_no"] in page and f"/console/orders?buyer={ids['a']}" in page
    assert "¥0.00" in page and "没有优惠券" in page
    listed = (await owner.page("/console/orders", buyer=str(ids["a"]))).text
    assert order["order_no"] in listed


async def test_shopper_nicknames_are_escaped(desk: Callable[..., Awaitable[Desk]], mall: Mall) -> None:
    evil = await mall.shopper("evil", nickname=XSS)
    child = await mall.shopper("child", share_code=await share_code(mall, evil))
    owner = await desk("owner")
    pages = [(await owner.page("/console/customers")).text,
             (await owner.page(f"/console/customers/{await customer_id(mall, evil)}")).text,
             (await owner.page(f"/console/customers/{await customer_id(mall, child)}")).text]
    for page in pages:
        assert XSS not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


async def test_another_merchants_customers_are_never_shown(desk: Callable[..., Awaitable[Desk]], mall: Mall,
                                                           beta: Mall) -> None:
    alice = await mall.shopper("alice")
    other = await desk("owner", slug="beta")
    assert "alice" not in (await other.page("/console/customers")).text
    assert "没有找到客户" in (await other.page("/console/customers", q="alice")).text
    assert (await other.page(f"/console/customers/{await customer_id(mall, alice)}")).status_code == 404
