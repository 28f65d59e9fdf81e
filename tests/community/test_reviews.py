"""Reviews after delivery: once per product of a received order, by its customer; points and review tasks follow."""

from __future__ import annotations

from typing import Any

from tests.support import SHIPMENT, Mall, problem, rows

POINTS = {"earn_per_yuan": 0, "fen_per_100_points": 100, "max_redeem_percent": 50, "validity_days": 365,
          "checkin_points": 5, "streak_bonus": 1, "streak_cap": 7, "review_points": 20}
WATCHED = "SELECT (SELECT count(*) FROM reviews), (SELECT count(*) FROM events WHERE kind = 'review')"


async def received(mall: Mall, who: dict[str, str]) -> dict[str, Any]:
    """An order paid, shipped and received."""
    order = await mall.order(who)
    await mall.pay(who, order["id"])
    shipped = await mall.client.post(f"/admin/orders/{order['id']}/ship", headers=await mall.staff(), json=SHIPMENT)
    assert shipped.status_code == 200, shipped.text
    done = await mall.client.post(f"/orders/{order['id']}/receive", headers=who)
    assert done.status_code == 200, done.text
    return order


def review(mall: Mall, rating: int = 5, **extra: Any) -> dict[str, Any]:
    return {"product_id": mall.product_id, "rating": rating, "text": "香", **extra}


async def test_a_received_order_is_reviewed_once_per_product_and_listed(client, mall):
    """201 with the review as written; the same product again is 409 already_reviewed; the product's page lists
    the reviews newest first with their count and average rating, without login."""
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    first, second = await received(mall, alice), await received(mall, bob)
    made = await client.post(f"/orders/{first['id']}/reviews", headers=alice,
                             json=review(mall, 4, images=["https://img.example/a.jpg"]))
    assert made.status_code == 201, made.text
    assert {k: made.json()[k] for k in ("order_id", "product_id", "rating", "text", "images", "nickname")} == {
        "order_id": first["id"], "product_id": mall.product_id, "rating": 4, "text": "香",
        "images": ["https://img.example/a.jpg"], "nickname": "alice"}
    problem(await client.post(f"/orders/{first['id']}/reviews", headers=alice, json=review(mall)), 409,
            "already_reviewed")
    assert (await client.post(f"/orders/{second['id']}/reviews", headers=bob, json=review(mall, 1))).status_code == 201
    listed = (await client.get(f"/products/{mall.product_id}/reviews", params={"merchant": mall.slug})).json()
    assert (listed["count"], listed["average_rating"], [r["rating"] for r in listed["reviews"]]) == (2, 2.5, [1, 4])


async def test_refused_reviews_change_nothing(client, mall):
    """Not yet received (409 not_reviewable), a product not in the order (422), someone else's order (404), a
    rating out of 1–5, ten images or a non-URL image (422): nothing is written."""
    alice, bob = await mall.shopper("alice"), await mall.shopper("bob")
    unpaid = await mall.order(alice)
    order = await received(mall, alice)
    before = await rows(mall.runtime, WATCHED)
    problem(await client.post(f"/orders/{unpaid['id']}/reviews", headers=alice, json=review(mall)), 409,
            "not_reviewable")
    problem(await client.post(f"/orders/{order['id']}/reviews", headers=alice,
                              json={**review(mall), "product_id": 999_999}), 422, "product_not_in_order")
    problem(await client.post(f"/orders/{order['id']}/reviews", headers=bob, json=review(mall)), 404,
            "order_not_found")
    for bad in ({"rating": 0}, {"rating": 6}, {"images": ["https://img.example/x.jpg"] * 10},
                {"images": ["not a url"]}, {"text": "长" * 1001}):
        problem(await client.post(f"/orders/{order['id']}/reviews", headers=alice, json={**review(mall), **bad}),
                422, "invalid_request")
    problem(await client.post(f"/orders/{order['id']}/reviews", json=review(mall)), 401, "unauthenticated")
    assert await rows(mall.runtime, WATCHED) == before


async def test_a_review_earns_the_merchants_review_points_once_and_advances_review_tasks(client, mall):
    """review_points 20: each review earns 20 points once (the worker running twice changes nothing); a review task
    of target 2 is rewarded on the second review."""
    owner = await mall.staff()
    assert (await client.put("/admin/points", headers=owner, json=POINTS)).status_code == 200
    task = await client.post("/admin/tasks", headers=owner, json={
        "name": "写两条评价", "kind": "review", "period": "once", "target": 2, "reward_points": 100})
    assert task.status_code == 201, task.text
    alice = await mall.shopper("alice")
    for order in (await received(mall, alice), await received(mall, alice)):
        response = await client.post(f"/orders/{order['id']}/reviews", headers=alice, json=review(mall))
        assert response.status_code == 201, response.text
        await mall.work()
        await mall.work()
    earned = await rows(mall.runtime, "SELECT kind, points FROM points_entries")
    assert sorted(earned) == [("review", 20), ("review", 20), ("task", 100)]
    assert (await client.get("/points", headers=alice)).json()["balance"] == 140
