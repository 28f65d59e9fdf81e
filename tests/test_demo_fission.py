"""The demo loads a live campaign of every kind with fission in it (a multi-product group, an assist ladder), parcels
the sandbox carrier follows (one signed for, which receives its order) and a community with 晒单, likes, comments
and a held post; a second run adds nothing; once time has ended the open group, a run tops it up; every page the
README names answers."""

from __future__ import annotations

import json

import httpx

from fissionmall.demo import CUSTOMERS, DEMO_SLUG, load_demo
from fissionmall.demo_campaigns import load_demo_campaigns
from fissionmall.tables import Base
from tests.support import rows, value

KINDS = {"group", "bargain", "assist", "share_coupon", "credit", "gift", "invite", "points_mall"}


async def load(runtime):
    await load_demo(runtime)
    return await load_demo_campaigns(runtime, DEMO_SLUG, CUSTOMERS)


async def counts(runtime) -> dict[str, int]:
    return {table.name: await value(runtime, f"SELECT count(*) FROM {table.name}")
            for table in Base.metadata.sorted_tables}


async def test_demo_campaigns_live_idempotent_and_topped_up(runtime, app, clock):
    first = await load(runtime)
    live = await rows(runtime, "SELECT kind FROM campaigns WHERE status = 'active'")
    assert sorted(kind for (kind,) in live) == sorted([*KINDS, "group"])  # one product, and several
    group_id = int(first.group.rsplit("/", 1)[1])
    assert await rows(runtime, "SELECT status, size, paid_count FROM buying_groups WHERE id = :g", g=group_id) \
        == [("open", 3, 2)]
    assert await value(runtime, "SELECT count(*) FROM buying_groups WHERE status = 'succeeded'") == 1
    bargain_id = int(first.bargain.rsplit("/", 1)[1])
    assert await rows(runtime, "SELECT status, helps_done FROM bargains WHERE id = :b", b=bargain_id) \
        == [("ongoing", 2)]
    assist_id = int(first.assist.rsplit("/", 1)[1])
    assert await rows(runtime, "SELECT status, helps_done FROM assist_packets WHERE id = :a", a=assist_id) \
        == [("open", 3)]
    claimed = await rows(runtime, "SELECT c.kind, p.slots, count(h.id) FROM coupon_packets p "
                                  "JOIN campaigns c ON c.id = p.campaign_id "
                                  "JOIN helps h ON h.target_type = 'packet' AND h.target_id = p.id "
                                  "GROUP BY c.kind, p.slots ORDER BY c.kind")
    assert claimed == [("credit", 3, 1), ("share_coupon", 5, 2)]
    assert set(first.shares) == {"开团", "砍价", "助力", "分享券", "立减金"}
    assert await value(runtime, "SELECT count(*) FROM loyalty_tasks") == 4
    assert await value(runtime, "SELECT checkin_points FROM points_configs") == 5
    assert await value(runtime, "SELECT count(*) FROM recommend_neighbours") > 0  # 为你推荐 has a model at once
    multi_group = int(first.multi_group.rsplit("/", 1)[1])
    assert await rows(runtime, "SELECT status, size, paid_count FROM buying_groups WHERE id = :g", g=multi_group) \
        == [("open", 3, 2)]
    assert await value(runtime, "SELECT count(DISTINCT i.product_id) FROM group_orders g JOIN order_items i "
                                "ON i.order_id = g.order_id WHERE g.group_id = :g", g=multi_group) == 2
    (assist_settings,) = await rows(runtime, "SELECT settings FROM campaigns WHERE kind = 'assist'")
    settings = assist_settings[0] if isinstance(assist_settings[0], dict) else json.loads(assist_settings[0])
    assert [rung["min_fen"] for rung in settings["ladder"]] == [100, 200, 500]
    steps = dict(await rows(runtime, "SELECT order_id, count(*) FROM shipment_events GROUP BY order_id"))
    assert sorted(steps.values()) == [2, 3, 4, 4, 4]
    order_id = int(first.order.rsplit("/", 1)[1])
    assert steps[order_id] == 4
    assert await rows(runtime, "SELECT status FROM orders WHERE id = :o", o=order_id) == [("received",)]
    assert await value(runtime, "SELECT count(*) FROM posts WHERE hidden_at IS NULL") == 5
    shows = await rows(runtime, "SELECT images FROM posts WHERE order_id IS NOT NULL ORDER BY id")
    assert [len(i if isinstance(i, list) else json.loads(i)) for (i,) in shows] == [2, 1, 1]  # 晒单 with photos
    assert await rows(runtime, "SELECT item_type, cause FROM moderation_queue") == [("post", "keyword")]
    assert await value(runtime, "SELECT count(*) FROM post_likes") == 13
    assert await value(runtime, "SELECT count(*) FROM post_comments") == 4

    before = await counts(runtime)
    second = await load(runtime)
    assert second == first
    assert await counts(runtime) == before

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mall.test") as browser:
        for path in ["/", first.product, first.group, first.bargain, first.assist, first.multi_group,
                     first.community, f"{first.community}?tab=popular", *first.shares.values()]:
            page = await browser.get(path, follow_redirects=True)
            assert page.status_code == 200, (path, page.text[:300])
        assert "买了又买" in (await browser.get(first.product)).text
        assert "咖啡豆收到了" in (await browser.get(first.community)).text

    clock.advance(days=1, minutes=1)
    third = await load(runtime)
    assert third.group != first.group and third.bargain != first.bargain
    assert await rows(runtime, "SELECT status FROM buying_groups WHERE id = :g", g=group_id) == [("failed",)]
    new_group = int(third.group.rsplit("/", 1)[1])
    assert await rows(runtime, "SELECT status, paid_count FROM buying_groups WHERE id = :g", g=new_group) \
        == [("open", 2)]
