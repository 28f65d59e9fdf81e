"""What a shopper is recommended, through the API, after real orders paid through the sandbox and the worker's
refresh: co-purchase neighbours, friends' purchases, the popular and the new; never what they cannot buy or bought."""

from __future__ import annotations

from fissionmall.core.runtime import Runtime
from tests.recommend.history import Shop, refresh, sold_out_and_off_sale
from tests.support import Mall, problem

API = "/recommendations"


async def test_home_product_and_order_recommendations(mall: Mall, runtime: Runtime, shop: Shop) -> None:
    bob, carol, alice = [await mall.shopper(n) for n in ("bob", "carol", "alice")]
    await shop.buy(bob, "A", "B", "E")
    await shop.buy(carol, "A", "B", "C", "F")
    await shop.buy(await mall.shopper("dan"), "C", "D")
    await sold_out_and_off_sale(runtime, shop)
    order = await shop.buy(alice, "A")
    await refresh(mall)

    client = mall.client
    home = shop.names(await client.get(API, headers=alice))
    # B was bought with A by two customers, C by one: both before the merely popular; A (bought), E (sold out),
    # F (off sale) never
    assert home[:2] == [("B", "买了又买"), ("C", "买了又买")]
    assert {n for n, _ in home} == {"B", "C", "D"}

    product = shop.names(await client.get(API, params={"context": "product", "product_id": shop.ids["A"],
                                                       "merchant": mall.slug}))
    assert product[:2] == [("B", "买了又买"), ("C", "买了又买")]
    assert "A" not in dict(product) and not {"E", "F"} & set(dict(product))

    after = shop.names(await client.get(API, params={"context": "order", "order_id": order["id"]}, headers=alice))
    assert after[:2] == [("B", "买了又买"), ("C", "买了又买")] and "A" not in dict(after)

    # a visitor not signed in: the popular (A bought by three, B and C by two), then the new
    visitor = shop.names(await client.get(API, params={"merchant": mall.slug}))
    assert visitor[0] == ("A", "热销") and {n for n, _ in visitor[1:3]} == {"B", "C"}
    assert not {"E", "F"} & set(dict(visitor))


async def test_friends_bought(mall: Mall, runtime: Runtime, shop: Shop) -> None:
    """Whoever referred a customer, and whoever's link they opened, are friends: what they bought is 好友在买."""
    carol = await mall.shopper("carol")
    await shop.buy(carol, "D")
    await shop.buy(await mall.shopper("dan"), "B")
    await shop.buy(await mall.shopper("eve"), "B")
    share = await mall.client.post("/shares", headers=carol,
                                   json={"target_type": "product", "target_id": shop.ids["A"]})
    assert share.status_code == 201, share.text
    code = share.json()["code"]
    invited = await mall.client.post("/auth/dev-login", json={"merchant_slug": mall.slug, "openid": "frank",
                                                              "share_code": code})
    frank = {"Authorization": f"Bearer {invited.json()['token']}"}
    grace = await mall.shopper("grace")
    assert (await mall.client.get(f"/shares/{code}", headers=grace)).status_code == 200
    await shop.buy(grace, "C")
    await refresh(mall)
    for who in (frank, grace):
        found = shop.names(await mall.client.get(API, headers=who))
        assert found[0] == ("D", "好友在买"), found
        assert ("B", "热销") in found
    # grace is not carol's friend: grace opened carol's link, not carol grace's
    assert ("C", "好友在买") not in shop.names(await mall.client.get(API, headers=carol))
    assert ("C", "热销") in shop.names(await mall.client.get(API, headers=carol))


async def test_a_refund_and_a_sale_change_what_is_shown(mall: Mall, runtime: Runtime, shop: Shop) -> None:
    bob, alice = await mall.shopper("bob"), await mall.shopper("alice")
    order = await shop.buy(bob, "A", "C")
    await shop.buy(alice, "A")
    await refresh(mall)
    assert ("C", "买了又买") in shop.names(await mall.client.get(API, headers=alice))
    response = await mall.client.post(f"/admin/orders/{order['id']}/refunds", headers=await mall.staff("finance"),
                                      json={"reason": "goodwill"})
    assert response.status_code == 201, response.text
    await mall.work()
    await refresh(mall)
    assert ("C", "买了又买") not in shop.names(await mall.client.get(API, headers=alice))
    # bought and then out of stock: gone at once, without waiting for the worker
    await shop.buy(alice, "B")
    assert "B" not in dict(shop.names(await mall.client.get(API, headers=alice)))


async def test_refusals(mall: Mall, beta: Mall, shop: Shop) -> None:
    alice = await mall.shopper("alice")
    body = problem(await mall.client.get(API, params={"context": "product"}, headers=alice), 422,
                   "recommendation_anchor_required")
    assert body["field"] == "product_id"
    problem(await mall.client.get(API, params={"context": "order"}, headers=alice), 422,
            "recommendation_anchor_required")
    problem(await mall.client.get(API, params={"context": "order", "order_id": 1}), 401, "unauthenticated")
    problem(await mall.client.get(API, params={"context": "product", "product_id": 999_999}, headers=alice), 404,
            "product_not_found")
    order = await shop.buy(alice, "B")
    other = await beta.shopper("zoe")
    problem(await mall.client.get(API, params={"context": "order", "order_id": order["id"]}, headers=other), 404,
            "order_not_found")
    # another merchant's visitor sees none of this mall's products
    answer = await mall.client.get(API, params={"merchant": beta.slug})
    assert {i["product"]["id"] for i in answer.json()["items"]} <= {beta.product_id}
