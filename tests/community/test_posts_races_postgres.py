"""Community races on PostgreSQL, each request or handler on its own connection: many posts of one customer at the
same moment never earn more than the daily cap of post points, each post at most once however often its handler
runs; many likes at once count once per customer."""

from __future__ import annotations

import pytest

from fissionmall.loyalty.points import tasks as points_tasks
from tests.community.test_reviews import POINTS
from tests.support import customer_id, rows, shoppers, together, value

pytestmark = pytest.mark.postgres

IN_FLIGHT = 12
"""Requests or handlers at once: the PostgreSQL server is shared with other test runs."""


async def test_concurrent_posts_never_earn_more_than_the_daily_cap(client, mall, runtime):
    """post_points 10, cap 3: twelve posts at once, then each post's points handler run twice, all at once: exactly
    three posts earn, 30 points, the day's counter says 3 and the balance equals the buckets."""
    owner = await mall.staff()
    assert (await client.put("/admin/points", headers=owner,
                             json={**POINTS, "post_points": 10, "post_daily_cap": 3})).status_code == 200
    alice = await mall.shopper("alice")
    me = await customer_id(mall, alice)
    made = await together((client.post("/posts", headers=alice, json={"text": f"第{n}篇"}) for n in range(12)),
                          IN_FLIGHT)
    assert sorted(r.status_code for r in made) == [201] * 12
    events = await rows(runtime, "SELECT id, merchant_id, actor_id, subject_id FROM events WHERE kind = 'post'")
    assert len(events) == 12
    payloads = [{"event": "post", "event_id": event_id, "merchant_id": merchant_id, "actor_id": actor_id,
                 "subject_type": "post", "subject_id": subject_id}
                for event_id, merchant_id, actor_id, subject_id in events]
    await together((points_tasks.earn_for_post(runtime, payload) for payload in payloads * 2), IN_FLIGHT)
    assert await rows(runtime, "SELECT points, count(*) FROM points_entries WHERE kind = 'post' GROUP BY points") == [
        (10, 3)]
    assert await value(runtime, "SELECT used FROM counters WHERE key = :k", k=f"post_points:{me}") == 3
    assert await value(runtime, "SELECT balance FROM points_balances WHERE customer_id = :c", c=me) == 30
    await mall.work()  # the queued jobs run as well and change nothing
    assert await value(runtime, "SELECT count(*) FROM points_entries WHERE kind = 'post'") == 3


async def test_concurrent_likes_count_once_per_customer(client, mall, runtime):
    """One customer tapping like ten times at once and ten others once each, all together: eleven likes, eleven
    rows, and the post's count says eleven."""
    alice = await mall.shopper("alice")
    post = (await client.post("/posts", headers=alice, json={"text": "来点赞"})).json()
    bob = await mall.shopper("bob")
    others = await shoppers(mall, "fan", 10)
    likes = f"/posts/{post['id']}/likes"
    answers = await together([client.post(likes, headers=bob) for _ in range(10)]
                             + [client.post(likes, headers=who) for who in others], IN_FLIGHT)
    assert sorted(r.status_code for r in answers) == [200] * 20
    assert await value(runtime, "SELECT count(*) FROM post_likes") == 11
    assert await value(runtime, "SELECT like_count FROM posts WHERE id = :id", id=post["id"]) == 11
    unliked = await together([client.delete(likes, headers=bob) for _ in range(5)], IN_FLIGHT)
    assert {r.json()["like_count"] for r in unliked} <= {10, 11}
    assert await value(runtime, "SELECT like_count FROM posts WHERE id = :id", id=post["id"]) == 10
